import numpy as np
import pytest
import torch

from curse_of_memory.rnn.models import StudentRNN, StudentSpec, effective_weights
from curse_of_memory.rnn.training import time_weights
from curse_of_memory.stability.edge_modes import lift_ratio, lifted


def test_lifting_a_diagonal_a_raises_only_its_edge_eigenvalues():
    spec = StudentSpec(width=4)
    lam = torch.tensor([0.0, -3e-7, 5e-6, 0.4], dtype=torch.float64)
    weights = effective_weights(spec, {"w": lam, "U": 0, "b": 0, "c": 0, "c0": 0})
    np.testing.assert_array_equal(lifted(spec, weights, 1e-3).recurrence, [1e-3, 1e-3, 5e-6, 0.4])


@pytest.mark.parametrize("structure", ["full", "orthogonal"])
def test_lifting_a_symmetric_a_keeps_its_eigenvectors(structure, generator):
    """A = V diag(mu) V^T built by hand (V from numpy's QR): the lifted A maps each column v_i
    of V to max-lifted mu_i v_i."""
    V, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((5, 5)))
    mu = np.array([0.0, 2e-7, 0.05, 0.3, 1.1])
    spec = StudentSpec(width=5, structure=structure, activation="tanh")
    weights = StudentRNN(spec, generator).weights()
    weights.recurrence = torch.from_numpy(V @ np.diag(mu) @ V.T)
    A = lifted(spec, weights, 1e-3).recurrence.numpy()
    expected = np.array([1e-3, 1e-3, 0.05, 0.3, 1.1])
    np.testing.assert_allclose(A @ V, V * expected, atol=1e-13)


def direct_output(lam, U, c, x, dt):
    """y_k = dt sum_{s<=k} sum_i c_i (1 - dt lam_i)^s U_i x_{k-s}: the linear diagonal student
    as a direct sum (zero bias and offset)."""
    batch, length = x.shape
    y = np.zeros((batch, length))
    for k in range(length):
        for s in range(k + 1):
            y[:, k] += dt * np.sum(c * (1 - dt * lam) ** s * U) * x[:, k - s]
    return y


def test_lift_ratio_of_a_linear_student_against_direct_sums(generator):
    """An integrating mode (lam = 0) the target needs, against the direct sums: raised to 0.01
    its kernel decays, and the loss grows by the ratio of the two residuals' weighted means."""
    dt, length = 0.5, 30
    lam, U, c = np.array([0.0, 0.7]), np.array([1.0, 0.8]), np.array([0.6, -0.4])
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, length))
    y = direct_output(lam, U, c, x, dt) + 0.01 * rng.standard_normal((16, length))
    spec = StudentSpec(width=2, dt=dt)
    raw = {
        "w": torch.tensor(lam),
        "U": torch.tensor(U).reshape(2, 1),
        "b": torch.zeros(2, dtype=torch.float64),
        "c": torch.tensor(c).reshape(1, 2),
        "c0": torch.zeros(1, dtype=torch.float64),
    }
    w = time_weights(length, 2.0).numpy()

    def loss(lam_used):
        residual = direct_output(lam_used, U, c, x, dt) - y
        return np.mean((residual * w) ** 2)

    def ratio(target):
        inputs, outputs = (torch.tensor(a).unsqueeze(-1) for a in (x, target))
        return lift_ratio(spec, raw, inputs, outputs, torch.tensor(w), 0.01)

    got = ratio(y)
    assert got == pytest.approx(loss(np.array([0.01, 0.7])) / loss(lam), rel=1e-10)
    assert got > 2.0
    raw["c"] = torch.tensor([[0.0, -0.4]], dtype=torch.float64)  # the read-out ignores the mode
    y_dead = direct_output(lam, U, np.array([0.0, -0.4]), x, dt) + 0.01 * rng.standard_normal(
        (16, length)
    )
    assert ratio(y_dead) == pytest.approx(1.0, abs=1e-12)
