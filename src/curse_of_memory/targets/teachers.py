"""Teachers: the target maps students learn, built from a config mapping.

Kinds:

- ``linear_functional``: y_k = sum_{s<=k} rho(s dt) x_{k-s} for a kernel of :mod:`.kernels`;
  with ``output: tanh`` the nonlinear variant y_k = tanh(sum_{s<=k} rho(s dt) x_{k-s}).
- ``tanh_rnn``: a random tanh RNN h_{k+1} = tanh(W h_k + U x_k + b), y_k = c h_{k+1}, with
  W = gain * G / sqrt(n), G_ij ~ N(0, 1): its spectral radius is about ``gain``, so a family of
  gains spans contracting (gain < 1, fast memory) to near-critical and beyond (slow memory).
  With ``symmetric: true``, W = gain * (S - s_min I) / (s_max - s_min), S = (G + G^T) / 2 with
  extreme eigenvalues s_min, s_max: a real spectrum filling [0, gain], which students with a
  real spectrum (A = P^T diag(lam) P) can represent (a random G has complex eigenvalues,
  rotations that no such student reproduces). In the residual form A = I - W then has its
  eigenvalues in [1 - gain, 1]: gain < 1 contracts with slowest rate 1 - gain, gain = 1 has an
  integrating mode, gain > 1 a growing one that tanh saturates. (Scaling S by its spectral
  radius instead makes the critical eigenvalue -1 whenever S's most negative eigenvalue is the
  largest in size: A's eigenvalue is then 2 = 2 / dt, the Euler step's period-2 edge mode, a
  non-decaying memory that white-noise inputs hardly excite, not a slow one. Measured on IAT-3's
  gain-1 teacher of that kind: Heaviside memory 0.09 at t = 99, while inputs older than 40
  steps carried 7e-7 of its last output's energy.)
- ``transformer``: a random causal transformer encoder (future positions masked), input
  projection, linear read-out of every position. ``positions``:

  - ``absolute``: sinusoidal positions added to the input projection. The teacher then depends
    on absolute time, which no time-homogeneous functional, and so no RNN student, follows (the
    theorem's targets are time-homogeneous). Measured on IAT-12's earlier teacher (d_model 16,
    2 layers, ``centered: true``): at input scale 0.03 a time-varying linear map
    y_k = sum_s G_ks x_s leaves 0.0006 of the zero predictor's loss, the best time-invariant
    filter 0.127, at every input scale from 0.03 to 1; tanh students stalled at 0.174 at every
    width.
  - ``relative``: no positions; the score of step k for step s gets the bias
    -bias_power log(1 + k - s), so at equal contents attention weights fall as
    (1 + k - s)^-bias_power (ALiBi's linear bias gives e^(-a (k - s)) instead). Every step
    attends to its last T steps (T the sequence length), and the sequence is preceded by
    layers (T - 1) zero inputs, the silent past: y_k is one function of x_(k-T+1..k), the
    target is time-homogeneous.

``blocks``: ``encoder`` (PyTorch's post-norm layer: attention, then a token-wise LayerNorm and
feed-forward network) or ``attention`` (an attention-only transformer, x <- x + attention(x);
the layers' norms and feed-forward weights are still drawn, unused, so that one seed gives
both kinds the same attention weights).
``amplitude`` s probes the transformer at input amplitude s, in units of s: y = H(s x) / s. Its
linear part does not depend on s, its nonlinear part falls as s (what the best linear filter
leaves, as s^2); as s -> 0 it is the transformer's linearisation at the zero input.

With ``centered: true`` (transformer) the teacher is y = H(x) - H(0): its response to the input,
without the output it gives on the zero input (a constant under ``relative`` positions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from ..shared.encodings import sinusoidal_positions
from .datasets import InputSpec, LinearFunctional
from .kernels import build_kernel, kernel_values

KINDS = ("linear_functional", "tanh_rnn", "transformer")  # the kinds build_teacher makes
OUTPUTS = ("linear", "tanh")  # read-outs of a linear_functional: y = sum, or tanh(sum)
POSITIONS = ("absolute", "relative")  # how a transformer teacher knows where a step is
BLOCKS = ("encoder", "attention")  # a transformer teacher's layers: full, or attention only
TRANSFORMER_OPTIONS = ("positions", "bias_power", "blocks", "amplitude")  # optional spec keys


class TanhOutput(torch.nn.Module):
    """y = tanh(inner(x)): a nonlinear read-out of any sequence map."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.inner(x))


class RandomTanhRNN(torch.nn.Module):
    """h_{k+1} = tanh(W h_k + U x_k + b), y_k = c h_{k+1}; W = gain G / sqrt(n), G ~ N(0, 1).

    ``residual``: the students' form instead, h_{k+1} = h_k + tanh(U x_k + b - A h_k) with
    A = I - W, whose linearisation h_{k+1} ~ W h_k + U x_k + b is the same.
    """

    def __init__(
        self,
        width: int,
        gain: float,
        generator: torch.Generator,
        input_dim: int = 1,
        input_scale: float = 1.0,
        dtype: torch.dtype = torch.float64,
        symmetric: bool = False,
        residual: bool = False,
    ):
        super().__init__()
        self.residual = residual
        n = width

        def normal(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=generator, dtype=dtype)

        G = normal(n, n)
        if symmetric:
            S = 0.5 * (G + G.t())
            low, high = torch.linalg.eigvalsh(S)[[0, -1]]
            W = gain * (S - low * torch.eye(n, dtype=dtype)) / (high - low)
        else:
            W = gain * G / math.sqrt(n)
        self.register_buffer("W", W)
        self.register_buffer("U", input_scale * normal(n, input_dim))
        self.register_buffer("b", 0.1 * normal(n))
        self.register_buffer("c", normal(1, n) / math.sqrt(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drive = x @ self.U.t() + self.b
        h = drive.new_zeros(x.shape[0], self.W.shape[0])
        states = []
        for drive_k in drive.unbind(1):
            if self.residual:  # h + tanh(U x + b - (I - W) h)
                h = h + torch.tanh(drive_k - h + h @ self.W.t())
            else:
                h = torch.tanh(h @ self.W.t() + drive_k)
            states.append(h)
        return torch.stack(states, 1) @ self.c.t()


class Centered(torch.nn.Module):
    """y = inner(x) - inner(0): the response to the input alone."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) - self.inner(torch.zeros_like(x))


class CausalTransformer(torch.nn.Module):
    """A random transformer encoder whose output at step k sees inputs 0..k only (module doc)."""

    def __init__(
        self,
        d_model: int,
        heads: int,
        layers: int,
        generator: torch.Generator,
        input_dim: int = 1,
        dtype: torch.dtype = torch.float64,
        positions: str = "absolute",
        bias_power: float = 1.0,
        blocks: str = "encoder",
        amplitude: float = 1.0,
    ):
        super().__init__()
        if positions not in POSITIONS:
            raise ValueError(f"positions: {positions!r} is not one of {POSITIONS}")
        if blocks not in BLOCKS:
            raise ValueError(f"blocks: {blocks!r} is not one of {BLOCKS}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
            self.embed = torch.nn.Linear(input_dim, d_model, dtype=dtype)
            self.layers = torch.nn.ModuleList(
                torch.nn.TransformerEncoderLayer(
                    d_model, heads, 2 * d_model, dropout=0.0, batch_first=True, dtype=dtype
                )
                for _ in range(layers)
            )
            self.readout = torch.nn.Linear(d_model, 1, dtype=dtype)
        self.d_model, self.positions, self.bias_power = d_model, positions, bias_power
        self.blocks, self.amplitude = blocks, amplitude
        self.eval()

    def score_bias(self, length: int, window: int, dtype: torch.dtype) -> torch.Tensor:
        """B[k, s] = -bias_power log(1 + k - s) for 0 <= k - s < window, -inf otherwise."""
        step = torch.arange(length)
        lag = (step.unsqueeze(1) - step.unsqueeze(0)).to(dtype)
        inside = (lag >= 0) & (lag < window)
        return torch.where(inside, -self.bias_power * torch.log1p(lag.clamp(min=0)), -math.inf)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        x = self.amplitude * x
        if self.positions == "absolute":
            hidden = self.embed(x) + sinusoidal_positions(length, self.d_model, x.dtype)
            bias = torch.full((length, length), -math.inf, dtype=x.dtype).triu(1)  # causal
        else:
            past = len(self.layers) * (length - 1)  # reaches every step's whole receptive field
            x = torch.cat([x.new_zeros(x.shape[0], past, x.shape[2]), x], dim=1)
            hidden = self.embed(x)
            bias = self.score_bias(past + length, length, x.dtype)
        for layer in self.layers:
            if self.blocks == "attention":
                hidden = hidden + self_attention(layer.self_attn, hidden, bias)
            else:
                hidden = encoder_layer(layer, hidden, bias)
        return self.readout(hidden[:, -length:]) / self.amplitude


def self_attention(
    attention: torch.nn.MultiheadAttention, x: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Multi-head attention of x to itself, softmax(q k^T / sqrt(d_head) + bias) v per head."""
    batch, length, width = x.shape
    heads = attention.num_heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(batch, length, heads, width // heads).transpose(1, 2)

    q, k, v = F.linear(x, attention.in_proj_weight, attention.in_proj_bias).chunk(3, dim=-1)
    mixed = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=bias)
    return attention.out_proj(mixed.transpose(1, 2).reshape(batch, length, width))


def encoder_layer(
    layer: torch.nn.TransformerEncoderLayer, x: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """PyTorch's post-norm encoder layer with the additive score bias ``bias`` (n, n):

        x <- norm1(x + attention(x)),   x <- norm2(x + linear2(relu(linear1(x)))).

    Written out because PyTorch's inference fast path reads a float mask as a boolean one (any
    nonzero entry masked: measured on torch 2.13), which turns a score bias into a mask.
    """
    x = layer.norm1(x + self_attention(layer.self_attn, x, bias))
    return layer.norm2(x + layer.linear2(F.relu(layer.linear1(x))))


def build_teacher(
    spec: Mapping, inputs: InputSpec, generator: torch.Generator, dtype: torch.dtype
) -> torch.nn.Module:
    """The teacher module of ``spec`` (see the module docstring); random weights from generator."""
    kind = spec["kind"]
    if kind == "linear_functional":
        rho = kernel_values(build_kernel(spec["kernel"]), inputs.length, inputs.dt)
        teacher: torch.nn.Module = LinearFunctional(np.asarray(rho)).to(dtype)
        if spec.get("output", "linear") == "tanh":
            teacher = TanhOutput(teacher)
        return teacher
    if kind == "tanh_rnn":
        return RandomTanhRNN(
            spec["width"],
            spec["gain"],
            generator,
            inputs.dim,
            spec.get("input_scale", 1.0),
            dtype,
            spec.get("symmetric", False),
            spec.get("residual", False),
        )
    if kind == "transformer":
        options = {key: spec[key] for key in TRANSFORMER_OPTIONS if key in spec}
        teacher = CausalTransformer(
            spec["d_model"], spec["heads"], spec["layers"], generator, inputs.dim, dtype, **options
        )
        return Centered(teacher) if spec.get("centered", False) else teacher
    raise ValueError(f"teacher.kind: unknown teacher kind {kind!r}")
