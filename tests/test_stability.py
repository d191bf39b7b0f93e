import math

import numpy as np
import pytest

from curse_of_memory.stability import verdict as stability
from curse_of_memory.stability.curves import certified_curve
from curse_of_memory.stability.verdict import (
    StabilityConfig,
    analyse,
    blowup_point,
    crossing_point,
    decide,
    log_slope,
)
from curse_of_memory.stability.verdict_claims import stability_claims

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
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1), zero_loss=1.0)
    assert result.evidence == "crossings"
    assert result.verdict == "stable", result.reason
    assert result.beta0 == pytest.approx(0.1, rel=0.2)


def test_crossings_moving_left_with_collapsing_margin_are_unstable():
    losses = synthetic_losses(WIDTHS, lambda m: 0.5 / m**1.5, lambda m: 1.0 / m**2)
    margins = {m: 0.5 / m for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1), zero_loss=1.0)
    assert result.verdict == "unstable", result.reason
    assert result.crossing_slope == pytest.approx(-1.5, abs=0.2)
    assert result.margin_slope == pytest.approx(-1.0)


def test_conflicting_evidence_is_undetermined():
    losses = synthetic_losses(WIDTHS, lambda m: 0.5 / m**1.5, lambda m: 1.0 / m**2)
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(1), zero_loss=1.0)
    assert result.verdict == "undetermined"


def test_students_that_represent_the_target_fall_back_to_blowups():
    losses = {}
    for m in WIDTHS:
        rows = [np.array([1e-30 * m])]  # rounding level, in no order
        for beta in BETAS[1:]:
            rows.append(np.full(5, math.inf if beta > 0.1 else beta**2))
        losses[m] = rows
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(BETAS, losses, margins, CONFIG, np.random.default_rng(0), zero_loss=1.0)
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


def test_crossings_moving_left_under_a_stable_parameterization_are_undetermined():
    """The instability the theorem describes is the margin reaching 0; a stable
    parameterization's margin cannot, so crossings moving left alone decide nothing."""
    config = StabilityConfig(slope_tolerance=0.5, margin_slope_tolerance=0.5)
    for margin_slope in (-1.0, 0.0):
        verdict, reason = decide(
            "crossings", (-2.0, -1.0), margin_slope, config, margin_reachable=False
        )
        assert verdict == "undetermined" and "no perturbation of w reaches" in reason


def flat_losses(error, blowup=0.1):
    """Every width at E_m(0) = error, diverging beyond beta = blowup."""
    losses = {}
    for m in WIDTHS:
        rows = [np.array([error * (1 + 0.01 * m)])]  # 4% apart: no meaningful improvement
        for beta in BETAS[1:]:
            rows.append(np.full(5, math.inf if beta > blowup else error + beta**2))
        losses[m] = rows
    return losses


@pytest.mark.parametrize("converged", [True, False])
def test_flat_errors_at_a_visible_level_are_undetermined(converged):
    """0.05 x the zero predictor's loss at every width: no evidence either way (issue: IAT-3 t0
    was rejected as unstable, the damped cosine kept as stable, on such students)."""
    margins = {m: 0.1 / m for m in WIDTHS}
    result = analyse(
        BETAS,
        flat_losses(0.05),
        margins,
        CONFIG,
        np.random.default_rng(0),
        zero_loss=1.0,
        converged={m: converged for m in WIDTHS},
    )
    assert result.evidence == "none"
    assert result.verdict == "undetermined"
    assert "precondition not met" in result.reason
    assert ("train longer" in result.resolve) == (not converged)
    assert math.isnan(result.beta0)
    rows = stability_claims("F", result.to_dict(), "unstable", CONFIG)
    assert rows[0]["verdict"] == "fail" and rows[-1]["verdict"] == "fail"


def test_a_small_fit_ratio_is_not_exact_representation():
    """0.3% of the zero predictor's loss passed the old gate (1%); it is far above the grid's
    resolution (represented_ratio), so flat students there stay undetermined."""
    result = analyse(
        BETAS,
        flat_losses(3e-3),
        {m: 0.1 for m in WIDTHS},
        CONFIG,
        np.random.default_rng(0),
        zero_loss=1.0,
    )
    assert result.evidence == "none" and result.verdict == "undetermined"
    assert result.fit_ratio == pytest.approx(3e-3 * 1.32)


def test_crossings_beyond_the_grid_do_not_inflate_beta0():
    """Pairs whose curves never meet on the grid are reported beyond it and left out of beta_0
    (the old code averaged them in as beta_max)."""
    losses = synthetic_losses(WIDTHS, lambda m: 0.02, lambda m: 1.0 / m**2)
    for m in WIDTHS[2:]:  # widths 8, 16, 32: flat, so pairs (4, 8), (8, 16), (16, 32) never meet
        losses[m] = [losses[m][0]] + [np.full(10, losses[m][0][0]) for _ in BETAS[1:]]
    result = analyse(
        BETAS, losses, {m: 0.1 for m in WIDTHS}, CONFIG, np.random.default_rng(0), zero_loss=1.0
    )
    assert result.crossings_beyond_grid == [False, True, True, True]
    assert result.crossings[0] == pytest.approx(0.02, rel=0.2)
    assert result.beta0 == pytest.approx(result.crossings[0])
    assert result.verdict == "undetermined"  # one crossing on the grid: no trend


BETA_GRID_FIRST = 1e-3  # the first positive beta of perturbation.beta_grid()


def analyse_least_squares(kernel, draws=10, draw_seed=1, train=2048, widths=(2, 4, 8, 14)):
    """Linear students fitted by least squares to a kernel, perturbed exactly, analysed."""
    import torch

    from curse_of_memory.rnn import least_squares, models
    from curse_of_memory.rnn.training import time_weights, weighted_mse
    from curse_of_memory.shared import seeding
    from curse_of_memory.stability import perturbation
    from curse_of_memory.targets import datasets as targets
    from curse_of_memory.targets import kernels

    rho = kernels.kernel_values(kernels.build_kernel(kernel), 100, 1.0)
    data = targets.make_splits(
        targets.LinearFunctional(rho),
        {"train": train, "valid": 256, "test": 512},
        targets.InputSpec(),
        seeding.torch_generator(0, "data"),
    )
    w = time_weights(100, 2.0)
    betas = perturbation.beta_grid()
    config = perturbation.PerturbationConfig(betas=tuple(betas), draws=draws)
    losses, margins = {}, {}
    for m in widths:
        student = models.StudentRNN(models.StudentSpec(width=m), seeding.torch_generator(0, m))
        least_squares.fit_result(student, data, w, log=lambda _: None)
        raw = student.raw()
        generator = seeding.torch_generator(draw_seed, m)
        directions = perturbation.draw_directions(raw, draws, generator)
        losses[m] = perturbation.perturbation_losses(
            student.spec, raw, data["test/x"], data["test/y"], w, config, directions
        )
        margins[m] = student.stability_margin()
    zero = float(weighted_mse(torch.zeros_like(data["test/y"]), data["test/y"], w))
    return analyse(betas, losses, margins, CONFIG, np.random.default_rng(0), zero_loss=zero)


def test_exponential_memory_represented_by_one_mode_is_stable_from_blowups():
    result = analyse_least_squares({"family": "geom", "q": 0.9})
    assert result.fit_ratio < 1e-20  # every width represents 0.9^t exactly
    assert result.evidence == "blow-ups"
    assert result.verdict == "stable", result.reason
    assert result.margins == pytest.approx([0.1] * 4)


@pytest.mark.parametrize(
    "draw_seed, train, widths",
    [
        (1, 4096, (2, 4, 6, 8, 14)),
        (2, 4096, (2, 4, 6, 8, 14)),
        (3, 4096, (2, 4, 6, 8, 14)),
        (1, 4096, (2, 4, 6, 8)),
        (1, 2048, (2, 4, 6, 8, 14)),
    ],
)
def test_polynomial_memory_reads_unstable_from_blowups_moving_toward_zero(draw_seed, train, widths):
    """IAT Figure 1b's setting (4096 training sequences, widths 2-14): least-squares fits of
    (t+1)^-1.1 fall 1e9-fold, but from m = 4 on every curve is perturbation-dominated at
    beta_1, so the sensitivity carries the verdict. Perturbations reach the margin, which
    collapses (0.067 -> 0.006), and the first draw that pushes an eigenvalue below 0 runs
    away: the blow-ups follow the margins toward 0, unstable whichever draws were made, also
    without the widest fit (whose near-duplicate modes with coefficients ~4e5 diverge at the
    first beta) and with half the training data."""
    kernel = {"family": "pol", "s": 1.0, "p": 1.1}
    result = analyse_least_squares(kernel, draws=30, draw_seed=draw_seed, train=train,
                                   widths=widths)  # fmt: skip
    assert result.evidence == "sensitivity", result.precondition
    assert result.blowups[0] > 0.05 and result.blowups[3] < result.blowups[0] / 4
    for blowup, margin in zip(result.blowups, result.margins):  # below the margin: stable
        assert blowup > margin / 2**0.5 or blowup == BETA_GRID_FIRST
    assert result.margin_slope < -CONFIG.margin_slope_tolerance
    assert result.verdict == "unstable", result.reason


def test_a_late_crossing_below_the_grid_cannot_support_a_stable_verdict():
    """Width 32 already meets width 16 at the first beta: that crossing is only an upper bound
    (beta* <= beta_1) on the pair with the largest log m, so the slope has no lower bound."""
    losses = synthetic_losses(WIDTHS, lambda m: 0.1, lambda m: 1.0 / m**2)
    first = losses[32][1][0] - losses[32][0][0]  # push width 32 over width 16 at beta_1
    losses[32] = [losses[32][0]] + [v + 10 * first + 1.0 for v in losses[32][1:]]
    result = analyse(
        BETAS, losses, {m: 0.1 for m in WIDTHS}, CONFIG, np.random.default_rng(1), zero_loss=1.0
    )
    assert result.crossings_below_grid == [False, False, False, True]
    assert result.crossing_slope_low == -math.inf
    assert result.verdict != "stable", result.reason


def corner_slopes(x, low, high):
    """The oracle: the least-squares slope at every corner of the box [low_i, high_i] (each
    infinite end replaced by +-1e6), min and max."""
    import itertools

    slopes = []
    for corner in itertools.product(*zip(np.clip(low, -1e6, 1e6), np.clip(high, -1e6, 1e6))):
        slopes.append(np.polyfit(x, np.array(corner), 1)[0])
    return min(slopes), max(slopes)


@pytest.mark.parametrize(
    "points",
    [
        [0.01, 0.05, np.nan, np.nan],  # crossings stop on the grid: censored late
        [np.nan, 0.2, 0.05, 0.01],  # censored early
        [0.001, 0.02, 0.03, 0.04],  # below the grid first
        [0.02, 0.03, 0.04, 0.001],  # below the grid last
        [0.1, 0.05, 0.02, 0.01],  # all on the grid
    ],
)
def test_slope_bounds_are_the_extreme_slopes_over_what_the_grid_allows(points):
    points = np.array(points)
    widths = np.array([3.0, 5.0, 7.0, 11.0])
    x = np.log(widths)
    beyond, below = np.isnan(points), points <= BETAS[1]
    low = np.where(beyond, np.log(BETAS[-1]), np.where(below, -np.inf, np.log(points)))
    high = np.where(beyond, np.inf, np.where(below, np.log(BETAS[1]), np.log(points)))
    expected = corner_slopes(x, low, high)
    got = stability.slope_bounds(points, widths, np.ones(4, dtype=bool), BETAS)
    for value, oracle in zip(got, expected):
        if abs(oracle) > 1e4:  # an infinite end reached: the bound is infinite
            assert math.isinf(value) and np.sign(value) == np.sign(oracle)
        else:
            assert value == pytest.approx(oracle, rel=1e-9, abs=1e-12)
    if not beyond.any() and not below.any():
        assert got[0] == pytest.approx(got[1]) == pytest.approx(np.polyfit(x, np.log(points), 1)[0])


@pytest.mark.parametrize("first_infinite", [(3, 5, 6, 9), (1, 4, 4, 2), (2, 2, 2, 2)])
def test_blowup_slope_bounds_are_the_extreme_slopes_over_the_grid_intervals(first_infinite):
    """Width i first diverges at BETAS[j]: its blow-up lies in (BETAS[j-1], BETAS[j]], in
    (0, BETAS[1]] for j = 1; the bounds are the corner slopes of that box."""
    widths = np.array([3.0, 5.0, 7.0, 11.0])
    curves = []
    for j in first_infinite:
        curve = np.ones(BETAS.shape)
        curve[j:] = math.inf
        curves.append(curve)
    points = np.array([blowup_point(BETAS, curve) for curve in curves])
    bounds = np.array([stability.blowup_bounds(BETAS, curve) for curve in curves])
    j = np.array(first_infinite)
    low = np.where(j == 1, -np.inf, np.log(BETAS[np.maximum(j - 1, 1)]))
    expected = corner_slopes(np.log(widths), low, np.log(BETAS[j]))
    got = stability.blowup_slope_bounds(bounds, widths, BETAS[-1])
    for value, oracle in zip(got, expected):
        if abs(oracle) > 1e4:
            assert math.isinf(value) and np.sign(value) == np.sign(oracle)
        else:
            assert value == pytest.approx(oracle, rel=1e-9, abs=1e-12)
    assert got[0] <= log_slope(widths, points) <= got[1]
    bounds[-1] = stability.blowup_bounds(BETAS, np.ones(BETAS.shape))  # the widest never diverges
    assert tuple(bounds[-1]) == (BETAS[-1], math.inf)  # [beta_max, inf): no upper bound
    got = stability.blowup_slope_bounds(bounds, widths, BETAS[-1])
    assert got[1] == math.inf
    high = np.log(BETAS[j])
    low[-1], high[-1] = np.log(BETAS[-1]), np.inf
    expected = corner_slopes(np.log(widths), low, high)[0]
    assert got[0] == (-math.inf if expected < -1e4 else pytest.approx(expected, rel=1e-9))
    never = [(BETAS[-1], math.inf)] * 4
    assert stability.blowup_slope_bounds(never, widths, BETAS[-1]) == (
        math.inf,
        math.inf,
    )  # no student diverges on the grid: they stay put beyond it


def test_a_runaway_radius_pins_the_blowup_unless_the_draws_diverge_earlier():
    """E_m = inf beyond the radius r: the blow-up is r exactly when the draws first diverge at
    or after it (or never), the draws' grid interval when they diverge before it."""
    curve = np.ones(BETAS.shape)
    curve[7:] = math.inf  # the draws diverge in (BETAS[6], BETAS[7]]
    inside = 0.5 * (BETAS[6] + BETAS[7])
    for radius in (0.5 * BETAS[3], inside, BETAS[7]):
        certified = certified_curve(BETAS, curve, radius)
        assert stability.blowup_bounds(BETAS, certified, radius) == (radius, radius)
        assert blowup_point(BETAS, certified, radius) == radius
    assert stability.blowup_bounds(BETAS, curve, 2 * BETAS[7]) == (BETAS[6], BETAS[7])
    finite = np.ones(BETAS.shape)
    assert stability.blowup_bounds(BETAS, finite, 3 * BETAS[-1]) == (3 * BETAS[-1],) * 2
    certified = certified_curve(BETAS, finite, BETAS[4])
    assert np.isinf(certified[5:]).all() and np.isfinite(certified[:5]).all()


def test_runaway_radii_make_blowups_exact_and_the_verdict_follow_them():
    """Identical draws at every width, no draw ever diverging: the radii alone carry the trend.
    Radii 0.1 / m with a margin collapsing alike read unstable; radii 0.1 at every width with a
    steady margin and a bounded excess read stable (for a memory known to be exponential)."""
    widths = [4, 8, 16, 32]
    losses = {m: [np.array([1e-3 / m])] + [np.full(30, 1.0 / m) for _ in BETAS[1:]] for m in widths}
    falling = {m: 0.1 / m for m in widths}
    result = analyse(
        BETAS, losses, falling, CONFIG, np.random.default_rng(0), 10.0, runaway_radii=falling
    )
    assert result.evidence == "sensitivity"
    assert result.blowups == pytest.approx([0.1 / m for m in widths])
    assert result.blowup_slope_low == pytest.approx(-1.0) == result.blowup_slope_high
    assert result.verdict == "unstable"
    steady = {m: 0.1 for m in widths}
    result = analyse(
        BETAS,
        losses,
        steady,
        CONFIG,
        np.random.default_rng(0),
        10.0,
        target_memory="exponential",
        runaway_radii=steady,
    )
    assert result.blowup_slope_low == pytest.approx(0.0, abs=1e-12)
    assert result.verdict == "stable", result.reason


def test_no_resolved_crossing_on_the_grid_means_they_stay_put_beyond_it():
    points = np.array([np.nan, np.nan, 0.003])
    used = np.array([True, True, False])  # the last pair does not fall by min_improvement
    bounds = stability.slope_bounds(points, np.array([2.0, 4.0, 8.0]), used, BETAS)
    assert bounds == (math.inf, math.inf)
    assert stability.slope_bounds(points, np.array([2.0, 4.0, 8.0]), ~used, BETAS) == (
        -math.inf,
        math.inf,
    )


def test_a_pair_that_barely_improves_gives_no_evidence():
    """Widths 16 and 32 end within a factor 1.2 of each other: their curves meet at the first
    betas (what the IAT-8b students showed), which must not read as crossings moving left."""
    errors = {m: 1.0 / min(m, 16) ** 2 / (1.2 if m == 32 else 1.0) for m in WIDTHS}
    losses = synthetic_losses(WIDTHS, lambda m: 0.002 if m > 16 else 0.1, lambda m: errors[m])
    result = analyse(
        BETAS, losses, {m: 0.1 for m in WIDTHS}, CONFIG, np.random.default_rng(1), zero_loss=1.0
    )
    assert result.crossings_informative == [True, True, True, False]
    assert result.crossings[-1] == pytest.approx(0.002, rel=0.3)
    assert result.improving_pairs == 3 and result.evidence == "crossings"
    assert result.verdict == "stable", result.reason
    assert result.beta0 == pytest.approx(0.1, rel=0.2)


@pytest.mark.parametrize(
    "memory, reachable, verdict",
    [
        (None, True, "stable"),  # memory not known exactly: the evidence decides
        ("exponential", True, "stable"),
        ("polynomial", True, "undetermined"),  # the theorem rules stable out
        ("non-decaying", True, "undetermined"),
        ("undetermined", True, "undetermined"),  # e.g. exp(-sqrt t): not shown exponential
        ("polynomial", False, "stable"),  # a stable parameterization may approximate it stably
    ],
)
def test_a_stable_reading_the_theorem_rules_out_is_undetermined(memory, reachable, verdict):
    losses = synthetic_losses(WIDTHS, lambda m: 0.1, lambda m: 1.0 / m**2)
    margins = {m: 0.1 for m in WIDTHS}
    result = analyse(
        BETAS,
        losses,
        margins,
        CONFIG,
        np.random.default_rng(1),
        zero_loss=1.0,
        margin_reachable=reachable,
        target_memory=memory,
    )
    assert result.verdict == verdict, result.reason
    assert result.target_memory == memory
    if verdict == "undetermined":
        assert (
            f"is {memory}, not exponential" in result.reason and "wider students" in result.resolve
        )


def test_excess_slope_is_the_power_of_m_and_infinite_for_a_diverged_student():
    widths = np.array([4.0, 8.0, 16.0, 32.0])
    assert stability.excess_slope(widths, 1e-3 * widths**0.7) == pytest.approx(0.7)
    assert stability.excess_slope(widths, np.array([1e-3, 1e-3, math.inf, 1e-3])) == math.inf
    assert math.isnan(stability.excess_slope(widths, np.array([1e-3, 0.0, 1e-3, 1e-3])))


def dominated_losses(error_of, sensitivity_of, draws=30, seed=0):
    """E_m(beta) = E_m(0) + S_m beta^2 x jitter in [0.9, 1.1]: with S_m beta_1^2 >= E_m(0) every
    curve is perturbation-dominated at the first beta (what gradient-trained students show)."""
    rng = np.random.default_rng(seed)
    return {
        m: [np.array([error_of(m)])]
        + [
            error_of(m) + rng.uniform(0.9, 1.1, draws) * sensitivity_of(m) * beta**2
            for beta in BETAS[1:]
        ]
        for m in WIDTHS
    }


def analyse_losses(losses, margins=None, **options):
    """analyse() on ``losses`` with the test grid and config, margins 0.1 unless given."""
    margins = margins or {m: 0.1 for m in losses}
    rng = np.random.default_rng(0)
    return analyse(BETAS, losses, margins, CONFIG, rng, zero_loss=1.0, **options)


@pytest.mark.parametrize(
    "memory, reachable",
    [("exponential", True), (None, False), ("polynomial", False)],
)
def test_perturbation_dominated_curves_are_read_from_their_excess(memory, reachable):
    """E_m(0) falls like m^-3, S_m = 100 at every width: the crossings beta* ~ sqrt(dE0/dS) are
    set by the draws' jitter, the perturbation excess S_m beta_1^2 is bounded: stable."""
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    result = analyse_losses(losses, margin_reachable=reachable, target_memory=memory)
    assert result.improving_pairs == 4 and result.evidence == "sensitivity"
    assert "perturbation parts meet" in result.precondition
    assert result.excess == pytest.approx([100.0 * BETAS[1] ** 2] * len(WIDTHS), rel=0.1)
    assert result.excess_slope == pytest.approx(0.0, abs=0.1)
    assert result.excess_slope_high < CONFIG.slope_tolerance
    assert result.verdict == "stable", result.reason
    assert result.beta0_beyond_grid  # no student diverges on the grid
    rows = stability_claims("F", result.to_dict(), "stable", CONFIG)
    assert [row["verdict"] for row in rows] == ["pass"] * 6
    assert "grows slower than m^0.5" in rows[1]["claim"]
    assert "blow-ups stay put" in rows[2]["claim"] and rows[2]["value"] == "inf"


def test_a_bounded_excess_under_a_reachable_margin_needs_exponential_memory():
    """Students of polynomial memory keep their excess bounded at a few widths too (IAT-2,
    IAT-7a), so with the memory unknown the sensitivity's stable reading is undetermined."""
    result = analyse_losses(dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0))
    assert result.evidence == "sensitivity" and result.verdict == "undetermined"
    assert "does not separate memories" in result.reason


@pytest.mark.parametrize(
    "smallest_margin, verdict", [(0.07, "stable"), (0.068, "undetermined"), (0.02, "undetermined")]
)
def test_a_bounded_excess_reads_stable_when_every_margin_ends_within_the_window(
    smallest_margin, verdict
):
    """Window T dt = 100, represented_ratio 1e-6: a slowest mode decays to 1e-3 within it from
    margin ln(1e6) / 200 = 0.0691 on."""
    margins = {m: 0.3 for m in WIDTHS} | {WIDTHS[-1]: smallest_margin}
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    result = analyse_losses(losses, margins, horizon=100.0)
    assert result.evidence == "sensitivity" and result.verdict == verdict, result.reason
    if verdict == "stable":
        assert "decays within the training window" in result.reason


@pytest.mark.parametrize(
    "estimated, reachable, verdict",
    [
        ("polynomial", True, "undetermined"),
        ("non-decaying", True, "undetermined"),
        ("undetermined", True, "stable"),
        ("exponential", True, "stable"),
        ("polynomial", False, "stable"),
    ],
)
def test_a_stable_reading_against_a_slow_estimated_memory_is_undetermined(
    estimated, reachable, verdict
):
    """The students read stable (margins 0.3, inside the window) but the memory estimate says
    slow: under a reachable margin the theorem makes the two disagree, so neither is trusted."""
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    result = analyse_losses(
        losses,
        {m: 0.3 for m in WIDTHS},
        margin_reachable=reachable,
        horizon=100.0,
        estimated_memory=estimated,
    )
    assert result.verdict == verdict, result.reason
    if verdict == "undetermined":
        assert f"estimated {estimated}" in result.reason


def test_an_unresolved_or_diverged_excess_counts_against_stable():
    widths = np.array([2.0, 4.0, 8.0])
    assert stability.excess_slope(widths, np.array([math.inf, 1e-3, 1e-3])) == math.inf
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    losses[32] = [losses[32][0]] + [np.full(30, math.inf) for _ in BETAS[1:]]  # diverges at once
    result = analyse_losses(losses, margin_reachable=False)
    assert result.evidence == "sensitivity" and result.excess[-1] == math.inf
    assert result.excess_slope_high == math.inf and result.verdict == "undetermined"
    assert not result.beta0_beyond_grid and result.beta0 == pytest.approx(BETAS[1])


@pytest.mark.parametrize("reachable", [True, False])
def test_a_growing_excess_without_blowups_is_undetermined(reachable):
    """S_m ~ m^2: the students get more fragile, but growth at a few widths does not show
    E_m(beta) diverging at every beta (the blow-ups moving to 0), so: undetermined."""
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0 * m**2)
    result = analyse_losses(losses, {m: 0.5 / m for m in WIDTHS}, margin_reachable=reachable)
    assert result.evidence == "sensitivity"
    assert result.excess_slope == pytest.approx(2.0, abs=0.1)
    assert result.verdict == "undetermined"
    assert "not shown to grow slower" in result.reason
    rows = stability_claims("F", result.to_dict(), "unstable", CONFIG)
    assert "blow-ups move left" in rows[1]["claim"]
    assert rows[1]["verdict"] == rows[-1]["verdict"] == "fail"


def diverging_losses(first_infinite_of, sensitivity_of=lambda m: 100.0 * m):
    """dominated_losses with width m diverging (+inf) from beta index first_infinite_of(m)."""
    losses = dominated_losses(lambda m: 1e-5 / m**3, sensitivity_of)
    for m, rows in losses.items():
        for i in range(first_infinite_of(m), len(BETAS)):
            rows[i] = np.full(rows[i].shape, math.inf)
    return losses


@pytest.mark.parametrize(
    "reachable, collapse, expected",
    [(True, True, "unstable"), (True, False, "undetermined"), (False, True, "undetermined")],
)
def test_blowups_moving_toward_zero_read_unstable_with_a_collapsing_margin(
    reachable, collapse, expected
):
    """Width m diverges from beta = 1e-3 * 2^(10 - log2 m): b_m ~ 1/m, slope -1. Unstable only
    when the mechanism is there too: a margin that perturbations reach and that collapses."""
    losses = diverging_losses(lambda m: 11 - int(math.log2(m)))
    margins = {m: (0.5 / m if collapse else 0.1) for m in WIDTHS}
    result = analyse_losses(losses, margins, margin_reachable=reachable)
    assert result.evidence == "sensitivity"
    assert result.blowup_slope == pytest.approx(-1.0, abs=0.05)
    assert result.blowup_slope_high < -CONFIG.slope_tolerance
    assert result.verdict == expected, result.reason
    rows = stability_claims("F", result.to_dict(), "unstable", CONFIG)
    assert "blow-ups move left" in rows[1]["claim"] and rows[1]["verdict"] == "pass"


def test_blowups_moving_toward_zero_read_unstable_whatever_the_excess_below_them():
    """E_m(beta) = inf from b_m on: blow-ups moving to 0 leave no common beta_0, however small
    E_m is below them (a bounded excess)."""
    losses = diverging_losses(lambda m: 11 - int(math.log2(m)), lambda m: 100.0)
    result = analyse_losses(losses, {m: 0.5 / m for m in WIDTHS})
    assert result.excess_slope_high < CONFIG.slope_tolerance
    assert result.blowup_slope_high < -CONFIG.slope_tolerance
    assert result.verdict == "unstable", result.reason


@pytest.mark.parametrize(
    "memory, margins, why",
    [
        ("exponential", {m: 0.5 / m for m in WIDTHS}, "decays exponentially"),
        (None, {2: 0.5, 4: 0.2, 8: 0.1, 16: 0.0, 32: -1e-9}, "16, 32 have a mode at the edge"),
    ],
)
def test_an_unstable_reading_that_cannot_be_the_targets_is_undetermined(memory, margins, why):
    """Blow-ups moving to 0 under a collapsing margin read unstable (above), but not for a
    memory known to decay exponentially, nor when a student has a mode at lam = 0 (a dead mode
    of the direct parameterization: any perturbation makes it run away, whatever the target)."""
    losses = diverging_losses(lambda m: 11 - int(math.log2(m)), lambda m: 100.0)
    result = analyse_losses(losses, margins, target_memory=memory)
    assert result.blowup_slope_high < -CONFIG.slope_tolerance
    assert result.verdict == "undetermined"
    assert why in result.reason


@pytest.mark.parametrize(
    "ratios, verdict, why",
    [
        ({16: 1.5, 32: 40.0}, "undetermined", "16 have a mode at the edge"),
        ({16: 2.5, 32: 40.0}, "unstable", "16, 32 are the fit's"),
        ({}, "undetermined", "16, 32 have a mode at the edge"),
    ],
)
def test_an_edge_mode_vetoes_unstable_only_when_the_fit_does_not_need_it(ratios, verdict, why):
    """A mode at lam = 0 is the target's when raising it to beta_1 multiplies the loss by more
    than min_improvement (an integrating teacher), a dead one's otherwise."""
    losses = diverging_losses(lambda m: 11 - int(math.log2(m)), lambda m: 100.0)
    margins = {2: 0.5, 4: 0.2, 8: 0.1, 16: 0.0, 32: -1e-9}
    result = analyse_losses(losses, margins, lift_ratios=ratios)
    assert result.verdict == verdict, result.reason
    assert why in result.reason


@pytest.mark.parametrize(
    "memory, reachable, verdict",
    [
        (None, True, "unstable"),
        ("exponential", True, "undetermined"),
        (None, False, "undetermined"),
    ],
)
def test_every_width_needing_an_edge_mode_reads_unstable(memory, reachable, verdict):
    """Every width's fit needs a mode at lam = 0 (runaway radius 1e-6): E_m = inf at every beta
    of the grid, though the radii stay put. Unstable, unless the memory is known to be
    exponential or no perturbation reaches the margin (the theorem's mechanism is then absent)."""
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    margins = {m: 0.0 for m in WIDTHS}
    result = analyse_losses(
        losses,
        margins,
        margin_reachable=reachable,
        target_memory=memory,
        lift_ratios={m: 50.0 for m in WIDTHS},
        runaway_radii={m: 1e-6 for m in WIDTHS},
    )
    assert result.verdict == verdict, result.reason
    if verdict == "unstable":
        assert "every width's fit needs a mode at the edge" in result.reason


def test_a_bounded_excess_is_not_stable_while_the_blowups_may_move_toward_zero():
    """b_m ~ m^-0.5 on the grid: the blow-ups' interval straddles -0.5, so even with the
    margin out of reach and the excess bounded the verdict waits."""
    losses = diverging_losses(lambda m: {2: 12, 4: 11, 8: 10, 16: 10, 32: 9}[m], lambda m: 100.0)
    result = analyse_losses(losses, margin_reachable=False)
    assert result.excess_slope_high < CONFIG.slope_tolerance
    assert result.blowup_slope_low <= -CONFIG.slope_tolerance <= result.blowup_slope_high
    assert result.verdict == "undetermined"
    assert "not shown to stay put" in result.reason


def test_blowups_that_stay_put_do_not_read_unstable():
    losses = diverging_losses(lambda m: 9)
    result = analyse_losses(losses, {m: 0.5 / m for m in WIDTHS})
    assert result.blowup_slope == pytest.approx(0.0, abs=1e-9)
    assert result.verdict == "undetermined", result.reason


def test_crossings_need_pairs_whose_narrower_curve_is_still_flat():
    """Only m = 2 is approximated coarsely enough to stay flat at beta_1; the other pairs cross
    where perturbation parts meet, so the four resolved pairs give one informative crossing."""
    losses = dominated_losses(lambda m: 1.0 if m == 2 else 1e-5 / m**3, lambda m: 100.0)
    result = analyse_losses(losses, margin_reachable=False)
    assert result.improving_pairs == 4
    assert result.crossings_informative == [True, False, False, False]
    assert result.evidence == "sensitivity"
    assert "of those, 1 (needs >= 3)" in result.precondition


def test_too_few_resolved_pairs_fall_back_to_the_excess_not_to_undetermined():
    """E_m(0) falls x100 from m = 2 to 4 and stays there (one resolved pair): the SPEC's
    precondition (a meaningful fall over the widths) holds, the crossings' does not."""
    losses = dominated_losses(lambda m: 1e-4 if m == 2 else 1e-6, lambda m: 50.0 / m)
    result = analyse_losses(losses, target_memory="exponential")
    assert result.improving_pairs == 1 and result.evidence == "sensitivity"
    assert "too few resolved pairs" in result.precondition
    assert result.excess_slope == pytest.approx(-1.0, abs=0.1)
    assert result.verdict == "stable", result.reason


def test_a_bounded_excess_with_a_collapsing_margin_is_undetermined():
    losses = dominated_losses(lambda m: 1e-5 / m**3, lambda m: 100.0)
    result = analyse_losses(losses, {m: 1.0 / m for m in WIDTHS})
    assert result.evidence == "sensitivity" and result.verdict == "undetermined"
    assert "margin collapses" in result.reason


def test_leave_one_out_slopes_span_the_trend_with_any_single_width_dropped():
    """Collinear points: one slope. A trend carried by its first point alone (flat after it):
    from the steepest subset fit up to 0, the flat rest without it."""
    x = np.log([4.0, 8.0, 16.0, 32.0])
    assert stability.leave_one_out_slopes(x, -0.7 * x + 1.0) == pytest.approx((-0.7, -0.7))
    y = np.log([0.06, 0.016, 0.016, 0.016])
    subsets = [[0, 1, 2, 3], [1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]
    slopes = [np.polyfit(x[k], y[k], 1)[0] for k in subsets]
    assert slopes[0] < -0.5 and slopes[1] == pytest.approx(0.0, abs=1e-12)
    low, high = stability.leave_one_out_slopes(x, y)
    assert (low, high) == pytest.approx((min(slopes), max(slopes)))
    assert stability.leave_one_out_slopes(x[:2], y[:2]) == (-math.inf, math.inf)


def test_exact_blowups_still_need_a_trend_no_single_width_decides():
    """Radii 0.06, 0.016, 0.016, 0.016 (a drop at the first width, then flat): the full slope is
    below -0.5 but without the first width the blow-ups stay put, so the reading is not unstable."""
    widths = [8, 16, 32, 64]
    losses = {m: [np.array([1e-3 / m])] + [np.full(30, 1.0 / m) for _ in BETAS[1:]] for m in widths}
    radii = dict(zip(widths, [0.06, 0.016, 0.016, 0.016]))
    result = analyse(
        BETAS, losses, radii, CONFIG, np.random.default_rng(0), 10.0, runaway_radii=radii
    )
    assert result.blowup_slope < -0.5
    assert result.blowup_slope_low < -0.5 < result.blowup_slope_high
    assert result.verdict == "undetermined"
