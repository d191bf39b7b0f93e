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

from ..shared.claims import claim
from ..shared.fits import fit_line

SequenceModel = Callable[[torch.Tensor], object]
INPUTS = ("heaviside", "impulse")  # the inputs memory_function probes a model with


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
        raise ValueError(f"memory kind must be one of {INPUTS}, got {kind!r}")
    return times, jumps.amax(dim=0).double().numpy()


MIN_EVIDENCE = math.log(4.0)
"""Default margin of :func:`classify_decay`: |evidence| >= log 4.

The evidence compares two one-parameter descriptions of the local decay rates r_k at times t_k:
a constant rate (exponential decay) and a constant local power p_k = t_k r_k (a power law,
r = p / t). evidence = log(S_p / S_r), S_r and S_p the sums of squares of log r_k and log p_k
about their means (plus the noise term of :func:`rate_trend`); > 0 favours the exponential.
log 4 asks the better description's RMS misfit to be at most half the other's. For rates
without scatter, r ~ t^s, the evidence is 2 log|1 + s| - 2 log|s|, so the margin means
s >= -1/3 for exponential and s <= -2/3 for a power law: the trend must be at most half as far
from one description's value (0 or -1) as from the other's. Scatter of the rates adds to both
sums and pulls the evidence towards 0 (undetermined). The residuals of a smooth curve are
systematic, not independent noise, so no test whose statistic grows with the number of points
is used; the ratio does not grow with the sampling.
"""

RATE_BLOCKS = 9
"""The tail is cut into this many blocks of equal point counts for the local rates.

Each block is summarised by the median of log M at the median time; the local rate between
consecutive blocks is the drop of that median over the time between them, placed at the
logarithmic mean of the two times. This is exact for M = C e^{-rt} and for M = C t^{-p} (a
monotone map commutes with the median), and a median ignores the dips where M oscillates through
0 and isolated spikes. 9 blocks give 8 rates, 4 of them on the last half of the tail (3 degrees
of freedom for each one-parameter description there), while each block still averages a ninth
of the tail. The labels of every curve of the workflow are the same with 7 and 11 blocks
(docs/notes-decay.md).
"""

DECAY_LABELS = ("exponential", "polynomial", "non-decaying", "undetermined")


@dataclass(frozen=True)
class DecayFit:
    """Decay of M on the tail: two curve fits and the trend of the local decay rate.

    exponential_rate, polynomial_power and their R^2 are least-squares fits of log M on the tail
    against t and against log t. The label rests on the local rates r_k (see RATE_BLOCKS):
    exponential decay, also a sum of exponentials, has a rate that settles at a positive
    constant; a power law has r = p / t, which halves whenever t doubles. evidence compares the
    two on the last half of the rates, tail_evidence on all of them (> 0: constant rate, < 0:
    constant local power; nan: some local rate is not positive, no trend measurable).
    """

    label: str  # one of DECAY_LABELS
    exponential_rate: float  # r in M ~ exp(-r t), fitted on the tail
    exponential_r2: float
    polynomial_power: float  # p in M ~ t^(-p), fitted on the tail
    polynomial_r2: float
    decay_factor: float  # M at the start of the tail / M at its end, from the better curve fit
    evidence: float = math.inf  # rate trend on the last half of the tail
    min_evidence: float = MIN_EVIDENCE  # |evidence| a label needs
    tail: tuple[float, float] = (math.nan, math.nan)  # first and last time of the tail
    points: int = 0  # points in the tail
    tail_evidence: float = math.inf  # rate trend on the whole tail
    rate_trend: float = 0.0  # s in r ~ t^s on the last half: 0 exponential, -1 power law
    final_rate: float = math.inf  # median local rate on the last half of the tail

    def to_dict(self) -> dict:
        return asdict(self)


def local_rates(
    times: np.ndarray, log_values: np.ndarray, blocks: int = RATE_BLOCKS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t_k, r_k, var r_k): decay rates between consecutive blocks (see RATE_BLOCKS).

    var r_k is what noise alone would give: in a block of n >= 4 points, the scatter of log M
    about its own least-squares line (1.4826 MAD, robust to dips) gives the standard error of the
    block median, 1.2533 sigma / sqrt(n) for normal scatter; blocks of fewer points count as
    exact. A smooth curve has no scatter about its local line; wiggles shorter than a block count
    as noise, which can only make the label more cautious.
    """
    parts = np.array_split(np.arange(len(times)), min(blocks, len(times)))
    tau = np.array([np.median(times[part]) for part in parts])
    level = np.array([np.median(log_values[part]) for part in parts])
    error = np.zeros(len(parts))
    for k, part in enumerate(parts):
        if len(part) >= 4:
            line = np.polyfit(times[part], log_values[part], 1)
            residual = log_values[part] - np.polyval(line, times[part])
            scatter = 1.4826 * np.median(np.abs(residual - np.median(residual)))
            error[k] = 1.2533 * scatter / math.sqrt(len(part))
    start, stop = tau[:-1], tau[1:]
    rates = (level[:-1] - level[1:]) / (stop - start)
    variances = (error[:-1] ** 2 + error[1:] ** 2) / (stop - start) ** 2
    return (stop - start) / np.log(stop / start), rates, variances  # logarithmic mean times


def rate_trend(
    times: np.ndarray, rates: np.ndarray, variances: np.ndarray | None = None
) -> tuple[float, float]:
    """(evidence, s): constant rate against rate = p / t, and the slope s of log r on log t.

    evidence = log((S_p + N) / (S_r + N)): S_r and S_p are the sums of squares of log r_k and of
    log p_k = log(t_k r_k) about their means, N = sum var(r_k) / r_k^2 the part of either that
    noise alone would give (first order), so rates that noise can account for give evidence
    near 0. > 0 favours a constant rate. (nan, nan) with fewer than 2 rates or a rate <= 0.
    """
    times, rates = np.asarray(times, dtype=float), np.asarray(rates, dtype=float)
    if rates.size < 2 or np.any(~(rates > 0)):
        return math.nan, math.nan
    noise = 0.0 if variances is None else float(np.sum(np.asarray(variances) / rates**2))
    log_rate, log_time = np.log(rates), np.log(times)
    log_power = log_rate + log_time
    spread_rate = float(np.sum((log_rate - log_rate.mean()) ** 2)) + noise
    spread_power = float(np.sum((log_power - log_power.mean()) ** 2)) + noise
    tiny = 1e-300 + 1e-30 * rates.size  # exact constancy of both is a tie, not 0/0
    slope = float(np.polyfit(log_time, log_rate, 1)[0])
    return math.log((spread_power + tiny) / (spread_rate + tiny)), slope


def decay_label(evidence: float, tail_evidence: float, min_evidence: float = MIN_EVIDENCE) -> str:
    """exponential, polynomial or undetermined from the rate trend of the last half and the tail.

    exponential   the rate settles on the last half (evidence >= margin), or it is constant on the
                  whole tail (tail_evidence >= margin) and the last half is not against it
    polynomial    the rate falls as 1/t on the whole tail (tail_evidence <= -margin) and has not
                  settled on the last half (evidence < margin)
    undetermined  otherwise; nan (a local rate that is not positive) counts as 0

    The rule is asymmetric on purpose. Exponential decay is a statement about the end of the
    tail: faster modes may dominate its start, and only a rate that settles shows the slowest
    one. A power law is scale-free, its rate falls as 1/t over the whole tail; a rate falling
    like that only over the last stretch is also what a crossover between two exponential modes
    looks like (IAT-5b), so that alone is no evidence of a power law.
    """
    last = 0.0 if math.isnan(evidence) else evidence
    whole = 0.0 if math.isnan(tail_evidence) else tail_evidence
    if last >= min_evidence or (whole >= min_evidence and last > -min_evidence):
        return "exponential"
    if whole <= -min_evidence and last < min_evidence:
        return "polynomial"
    return "undetermined"


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
    On the tail, log M ~ a - r t and log M ~ a - p log t are fitted (rates, powers, R^2, decay
    factor), and the local decay rates (:func:`local_rates`) carry the label:

        non-decaying   both curve fits fall by less than ``min_decay_factor`` over the tail
        exponential    every local rate is positive and they grow along the tail and its last
                       half (d log rate / d log t > 0): the decay is at least exponential,
                       M(t) <= M(t_0) exp(-r_min (t - t_0)), while a power law's rate falls as 1/t
        otherwise      :func:`decay_label` of the rate trend on the last half of the local rates
                       and on all of them

    Fewer than 3 significant points: the memory vanishes within 2 steps, "exponential" (rate inf).
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    significant = (times > 0) & (values > floor * values.max(initial=0.0))
    if significant.sum() < 3:
        return DecayFit("exponential", math.inf, 1.0, math.inf, 1.0, math.inf, math.inf,
                        min_evidence)  # fmt: skip
    end = times[significant].max()
    keep = significant & (times >= tail_start * end)
    if keep.sum() < 3:
        keep = significant
    t, log_m = times[keep], np.log(values[keep])
    exp, pol = fit_line(t, log_m), fit_line(np.log(t), log_m)
    exp_factor = math.exp(-exp.slope * (t[-1] - t[0]))
    pol_factor = math.exp(-pol.slope * (math.log(t[-1]) - math.log(t[0])))
    rate_times, rates, variances = local_rates(t, log_m)
    last = max(2, math.ceil(len(rates) / 2))
    evidence, trend = rate_trend(rate_times[-last:], rates[-last:], variances[-last:])
    tail_evidence, tail_trend = rate_trend(rate_times, rates, variances)
    if max(exp_factor, pol_factor) < min_decay_factor:
        label = "non-decaying"
    elif np.all(rates > 0) and trend > 0 and tail_trend > 0:  # faster than exponential
        label = "exponential"
    else:
        label = decay_label(evidence, tail_evidence, min_evidence)
    factor = exp_factor if exp.rss <= pol.rss else pol_factor
    return DecayFit(
        label, -exp.slope, exp.r2, -pol.slope, pol.r2, factor, evidence, min_evidence,
        (float(t[0]), float(t[-1])), int(len(t)), tail_evidence, trend,
        float(np.median(rates[-last:])),
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


def octave_variation(values: np.ndarray) -> np.ndarray:
    """V_j = sum_{k=j}^{2j-1} M_k for j = 1..len(M) // 2, with values[k - 1] = M_k.

    For M_k = |s(k+1) - s(k)| this is the total variation of s over the octave [j, 2j]. It
    averages out the dips of a memory that oscillates through 0 and keeps its decay class:
    M_k <= V_j for j = ceil((k+1)/2), and V_j <= j max_{[j, 2j)} M, so M <= C e^{-rk} gives
    V_j <= C j e^{-rj} and V_j <= C e^{-rj} gives M_k <= C e^{-r(k+1)/2}; an envelope
    M ~ k^{-p} gives V ~ j^{1-p} (a constant V is the envelope 1/k).
    """
    values = np.asarray(values, dtype=float)
    tails = np.concatenate([np.cumsum(values[::-1])[::-1], [0.0]])  # tails[i] = sum of M_{i+1..}
    j = np.arange(1, len(values) // 2 + 1)
    return tails[j - 1] - tails[2 * j - 1]  # tail sums keep a decaying M's small V exact


def joint_label(memory: DecayFit, variation: DecayFit) -> str:
    """One label from the tail fits of M and of its octave variation V (same decay class).

    V non-decaying reads as polynomial (envelope 1/k) unless M itself is non-decaying. Then:
    equal labels stand; undetermined is no evidence, so the other label stands; both not
    exponential (polynomial, non-decaying) gives M's label; exponential against either of
    those is a contradiction between two readings of one class: undetermined.
    """
    first, second = memory.label, variation.label
    if second == "non-decaying" and first != "non-decaying":
        second = "polynomial"
    if "undetermined" in (first, second) or first == second:
        return second if first == "undetermined" else first
    if "exponential" in (first, second):
        return "undetermined"
    return first


def _trend_text(fit: DecayFit) -> str:
    """The rate-trend part of a claim's text."""
    if math.isnan(fit.evidence) and math.isnan(fit.tail_evidence):
        return "a local rate is not positive, no rate trend to measure"
    return (
        f"local decay rate on the last half {fit.final_rate:.3g}, d log rate / d log t = "
        f"{fit.rate_trend:+.2f} (constant rate 0, power law -1); rate-trend evidence "
        f"log(spread of log power / spread of log rate) = {fit.evidence:+.2f} on the last "
        f"half, {fit.tail_evidence:+.2f} on the whole tail"
    )


def decay_claim(
    figure: str, subject: str, fit: DecayFit, expect: str, variation: DecayFit | None = None
) -> dict:
    """The claim that ``subject``'s memory decays as ``expect`` says.

    With ``variation`` (the tail fit of :func:`octave_variation`) the label is
    :func:`joint_label` of both readings. exponential: label exponential and rate > 0;
    not_exponential: label polynomial or non-decaying (undetermined is no evidence either way,
    so it fails both); otherwise the label must equal ``expect``.
    """
    label = fit.label if variation is None else joint_label(fit, variation)
    margin = f"{fit.min_evidence:.2f}"
    if expect == "exponential":
        passed = label == "exponential" and fit.exponential_rate > 0
        threshold = (
            f"exponential: local rate settles (rate-trend evidence >= {margin} on the last half, "
            f"or on the whole tail and > -{margin} on the last half), rate > 0"
        )
    elif expect == "not_exponential":
        passed = label in ("polynomial", "non-decaying")
        threshold = (
            f"polynomial (rate ~ 1/t: evidence <= -{margin} on the whole tail, < {margin} on "
            "the last half) or non-decaying"
        )
    else:
        passed, threshold = label == expect, expect
    text = (
        f"{subject}: memory decays as {expect.replace('_', ' ')} (tail t in "
        f"[{fit.tail[0]:.4g}, {fit.tail[1]:.4g}], {fit.points} points; {_trend_text(fit)}; "
        f"curve fits R^2 {fit.exponential_r2:.3f} (exponential) vs {fit.polynomial_r2:.3f} "
        f"(power law); tail falls x{fit.decay_factor:.3g})"
    )
    value = f"{label}, rate {fit.exponential_rate:.3g}"
    if variation is not None:
        text = text[:-1] + (
            f": {fit.label}; octave variation V(j) = sum of M over [j, 2j), same decay class "
            f"(tail j in [{variation.tail[0]:.4g}, {variation.tail[1]:.4g}]; "
            f"{_trend_text(variation)}; falls x{variation.decay_factor:.3g}: "
            f"{variation.label}; joint label {label})"
        )
        value = f"{label} (memory {fit.label}, octave variation {variation.label})"
    return claim(figure, text, value, threshold, passed)
