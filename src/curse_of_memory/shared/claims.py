"""Rows of the claims table: figure, claim, value, threshold, verdict (pass / fail)."""

from __future__ import annotations

COLUMNS = ("figure", "claim", "value", "threshold", "verdict")


def claim(figure: str, text: str, value: object, threshold: str, passed: bool) -> dict:
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return {
        "figure": figure,
        "claim": text,
        "value": shown,
        "threshold": threshold,
        "verdict": "pass" if passed else "fail",
    }
