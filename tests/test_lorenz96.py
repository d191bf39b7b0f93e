import numpy as np
import pytest

from curse_of_memory.com.lorenz96 import Lorenz96, euler_maruyama, forcing_dataset


def drift_by_loops(system: Lorenz96, x: np.ndarray, y: np.ndarray):
    """The two-scale Lorenz-96 equations written index by index."""
    K, J = system.slow, system.fast
    h, c, b, F = system.coupling, system.time_scale, system.amplitude, system.forcing
    dx = np.zeros(K)
    dy = np.zeros(K * J)
    for k in range(K):
        fast = sum(y[k * J + j] for j in range(J))
        dx[k] = x[k - 1] * (x[(k + 1) % K] - x[k - 2]) - x[k] + F - h * c / b * fast
    n = K * J
    for i in range(n):
        dy[i] = (
            -c * b * y[(i + 1) % n] * (y[(i + 2) % n] - y[i - 1]) - c * y[i] + h * c / b * x[i // J]
        )
    return dx, dy


def test_drift_matches_the_equations(rng):
    system = Lorenz96(slow=5, fast=3, forcing=8.0, coupling=0.7, time_scale=4.0, amplitude=6.0)
    x, y = rng.normal(size=5), rng.normal(size=15)
    for fast, slow in zip(system.drift(x, y), drift_by_loops(system, x, y)):
        np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_uncoupled_system_stays_at_its_fixed_point():
    """With h = 0 and no noise, X_k = F for all k (and Y = 0) is a fixed point."""
    system = Lorenz96(slow=6, fast=4, forcing=8.0, coupling=0.0, noise=0.0)
    x, y = np.full(6, 8.0), np.zeros(24)
    dx, dy = system.drift(x, y)
    assert np.abs(dx).max() == 0 and np.abs(dy).max() == 0
    path, x_end, y_end = euler_maruyama(system, x, y, np.ones((50, 6)), 0.01)
    np.testing.assert_allclose(path, 8.0)
    assert np.abs(y_end).max() == 0


def test_advection_conserves_energy(rng):
    """Without forcing, coupling and noise, d/dt |X|^2 / 2 = -|X|^2: only the damping acts."""
    system = Lorenz96(slow=7, fast=2, forcing=0.0, coupling=0.0)
    x, y = rng.normal(size=7), rng.normal(size=14)
    dx, dy = system.drift(x, y)
    assert x @ dx == pytest.approx(-(x @ x), rel=1e-12)
    assert y @ dy == pytest.approx(-system.time_scale * (y @ y), rel=1e-12)


def test_euler_maruyama_step_adds_drift_and_scaled_noise(rng):
    system = Lorenz96(slow=4, fast=2, noise=0.3)
    x, y = rng.normal(size=4), rng.normal(size=8)
    dw = rng.normal(size=(1, 4))
    path, x1, y1 = euler_maruyama(system, x, y, dw, 0.01)
    dx, dy = system.drift(x, y)
    np.testing.assert_allclose(x1, x + 0.01 * dx + 0.3 * dw[0])
    np.testing.assert_allclose(y1, y + 0.01 * dy)
    np.testing.assert_allclose(path[0], x1)


def test_forcing_dataset_is_seeded_and_well_formed():
    system = Lorenz96(slow=4, fast=2, forcing=5.0)

    def draw(seed):
        return forcing_dataset(system, 64, 10, 0.002, 5, 0.5, np.random.default_rng(seed))

    inputs, outputs = draw(0)
    assert inputs.shape == outputs.shape == (64, 10, 4)
    assert np.all(np.isfinite(outputs))
    assert abs(inputs.mean()) < 0.1 and inputs.var() == pytest.approx(1.0, rel=0.15)
    again, _ = draw(0)
    np.testing.assert_array_equal(inputs, again)
    assert not np.array_equal(inputs, draw(1)[0])


@pytest.mark.parametrize(("slow", "fast"), [(4, 2), (8, 8)])
def test_the_euler_step_limit_separates_stable_from_diverging_simulations(slow, fast):
    """Simulated: 3/4 of the limit stays finite, 1.1 times it diverges (forcing 8, c = b = 10)."""
    system = Lorenz96(slow=slow, fast=fast, forcing=8.0)
    limit = system.euler_step_limit()
    assert limit < 2 / system.time_scale / 50  # far below the damping's own limit 2 / c

    def finite(dt):
        substeps = int(round(0.05 / dt))
        _, outputs = forcing_dataset(system, 8, 20, dt, substeps, 2.0, np.random.default_rng(0))
        return bool(np.all(np.isfinite(outputs)))

    assert finite(0.75 * limit)
    with np.errstate(all="ignore"):
        assert not finite(1.1 * limit)
