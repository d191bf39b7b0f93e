import math

import numpy as np
import pytest
import torch

from curse_of_memory.shared.seeding import torch_generator
from curse_of_memory.targets.datasets import InputSpec
from curse_of_memory.targets.teachers import (
    CausalTransformer,
    RandomTanhRNN,
    build_teacher,
    encoder_layer,
)

INPUTS = InputSpec(length=30)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "tanh_rnn", "width": 32, "gain": 0.9},
        {"kind": "transformer", "d_model": 8, "heads": 2, "layers": 2},
        {"kind": "linear_functional", "kernel": {"family": "exp"}, "output": "tanh"},
    ],
)
def test_teacher_is_reproducible_from_its_seed(spec):
    x = torch.randn(3, 30, 1, generator=torch.Generator().manual_seed(5))
    first = build_teacher(spec, INPUTS, torch_generator(1, "teacher", "e", "t0"), torch.float64)
    second = build_teacher(spec, INPUTS, torch_generator(1, "teacher", "e", "t0"), torch.float64)
    other = build_teacher(spec, INPUTS, torch_generator(1, "teacher", "e", "t1"), torch.float64)
    with torch.no_grad():
        assert torch.equal(first(x), second(x))
        if spec["kind"] != "linear_functional":
            assert not torch.allclose(first(x), other(x))


def test_tanh_rnn_teacher_follows_its_recurrence():
    teacher = RandomTanhRNN(5, 0.8, torch.Generator().manual_seed(0))
    x = torch.randn(2, 7, 1, generator=torch.Generator().manual_seed(1))
    h = torch.zeros(2, 5)
    expected = []
    for k in range(7):
        h = torch.tanh(h @ teacher.W.t() + x[:, k] @ teacher.U.t() + teacher.b)
        expected.append(h @ teacher.c.t())
    assert torch.allclose(teacher(x), torch.stack(expected, 1), atol=1e-14)


def test_tanh_rnn_gain_is_the_spectral_radius():
    teacher = RandomTanhRNN(400, 1.3, torch.Generator().manual_seed(0))
    radius = torch.linalg.eigvals(teacher.W).abs().max()
    assert float(radius) == pytest.approx(1.3, rel=0.1)


@pytest.mark.parametrize("positions", ["absolute", "relative"])
def test_transformer_output_at_step_k_ignores_later_inputs(positions):
    teacher = CausalTransformer(8, 2, 2, torch.Generator().manual_seed(0), positions=positions)
    x = torch.randn(4, 20, 1, generator=torch.Generator().manual_seed(1))
    changed = x.clone()
    changed[:, 12:] = torch.randn(4, 8, 1, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        before, after = teacher(x), teacher(changed)
    assert torch.allclose(before[:, :12], after[:, :12], atol=1e-12)
    assert not torch.allclose(before[:, 12:], after[:, 12:])


@pytest.mark.parametrize("positions", ["absolute", "relative"])
def test_transformer_handles_each_sequence_of_a_batch_on_its_own(positions):
    teacher = CausalTransformer(8, 2, 1, torch.Generator().manual_seed(0), positions=positions)
    x = torch.randn(3, 15, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        together = teacher(x)
        alone = torch.cat([teacher(x[i : i + 1]) for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-12)


def test_encoder_layer_is_pytorchs_layer_with_an_additive_score_bias():
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    layer = layer.double().train()  # training mode: PyTorch's reference path, no fast path
    x = torch.randn(3, 9, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    bias = torch.randn(9, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    bias = bias.masked_fill(torch.ones(9, 9, dtype=torch.bool).triu(1), -math.inf)
    assert torch.allclose(encoder_layer(layer, x, bias), layer(x, src_mask=bias), atol=1e-12)


def test_relative_score_bias_is_a_power_of_the_lag_inside_the_window():
    teacher = CausalTransformer(8, 2, 1, torch.Generator(), positions="relative", bias_power=1.5)
    bias = teacher.score_bias(6, 4, torch.float64)
    for k in range(6):
        for s in range(6):
            inside = 0 <= k - s < 4
            expected = -1.5 * math.log(1 + k - s) if inside else -math.inf
            assert bias[k, s].item() == expected


@pytest.mark.parametrize("layers", [1, 2])
def test_relative_transformer_is_time_homogeneous(layers):
    """Delaying the input by j steps (zeros first) delays the output by j steps, exactly."""
    generator = torch.Generator().manual_seed(0)
    teacher = CausalTransformer(8, 2, layers, generator, positions="relative")
    x = torch.randn(2, 16, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for delay in (1, 5):
        delayed = torch.cat([torch.zeros(2, delay, 1, dtype=torch.float64), x[:, :-delay]], 1)
        with torch.no_grad():
            before, after = teacher(x), teacher(delayed)
        assert torch.allclose(after[:, delay:], before[:, :-delay], atol=1e-12)
        assert torch.allclose(after[:, :delay], teacher(torch.zeros_like(x))[:, :delay])


@pytest.mark.parametrize("blocks", ["encoder", "attention"])
def test_transformer_at_amplitude_s_is_its_response_to_s_x_over_s(blocks):
    def teacher(amplitude: float) -> CausalTransformer:
        generator = torch.Generator().manual_seed(0)
        return CausalTransformer(8, 2, 2, generator, positions="relative", blocks=blocks,
                                 amplitude=amplitude)  # fmt: skip

    x = torch.randn(2, 12, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        scaled, plain = teacher(0.1)(x), teacher(1.0)(0.1 * x) / 0.1
        doubled = teacher(1e-4)(2 * x) - teacher(1e-4)(torch.zeros_like(x))
        single = teacher(1e-4)(x) - teacher(1e-4)(torch.zeros_like(x))
    assert torch.allclose(scaled, plain, atol=1e-12)
    assert torch.allclose(doubled, 2 * single, rtol=1e-3, atol=1e-8)  # small s: linear in x


def test_absolute_positions_make_the_transformer_time_dependent():
    teacher = CausalTransformer(8, 2, 1, torch.Generator().manual_seed(0))
    x = torch.randn(2, 16, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    delayed = torch.cat([torch.zeros(2, 3, 1, dtype=torch.float64), x[:, :-3]], 1)
    with torch.no_grad():
        assert not torch.allclose(teacher(delayed)[:, 3:], teacher(x)[:, :-3], atol=1e-6)


def test_tanh_readout_of_linear_functional():
    spec = {"kind": "linear_functional", "kernel": {"family": "geom", "q": 0.5}, "output": "tanh"}
    teacher = build_teacher(spec, INPUTS, torch.Generator(), torch.float64)
    x = torch.zeros(1, 30, 1)
    x[0, 0, 0] = 2.0
    with torch.no_grad():
        y = teacher(x)[0, :, 0].numpy()
    np.testing.assert_allclose(y, np.tanh(2.0 * 0.5 ** np.arange(30)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("gain", [0.6, 1.0, 2.0])
@pytest.mark.parametrize("seed", range(4))
def test_symmetric_tanh_rnn_teacher_has_a_real_spectrum_filling_zero_to_gain(gain, seed):
    teacher = RandomTanhRNN(16, gain, torch_generator(seed, "t"), symmetric=True)
    assert torch.equal(teacher.W, teacher.W.t())
    spectrum = torch.linalg.eigvalsh(teacher.W)
    assert spectrum[0].item() == pytest.approx(0.0, abs=1e-12)
    assert spectrum[-1].item() == pytest.approx(gain, rel=1e-12)


def test_residual_tanh_rnn_teacher_follows_the_students_form():
    teacher = RandomTanhRNN(6, 0.8, torch_generator(0, "t"), symmetric=True, residual=True)
    x = torch.randn(3, 12, 1, generator=torch_generator(1, "x"), dtype=torch.float64)
    h = torch.zeros(3, 6, dtype=torch.float64)
    A = torch.eye(6, dtype=torch.float64) - teacher.W
    outputs = []
    for k in range(12):
        h = h + torch.tanh(x[:, k] @ teacher.U.t() + teacher.b - h @ A.t())
        outputs.append(h @ teacher.c.t())
    assert torch.allclose(teacher(x), torch.stack(outputs, 1), atol=1e-13)


def test_a_centered_transformer_is_its_response_minus_the_zero_input_trajectory():
    spec = {"kind": "transformer", "d_model": 8, "heads": 2, "layers": 1}
    plain = build_teacher(spec, INPUTS, torch_generator(0, "t"), torch.float64)
    centered = build_teacher(
        spec | {"centered": True}, INPUTS, torch_generator(0, "t"), torch.float64
    )
    x = torch.randn(3, 15, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        drift = plain(torch.zeros_like(x))
        assert float(drift.abs().max()) > 1e-3  # positions alone move the plain teacher
        assert torch.allclose(centered(x), plain(x) - drift, atol=1e-12)
        assert float(centered(torch.zeros_like(x)).abs().max()) == 0.0
