import numpy as np
import pytest
import torch

from curse_of_memory.memory import random_models
from curse_of_memory.memory.ssm import DiagonalSSMLayer, depthwise_convolve


def test_ssm_kernel_matches_the_complex_zero_order_hold_formula():
    torch.manual_seed(0)
    layer = DiagonalSSMLayer(3, 8, (0.01, 0.1)).double()
    A = torch.complex(layer.A_real, layer.A_imag)
    dt = torch.exp(layer.log_dt).unsqueeze(-1)
    C = torch.view_as_complex(layer.C.contiguous())
    expected = torch.stack(
        [2 * (C * torch.expm1(dt * A) / A * torch.exp(k * dt * A)).sum(-1).real for k in range(40)]
    )
    torch.testing.assert_close(layer.kernel(40), expected, rtol=1e-10, atol=1e-13)


def test_depthwise_convolution_equals_the_direct_sum(generator):
    u = torch.randn(2, 30, 3, generator=generator)
    kernel = torch.randn(30, 3, generator=generator)
    direct = torch.zeros_like(u)
    for k in range(30):
        for s in range(k + 1):
            direct[:, k] += kernel[s] * u[:, k - s]
    torch.testing.assert_close(depthwise_convolve(u, kernel), direct)


def states(model, x):
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("family", random_models.FAMILIES)
def test_models_are_reproducible_from_their_seed(family):
    spec = random_models.RandomModelSpec(family, layers=2, hidden=6, gain=2.0)
    x = torch.randn(3, 20, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    first, second = (random_models.build_model(spec, 11) for _ in range(2))
    assert torch.equal(states(first, x), states(second, x))
    assert not torch.equal(states(first, x), states(random_models.build_model(spec, 12), x))


def test_gain_rnn_redraws_its_recurrent_weights():
    spec = random_models.RandomModelSpec("gain_rnn", layers=1, hidden=400, gain=3.0)
    weight = random_models.build_model(spec, 0).weight_hh_l0.detach()
    assert float(weight.std()) == pytest.approx(3.0 / 20.0, rel=0.02)


def test_summary_of_random_rnns_is_an_exponential_decay():
    spec = random_models.RandomModelSpec("rnn", layers=1, hidden=16)
    times, curves = random_models.memory_draws(spec, 80, "impulse", 4, 4, (0, "test", "rnn", 1))
    summary = random_models.summarize(times, curves)
    assert curves.shape == (4, 80)
    np.testing.assert_allclose(summary.mean, curves.mean(0))
    np.testing.assert_allclose(summary.standard_error, curves.std(0, ddof=1) / 2)
    assert summary.fit.label == "exponential" and summary.fit.exponential_rate > 0


def test_decay_is_classified_on_the_geometric_mean_of_the_draws():
    # exponentials with spread rates: the geometric mean is exp(-mean(r) t), exactly exponential
    times = np.arange(1.0, 101.0)
    rates = np.array([0.2, 0.3, 0.45, 0.6])
    curves = np.exp(-rates[:, None] * times) * np.array([1.0, 3.0, 0.5, 2.0])[:, None]
    summary = random_models.summarize(times, curves, floor=1e-300)
    assert summary.fit.label == "exponential"
    assert summary.fit.exponential_rate == pytest.approx(rates.mean())
    assert summary.draw_labels == {"exponential": 4}
    np.testing.assert_allclose(summary.mean, curves.mean(0))  # the figure still draws the mean


def test_geometric_mean_stops_where_the_first_draw_reaches_the_floor():
    times = np.arange(1.0, 101.0)
    curves = np.stack([np.exp(-0.5 * times), np.exp(-0.1 * times)])  # the first: 1e-12 at t = 55
    kept_times, kept = random_models.geometric_mean(times, curves, floor=1e-12)
    assert kept_times[-1] == 55.0
    np.testing.assert_allclose(kept, np.exp(-0.3 * kept_times))
