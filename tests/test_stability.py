import math

import numpy as np
import pytest

from curse_of_memory.claims import stability_claims
from curse_of_memory.stability import (
    StabilityConfig,
    analyse,
    blowup_point,
    crossing_point,
    decide,
    log_slope,
)

BETAS = np.concatenate([[0.0], 1e-3 * 2 ** np.arange(12)])


def test_crossing_of_power_laws_is_exact_under_log_interpolation():
    # lower = 1e-2 * (1 + ...), upper = 1e-4 + beta^2: on the positive grid both are smooth;
    # choose pure power laws so that log-log interpolation is exact.
    lower = np.concatenate([[1e-2], 1e-2 * (BETAS[1:] / 1e-3) ** 0.0])
    upper = np.concatenate([[1e-4], 1e2 * BETAS[1:] ** 2])  # reaches 1e-2 at beta = 1e-2
    assert crossing_point(BETAS, lower, upper) == pytest.approx(1e-2, rel=1e-12)


def test_crossing_special_cases():
    flat_high = np.full(BETAS.shape, 1.0)
    flat_low = np.full(BETAS.shape, 0.1)
    assert crossing_point(BETAS, flat_low, flat_high) == 0.0  # no improvement at beta = 0
    assert math.isnan(crossing_point(BETAS, flat_high, flat_low))  # never meet on the grid
    jump = flat_low.copy()
    jump[1:] = 5.0
    assert crossing_point(BETAS, flat_high, jump) == BETAS[1]  # between 0 and the first beta
    blow = flat_low.copy()
    blow[5:] = math.inf
    assert crossing_point(BETAS, flat_high, blow) == pytest.approx(math.sqrt(BETAS[4] * BETAS[5]))


def test_blowup_point_is_first_infinite_interval():
    curve = np.ones(BETAS.shape)
    curve[7:] = math.inf
    assert blowup_point(BETAS, curve) == pytest.approx(math.sqrt(BETAS[6] * BETAS[7]))
    assert math.isnan(blowup_point(BETAS, np.ones(BETAS.shape)))


def test_log_slope():
    x = np.array([2.0, 4.0, 8.0])
    assert log_slope(x, 3 * x**-1.5) == pytest.approx(-1.5)
    assert math.isnan(log_slope(x, np.array([1.0, 0.0, -1.0])))


def synthetic_losses(widths, crossing_of, error_of, draws=10, seed=0):
    """Curves E_i(beta) = E_i(0) + S_i beta^2 (times a draw jitter in [0.9, 1.1]) with S_i chosen
    so that widths i-1 and i cross at beta = crossing_of(sqrt(m_{i-1} m_i))."""
    rng = np.random.default_rng(seed)
    losses, slope = {}, 1.0
    for i, m in enumerate(widths):
        if i:
            c = crossing_of(np.sqrt(widths[i - 1] * m))
            slope += (error_of(widths[i - 1]) - error_of(m)) / c**2
        rows = [np.array([error_of(m)])]
        for beta in BETAS[1:]:
            rows.append(error_of(m) + rng.uniform(0.9, 1.1, draws) * slope * beta**2)
        losses[m] = rows
    return losses


WIDTHS = [2, 4, 8, 16, 32]
CONFIG = StabilityConfig(bootstrap=100)


def test_crossings_at_a_common_beta_are_stable():
    losses = synthetic_losses(WIDTHS, lambda m: 0.1, lambda m: 1.0 / m**2)
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1))
    assert result.evidence == "crossings"
    assert result.verdict == "stable", result.reason
    assert result.beta0 == pytest.approx(0.1, rel=0.2)


def test_crossings_moving_left_with_collapsing_margin_are_unstable():
    losses = synthetic_losses(WIDTHS, lambda m: 0.5 / m**1.5, lambda m: 1.0 / m**2)
    margins = {m: 0.5 / m for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1))
    assert result.verdict == "unstable", result.reason
    assert result.crossing_slope == pytest.approx(-1.5, abs=0.2)
    assert result.margin_slope == pytest.approx(-1.0)


def test_conflicting_evidence_is_undetermined():
    losses = synthetic_losses(WIDTHS, lambda m: 0.5 / m**1.5, lambda m: 1.0 / m**2)
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1))
    assert result.verdict == "undetermined"


def test_no_improvement_with_width_falls_back_to_blowups():
    losses = {}
    for m in WIDTHS:
        rows = [np.array([1e-6])]
        for beta in BETAS[1:]:
            rows.append(np.full(5, math.inf if beta > 0.1 else 1e-6 + beta**2))
        losses[m] = rows
    result = analyse(BETAS, losses, {m: 0.1 for m in WIDTHS}, CONFIG, np.random.default_rng(0))
    assert result.evidence == "blow-ups"
    assert result.verdict == "stable"
    assert result.beta0 == pytest.approx(math.sqrt(BETAS[7] * BETAS[8]))


def test_decide_thresholds():
    config = StabilityConfig(slope_tolerance=0.5, margin_slope_tolerance=0.5)
    assert decide("crossings", (-2.0, -1.0), -1.0, config)[0] == "unstable"
    assert decide("crossings", (-0.3, 0.4), 0.0, config)[0] == "stable"
    assert decide("crossings", (-1.0, 0.4), 0.0, config)[0] == "undetermined"
    assert decide("crossings", (math.nan, math.nan), 0.0, config)[0] == "undetermined"


def test_margin_of_a_stable_parameterization_does_not_block_the_verdict():
    config = StabilityConfig(slope_tolerance=0.5, margin_slope_tolerance=0.5)
    assert decide("crossings", (-0.3, 0.4), -1.0, config)[0] == "undetermined"
    verdict, reason = decide("crossings", (-0.3, 0.4), -1.0, config, margin_reachable=False)
    assert verdict == "stable" and "not reachable" in reason


def test_students_that_neither_improve_nor_fit_the_target_are_undetermined():
    losses = {}
    for m in WIDTHS:
        rows = [np.array([0.5])]
        for beta in BETAS[1:]:
            rows.append(np.full(5, math.inf if beta > 0.1 else 0.5 + beta**2))
        losses[m] = rows
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(0), zero_loss=1.0)
    assert result.evidence == "blow-ups"
    assert result.verdict == "undetermined" and "do not fit the target" in result.reason
    fitted = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(0), zero_loss=1e3)
    assert fitted.verdict == "stable"
    for analysis, fits in ((result, "fail"), (fitted, "pass")):
        rows = stability_claims("F", analysis.to_dict(), "stable", CONFIG)
        fit_row = next(row for row in rows if "students fit the target" in row["claim"])
        assert analysis.fit_ratio == pytest.approx(0.5 / (1.0 if fits == "fail" else 1e3))
        assert fit_row["verdict"] == fits
        assert rows[-1]["verdict"] == ("pass" if fits == "pass" else "fail")
