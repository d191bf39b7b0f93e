"""Memory functions of randomly initialised sequence models (IAT Figures 10 and 11a).

Families: torch.nn ``rnn`` (tanh), ``gru``, ``lstm`` with their default initialisation, the
S4D-style diagonal state-space model ``ssm`` (:mod:`.ssm`), and ``gain_rnn``: a tanh nn.RNN whose
recurrent weights are redrawn as W_hh ~ N(0, gain^2 / hidden), which is chaotic for gain > 1.
Every model maps (batch, T, d) to its last layer's states (batch, T, hidden), in float64.

For ``draws`` independently seeded models the memory function M_j(t) of draw j is computed by
:func:`.memory.memory_function`; :func:`summarize` gives the mean over draws, its standard error
sqrt(var_j M_j(t) / draws), and the decay fit of the mean curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .memory import DecayFit, classify_decay, memory_function, resolved
from .seeding import derive_seed, torch_generator
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
    """Mean memory over draws, its standard error, and the decay fit of the mean."""

    times: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    fit: DecayFit
    resolved_until: float  # last time at which the mean is above the rounding floor


def summarize(
    times: np.ndarray,
    curves: np.ndarray,
    tail_start: float = 0.3,
    floor: float = 1e-12,
    min_decay_factor: float = 2.0,
) -> MemorySummary:
    """Mean and standard error over draws; classify_decay on the mean where it exceeds ``floor``."""
    mean = curves.mean(axis=0)
    spread = curves.std(axis=0, ddof=1) if curves.shape[0] > 1 else np.zeros_like(mean)
    kept_times, kept_mean = resolved(times, mean, floor)
    fit = classify_decay(kept_times, kept_mean, tail_start, 0.0, min_decay_factor)
    return MemorySummary(times, mean, spread / np.sqrt(curves.shape[0]), fit, float(kept_times[-1]))
