"""Teacher filtering by stability (IAT Figure 3).

A teacher is **kept** when the stability verdict of its students is ``stable``, **rejected** when
it is ``unstable`` and **undetermined** otherwise (listed as such, never silently kept or
dropped). The verdict is only ``stable`` or ``unstable`` when the students meet the
precondition of the theory (:func:`.stability.precondition`), so a teacher whose students
neither fit nor improve with width is undetermined, not rejected.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    row.update(
        evidence=analysis["evidence"],
        improvement=analysis["improvement"],
        margin_slope=analysis["margin_slope"],
        verdict=analysis["verdict"],
        status=status,
        reason=reason,
    )
    return row
