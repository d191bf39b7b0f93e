import numpy as np
import pytest

from curse_of_memory.com.plateaus import (
    PlateauCriteria,
    escape_level,
    exponential_scaling,
    find_plateau,
    first_crossing,
    log_indices,
    running_minimum,
)

CRITERIA = PlateauCriteria(max_slope=0.1, min_span=5.0, drop=3.0)
T = np.arange(1, 100_001, dtype=float)


def plateau_curve(end: float) -> np.ndarray:
    """Falls from 1 to 0.5 by t ~ 10, stays at 0.5 until ``end``, then falls to 1e-3."""
    early = 0.5 + 0.5 * np.exp(-T / 3)
    late = 1e-3 + (0.5 - 1e-3) / (1 + (T / end) ** 8)
    return early + late - 0.5


@pytest.mark.parametrize("end", [300.0, 3000.0])
def test_known_plateau_is_found(end):
    plateau = find_plateau(T, plateau_curve(end), CRITERIA)
    assert plateau is not None
    assert plateau.start < 30
    assert end / 2 < plateau.end < end * 1.5
    assert plateau.level == pytest.approx(0.5, rel=0.15)
    assert plateau.drop > 100


def test_noisy_plateau_is_found_through_the_running_minimum(rng):
    noisy = plateau_curve(1000.0) * np.exp(0.05 * rng.normal(size=T.size))
    plateau = find_plateau(T, noisy, CRITERIA)
    assert plateau is not None and plateau.end > 300


@pytest.mark.parametrize(
    "losses",
    [T**-1.0, np.exp(-T / 2) + 1e-9, 0.3 + 0.7 * np.exp(-T / 5)],
    ids=["power law", "fast exponential", "convergence to a floor"],
)
def test_curves_without_a_plateau(losses):
    assert find_plateau(T, losses, CRITERIA) is None


def start_up_curve(plateau_end: float | None, first_descent: float = 0.5) -> np.ndarray:
    """Flat at 1 for the first ~20 iterations, then down by ``first_descent`` (half of it by
    t = 40); then either a stall until ``plateau_end`` and a fall by a factor 10, or (None) a
    steady power-law fall from t = 60."""
    start_up = 1 - first_descent + first_descent / (1 + (T / 40) ** 4)
    if plateau_end is None:
        return start_up * np.minimum(1.0, (T / 60) ** -0.8)
    return start_up * (0.1 + 0.9 / (1 + (T / plateau_end) ** 6))


def test_start_up_flatness_is_not_a_plateau_after_descent():
    steady = start_up_curve(None)
    start_up = find_plateau(T, steady, CRITERIA)
    assert start_up is not None and start_up.start == 1.0
    assert find_plateau(T, steady, CRITERIA, after_descent=True) is None
    steady[0] = np.nan  # L_0 is the first finite loss
    assert find_plateau(T, steady, CRITERIA, after_descent=True) is None


def test_stall_after_the_first_descent_is_found():
    plateau = find_plateau(T, start_up_curve(2000.0), CRITERIA, after_descent=True)
    assert plateau is not None
    assert 40 < plateau.start < 200 and 1000 < plateau.end < 3000
    assert plateau.level == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize(
    "first_descent, counted",
    [(0.0, False), (0.1, False), (0.4, True)],
    ids=["stall at the initial loss", "descent within a flat window", "descent beyond one"],
)
def test_after_descent_needs_a_fall_beyond_what_a_flat_window_allows(first_descent, counted):
    """A flat window of span 5 allows a fall to 5^-0.1 = 0.85 of the loss: a stall counts if
    the running minimum where it starts is below 0.85 L_0."""
    assert CRITERIA.flat_ratio == pytest.approx(5**-0.1)
    curve = start_up_curve(2000.0, first_descent)
    assert find_plateau(T, curve, CRITERIA) is not None
    assert (find_plateau(T, curve, CRITERIA, after_descent=True) is not None) == counted


def test_running_minimum_counts_non_finite_as_infinite():
    np.testing.assert_array_equal(
        running_minimum(np.array([np.nan, 3.0, np.inf, 1.0, 2.0])), [np.inf, 3, 3, 1, 1]
    )


def test_first_crossing_interpolates_on_log_log_axes():
    t = np.array([1.0, 4.0, 16.0, 64.0])
    assert first_crossing(t, t**-2.0, 1e-2) == pytest.approx(10.0)
    assert first_crossing(t, t**-2.0, 1e-6) == np.inf
    assert first_crossing(np.array([0.0, 2.0]), np.array([5.0, 1.0]), 3.0) == 2.0


def test_escape_level_lies_between_plateau_and_final_loss():
    assert escape_level(1.25, 1.05, 0.5) == pytest.approx(1.15)


def test_exponential_scaling_recovers_slope_and_intercept():
    x = np.array([8.0, 10.0, 12.0, 16.0, 20.0])
    fit = exponential_scaling(x, np.exp(-3.0 + 2.0 * x))
    assert (fit.slope, fit.intercept, fit.r2) == pytest.approx((2.0, -3.0, 1.0))
    assert np.isnan(exponential_scaling(x[:2], np.ones(2)).slope)


def test_log_indices_keep_both_ends_and_increase():
    keep = log_indices(20001, 10)
    assert keep[0] == 0 and keep[-1] == 20000
    assert np.all(np.diff(keep) > 0) and len(keep) < 60
