"""Runaway radius: from which beta on the perturbation ball holds a student that runs away.

The perturbation error is a sup over a ball, E_m(beta) = sup ||H - H(theta')|| over raw
parameters theta' with every entry within beta of the trained theta (the draws of
:mod:`.perturbation` are points of this ball: each tensor's direction has sup-norm 1). A
student whose recurrence runs away (:func:`~curse_of_memory.rnn.models.runaway`) has infinite
error over all times, so E_m(beta) = +inf for every beta beyond

    r_m = inf { beta : the ball of radius beta holds a runaway student },

exactly, where the draws only find such a student by chance. Eigenvalues lam_i = f(w_i):

- diagonal A: over the ball each lam_i ranges over f at w_i - beta, w_i + beta and, when the
  interval holds it, at 0 (every f of ``PARAMETERIZATIONS`` is monotone on each side of 0), so
  r_m is where that range first leaves [0, 2 / dt] (2 / dt only for a step linear in h). For
  direct, r_m = min(min_i lam_i, 2 / dt - max_i lam_i): the stability margin itself;
- orthogonal A = Q^T diag(f(w)) Q: eigenvalues f(w) whatever the perturbation of P, so r_m is
  the diagonal one;
- full A = P^T diag(f(w)) P: congruent to diag(f(w)) for invertible P (Sylvester's law of
  inertia), and positive semi-definite when f(w) >= 0, so it has an eigenvalue < 0 exactly when
  some f(w_i) < 0, whatever the perturbation of P: r_m is where the range of some f(w_i) first
  goes below 0. Whether mu > 2 / dt also depends on P and is not certified (r_m is then the
  radius of the lower bound, an upper bound on the true one).

Both bounds carry runaway's slack, tolerance x (1 + max |lam|) (here of the trained student), so
that a draw runaway flags lies at beta >= r_m up to that slack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ..rnn.models import PARAMETERIZATIONS, StudentSpec
from ..rnn.recurrence import DRIVE_ACTIVATIONS

BISECTIONS = 100  # halvings of the bracket: far below float64 resolution of any radius


def eigenvalue_range(spec: StudentSpec, w: torch.Tensor, beta: float) -> tuple[float, float]:
    """(min, max) of lam_i = f(w_i + delta_i) over |delta_i| <= beta and all i."""
    f = PARAMETERIZATIONS[spec.parameterization].evaluated
    values = [f(w - beta), f(w + beta)]
    crosses_zero = (w - beta <= 0) & (w + beta >= 0)
    if crosses_zero.any():
        values.append(f(torch.zeros(1, dtype=w.dtype)))
    stacked = torch.cat([value.reshape(-1) for value in values])
    return float(stacked.min()), float(stacked.max())


def runaway_radius(
    spec: StudentSpec, raw: Mapping[str, torch.Tensor], tolerance: float = 1e-6
) -> float:
    """r_m (module docstring): +inf when no ball holds a certified runaway (e.g. a stable
    parameterization with a saturating activation)."""
    w = raw["w"].detach().to(torch.float64)
    trained = PARAMETERIZATIONS[spec.parameterization].evaluated(w)
    slack = tolerance * (1.0 + float(trained.abs().max()))
    upper_side = spec.spectral and (spec.linear or spec.activation in DRIVE_ACTIVATIONS)

    def escapes(beta: float) -> bool:
        low, high = eigenvalue_range(spec, w, beta)
        return low < -slack or (upper_side and high > 2.0 / spec.dt + slack)

    if escapes(0.0):
        return 0.0
    high = 1.0
    while not escapes(high):
        high *= 2.0
        if high > 1e6:
            return math.inf
    low = 0.0
    for _ in range(BISECTIONS):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if escapes(middle) else (middle, high)
    return high
