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


MIN_EVIDENCE = math.log(4.0)
"""Default margin of :func:`classify_decay`: |log(RSS_pol / RSS_exp)| >= log 4.

Both models have two parameters, so the residual sums of squares compare directly; a label needs
the better model's RMS residual in log M to be at most half the other's. The residuals of a
smooth curve are systematic misfit, not independent noise, so a likelihood-ratio or F test (whose
statistic grows with the number of points) would call any difference significant on a dense
grid; the ratio itself does not grow with the sampling. A near-tie such as R^2 0.995 vs 0.994 is
log(0.006 / 0.005) = 0.18, and moving the tail window of a mixture of exponentials (IAT-10a,
3 layers, arithmetic mean) from t >= 0.3 t_end to t >= 0.5 t_end moves the evidence by about 1.5:
differences of that size say more about the window than about the decay.
"""

DECAY_LABELS = ("exponential", "polynomial", "non-decaying", "undetermined")


@dataclass(frozen=True)
class DecayFit:
    """Least-squares fits of log M on the tail against t (exponential) and log t (power law).

    evidence = log(RSS_pol / RSS_exp) on the same tail points: > 0 favours the exponential.
    """

    label: str  # one of DECAY_LABELS
    exponential_rate: float  # r in M ~ exp(-r t)
    exponential_r2: float
    polynomial_power: float  # p in M ~ t^(-p)
    polynomial_r2: float
    decay_factor: float  # M at the start of the tail / M at its end, from the better fit
    evidence: float = math.inf  # log(RSS_pol / RSS_exp)
    min_evidence: float = MIN_EVIDENCE  # |evidence| a label needs
    tail: tuple[float, float] = (math.nan, math.nan)  # first and last time of the fitted tail
    points: int = 0  # points in the tail

    def to_dict(self) -> dict:
        return asdict(self)


def _linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, R^2 and residual sum of squares of the least-squares line y ~ a + b x."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    rss = float(np.sum(residual**2))
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - rss / total if total > 0 else 1.0
    return float(slope), float(r2), rss


def classify_decay(
    times: np.ndarray,
    values: np.ndarray,
    tail_start: float = 0.3,
    floor: float = 1e-10,
    min_decay_factor: float = 2.0,
    min_evidence: float = MIN_EVIDENCE,
) -> DecayFit:
    """Label the decay of M from the tail of its significant part.

    Significant: t > 0 and M > floor * max M; its last time t_end. Tail: t >= tail_start * t_end.
    On the tail, log M ~ a - r t (exponential) and log M ~ a - p log t (power law), two parameters
    each; evidence = log(RSS_pol / RSS_exp).

        non-decaying   both fits fall by less than ``min_decay_factor`` over the tail
        exponential    evidence >= min_evidence
        polynomial     evidence <= -min_evidence
        undetermined   otherwise (the two models describe the tail about equally well)

    Fewer than 3 significant points: the memory vanishes within 2 steps, "exponential" (rate inf).
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    significant = (times > 0) & (values > floor * values.max())
    if significant.sum() < 3:
        return DecayFit("exponential", math.inf, 1.0, math.inf, 1.0, math.inf, math.inf,
                        min_evidence)  # fmt: skip
    end = times[significant].max()
    keep = significant & (times >= tail_start * end)
    if keep.sum() < 3:
        keep = significant
    t, log_m = times[keep], np.log(values[keep])
    exp_slope, exp_r2, exp_rss = _linear_fit(t, log_m)
    pol_slope, pol_r2, pol_rss = _linear_fit(np.log(t), log_m)
    tiny = 1e-300 + 1e-30 * len(t)  # exact fits on both sides are a tie, not 0/0
    evidence = math.log((pol_rss + tiny) / (exp_rss + tiny))
    exp_factor = math.exp(-exp_slope * (t[-1] - t[0]))
    pol_factor = math.exp(-pol_slope * (math.log(t[-1]) - math.log(t[0])))
    if max(exp_factor, pol_factor) < min_decay_factor:
        label = "non-decaying"
    elif evidence >= min_evidence:
        label = "exponential"
    elif evidence <= -min_evidence:
        label = "polynomial"
    else:
        label = "undetermined"
    factor = exp_factor if evidence >= 0 else pol_factor
    return DecayFit(
        label, -exp_slope, exp_r2, -pol_slope, pol_r2, factor, evidence, min_evidence,
        (float(t[0]), float(t[-1])), int(len(t)),
    )  # fmt: skip


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

    exponential: label exponential and rate > 0; not_exponential: label polynomial or
    non-decaying (undetermined is no evidence either way, so it fails both); otherwise the label
    must equal ``expect``.
    """
    margin = f"|log(RSS_pol/RSS_exp)| >= {fit.min_evidence:.2f}"
    if expect == "exponential":
        passed = fit.label == "exponential" and fit.exponential_rate > 0
        threshold = f"exponential ({margin}), rate > 0"
    elif expect == "not_exponential":
        passed = fit.label in ("polynomial", "non-decaying")
        threshold = f"polynomial ({margin}) or non-decaying"
    else:
        passed, threshold = fit.label == expect, expect
    text = (
        f"{subject}: memory decays as {expect.replace('_', ' ')} (tail t in "
        f"[{fit.tail[0]:.4g}, {fit.tail[1]:.4g}], {fit.points} points: log(RSS power law / "
        f"RSS exponential) = {fit.evidence:+.2f}, R^2 {fit.exponential_r2:.3f} vs "
        f"{fit.polynomial_r2:.3f}; tail falls x{fit.decay_factor:.3g})"
    )
    value = f"{fit.label}, rate {fit.exponential_rate:.3g}"
    return claim(figure, text, value, threshold, passed)
