"""Teacher filtering by stability (IAT Figure 3).

A teacher is **kept** when its students' approximation improves with width (E_m(0) of the
largest width below ``max_error_ratio`` times that of the smallest) and the stability verdict is
``stable``; **undetermined** when the verdict is undetermined (listed as such, never silently
kept or dropped); **rejected** otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

STATUSES = ("kept", "undetermined", "rejected")


def teacher_status(analysis: Mapping, max_error_ratio: float) -> tuple[str, str]:
    """(status, reason) of one teacher from its stability analysis."""
    errors = analysis["errors_at_zero"]
    ratio = errors[-1] / errors[0] if errors[0] > 0 else float("inf")
    improves = ratio < max_error_ratio
    verdict = analysis["verdict"]
    if verdict == "undetermined":
        return "undetermined", analysis["reason"]
    if not improves:
        return "rejected", (
            f"approximation does not improve with width: E(0) ratio {ratio:.3g} "
            f">= {max_error_ratio:g}"
        )
    if verdict == "stable":
        return "kept", f"approximation improves (E(0) ratio {ratio:.3g}) and is stable"
    return "rejected", f"approximation is unstable: {analysis['reason']}"


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
        margin_slope=analysis["margin_slope"],
        verdict=analysis["verdict"],
        status=status,
        reason=reason,
    )
    return row
