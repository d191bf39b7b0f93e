"""What a result file is: the identity record its writer stores and every reader checks.

    identity = {result, experiment, teacher, [width, parameterization, activation, epoch], config}
    config   = the first 16 hex digits of sha256(canonical JSON of the settings that determine
               the file's content)

Canonical JSON (sorted keys, no spaces, tuples as lists) makes equal settings give equal hashes
on any machine and in any run. The workflow derives a file's record from its path and the config
(common.smk), so a writer and its readers cannot disagree; a reader that finds another record
(a width-1 model copied over width 2's, a file from an older config) refuses the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

KEY = "identity"
"""Where a file keeps its record: a safetensors metadata key, a JSON object's key, the first
line of a CSV (``# identity: {...}``)."""


def config_hash(settings: object) -> str:
    """sha256 of the canonical JSON of ``settings``, 16 hex digits (64 bits)."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record(result: str, settings: object, **names: object) -> dict:
    """The identity of a ``result`` (e.g. "student") named by ``names``, made from ``settings``."""
    return {"result": result, **names, "config": config_hash(settings)}


def canonical(identity: Mapping) -> dict:
    """``identity`` as it reads back from a file (a JSON round trip)."""
    return json.loads(json.dumps(identity, sort_keys=True))


def encode(identity: Mapping) -> str:
    return json.dumps(canonical(identity), sort_keys=True)


def decode(text: str | None) -> dict | None:
    """The record stored as ``text``; None if there is none or it is not a JSON object."""
    try:
        found = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


ORDER = ("result", "experiment", "teacher", "width", "epoch", "parameterization", "activation")


def _rank(key: str) -> tuple:
    """Sort key of a record's fields: those of ORDER in that order, others, the config last."""
    return (key == "config", ORDER.index(key) if key in ORDER else len(ORDER), key)


def describe(identity: Mapping) -> str:
    return ", ".join(f"{key} {identity[key]}" for key in sorted(identity, key=_rank))


def mismatch(found: Mapping | None, expected: Mapping) -> str | None:
    """Why ``found`` is not ``expected`` (each differing field first), or None if it is."""
    expected = canonical(expected)
    if found is None:
        return (
            "it carries no identity record (written by an older version or not by this "
            f"workflow); expected: {describe(expected)}"
        )
    found = canonical(found)
    if found == expected:
        return None
    fields = sorted(
        (key for key in {**expected, **found} if found.get(key) != expected.get(key)), key=_rank
    )
    differing = "; ".join(
        f"{key} {found.get(key, '(none)')}, expected {expected.get(key, '(none)')}"
        for key in fields
    )
    return (
        f"it holds another result: {differing} "
        f"(found: {describe(found)}; expected: {describe(expected)})"
    )
