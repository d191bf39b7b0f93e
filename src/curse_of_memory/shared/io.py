"""Result files: atomic writes, tensors-only weights, and loads that name a corrupt file.

Every writer goes to a temporary file in the target directory, then renames it over the target
(os.replace is atomic on POSIX), so a killed job never leaves a half-written result that a later
run would trust. Weights are safetensors files: loading one cannot run code.

A workflow result carries its identity record (identity.py). A reader given the workflow's map
of result paths to records (``identities``) checks it, and on a corrupt or foreign file deletes
the file before raising: rerunning the same snakemake command regenerates it (the default target
lists every such result, so Snakemake notices it is missing).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import identity

if TYPE_CHECKING:
    import pandas as pd
    import torch

Identities = Mapping[str, Mapping]
"""The workflow's map of result paths to identity records (a rule's ``identities`` param)."""


class CorruptResultError(RuntimeError):
    """A result file that cannot be read; the message names it and the fix."""

    def __init__(self, path: str | os.PathLike, reason: str, deleted: bool = False):
        fix = (
            "The file has been deleted: rerun the same snakemake command to regenerate it "
            "(and what depends on it)."
            if deleted
            else "Delete this file and rerun the same snakemake command; it will be regenerated."
        )
        super().__init__(f"{path}: {self.problem(reason)}. {fix}")

    @staticmethod
    def problem(reason: str) -> str:
        return f"cannot be read ({reason})"


class ForeignResultError(CorruptResultError):
    """A readable result file that is not the one expected (another width, experiment, config)."""

    @staticmethod
    def problem(reason: str) -> str:
        return reason


def _expected(path: str | os.PathLike, identities: Identities | None) -> Mapping | None:
    """The record ``path`` must carry (None: an unchecked read)."""
    if identities is None:
        return None
    try:
        return identities[str(path)]
    except KeyError:
        raise ValueError(f"{path}: no identity record in this rule's identities") from None


def _refuse(path, reason: str, expected: Mapping | None, error=CorruptResultError):
    """Raise ``error`` for ``path``; a checked read (``expected``) deletes the file first."""
    if expected is not None:
        Path(path).unlink(missing_ok=True)
    raise error(path, reason, deleted=expected is not None) from None


def _check(path, found: Mapping | None, expected: Mapping | None) -> None:
    """Refuse ``path`` if it carries ``found`` where ``expected`` was required."""
    if expected is not None and (reason := identity.mismatch(found, expected)) is not None:
        _refuse(path, reason, expected, ForeignResultError)


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
    path: str | os.PathLike,
    tensors: Mapping[str, torch.Tensor],
    metadata: Mapping | None = None,
    identities: Identities | None = None,
) -> None:
    """Write tensors (and string metadata, with the file's identity record) as safetensors,
    atomically."""
    from safetensors.torch import save_file  # torch loads only in stages that handle tensors

    contiguous = {name: value.detach().contiguous() for name, value in tensors.items()}
    meta = {key: str(value) for key, value in (metadata or {}).items()}
    if identities is not None:
        meta[identity.KEY] = identity.encode(_expected(path, identities))

    def write(tmp: Path) -> None:
        save_file(contiguous, str(tmp), metadata=meta)
        _sort_metadata(tmp)

    atomic_write(path, write)


def _sort_metadata(path: Path) -> None:
    """Rewrite a safetensors header with its metadata in sorted order: safetensors writes that
    map in a random order (a hash map), and equal contents must give equal bytes. The header
    stays a multiple of 8 bytes long (padded with spaces), as the format requires."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    if len(header.get("__metadata__") or {}) < 2:
        return
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + size :])


def _read_tensors(path, identities: Identities | None, tensors: bool):
    """(tensors or None, metadata) of a safetensors file whose identity has been checked."""
    from safetensors import SafetensorError, safe_open

    expected = _expected(path, identities)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            names = handle.keys() if tensors else []
            values = {name: handle.get_tensor(name) for name in names}
    except (SafetensorError, OSError, ValueError) as error:
        _refuse(path, f"not a valid safetensors file: {error}", expected)
    _check(path, identity.decode(metadata.get(identity.KEY)), expected)
    return values, metadata


def load_tensors(
    path: str | os.PathLike, identities: Identities | None = None
) -> dict[str, torch.Tensor]:
    """Read a safetensors file; a missing, truncated or foreign file raises CorruptResultError
    (with ``identities``: also one that is not the expected result, and the file is deleted)."""
    return _read_tensors(path, identities, tensors=True)[0]


def load_metadata(path: str | os.PathLike, identities: Identities | None = None) -> dict[str, str]:
    """The string metadata of a safetensors file, checked as :func:`load_tensors` checks it."""
    return _read_tensors(path, identities, tensors=False)[1]


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


def write_json(
    path: str | os.PathLike, value: object, identities: Identities | None = None
) -> None:
    """Strict JSON (no NaN/Infinity tokens): non-finite floats become null, listed under
    NON_FINITE in the top-level object; with ``identities``, the file's record under "identity"."""
    if identities is not None:
        value = {identity.KEY: identity.canonical(_expected(path, identities)), **value}
    found: dict[str, str] = {}
    strict = _nulled(value, "", found)
    if found:
        if not isinstance(strict, dict):
            raise ValueError(f"{path}: non-finite values outside a JSON object: {found}")
        strict[NON_FINITE] = found
    text = json.dumps(strict, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def read_json(path: str | os.PathLike, identities: Identities | None = None) -> object:
    """Inverse of :func:`write_json`: the nulls listed under NON_FINITE become floats again;
    with ``identities``, the record is checked (and removed from the value)."""
    expected = _expected(path, identities)
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        _refuse(path, f"not valid JSON: {error}", expected)
    if expected is not None:
        found = value.pop(identity.KEY, None) if isinstance(value, dict) else None
        _check(path, found if isinstance(found, dict) else None, expected)
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
                _refuse(path, f"{NON_FINITE}: no value at {pointer}", expected)
    return value


CSV_IDENTITY = f"# {identity.KEY}: "
CSV_DIGEST = " sha256: "
"""A checked CSV's first line: ``# identity: {record} sha256: <digest of the rest>``. A table
has no structure that shows a cut (half a file parses as fewer rows): the digest does."""


def write_csv(
    path: str | os.PathLike, frame: pd.DataFrame, identities: Identities | None = None
) -> None:
    """The table without its index; with ``identities``, its record and digest first."""
    if identities is None:
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
        return
    table = frame.to_csv(index=False, lineterminator="\n")
    record = identity.encode(_expected(path, identities))
    digest = hashlib.sha256(table.encode()).hexdigest()
    text = f"{CSV_IDENTITY}{record}{CSV_DIGEST}{digest}\n{table}"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_csv(
    path: str | os.PathLike, columns: tuple[str, ...] = (), identities: Identities | None = None
) -> pd.DataFrame:
    """Read a CSV written by this package; missing ``columns`` mean a corrupt file. With
    ``identities``, the record on its first line is checked as :func:`load_tensors` checks,
    and the table against the digest, before it is parsed (a truncated table is reported as
    such, wherever the cut falls)."""
    from io import BytesIO

    import pandas as pd  # loaded only by the stages that handle tables

    expected = _expected(path, identities)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        _refuse(path, f"not a readable CSV: {error}", expected)
    first, _, table = raw.partition(b"\n")
    recorded = first.startswith(CSV_IDENTITY.encode())
    if expected is not None:
        text, _, digest = first.decode(errors="replace").rpartition(CSV_DIGEST)
        _check(path, identity.decode(text[len(CSV_IDENTITY) :]) if recorded else None, expected)
        if hashlib.sha256(table).hexdigest() != digest:
            _refuse(path, "its table does not match the sha256 on its first line", expected)
    try:
        frame = pd.read_csv(BytesIO(table if recorded else raw))
    except ValueError as error:
        _refuse(path, f"not a readable CSV: {error}", expected)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        _refuse(path, f"missing columns {missing}", expected)
    return frame
