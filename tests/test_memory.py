import numpy as np
import pytest
import torch

from curse_of_memory.memory import classify_decay, decay_claim, memory_function, resolved
from curse_of_memory.targets import LinearFunctional


class ScalarLinearRNN(torch.nn.Module):
    """h_{k+1} = a h_k + x_k, output h_{k+1}: returned as a tuple like torch.nn.RNN."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, x):
        h = torch.zeros(x.shape[0], 1, dtype=x.dtype)
        states = []
        for x_k in x.unbind(1):
            h = self.a * h + x_k
            states.append(h)
        return torch.stack(states, 1), h


@pytest.mark.parametrize("dt", [1.0, 0.5])
def test_memory_of_linear_functional_is_abs_rho(dt):
    rho = np.cos(np.arange(50) * dt) * np.exp(-0.1 * np.arange(50) * dt)
    target = LinearFunctional(rho)
    times, heaviside = memory_function(target, 50, dt, kind="heaviside")
    np.testing.assert_allclose(times, dt * np.arange(1, 50))
    np.testing.assert_allclose(heaviside, np.abs(rho[1:]) / dt, rtol=1e-10, atol=1e-14)
    times, impulse = memory_function(target, 50, dt, kind="impulse")
    np.testing.assert_allclose(impulse, np.abs(rho), rtol=1e-10, atol=1e-14)


def test_memory_of_scalar_linear_rnn_is_power_of_a():
    times, values = memory_function(ScalarLinearRNN(0.8), 30, kind="heaviside")
    np.testing.assert_allclose(values, 0.8 ** np.arange(1, 30), rtol=1e-12)
    _, impulse = memory_function(ScalarLinearRNN(0.8), 30, kind="impulse")
    np.testing.assert_allclose(impulse, 0.8 ** np.arange(30), rtol=1e-12)


def test_memory_works_on_torch_recurrent_modules():
    torch.manual_seed(0)
    module = torch.nn.GRU(1, 8, batch_first=True).double()
    times, values = memory_function(module, 40, kind="heaviside")
    assert values.shape == (39,) and np.all(values >= 0)


@pytest.mark.parametrize(
    ("curve", "label"),
    [
        (lambda t: np.exp(-0.2 * t), "exponential"),
        (lambda t: 3 * 0.9**t, "exponential"),
        (lambda t: (1 + t) ** -1.5, "polynomial"),
        (lambda t: t**-1.1, "polynomial"),
        (lambda t: 0.5 + 0 * t, "non-decaying"),
        (lambda t: 1 + 0.01 * np.sin(t), "non-decaying"),
    ],
)
def test_decay_classification(curve, label):
    times = np.arange(1.0, 200.0)
    fit = classify_decay(times, curve(times))
    assert fit.label == label


def test_decay_rates_are_recovered():
    times = np.arange(1.0, 200.0)
    assert classify_decay(times, np.exp(-0.2 * times)).exponential_rate == pytest.approx(0.2)
    assert classify_decay(times, times**-1.7).polynomial_power == pytest.approx(1.7)


def test_resolved_stops_where_the_curve_reaches_the_rounding_floor():
    times = np.arange(1.0, 101.0)
    values = np.maximum(np.exp(-0.5 * times), 1e-17)  # exp(-0.5 t) > 1e-12 up to t = 55
    kept_times, kept = resolved(times, values, floor=1e-12)
    assert kept_times[-1] == 55.0 and np.all(kept > 1e-12)
    fit = classify_decay(kept_times, kept, 0.3, 0.0)
    assert fit.label == "exponential" and fit.exponential_rate == pytest.approx(0.5)
    assert classify_decay(times, values, 0.3, 0.0).label != "exponential"  # noise read as tail


@pytest.mark.parametrize(
    ("values", "expect", "verdict"),
    [
        (lambda t: np.exp(-0.3 * t), "exponential", "pass"),
        (lambda t: t**-2.0, "exponential", "fail"),
        (lambda t: t**-2.0, "not_exponential", "pass"),
        (lambda t: 1 + 0 * t, "non-decaying", "pass"),
    ],
)
def test_decay_claim_verdicts(values, expect, verdict):
    times = np.arange(1.0, 200.0)
    row = decay_claim("F", "curve", classify_decay(times, values(times)), expect)
    assert row["verdict"] == verdict and row["figure"] == "F"


def test_pure_shapes_are_classified_with_decisive_evidence():
    times = np.arange(1.0, 200.0)
    exponential = classify_decay(times, 2.0 * np.exp(-0.05 * times))
    power_law = classify_decay(times, 3.0 * times**-2.5)
    assert exponential.label == "exponential" and exponential.evidence > 10
    assert power_law.label == "polynomial" and power_law.evidence < -10
    assert exponential.tail == (60.0, 199.0) and exponential.points == 140


def _blend(times: np.ndarray, weight: float) -> np.ndarray:
    """log M = -(weight * 0.05 t + (1 - weight) * 2 log t): exponential at 1, power law at 0."""
    return np.exp(-(weight * 0.05 * times + (1.0 - weight) * 2.0 * np.log(times)))


def test_a_curve_both_models_fit_equally_is_undetermined():
    from scipy.optimize import brentq

    times = np.arange(1.0, 200.0)
    # the evidence runs from < 0 (power law) to > 0 (exponential) along the blend: find the tie
    tie = brentq(lambda w: classify_decay(times, _blend(times, w)).evidence, 0.05, 0.95)
    fit = classify_decay(times, _blend(times, tie))
    assert fit.label == "undetermined" and abs(fit.evidence) < 1e-6
    assert fit.exponential_r2 > 0.99 and fit.polynomial_r2 > 0.99  # both fit: R^2 cannot decide
    row = decay_claim("F", "tie", fit, "exponential")
    assert row["verdict"] == "fail" and row["value"].startswith("undetermined")
    assert decay_claim("F", "tie", fit, "not_exponential")["verdict"] == "fail"


def test_the_label_needs_the_margin():
    times = np.arange(1.0, 200.0)
    curve = _blend(times, 0.9)
    fit = classify_decay(times, curve)
    assert fit.label == "exponential"
    assert classify_decay(times, curve, min_evidence=fit.evidence + 0.1).label == "undetermined"
    # the evidence is a ratio of residual sums: it does not grow with the sampling density
    fine = np.arange(1.0, 200.0, 0.25)
    assert classify_decay(fine, _blend(fine, 0.9)).evidence == pytest.approx(fit.evidence, abs=0.1)
