"""Memory functions of randomly initialised sequence models (IAT Figures 10 and 11a).

Families: torch.nn ``rnn`` (tanh), ``gru``, ``lstm`` with their default initialisation, the
S4D-style diagonal state-space model ``ssm`` (:mod:`.ssm`), and ``gain_rnn``: a tanh nn.RNN whose
recurrent weights are redrawn as W_hh ~ N(0, gain^2 / hidden), which is chaotic for gain > 1.
Every model maps (batch, T, d) to its last layer's states (batch, T, hidden), in float64.

For ``draws`` independently seeded models the memory function M_j(t) of draw j is computed by
:func:`.memory.memory_function`; :func:`summarize` gives the mean over draws, its standard error
sqrt(var_j M_j(t) / draws), and the decay fit of the geometric mean exp(mean_j log M_j(t)).

The decay is classified on the geometric mean because averaging logs keeps the class of the
draws: if every M_j = c_j exp(-r_j t), the geometric mean is exp(-mean(r) t), exactly
exponential, and power laws stay power laws. The arithmetic mean sum_j c_j exp(-r_j t) / J of
exponentials with spread rates is log-convex, and on a finite tail it bends towards a power law
(a continuum of such rates is how power laws arise); it is what the figure draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..shared.fits import mean_and_error
from ..shared.seeding import derive_seed, torch_generator
from .decay import MIN_EVIDENCE, DecayFit, classify_decay, memory_function, resolved
from .ssm import DiagonalSSM

RECURRENT_MODULES = {
    "rnn": torch.nn.RNN,
    "gru": torch.nn.GRU,
    "lstm": torch.nn.LSTM,
    "gain_rnn": torch.nn.RNN,
}
FAMILIES = (*RECURRENT_MODULES, "ssm")


@dataclass(frozen=True)
class RandomModelSpec:
    """A family, its depth and width; ``gain`` for gain_rnn, ``state``/``dt_range`` for ssm."""

    family: str
    layers: int = 1
    hidden: int = 32
    input_dim: int = 1
    gain: float = 1.0
    state: int = 16
    dt_range: tuple[float, float] = (1e-3, 1e-1)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family: unknown {self.family!r}; known: {', '.join(FAMILIES)}")


def build_model(spec: RandomModelSpec, seed: int) -> torch.nn.Module:
    """A float64 model of ``spec`` initialised from the global generator forked and seeded."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if spec.family == "ssm":
            model = DiagonalSSM(
                spec.input_dim, spec.hidden, spec.layers, spec.state, tuple(spec.dt_range)
            )
        else:
            model = RECURRENT_MODULES[spec.family](
                spec.input_dim, spec.hidden, spec.layers, batch_first=True
            )
            if spec.family == "gain_rnn":
                with torch.no_grad():
                    for layer in range(spec.layers):
                        weight = getattr(model, f"weight_hh_l{layer}")
                        weight.normal_(0.0, spec.gain / spec.hidden**0.5)
    return model.double().eval()


def memory_draws(
    spec: RandomModelSpec,
    length: int,
    kind: str,
    draws: int,
    input_draws: int,
    keys: tuple,
) -> tuple[np.ndarray, np.ndarray]:
    """(times, M (draws, len)): model j seeded by (*keys, j), its inputs by (*keys, j, kind)."""
    curves = []
    for draw in range(draws):
        model = build_model(spec, derive_seed(*keys, draw))
        times, values = memory_function(
            model,
            length,
            kind=kind,
            draws=input_draws,
            input_dim=spec.input_dim,
            generator=torch_generator(*keys, draw, kind),
        )
        curves.append(values)
    return times, np.stack(curves)


@dataclass(frozen=True)
class MemorySummary:
    """Mean memory over draws, its standard error, and the decay fit of the geometric mean."""

    times: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    fit: DecayFit  # of the geometric mean, up to the last time every draw is above the floor
    draw_labels: dict[str, int]  # label -> number of draws whose own curve gets it


def geometric_mean(
    times: np.ndarray, curves: np.ndarray, floor: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """(times, exp(mean_j log M_j)) up to the last time at which every draw exceeds ``floor``."""
    ends = [resolved(times, curve, floor)[0].size for curve in curves]
    end = max(min(ends), 1)
    logs = np.log(np.maximum(curves[:, :end], floor))  # a transient dip counts as the floor
    return np.asarray(times[:end], dtype=float), np.exp(logs.mean(axis=0))


def summarize(
    times: np.ndarray,
    curves: np.ndarray,
    tail_start: float = 0.3,
    floor: float = 1e-12,
    min_decay_factor: float = 2.0,
    min_evidence: float = MIN_EVIDENCE,
) -> MemorySummary:
    """Mean and standard error over draws; classify_decay of the geometric mean and of each draw.

    Every fit stops where its curve last exceeds the absolute rounding ``floor``.
    """
    mean, standard_error = mean_and_error(curves)
    settings = (tail_start, 0.0, min_decay_factor, min_evidence)
    kept_times, kept = geometric_mean(times, curves, floor)
    fit = classify_decay(kept_times, kept, *settings)
    labels = [classify_decay(*resolved(times, curve, floor), *settings).label for curve in curves]
    counts = {label: labels.count(label) for label in sorted(set(labels))}
    return MemorySummary(times, mean, standard_error, fit, counts)
