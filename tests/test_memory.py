import numpy as np
import pytest
import torch

from curse_of_memory.memory.decay import (
    MIN_EVIDENCE,
    DecayFit,
    classify_decay,
    decay_claim,
    decay_label,
    joint_label,
    local_rates,
    memory_function,
    octave_variation,
    rate_trend,
    resolved,
)
from curse_of_memory.targets.datasets import LinearFunctional


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
    assert exponential.rate_trend == pytest.approx(0.0, abs=1e-9)
    assert exponential.final_rate == pytest.approx(0.05)
    assert power_law.label == "polynomial" and power_law.tail_evidence < -5
    assert power_law.rate_trend == pytest.approx(-1.0, abs=0.01)
    assert exponential.tail == (60.0, 199.0) and exponential.points == 140


def test_local_rates_are_exact_for_both_laws():
    times = np.arange(10.0, 101.0)
    at, rates, noise = local_rates(times, -0.3 * times)
    np.testing.assert_allclose(rates, 0.3)
    assert np.all(noise < 1e-20)  # a straight line has no scatter about its local line
    at, rates, _ = local_rates(times, -1.7 * np.log(times))
    np.testing.assert_allclose(rates * at, 1.7, rtol=1e-3)  # rate p / t at the logarithmic mean


@pytest.mark.parametrize("s", [-1 / 3, -2 / 3, 0.5, -1.5])
def test_rate_trend_without_scatter_measures_the_distance_to_0_and_to_minus_1(s):
    times = np.geomspace(10.0, 100.0, 6)
    evidence, slope = rate_trend(times, 0.2 * times**s)
    assert slope == pytest.approx(s)
    assert evidence == pytest.approx(2 * np.log(abs(1 + s) / abs(s)))
    if s == -1 / 3:
        assert evidence == pytest.approx(MIN_EVIDENCE)  # the margin: s >= -1/3 is exponential
    if s == -2 / 3:
        assert evidence == pytest.approx(-MIN_EVIDENCE)  # s <= -2/3 is a power law


def test_rate_trend_needs_positive_rates():
    evidence, slope = rate_trend(np.array([1.0, 2.0, 3.0]), np.array([0.1, -0.1, 0.1]))
    assert np.isnan(evidence) and np.isnan(slope)


def test_noise_pulls_the_rate_trend_towards_a_tie():
    times = np.geomspace(10.0, 100.0, 6)
    rates = 0.2 / times  # a power law
    clean, _ = rate_trend(times, rates)
    noisy, _ = rate_trend(times, rates, variances=(0.5 * rates) ** 2)
    assert clean < -10 and -MIN_EVIDENCE < noisy < 0


@pytest.mark.parametrize(
    ("last", "whole", "label"),
    [
        (3.0, -3.0, "exponential"),  # the rate settles at the end after a crossover
        (0.5, 3.0, "exponential"),  # constant on the whole tail, the last half not against it
        (-2.0, 3.0, "undetermined"),  # constant, then falling at the end: a crossover begins
        (-3.0, -3.0, "polynomial"),
        (-3.0, 0.0, "undetermined"),  # 1/t only over the last half: also a crossover
        (3.0, np.nan, "exponential"),
        (np.nan, -3.0, "polynomial"),
        (np.nan, np.nan, "undetermined"),
    ],
)
def test_decay_label(last, whole, label):
    assert decay_label(last, whole) == label


def _two_modes(times: np.ndarray, crossover: float) -> np.ndarray:
    """exp(-0.3 t) + c exp(-0.1 t), the slow mode taking over at t = crossover."""
    return np.exp(-0.3 * times) + np.exp(-0.2 * crossover) * np.exp(-0.1 * times)


def test_a_sum_of_exponentials_with_a_crossover_in_the_tail_is_exponential():
    times = np.arange(1.0, 200.0)
    fit = classify_decay(times, _two_modes(times, 60.0))
    assert fit.tail[0] < 60.0 < fit.tail[1]  # the crossover lies inside the tail
    # the rate falls from 0.3 to 0.1 over the tail: as a whole it is no better described by
    # a constant rate than by p / t, but it settles on the last half
    assert fit.tail_evidence < MIN_EVIDENCE and fit.evidence >= MIN_EVIDENCE
    assert fit.label == "exponential" and fit.final_rate == pytest.approx(0.1, rel=0.05)
    assert abs(fit.rate_trend) < 1 / 3


def test_a_crossover_at_the_end_of_the_tail_is_not_called_a_power_law():
    times = np.arange(1.0, 200.0)
    curve = np.exp(-0.24 * times) + np.exp(-0.125 * 90.0) * np.exp(-0.115 * times)
    fit = classify_decay(times, curve)
    assert fit.evidence <= -MIN_EVIDENCE  # the rate falls like 1/t over the last half ...
    assert fit.label == "undetermined"  # ... but not over the whole tail


@pytest.mark.parametrize("seed", range(10))
def test_a_power_law_times_noise_is_polynomial(seed):
    times = np.arange(1.0, 200.0)
    noise = np.exp(0.02 * np.random.default_rng(seed).standard_normal(times.size))
    assert classify_decay(times, times**-2.0 * noise).label == "polynomial"


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.2])
def test_noise_never_turns_one_law_into_the_other(sigma):
    """More noise gives undetermined, never the wrong class (20 draws per law)."""
    times = np.arange(1.0, 200.0)
    for seed in range(20):
        noise = np.exp(sigma * np.random.default_rng(seed).standard_normal(times.size))
        assert classify_decay(times, times**-1.5 * noise).label != "exponential"
        assert classify_decay(times, np.exp(-0.05 * times) * noise).label != "polynomial"


def test_a_flat_noisy_curve_is_non_decaying():
    times = np.arange(1.0, 200.0)
    noise = np.exp(0.5 * np.random.default_rng(0).standard_normal(times.size))
    assert classify_decay(times, 1e-6 * noise).label == "non-decaying"


def test_the_label_needs_the_margin():
    times = np.arange(1.0, 200.0)
    curve = _two_modes(times, 60.0)
    fit = classify_decay(times, curve)
    assert fit.label == "exponential"
    assert classify_decay(times, curve, min_evidence=fit.evidence + 0.1).label == "undetermined"
    row = decay_claim(
        "F", "two modes", classify_decay(times, curve, min_evidence=10.0), "exponential"
    )
    assert row["verdict"] == "fail" and row["value"].startswith("undetermined")
    assert decay_claim("F", "tie", fit, "not_exponential")["verdict"] == "fail"


def test_the_evidence_does_not_grow_with_the_sampling():
    coarse, fine = np.arange(1.0, 200.0), np.arange(1.0, 200.0, 0.25)
    a = classify_decay(coarse, _two_modes(coarse, 60.0))
    b = classify_decay(fine, _two_modes(fine, 60.0))
    assert b.evidence == pytest.approx(a.evidence, abs=0.3)
    assert b.tail_evidence == pytest.approx(a.tail_evidence, abs=0.3)


def test_a_rate_that_grows_along_the_tail_is_at_least_exponential():
    """exp(-t^2 / 50): its local rate t / 25 grows, so it decays faster than any e^{-r t} tail
    bound requires; a power law's rate falls as 1/t and is never labelled so."""
    t = np.arange(1.0, 60.0)
    fit = classify_decay(t, np.exp(-(t**2) / 50), floor=1e-14)
    assert fit.label == "exponential" and fit.rate_trend > 0
    assert classify_decay(t, t**-1.5, floor=1e-14).label == "polynomial"


def test_octave_variation_is_the_sum_over_each_octave():
    values = np.random.default_rng(1).random(11)
    expected = [values[j - 1 : 2 * j - 1].sum() for j in range(1, 6)]  # M_j..M_{2j-1}
    np.testing.assert_allclose(octave_variation(values), expected, rtol=1e-14)
    k = np.arange(1.0, 401.0)
    j = np.arange(1.0, 201.0)  # geometric sum: V_j = e^{-rj} (1 - e^{-rj}) / (1 - e^{-r})
    closed = np.exp(-0.05 * j) * (1 - np.exp(-0.05 * j)) / (1 - np.exp(-0.05))
    np.testing.assert_allclose(octave_variation(np.exp(-0.05 * k)), closed, rtol=1e-12)
    j = np.arange(100.0, 201.0)
    power = -np.diff(np.log(octave_variation(k**-2.0)[99:])) / np.diff(np.log(j))
    np.testing.assert_allclose(power, 1.0, rtol=0.02)  # k^-2: V_j ~ j^-1


def _quasi_periodic(k):
    """|sum of three cosines|: zeros at irregular places, periods 9, 200 and 1000 steps."""
    return np.abs(np.cos(0.7 * k) + 0.5 * np.sin(0.031 * k + 1) + 0.3 * np.cos(0.0063 * k))


def _joint(values, times):
    fit = classify_decay(times, values, 0.3, 0.0)
    variation = classify_decay(times[: len(values) // 2], octave_variation(values), 0.3, 0.0)
    return fit, variation, joint_label(fit, variation)


@pytest.mark.parametrize(
    ("envelope", "joint"),
    [
        (lambda k: 1 / k, "polynomial"),  # the memory alone: undetermined
        (lambda k: k**-2.0, "polynomial"),
        (lambda k: np.exp(-0.01 * k), "exponential"),  # the memory alone: undetermined
        (lambda k: np.exp(-0.05 * k), "exponential"),
        (lambda k: np.exp(-0.2 * k), "exponential"),
    ],
)
def test_the_octave_variation_reads_memories_that_oscillate_through_zero(envelope, joint):
    k = np.arange(1.0, 1000.0)
    fit, variation, label = _joint(envelope(k) * _quasi_periodic(k), k)
    assert label == joint
    expect = "exponential" if joint == "exponential" else "not_exponential"
    assert decay_claim("F", "osc", fit, expect, variation)["verdict"] == "pass"


@pytest.mark.parametrize(
    ("memory", "variation", "joint"),
    [
        ("undetermined", "non-decaying", "polynomial"),  # V flat: envelope 1/k
        ("non-decaying", "non-decaying", "non-decaying"),
        ("exponential", "undetermined", "exponential"),
        ("undetermined", "undetermined", "undetermined"),
        ("exponential", "non-decaying", "undetermined"),  # two readings of one class disagree
        ("polynomial", "exponential", "undetermined"),
        ("non-decaying", "polynomial", "non-decaying"),
    ],
)
def test_joint_label(memory, variation, joint):
    def fit(label):
        return DecayFit(label, 0.1, 0.9, 1.0, 0.9, 10.0)

    assert joint_label(fit(memory), fit(variation)) == joint
