import numpy as np
import pytest

from curse_of_memory.com.approximation import exponential_sum_fit, grid_decays, max_abs_error

T = np.arange(101.0)


def test_fit_is_exact_for_a_sum_on_the_grid():
    q = grid_decays(3)
    rho = 2 * q[0] ** T - 0.5 * q[2] ** T
    coefficients, fitted = exponential_sum_fit(rho, q)
    np.testing.assert_allclose(coefficients, [2.0, 0.0, -0.5], atol=1e-9)
    assert max_abs_error(rho, fitted) < 1e-12


@pytest.mark.parametrize(
    ("rho", "paper"),
    [(0.9**T, [0.32, 0.10]), ((T + 1) ** -1.1, [0.09, 0.022])],
)
def test_grid_fit_matches_iat_figure_1_errors_at_small_width(rho, paper):
    """IAT Fig. 1 reports E_m(0) for m = 2, 4; the fixed-grid least-squares fit comes close."""
    for m, expected in zip((2, 4), paper):
        _, fitted = exponential_sum_fit(rho[:100], grid_decays(m))
        error = max_abs_error(rho[:100], fitted)
        assert error == pytest.approx(expected, rel=0.25)


def test_error_falls_with_width():
    errors = [
        max_abs_error(0.9**T, exponential_sum_fit(0.9**T, grid_decays(m))[1])
        for m in (2, 4, 6, 8, 14)
    ]
    assert all(b < a for a, b in zip(errors, errors[1:]))


def test_grid_fit_errors_bound_the_best_error_and_never_increase():
    from curse_of_memory.com.approximation import grid_fit_errors, l2_error

    rho = 0.9**T
    widths = np.array([1, 2, 4, 8, 12, 16])
    errors = grid_fit_errors(rho, widths)
    assert np.all(np.diff(errors) <= 0)
    direct = l2_error(rho, exponential_sum_fit(rho, grid_decays(16))[1])
    assert errors[-1] <= direct * (1 + 1e-9)  # the projection and lstsq agree to rounding


def test_width_needed_is_the_first_width_below_tolerance():
    from curse_of_memory.com.approximation import width_needed

    widths, errors = np.array([1, 2, 4, 8]), np.array([1.0, 0.1, 0.01, 0.001])
    assert width_needed(widths, errors, 0.05) == 4
    assert width_needed(widths, errors, 1e-6) == np.inf


def test_grid_distance_is_the_least_squares_error():
    from curse_of_memory.com.approximation import grid_distance, l2_error

    rho = (T + 1) ** -1.5
    q = grid_decays(6)  # well conditioned: lstsq and the projection agree
    assert grid_distance(rho, q) == pytest.approx(l2_error(rho, exponential_sum_fit(rho, q)[1]))


def test_grid_distance_stays_accurate_where_the_coefficients_do_not():
    """exp(-0.1 t) on 400 steps, m = 32: condition number ~4e19; 60-digit arithmetic: 1.976e-8."""
    from curse_of_memory.com.approximation import grid_distance, l2_error

    rho = np.exp(-0.1 * np.arange(400.0))
    q = grid_decays(32)
    assert grid_distance(rho, q) == pytest.approx(1.976e-8, rel=0.05)
    assert l2_error(rho, exponential_sum_fit(rho, q)[1]) > 3 * 1.976e-8  # lstsq's cut-off


@pytest.mark.parametrize(
    ("errors", "label", "trend"),
    [
        (lambda m: np.exp(-0.3 * m), "geometric", 0.0),
        (lambda m: m**-1.5, "algebraic", -1.0),
        (lambda m: 0.5 * m**-3.0, "algebraic", -1.0),
    ],
)
def test_width_decay_of_pure_laws(errors, label, trend):
    from curse_of_memory.com.approximation import width_decay

    widths = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40])
    fit = width_decay(widths, errors(widths.astype(float)), floor=1e-12)
    assert fit.label == label and fit.trend == pytest.approx(trend, abs=1e-9)


def test_width_decay_averages_over_steps():
    """A geometric decay that a fixed grid reaches in steps (each value carried 3 widths)."""
    from curse_of_memory.com.approximation import width_decay

    widths = np.arange(1, 41)
    errors = np.exp(-0.5 * (3 * ((widths - 1) // 3) + 1))
    fit = width_decay(widths, errors, floor=1e-12)
    assert fit.label == "geometric" and abs(fit.trend) < 0.1
