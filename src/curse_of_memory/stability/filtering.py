"""Teacher filtering by stability (IAT Figure 3).

A teacher is **kept** when the stability verdict of its students is ``stable``, **rejected** when
it is ``unstable`` and **undetermined** otherwise (listed as such, never silently kept or
dropped). The verdict is only ``stable`` or ``unstable`` when the students meet the
precondition of the theory (:func:`.stability.precondition`), so a teacher whose students
neither fit nor improve with width is undetermined, not rejected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..shared.claims import claim
from .verdict import SLOW_MEMORY

STATUS_OF_VERDICT = {"stable": "kept", "unstable": "rejected", "undetermined": "undetermined"}


def teacher_status(analysis: Mapping) -> tuple[str, str]:
    """(status, reason) of one teacher from its stability analysis."""
    reason = analysis["reason"]
    if analysis["verdict"] == "undetermined" and analysis.get("resolve"):
        reason = f"{reason}; to resolve: {analysis['resolve']}"
    return STATUS_OF_VERDICT[analysis["verdict"]], reason


def filter_row(
    teacher: str, spec: Mapping, memory: Mapping, analysis: Mapping, status: str, reason: str
) -> dict:
    """One row of the filter table: the teacher, its memory, the evidence, the decision."""
    decay = memory["heaviside"]["decay"]
    row = {
        "teacher": teacher,
        "gain": spec.get("gain", float("nan")),
        "memory_decay": decay["label"],
        "memory_rate": decay["exponential_rate"],
        "memory_power": decay["polynomial_power"],
    }
    widths = analysis["widths"]
    for m, error in zip(widths, analysis["errors_at_zero"]):
        row[f"E0_m{m}"] = error
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        row[f"crossing_m{a}_m{b}"] = analysis["crossings"][i]
        row[f"crossing_m{a}_m{b}_low"] = analysis["crossings_low"][i]
        row[f"crossing_m{a}_m{b}_high"] = analysis["crossings_high"][i]
    for m, margin in zip(widths, analysis["margins"]):
        row[f"margin_m{m}"] = margin
    for m, excess in zip(widths, analysis.get("excess", [])):
        row[f"excess_m{m}"] = excess
    for m, blowup in zip(widths, analysis["blowups"]):
        row[f"blowup_m{m}"] = blowup  # nan: beyond the grid
    for m, radius in zip(widths, analysis["runaway_radii"]):
        row[f"runaway_radius_m{m}"] = radius  # inf: no runaway in any ball
    row.update(
        evidence=analysis["evidence"],
        improvement=analysis["improvement"],
        excess_slope=analysis.get("excess_slope", float("nan")),
        blowup_slope_low=analysis["blowup_slope_low"],
        blowup_slope_high=analysis["blowup_slope_high"],
        margin_slope=analysis["margin_slope"],
        memory_conflict=analysis["memory_conflict"],
        verdict=analysis["verdict"],
        status=status,
        reason=reason,
    )
    return row


def filter_claims(figure: str, rows: Sequence[Mapping]) -> list[dict]:
    """Claims of the filter figure from the filter table's rows (status, memory_decay,
    memory_conflict): the theorem says a kept teacher (stable approximation) has exponentially
    decaying memory."""
    kept = [row for row in rows if row["status"] == "kept"]
    exponential = sum(row["memory_decay"] == "exponential" for row in kept)
    slow = [row for row in rows if row["memory_decay"] in SLOW_MEMORY]
    slow_rejected = sum(row["status"] == "rejected" for row in slow)
    slow_kept = sum(row["status"] == "kept" for row in slow)
    undetermined = sum(row["status"] == "undetermined" for row in rows)
    conflicts = sum(bool(row["memory_conflict"]) for row in rows)
    return [
        claim(
            figure,
            "the filter keeps at least one teacher",
            f"{len(kept)}/{len(rows)}",
            ">= 1",
            len(kept) >= 1,
        ),
        claim(
            figure,
            "every kept teacher has exponentially decaying memory",
            f"{exponential}/{len(kept)}",
            "all kept",
            bool(kept) and exponential == len(kept),
        ),
        claim(
            figure,
            "no teacher's students read stable while its estimated memory is slow (the "
            "conflict the theorem forbids, counted before the verdict turns it undetermined)",
            f"{conflicts}/{len(rows)}",
            "0",
            conflicts == 0,
        ),
        claim(
            figure,
            "no slow-memory (polynomial or non-decaying) teacher is kept",
            f"{slow_kept}/{len(slow)}",
            "0",
            slow_kept == 0,
        ),
        claim(
            figure,
            "slow-memory (polynomial or non-decaying) teachers rejected by the filter",
            f"{slow_rejected}/{len(slow)}",
            ">= 1",
            slow_rejected >= 1,
        ),
        claim(
            figure,
            "teachers left undetermined (listed, neither kept nor dropped)",
            f"{undetermined}/{len(rows)}",
            "reported",
            True,
        ),
    ]
