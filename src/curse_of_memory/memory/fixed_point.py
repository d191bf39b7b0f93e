"""Asymptotic memory of an LSTM under a repeated input, from its linearisation.

Under a constant input x, a cell of a ``torch.nn.LSTM`` iterates z_{n+1} = F(z_n; x) on its state
z = (h, c). From the zero state the orbit converges to a fixed point z* when z* attracts, and
|z_n - z*| <= C (rho + eps)^n, rho the spectral radius of the Jacobian DF(z*). In a stack, layer 1
(each direction) sees x and layer l > 1 sees, away from the sequence's ends, the fixed-point
outputs of layer l - 1 (forward and backward concatenated), so every state of the model, and its
output, converges no slower than max rho over the cells: its memory M(n) = |y(n+1) - y(n)| under
n repeats decays exponentially at a rate of at least -log max rho, positive when every fixed
point attracts (the rate itself unless the slowest cell's mode does not reach the output). The
iteration from the zero state is the model's own orbit for layer 1; that the model reaches the
same fixed points in every layer is checked on its output in the middle of a long repeat (a
multistable cell could settle elsewhere). This is the n -> infinity statement that a tail fit of
M(n) can only approach:
in float64 a two-mode crossover can fill the whole resolved tail (measured: a stacked BiLSTM's
memory of "good" slows from rate 0.24 to 0.11 near n = 100, where its score's differences reach
the rounding floor; the slowest cell here has -log rho = 0.111).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch

from ..shared.claims import claim
from .decay import DecayFit, joint_label

CONVERGED = 1e-10  # |F(z) - z| of a float64 orbit that has reached its fixed point


@dataclass(frozen=True)
class CellFixedPoint:
    """One cell (layer, direction) at its fixed point under the repeated input."""

    layer: int
    reverse: bool
    spectral_radius: float  # rho of DF(z*)
    residual: float  # |F(z*) - z*| after the iterations: the orbit converged if <= CONVERGED
    on_orbit: bool = True  # the model's own output reaches this fixed point (last layer)


def lstm_step(lstm: torch.nn.LSTM, layer: int, reverse: bool) -> Callable:
    """F(z; x) of one cell: gates = W_ih x + W_hh h + b, c' = sig(f) c + sig(i) tanh(g),
    h' = sig(o) tanh(c'), z = (h, c) (PyTorch's LSTM equations and gate order i, f, g, o)."""
    if lstm.proj_size:
        raise ValueError("fixed points: LSTMs with proj_size are not supported")
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")

    def weight(name: str) -> torch.Tensor:
        return getattr(lstm, f"{name}{suffix}").detach().to(torch.float64)  # a float64 copy

    w_ih, w_hh = weight("weight_ih"), weight("weight_hh")
    bias = weight("bias_ih") + weight("bias_hh") if lstm.bias else 0.0
    hidden = lstm.hidden_size

    def step(state: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        h, c = state[:hidden], state[hidden:]
        i, f, g, o = (w_ih @ x + w_hh @ h + bias).chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.cat([torch.sigmoid(o) * torch.tanh(c), c])

    return step


def fixed_point(
    step: Callable, x: torch.Tensor, size: int, iterations: int
) -> tuple[torch.Tensor, float, float]:
    """(z*, rho, residual): the state after ``iterations`` steps of ``step`` from 0 under x, the
    spectral radius of the Jacobian of z -> step(z, x) there, and |step(z*, x) - z*|."""
    state = torch.zeros(size, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(iterations):
            state = step(state, x)
        residual = float(torch.linalg.vector_norm(step(state, x) - state))
    jacobian = torch.autograd.functional.jacobian(partial(step, x=x.detach()), state)
    radius = float(np.max(np.abs(np.linalg.eigvals(jacobian.detach().numpy()))))
    return state, radius, residual


def fixed_points(
    lstm: torch.nn.LSTM, x: torch.Tensor, iterations: int = 3000
) -> list[CellFixedPoint]:
    """Every cell of ``lstm`` (in float64, the module left as it is) at the end of ``iterations``
    steps from the zero state under the constant input x, layer by layer (layer l > 1 under the
    outputs of layer l - 1); the last layer's are checked against the model's own output in the
    middle of 2 x ``iterations`` repeats."""
    x = x.detach().to(torch.float64)
    directions = (False, True) if lstm.bidirectional else (False,)
    hidden = lstm.hidden_size
    points, layer_input = [], x
    for layer in range(lstm.num_layers):
        outputs = []
        for reverse in directions:
            step = lstm_step(lstm, layer, reverse)
            state, radius, residual = fixed_point(step, layer_input, 2 * hidden, iterations)
            points.append(CellFixedPoint(layer, reverse, radius, residual))
            outputs.append(state[:hidden])
        layer_input = torch.cat(outputs)
    with torch.no_grad():
        model = copy.deepcopy(lstm).to(torch.float64)
        output, _ = model(x.expand(1, 2 * iterations, -1) if model.batch_first else
                          x.expand(2 * iterations, 1, -1))  # fmt: skip
    middle = output.reshape(2 * iterations, -1)[iterations]
    on_orbit = bool(torch.linalg.vector_norm(middle - layer_input) <= math.sqrt(CONVERGED))
    last = len(points) - len(directions)
    return points[:last] + [replace(point, on_orbit=on_orbit) for point in points[last:]]


def asymptotic_rate(points: Sequence[CellFixedPoint]) -> float:
    """-log max rho over the cells (a lower bound on the memory's decay rate; inf when every
    Jacobian is nilpotent); nan when there is no cell, or an orbit has not converged to its fixed
    point or is not the model's (then the linearisation says nothing)."""
    if not points or any(not (p.residual <= CONVERGED and p.on_orbit) for p in points):
        return math.nan
    radius = max(point.spectral_radius for point in points)
    return -math.log(radius) if radius > 0 else math.inf


def linearised_decay_claim(
    figure: str, subject: str, rate: float, fit: DecayFit, variation: DecayFit, repeats: int
) -> dict:
    """``subject``'s memory decays exponentially as n -> infinity: the asymptotic rate bound
    (module docstring) is at least 1 / repeats (slower than e-fold over the query is no decay the
    query shows, and a rho within rounding of 1 is a kept state), and the tail fits of M and of
    its octave variation (their joint label), a finite-window reading that can contradict but
    not confirm it, are not polynomial or non-decaying."""
    label = joint_label(fit, variation)
    contradicted = label in ("polynomial", "non-decaying")
    text = (
        f"{subject}: memory decays exponentially as n -> infinity (every LSTM cell's fixed point "
        f"under the repeated word attracts: M(n) <= C (max rho + eps)^n); the tail fit on "
        f"[{fit.tail[0]:.4g}, {fit.tail[1]:.4g}] reads {fit.label}, final local rate "
        f"{fit.final_rate:.3g}; its octave variation on [{variation.tail[0]:.4g}, "
        f"{variation.tail[1]:.4g}] reads {variation.label}, final local rate "
        f"{variation.final_rate:.3g}"
    )
    return claim(
        figure,
        text,
        f"rate >= {rate:.3g}, tail fits {label}",
        f"-log max rho >= 1/{repeats} (orbits converged to the model's fixed points), tail fits "
        "not polynomial or non-decaying",
        rate >= 1 / repeats and not contradicted,
    )
