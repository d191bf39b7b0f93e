import numpy as np
import pytest

from curse_of_memory.approximation import exponential_sum_fit, grid_decays, max_abs_error

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
    from curse_of_memory.approximation import grid_fit_errors, l2_error

    rho = 0.9**T
    widths = np.array([1, 2, 4, 8, 12, 16])
    errors = grid_fit_errors(rho, widths)
    assert np.all(np.diff(errors) <= 0)
    direct = l2_error(rho, exponential_sum_fit(rho, grid_decays(16))[1])
    assert errors[-1] <= direct


def test_width_needed_is_the_first_width_below_tolerance():
    from curse_of_memory.approximation import width_needed

    widths, errors = np.array([1, 2, 4, 8]), np.array([1.0, 0.1, 0.01, 0.001])
    assert width_needed(widths, errors, 0.05) == 4
    assert width_needed(widths, errors, 1e-6) == np.inf
