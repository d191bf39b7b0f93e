"""Claim rows of a perturbation figure: the precondition, the trends, beta_0 and the verdict."""

from __future__ import annotations

from collections.abc import Mapping

from ..shared.claims import claim
from .verdict import StabilityConfig


def beta0_claim(figure: str, analysis: Mapping, evidence: str) -> dict:
    """beta_0: the geometric mean of the informative crossings (or of the blow-ups) on the grid, or,
    when none is on the grid, beyond it (beta_0 > beta_max)."""
    beyond = analysis.get("beta0_beyond_grid", False)
    return claim(
        figure,
        f"estimated common beta_0 (geometric mean of the {evidence} on the grid)",
        "beyond the grid" if beyond else analysis["beta0"],
        "> 0 with verdict stable",
        analysis["verdict"] == "stable" and (beyond or analysis["beta0"] > 0),
    )


def trend_claim(
    figure: str, analysis: Mapping, evidence: str, expect: str, config: StabilityConfig
) -> dict:
    """The trend in m that ``expect`` needs: crossings or blow-ups that stay put (stable) or move
    left (unstable); for the sensitivity, a perturbation excess that grows slower than m^tol
    (stable) or blow-up points that move toward 0 (unstable: the students diverge at ever
    smaller perturbations)."""
    level = f"{100 * config.confidence:g}%"
    tol = config.slope_tolerance
    if evidence == "sensitivity" and expect == "stable":
        high = analysis["excess_slope_high"]
        return claim(
            figure,
            f"E_m(beta_1) - E_m(0) grows slower than m^{tol:g}: upper end of the {level} "
            "bootstrap interval of d log(E_m(beta_1) - E_m(0))/d log m",
            high,
            f"< {tol:g}",
            high < tol,
        )
    evidence = "blow-ups" if evidence == "sensitivity" else evidence  # its unstable reading
    key = "crossing" if evidence == "crossings" else "blowup"
    slope = f"{level} bootstrap interval of d log beta/d log m of the {evidence}"
    if evidence == "blow-ups":
        slope = (
            f"interval of d log beta/d log m of the blow-ups ({level} bootstrap over the draws, "
            "exact where the runaway radius sets them, any one width left out)"
        )
    if expect == "stable":
        low = analysis[f"{key}_slope_low"]
        return claim(
            figure,
            f"{evidence} stay put as m grows: lower end of the {slope}",
            low,
            f"> {-tol:g}",
            low > -tol,
        )
    high = analysis[f"{key}_slope_high"]
    return claim(
        figure,
        f"{evidence} move left as m grows: upper end of the {slope}",
        high,
        f"< {-tol:g}",
        high < -tol,
    )


def stability_claims(
    figure: str, analysis: Mapping, expect: str, config: StabilityConfig
) -> list[dict]:
    """Claims of a perturbation figure whose expected verdict is ``expect``."""
    margin_tol = config.margin_slope_tolerance
    evidence = analysis["evidence"]
    pairs = len(analysis["widths"]) - 1
    needed = min(config.min_crossings, pairs)
    rows = [
        claim(
            figure,
            "precondition: the students approximate the target (E_m(0) falls over the widths "
            "by the factor shown, or every E_m(0) / zero predictor's loss is at most the fit "
            "bound); value: evidence, factor, resolved and informative pairs (the crossings "
            "need enough informative ones), worst fit ratio",
            f"{evidence}, x{analysis['improvement']:.3g}, {analysis['improving_pairs']}/{pairs} "
            f"resolved, {analysis['informative_pairs']}/{pairs} informative, "
            f"{analysis['fit_ratio']:.3g}",
            f"factor >= {config.min_improvement:g} (crossings: and >= {needed} informative "
            f"pairs), or fit <= {config.represented_ratio:g}",
            evidence != "none",
        )
    ]
    evidence = "crossings" if evidence == "none" else evidence
    margin_slope = analysis["margin_slope"]
    reachable = analysis.get("margin_reachable", True)
    rows.append(trend_claim(figure, analysis, evidence, expect, config))
    if evidence == "sensitivity" and expect == "stable":  # its stable reading needs both
        rows.append(trend_claim(figure, analysis, "blow-ups", expect, config))
    if expect == "stable":
        rows += [
            claim(
                figure,
                "stability margin does not collapse: d log(min lambda)/d log m"
                + ("" if reachable else " (unreachable: lambda = f(w) > 0 for every w)"),
                margin_slope,
                f"> {-margin_tol:g}" if reachable else "any (stable parameterization)",
                margin_slope > -margin_tol or not reachable,
            ),
            beta0_claim(figure, analysis, "crossings" if evidence == "crossings" else "blow-ups"),
        ]
    else:
        rows += [
            claim(
                figure,
                "stability margin collapses: d log(min lambda)/d log m",
                margin_slope,
                f"< {-margin_tol:g}",
                margin_slope < -margin_tol,
            ),
        ]
    rows.append(
        claim(
            figure,
            "verdict of the stability analysis",
            analysis["verdict"],
            expect,
            analysis["verdict"] == expect,
        )
    )
    return rows
