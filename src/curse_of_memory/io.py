"""Result files: atomic writes, tensors-only weights, and loads that name a corrupt file.

Every writer goes to a temporary file in the target directory, then renames it over the target
(os.replace is atomic on POSIX), so a killed job never leaves a half-written result that a later
run would trust. Weights are safetensors files: loading one cannot run code.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import torch


class CorruptResultError(RuntimeError):
    """A result file that cannot be read; the message names it and the fix."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(
            f"{path}: cannot be read ({reason}). Delete this file and rerun the workflow; "
            "it will be regenerated."
        )


def _file_mode() -> int:
    """The mode of a newly created ordinary file: 0666 minus the umask (0644 for umask 022)."""
    umask = os.umask(0o022)  # reading the umask means setting it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call write(temporary_path), then rename the temporary file to ``path``.

    The file gets the mode of any other new file (0666 minus the umask), also when ``write``
    creates it privately (safetensors writes 0600).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.chmod(temporary, _file_mode())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()


def save_tensors(
    path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], metadata: Mapping | None = None
) -> None:
    """Write tensors (and string metadata) as safetensors, atomically."""
    from safetensors.torch import save_file  # torch loads only in stages that handle tensors

    contiguous = {name: value.detach().contiguous() for name, value in tensors.items()}
    meta = {key: str(value) for key, value in (metadata or {}).items()}
    atomic_write(path, lambda tmp: save_file(contiguous, str(tmp), metadata=meta))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a safetensors file; a missing, truncated or foreign file raises CorruptResultError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CorruptResultError(path, f"not a valid safetensors file: {error}") from None


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata of a safetensors file (CorruptResultError if it cannot be read)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CorruptResultError(path, f"not a valid safetensors file: {error}") from None


NON_FINITE = "non_finite"
"""Key of a JSON object's map from JSON pointers of values written as null to what they were
("nan", "inf" (e.g. a diverged loss) or "-inf"): files stay strict JSON, values round-trip."""


def _nulled(value: object, pointer: str, found: dict[str, str]) -> object:
    """value with every non-finite float replaced by None, recorded in found[pointer]."""
    if isinstance(value, float) and not math.isfinite(value):
        found[pointer] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    if isinstance(value, dict):
        return {
            k: _nulled(v, f"{pointer}/{str(k).replace('~', '~0').replace('/', '~1')}", found)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_nulled(v, f"{pointer}/{i}", found) for i, v in enumerate(value)]
    return value


def write_json(path: str | os.PathLike, value: object) -> None:
    """Strict JSON (no NaN/Infinity tokens): non-finite floats become null, listed under
    NON_FINITE in the top-level object."""
    found: dict[str, str] = {}
    strict = _nulled(value, "", found)
    if found:
        if not isinstance(strict, dict):
            raise ValueError(f"{path}: non-finite values outside a JSON object: {found}")
        strict[NON_FINITE] = found
    text = json.dumps(strict, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def read_json(path: str | os.PathLike) -> object:
    """Inverse of :func:`write_json`: the nulls listed under NON_FINITE become floats again."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise CorruptResultError(path, f"not valid JSON: {error}") from None
    if isinstance(value, dict):
        for pointer, kind in value.pop(NON_FINITE, {}).items():
            *parents, last = [
                p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")
            ]
            container = value
            try:
                for part in parents:
                    container = container[int(part) if isinstance(container, list) else part]
                container[int(last) if isinstance(container, list) else last] = float(kind)
            except (KeyError, IndexError, ValueError, TypeError):
                raise CorruptResultError(path, f"{NON_FINITE}: no value at {pointer}") from None
    return value


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def read_csv(path: str | os.PathLike, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV written by this package; missing ``columns`` mean a corrupt file."""
    import pandas as pd  # loaded only by the stages that handle tables

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise CorruptResultError(path, f"not a readable CSV: {error}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise CorruptResultError(path, f"missing columns {missing}")
    return frame
