"""Edge modes: whether a student's mode at the edge of stability is part of its fit.

A mode with eigenvalue mu <= EDGE_MARGIN of A (an integrator, mu = 0 as rounding sees it) makes
a perturbation of any size run away, whatever the target: its runaway radius is 0. That is the
target's doing when the fit needs the mode: a target whose memory does not decay (the tanh-RNN
teacher at gain 1 has an eigenvalue 0 of its own A) can only be followed by a student with a mode
as slow as the horizon resolves. It is the student's doing when training clamped a mode at 0 that
the fit does not use (the direct parameterization projects lam onto lam >= 0).

The test: raise every edge eigenvalue to ``floor`` and compare the test losses,

    lift ratio = L(lifted student) / L(trained student),

with lam' = max(lam, floor) on the edge modes of a diagonal A, and A' = V diag(mu') V^T for the
symmetric A = V diag(mu) V^T of the other structures. The analysis lifts to the beta grid's
first point beta_1, the smallest perturbation it resolves: a lift ratio within min_improvement
(the factor by which two losses must differ to be told apart on the grid,
:mod:`.verdict`) says a student with margin beta_1 fits as well, so the zero radius is not
the target's; a larger one says the fit needs a mode slower than any perturbation the grid
resolves.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ..rnn.models import StudentSpec, Weights, effective_weights, run_student
from ..rnn.training import weighted_mse
from .verdict import EDGE_MARGIN


def lifted(spec: StudentSpec, weights: Weights, floor: float) -> Weights:
    """``weights`` with every eigenvalue of A at most EDGE_MARGIN raised to ``floor``."""
    A = weights.recurrence
    if spec.diagonal:
        recurrence = torch.where(A <= EDGE_MARGIN, torch.full_like(A, floor), A)
    else:
        mu, V = torch.linalg.eigh(0.5 * (A + A.transpose(-1, -2)))
        mu = torch.where(mu <= EDGE_MARGIN, torch.full_like(mu, floor), mu)
        recurrence = V @ (mu.unsqueeze(-1) * V.transpose(-1, -2))
    return Weights(recurrence, weights.U, weights.b, weights.c, weights.c0)


@torch.no_grad()
def lift_ratio(
    spec: StudentSpec,
    raw: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    loss_weights: torch.Tensor,
    floor: float,
) -> float:
    """L(lifted) / L(trained) on (x, y) in float64 (module docstring); 1 without edge modes
    (and when both losses are 0), +inf when only the trained loss is 0."""
    raw = {name: value.detach().to(torch.float64) for name, value in raw.items()}
    x, y, loss_weights = (t.to(torch.float64) for t in (x, y, loss_weights))
    weights = effective_weights(spec, raw, constrained=False)
    trained = weighted_mse(run_student(spec, weights, x), y, loss_weights)
    moved = weighted_mse(run_student(spec, lifted(spec, weights, floor), x), y, loss_weights)
    if trained == 0:
        return 1.0 if moved == 0 else float("inf")
    return float(moved / trained)
