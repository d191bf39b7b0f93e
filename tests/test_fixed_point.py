import math

import numpy as np
import pytest
import torch

from curse_of_memory.memory import fixed_point, sentiment
from curse_of_memory.memory.decay import DecayFit


def lstm(seed, **kwargs):
    torch.manual_seed(seed)
    return torch.nn.LSTM(batch_first=True, **kwargs).double()


def decay_rate(values, start, stop):
    """(log M(start) - log M(stop)) / (stop - start) of M(n) = |v(n+1) - v(n)|."""
    step = np.abs(np.diff(values, axis=0))
    step = step.reshape(len(step), -1).max(axis=1)
    return (math.log(step[start]) - math.log(step[stop])) / (stop - start)


def test_cell_map_is_pytorchs_lstm_step():
    model = lstm(0, input_size=3, hidden_size=5)
    x = torch.randn(3, dtype=torch.float64)
    step = fixed_point.lstm_step(model, 0, False)
    state = torch.zeros(10, dtype=torch.float64)
    for _ in range(4):
        state = step(state, x)
    with torch.no_grad():
        _, (h, c) = model(x.repeat(1, 4, 1))
    torch.testing.assert_close(state, torch.cat([h[0, 0], c[0, 0]]))


def test_the_rate_is_the_decay_of_the_orbit():
    """Oracle: the orbit of a one-layer LSTM under a repeated input, run by torch.nn.LSTM."""
    model = lstm(1, input_size=2, hidden_size=6)
    x = torch.tensor([0.7, -0.4], dtype=torch.float64)
    points = fixed_point.fixed_points(model, x)
    rate = fixed_point.asymptotic_rate(points)
    assert len(points) == 1 and points[0].residual <= fixed_point.CONVERGED
    with torch.no_grad():
        outputs, _ = model(x.repeat(1, 120, 1))
    assert decay_rate(outputs[0].numpy(), 40, 100) == pytest.approx(rate, rel=0.02)


def test_a_bidirectional_stack_decays_no_slower_than_its_slowest_cell():
    """The classifier's log-odds under n repeats (both directions, two layers) against the
    rate of its slowest cell: the memory decays at least that fast, and no faster."""
    spec = sentiment.SentimentModelSpec("stacked_bilstm", 10, embedding=4, hidden=6, layers=2)
    model = sentiment.build_model(spec, 3).float()  # as trained
    points = fixed_point.fixed_points(model.lstm, model.embed.weight[5])
    assert model.lstm.weight_ih_l0.dtype == torch.float32  # the module is left as it was
    model = model.double()
    assert [(p.layer, p.reverse) for p in points] == [(0, False), (0, True), (1, False), (1, True)]
    # the model's own output in the middle of a long repeat is the last layer's fixed point:
    # layer 2 fed [backward, forward] instead of [forward, backward] would miss it
    assert all(p.on_orbit for p in points)
    rate = fixed_point.asymptotic_rate(points)
    scores = sentiment.repetition_scores(model, 5, 60)
    log_odds = np.log(scores / (1 - scores))
    assert decay_rate(log_odds, 25, 45) == pytest.approx(rate, rel=0.1)


def test_a_cell_that_keeps_its_state_has_no_decay_rate():
    """Forget gate 1, input gate 0 (biases +-30): c' = c, an eigenvalue within rounding of 1."""
    model = lstm(2, input_size=2, hidden_size=3)
    with torch.no_grad():
        model.weight_ih_l0.zero_()
        model.weight_hh_l0.zero_()
        model.bias_hh_l0.zero_()
        model.bias_ih_l0.copy_(torch.tensor([-30.0] * 3 + [30.0] * 3 + [0.0] * 6))
    points = fixed_point.fixed_points(model, torch.ones(2, dtype=torch.float64))
    rate = fixed_point.asymptotic_rate(points)
    assert rate == pytest.approx(0.0, abs=1e-12)
    row = fixed_point.linearised_decay_claim(
        "F", "kept", rate, fit("exponential"), fit("exponential"), 200
    )
    assert row["verdict"] == "fail"


def test_a_model_that_settles_elsewhere_gives_no_rate():
    points = [
        fixed_point.CellFixedPoint(0, False, 0.5, 0.0),
        fixed_point.CellFixedPoint(1, False, 0.5, 0.0, on_orbit=False),
    ]
    assert math.isnan(fixed_point.asymptotic_rate(points))
    assert math.isnan(fixed_point.asymptotic_rate([]))


def test_an_orbit_that_has_not_converged_gives_no_rate():
    points = [fixed_point.CellFixedPoint(0, False, 0.5, 1e-3)]
    assert math.isnan(fixed_point.asymptotic_rate(points))


def fit(label):
    return DecayFit(label, 0.2, 0.99, 5.0, 0.99, 1e4, tail=(30.0, 90.0), final_rate=0.15)


@pytest.mark.parametrize(
    "rate, label, variation, joint, passed",
    [
        (0.11, "undetermined", "undetermined", "undetermined", True),  # cannot confirm it
        (0.11, "exponential", "undetermined", "exponential", True),
        (0.11, "polynomial", "undetermined", "polynomial", False),  # contradicting: no claim
        (0.11, "undetermined", "non-decaying", "polynomial", False),  # envelope 1/n
        (0.11, "exponential", "non-decaying", "undetermined", True),  # readings disagree
        (0.0, "exponential", "exponential", "exponential", False),
        (0.004, "exponential", "exponential", "exponential", False),  # below 1 / repeats
        (math.nan, "exponential", "exponential", "exponential", False),
    ],
)
def test_linearised_claim(rate, label, variation, joint, passed):
    row = fixed_point.linearised_decay_claim(
        "F", 'lstm, word "good"', rate, fit(label), fit(variation), 200
    )
    assert row["verdict"] == ("pass" if passed else "fail")
    assert f"tail fits {joint}" in row["value"]
