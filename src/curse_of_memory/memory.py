"""Memory functions of sequence models and the classification of their decay.

Heaviside inputs u^x_k = x (k >= 0) give

    M(H)(t_{k+1}) = max_x |H_{k+1}(u^x) - H_k(u^x)| / (dt ||x||_inf),   t_{k+1} = (k+1) dt;

impulse inputs (x at k = 0, zero after) give M(H)(t_k) = max_x |H_k(x) - H_k(0)| / ||x||_inf.
For a linear functional y_k = sum_s rho(s dt) x_{k-s} these are |rho(t)| / dt and |rho(t)|.
Any callable mapping (batch, T, d) to (batch, T, out), or to a tuple whose first element is
that (torch.nn.RNN, LSTM, GRU), is accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .claims import claim

SequenceModel = Callable[[torch.Tensor], object]


def _outputs(model: SequenceModel, x: torch.Tensor) -> torch.Tensor:
    """Model outputs as (batch, T, out); the first element is taken from tuple outputs."""
    with torch.no_grad():
        out = model(x)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if out.dim() == 2:
        out = out.unsqueeze(-1)
    return out


def memory_function(
    model: SequenceModel,
    length: int,
    dt: float = 1.0,
    input_dim: int = 1,
    kind: str = "heaviside",
    draws: int = 8,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """(times, M) of ``model`` for inputs of ``draws`` random amplitudes x ~ N(0, I)."""
    amplitude = torch.randn(draws, input_dim, generator=generator, dtype=dtype)
    scale = amplitude.abs().amax(dim=1)
    if kind == "heaviside":
        u = amplitude.unsqueeze(1).expand(draws, length, input_dim).contiguous()
        out = _outputs(model, u)
        jumps = (out[:, 1:] - out[:, :-1]).abs().amax(dim=2) / (dt * scale.unsqueeze(1))
        times = dt * np.arange(1, length)
    elif kind == "impulse":
        u = torch.zeros(draws, length, input_dim, dtype=dtype)
        u[:, 0] = amplitude
        response = _outputs(model, u) - _outputs(model, torch.zeros_like(u))
        jumps = response.abs().amax(dim=2) / scale.unsqueeze(1)
        times = dt * np.arange(length)
    else:
        raise ValueError(f"memory kind must be 'heaviside' or 'impulse', got {kind!r}")
    return times, jumps.amax(dim=0).double().numpy()


@dataclass(frozen=True)
class DecayFit:
    """Fits of log M on the tail: against t (exponential) and against log t (polynomial)."""

    label: str  # "exponential", "polynomial" or "non-decaying"
    exponential_rate: float  # r in M ~ exp(-r t)
    exponential_r2: float
    polynomial_power: float  # p in M ~ t^(-p)
    polynomial_r2: float
    decay_factor: float  # M at the start of the tail / M at its end, from the better fit

    def to_dict(self) -> dict:
        return asdict(self)


def _linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R^2 of the least-squares line y ~ a + b x."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return float(slope), float(r2)


def classify_decay(
    times: np.ndarray,
    values: np.ndarray,
    tail_start: float = 0.3,
    floor: float = 1e-10,
    min_decay_factor: float = 2.0,
) -> DecayFit:
    """Label the decay of M from the tail of its significant part.

    Significant: M > floor * max M; its last time t_end. The tail is t >= tail_start * t_end.
    Non-decaying when the better fit falls by less than ``min_decay_factor`` over the tail.
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    significant = (times > 0) & (values > floor * values.max())
    if significant.sum() < 3:
        return DecayFit("exponential", math.inf, 1.0, math.inf, 1.0, math.inf)
    end = times[significant].max()
    keep = significant & (times >= tail_start * end)
    if keep.sum() < 3:
        keep = significant
    t, log_m = times[keep], np.log(values[keep])
    exp_slope, exp_r2 = _linear_fit(t, log_m)
    pol_slope, pol_r2 = _linear_fit(np.log(t), log_m)
    if exp_r2 >= pol_r2:
        label, factor = "exponential", math.exp(-exp_slope * (t[-1] - t[0]))
    else:
        label, factor = "polynomial", math.exp(-pol_slope * (math.log(t[-1]) - math.log(t[0])))
    if factor < min_decay_factor:
        label = "non-decaying"
    return DecayFit(label, -exp_slope, exp_r2, -pol_slope, pol_r2, factor)


def resolved(
    times: np.ndarray, values: np.ndarray, floor: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) up to the last time M exceeds the absolute ``floor``.

    Below about 1e-15 M of a float64 model with O(1) outputs is rounding noise, which says
    nothing about its decay; fitting a tail that reaches it would read noise as "non-decaying".
    """
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    above = np.flatnonzero(values > floor)
    end = above[-1] + 1 if above.size else len(values)
    return times[:end], values[:end]


def decay_claim(figure: str, subject: str, fit: DecayFit, expect: str) -> dict:
    """The claim that ``subject``'s memory decays as ``expect`` says.

    exponential: label exponential and rate > 0 (the exponential fit beats the power law);
    not_exponential: any other label; otherwise the label must equal ``expect``.
    """
    if expect == "exponential":
        passed = fit.label == "exponential" and fit.exponential_rate > 0
        threshold = "exponential, rate > 0"
    elif expect == "not_exponential":
        passed, threshold = fit.label != "exponential", "polynomial or non-decaying"
    else:
        passed, threshold = fit.label == expect, expect
    text = (
        f"{subject}: memory decays as {expect.replace('_', ' ')} (tail fits: R^2 exponential "
        f"{fit.exponential_r2:.3f} vs power law {fit.polynomial_r2:.3f}, tail falls "
        f"x{fit.decay_factor:.3g})"
    )
    value = f"{fit.label}, rate {fit.exponential_rate:.3g}"
    return claim(figure, text, value, threshold, passed)
