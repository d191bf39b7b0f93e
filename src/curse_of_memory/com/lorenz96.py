"""The two-scale Lorenz-96 system with stochastic forcing, and the sequence data it gives.

K slow variables X_k, each coupled to J fast variables Y_{j,k} (one ring of K J fast variables,
Y_{j,k} at position i = k J + j, all indices periodic):

    dX_k = [X_{k-1} (X_{k+1} - X_{k-2}) - X_k + F - (h c / b) sum_j Y_{j,k}] dt + sigma dW_k,
    dY_i = [-c b Y_{i+1} (Y_{i+2} - Y_{i-1}) - c Y_i + (h c / b) X_{k(i)}] dt,

i.e. the forcing of X_k is F + sigma xi_k(t) with white noise xi. Simulated by Euler-Maruyama.
A learning task (COM Figure 1c): from the forcing (input) predict the resolved variables X
(output); the fast variables Y are unobserved and carry memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lorenz96:
    """Parameters: K slow, J fast per slow, mean forcing F, coupling h, time-scale ratio c,
    amplitude ratio b, forcing noise intensity sigma."""

    slow: int = 8
    fast: int = 8
    forcing: float = 10.0
    coupling: float = 1.0
    time_scale: float = 10.0
    amplitude: float = 10.0
    noise: float = 1.0

    def __post_init__(self) -> None:
        if self.slow < 4 or self.fast < 1:
            raise ValueError("lorenz96: need slow >= 4 and fast >= 1")

    def drift(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic right-hand sides (dX/dt, dY/dt) for states x (..., K), y (..., K J)."""
        h, c, b = self.coupling, self.time_scale, self.amplitude
        advection = np.roll(x, 1, -1) * (np.roll(x, -1, -1) - np.roll(x, 2, -1))
        fast_sum = y.reshape(*y.shape[:-1], self.slow, self.fast).sum(-1)
        dx = advection - x + self.forcing - (h * c / b) * fast_sum
        dy = (
            -c * b * np.roll(y, -1, -1) * (np.roll(y, -2, -1) - np.roll(y, 1, -1))
            - c * y
            + (h * c / b) * np.repeat(x, self.fast, axis=-1)
        )
        return dx, dy

    def euler_step_limit(self) -> float:
        """The largest Euler-Maruyama step that keeps dt |lambda| <= 2 for the Jacobian's
        eigenvalues at the size the attractor sustains (explicit Euler's stability interval).

        Size: with E = (|X|^2 + |Y|^2) / 2 the advection terms conserve |X|^2 and |Y|^2 and the
        coupling terms cancel, so Ito's formula gives dE = (-|X|^2 - c|Y|^2 + F sum X
        + K sigma^2 / 2) dt + noise. On the attractor the mean of dE is 0, and
        F sum X - |X|^2 <= K F^2 / 4, hence the root mean square sizes
        c <|Y|^2> <= K (F^2 / 4 + sigma^2 / 2) and <|X|^2>^(1/2) <= K^(1/2) (|F| + (F^2
        + 2 sigma^2)^(1/2)) / 2, bounds on every single variable. Rate: Gershgorin's bound on
        the rows of the Jacobian, c + 4 c b |Y| + |h| c / b (fast) and 1 + 4 |X| + J |h| c / b
        (slow). The fast row decides for time_scale c >> 1: its damping -c alone would allow
        dt < 2 / c, far too large. Measured: slow 4, fast 2 and slow 8, fast 8 (forcing 8,
        h = 1, c = b = 10, sigma = 1) have limits 0.0019 and 0.0014, and their simulations
        diverge at dt = 0.002 and 0.0015 but not at 0.0015 and 0.001.
        """
        k, j, f, sigma = self.slow, self.fast, abs(self.forcing), self.noise
        h, c, b = abs(self.coupling), self.time_scale, self.amplitude
        y = np.sqrt(k * (f**2 / 4 + sigma**2 / 2) / c)
        x = np.sqrt(k) * (f + np.sqrt(f**2 + 2 * sigma**2)) / 2
        fast = c + 4 * c * b * y + h * c / b
        slow = 1 + 4 * x + j * h * c / b
        return float(2 / max(fast, slow))

    def initial_state(self) -> tuple[np.ndarray, np.ndarray]:
        """X_k = F with X_0 nudged by 0.01 and Y_i = 0.01 sin(i): a fixed, reproducible start."""
        x = np.full(self.slow, float(self.forcing))
        x[0] += 0.01
        y = 0.01 * np.sin(np.arange(self.slow * self.fast, dtype=float))
        return x, y


def euler_maruyama(
    system: Lorenz96,
    x: np.ndarray,
    y: np.ndarray,
    increments: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X_{n+1} = X_n + dt f_X + sigma dW_n, Y_{n+1} = Y_n + dt f_Y for every row of dW.

    increments: Brownian increments dW (steps, ..., K) with variance dt. Returns the path of X
    after each step (steps, ..., K) and the final (X, Y).
    """
    path = np.empty(increments.shape)
    for n, dw in enumerate(increments):
        dx, dy = system.drift(x, y)
        x = x + dt * dx + system.noise * dw
        y = y + dt * dy
        path[n] = x
    return path, x, y


def spin_up(system: Lorenz96, duration: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """The deterministic (noise-free) state after ``duration`` from :meth:`initial_state`."""
    x, y = system.initial_state()
    steps = int(round(duration / dt))
    _, x, y = euler_maruyama(system, x, y, np.zeros((steps, system.slow)), dt)
    return x, y


def forcing_dataset(
    system: Lorenz96,
    count: int,
    length: int,
    dt: float,
    substeps: int,
    spinup: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` sequences of ``length`` coarse steps (each ``substeps`` Euler-Maruyama steps).

    Every sequence starts from the same spun-up state. Input at coarse step n: the normalised
    mean forcing noise over the step, xi_n = sum dW / sqrt(substeps dt) ~ N(0, I) (the forcing is
    F + sigma xi_n / sqrt(substeps dt)); output: X at the end of the step.
    Returns inputs and outputs, each (count, length, K).
    """
    x0, y0 = spin_up(system, spinup, dt)
    increments = rng.normal(0.0, np.sqrt(dt), size=(length * substeps, count, system.slow))
    x = np.broadcast_to(x0, (count, system.slow)).copy()
    y = np.broadcast_to(y0, (count, y0.size)).copy()
    path, _, _ = euler_maruyama(system, x, y, increments, dt)
    outputs = path[substeps - 1 :: substeps].transpose(1, 0, 2)
    coarse = increments.reshape(length, substeps, count, system.slow).sum(1)
    inputs = (coarse / np.sqrt(substeps * dt)).transpose(1, 0, 2)
    return inputs, outputs
