import numpy as np
import pytest
from scipy import special

from curse_of_memory.com.dynamics import (
    ExponentialSumLoss,
    FlowConfig,
    LinearRNNLoss,
    exponential_sum_init,
    gradient_descent,
    gradient_flow,
    linear_rnn_init,
    matrix_powers,
    memory_target,
    quadrature,
)
from curse_of_memory.targets import kernels

A_TRUE = np.array([1.0, -0.5, 0.8])
B_TRUE = np.array([0.5, 1.0, 2.0])


def exponential_sum(t):
    return A_TRUE @ np.exp(-np.outer(B_TRUE, t))


def closed_form_loss(c, w):
    """int_0^inf (sum a e^{-b t} - sum c e^{-w t})^2 dt from 1/(x + y) integrals."""
    aa = A_TRUE @ (1.0 / (B_TRUE[:, None] + B_TRUE[None, :])) @ A_TRUE
    ac = A_TRUE @ (1.0 / (B_TRUE[:, None] + w[None, :])) @ c
    cc = c @ (1.0 / (w[:, None] + w[None, :])) @ c
    return aa - 2 * ac + cc


def finite_difference(objective, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for i in range(len(theta)):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (objective(theta + step)[0] - objective(theta - step)[0]) / (2 * eps)
    return grad


def test_quadrature_integrates_exponentials_and_polynomials():
    nodes, weights = quadrature(7.3, panel=0.5, order=6)
    assert weights @ nodes**5 == pytest.approx(7.3**6 / 6, rel=1e-13)
    assert weights @ np.exp(-2 * nodes) == pytest.approx((1 - np.exp(-14.6)) / 2, rel=1e-13)


def test_white_noise_loss_matches_the_closed_form_for_exponential_sums():
    loss = ExponentialSumLoss.from_kernel(exponential_sum, horizon=60.0)
    rng = np.random.default_rng(1)
    for _ in range(3):
        c, w = rng.normal(size=4), rng.uniform(0.3, 3.0, 4)
        value, _ = loss(np.concatenate([c, w]))
        assert value == pytest.approx(closed_form_loss(c, w), rel=1e-10, abs=1e-12)


def test_white_noise_loss_of_a_gaussian_bump_matches_its_laplace_transform():
    """int_0^inf exp(-((t - t0)/s)^2 - w t) dt = s sqrt(pi)/2 exp(-t0^2/s^2) erfcx(w s/2 - t0/s)."""
    t0, s, c, w = 6.0, 1.3, 0.7, 0.4
    bump = kernels.build_kernel({"family": "bump", "t0": t0, "w": s})
    loss = ExponentialSumLoss.from_kernel(bump, horizon=t0 + 12 * s)
    laplace = s * np.sqrt(np.pi) / 2 * np.exp(-(t0**2) / s**2) * special.erfcx(w * s / 2 - t0 / s)
    energy = s * np.sqrt(np.pi / 2) * (1 + special.erf(np.sqrt(2) * t0 / s)) / 2
    expected = energy - 2 * c * laplace + c**2 / (2 * w)
    assert loss(np.array([c, w]))[0] == pytest.approx(expected, rel=1e-10)


def test_white_noise_gradient_matches_finite_differences():
    rho = kernels.build_kernel(memory_target({"family": "exp", "a": 1.0}, 0.2))
    loss = ExponentialSumLoss.from_kernel(rho, horizon=25.0)
    theta = exponential_sum_init(3, 0.5, (0.3, 2.0), np.random.default_rng(2))
    _, grad = loss(theta)
    np.testing.assert_allclose(grad, finite_difference(loss, theta), rtol=1e-6, atol=1e-9)


def test_exact_exponential_sum_target_has_zero_loss_at_its_optimum():
    loss = ExponentialSumLoss.from_kernel(exponential_sum, horizon=60.0)
    value, grad = loss(np.concatenate([A_TRUE, B_TRUE]))
    assert value < 1e-14
    assert np.abs(grad).max() < 1e-10
    start = np.concatenate([A_TRUE + 0.05, B_TRUE * 1.1])
    run = gradient_flow(loss, start, FlowConfig(t_max=1e6, points_per_decade=5))
    assert run.losses[0] > 1e-4
    assert run.losses[-1] < 1e-12


def test_nonpositive_decay_rates_give_infinite_loss():
    loss = ExponentialSumLoss.from_kernel(exponential_sum, horizon=10.0)
    assert loss(np.array([1.0, 1.0, 0.5, -0.6]))[0] == np.inf


def test_memory_target_is_smooth_part_plus_bump():
    rho = kernels.build_kernel(memory_target({"family": "exp", "a": 2.0}, 0.25, 1.5, 0.5))
    t = np.linspace(0, 10, 11)
    np.testing.assert_allclose(rho(t), np.exp(-2 * t) + 0.5 * np.exp(-(((t - 4) / 1.5) ** 2)))


def test_matrix_powers_match_repeated_products(rng):
    M = rng.normal(size=(3, 3)) / 2
    powers = matrix_powers(M, 13)
    for s in (0, 1, 5, 12):
        np.testing.assert_allclose(powers[s], np.linalg.matrix_power(M, s), atol=1e-14)


def linear_rnn_kernel_by_recursion(A, u, c, dt, length):
    """rho_hat_s from h_{k+1} = h_k + dt (u x_k - A h_k), impulse x_0 = 1/dt, y_k = c h_{k+1}."""
    h = np.zeros(len(u))
    out = []
    for k in range(length):
        x = 1.0 / dt if k == 0 else 0.0
        h = h + dt * (u * x - A @ h)
        out.append(c @ h)
    return np.array(out)


def test_linear_rnn_loss_matches_the_recursion_and_finite_differences():
    dt, length, m = 0.2, 40, 4
    loss = LinearRNNLoss.from_kernel(lambda t: special.airy(t - 3.0)[0], length, dt, m)
    theta = linear_rnn_init(m, (0.2, 1.2), 0.3, 0.5, np.random.default_rng(3))
    A, u, c = loss.unpack(theta)
    kernel = linear_rnn_kernel_by_recursion(A, u, c, dt, length)
    value, grad = loss(theta)
    assert value == pytest.approx(dt * np.sum((loss.rho - kernel) ** 2), rel=1e-12)
    np.testing.assert_allclose(grad, finite_difference(loss, theta), rtol=1e-6, atol=1e-9)


def test_linear_rnn_loss_is_zero_on_its_own_kernel():
    dt, length, m = 0.25, 30, 3
    theta = linear_rnn_init(m, (0.5, 1.5), 0.2, 1.0, np.random.default_rng(4))
    A, u, c = LinearRNNLoss(np.zeros(length), dt, m).unpack(theta)
    rho = linear_rnn_kernel_by_recursion(A, u, c, dt, length)
    value, grad = LinearRNNLoss(rho, dt, m)(theta)
    assert value < 1e-25
    assert np.abs(grad).max() < 1e-12


def test_gradient_descent_on_a_quadratic_follows_the_closed_form():
    def objective(theta):
        return float(theta @ theta), 2 * theta

    run = gradient_descent(objective, np.array([1.0, -2.0]), lr=0.1, iterations=10)
    np.testing.assert_allclose(run.losses, 5.0 * 0.8 ** (2 * np.arange(11)))
    with np.errstate(over="ignore"):
        diverged = gradient_descent(
            lambda t: (float(np.exp(t @ t)), 2 * t * np.exp(t @ t)), np.array([3.0]), 1.0, 5
        )
    assert diverged.losses[-1] == np.inf and "diverged" in diverged.message
