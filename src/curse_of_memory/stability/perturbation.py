"""Perturbation error E_m(beta) of a trained student.

For each beta of a grid and each of R random draws g ~ N(0, I), every raw parameter tensor p
(for stable parameterizations the raw w before f) becomes p + beta g / ||g||_inf, and the test
loss is evaluated. Draw r uses the same direction g_r at every beta (as the public code, which
reseeds with r). Losses that are not finite or exceed ``divergence_ratio`` times the loss of the
zero predictor count as +inf, and so does every perturbed model (beta > 0) whose recurrence
runs away (:func:`~curse_of_memory.rnn.models.runaway`: A has an eigenvalue < 0, or > 2 / dt
for a step linear in h), without being evaluated. The theorem's error is a sup over all times,
where such a model's error is infinite; on test sequences of T steps a mode growing as
(1 + dt |mu|)^k passes the divergence ratio only once |mu| >~ log(ratio) / (2 dt T), so the
finite horizon alone would put every blow-up above ~5 / T, however close to 0 the stability
margin comes. Then

    E_m(beta) = max_{beta' <= beta} max_r loss(beta', r)      (beta = 0: one evaluation).

All R draws of one beta are evaluated as one ensemble: batched products over a leading model
dimension. What cannot change any statistic of E_m is not computed: a draw that diverged at a
smaller beta is recorded as +inf at the larger ones without evaluation (E_m and its bootstrap
over draws take the running max over beta of each draw), and a model whose loss summed over
the first chunks of samples already exceeds the limit is +inf without the remaining chunks
(the loss is a mean of non-negative terms).

For linear students the loss is a quadratic form in the kernel (K, o), so every draw is
evaluated exactly from second-moment statistics of the test inputs, expanded around the
directly computed residual of the trained model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ..rnn.models import (
    StudentSpec,
    Weights,
    effective_weights,
    impulse_response,
    run_student,
    runaway,
)
from ..rnn.recurrence import samples_per_step
from ..rnn.training import weighted_mse

# How the losses are evaluated: auto is exact for linear students, the ensemble loop otherwise.
METHODS = ("auto", "exact", "ensemble")


def beta_grid(base: float = 1e-3, ratio: float = 2**0.5, count: int = 21) -> np.ndarray:
    """{0} U {base * ratio^i, i = 0..count-1} (default: 1e-3 * 2^(i/2), i = 0..20)."""
    return np.concatenate([[0.0], base * ratio ** np.arange(count)])


def draw_directions(
    raw: Mapping[str, torch.Tensor], draws: int, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """g_r / ||g_r||_inf for every parameter tensor, g_r ~ N(0, I): name -> (draws, *shape)."""
    directions = {}
    for name, value in raw.items():
        g = torch.randn((draws, *value.shape), generator=generator, dtype=value.dtype)
        scale = g.reshape(draws, -1).abs().amax(dim=1).reshape(draws, *([1] * value.dim()))
        directions[name] = g / scale
    return directions


def perturbed(
    raw: Mapping[str, torch.Tensor], directions: Mapping[str, torch.Tensor], beta: float
) -> dict[str, torch.Tensor]:
    """Raw parameters of the ensemble: p + beta * direction, shape (draws, *shape)."""
    return {
        name: value.detach().unsqueeze(0) + beta * directions[name] for name, value in raw.items()
    }


class QuadraticLoss:
    """Exact weighted MSE of any linear student on fixed data, as a function of (K, o).

    With r0 the residual of a reference model (K0, o0) and omega_k = w_k^2, a model
    (K0 + dK, o0 + dO) has residual r = r0 - sum_s dK_s x_{k-s} - dO_k, so

        N T o L = S0 - 2 (<C, dK> + <R, dO>) + sum_j dK_j^T G dK_j
                  + 2 sum_{k,j} dO_kj <X_k, dK_j> + N sum_{k,j} omega_k dO_kj^2,

    with S0 = sum omega_k r0^2, C_s = sum omega_k r0_k x_{k-s}^T, R_k = omega_k sum_n r0_nk,
    G = sum omega_k xlag_k xlag_k^T (xlag_k = (x_k, x_{k-1}, ..., 0)), X_k = omega_k sum_n xlag_k.
    """

    def __init__(
        self, x: torch.Tensor, y: torch.Tensor, reference: torch.Tensor, weights: torch.Tensor
    ):
        count, length, dim = x.shape
        outputs = y.shape[2]
        self.shape = (count, length, outputs)
        omega = weights.pow(2)
        residual = y - reference
        self.base = float((omega.unsqueeze(-1) * residual.pow(2)).sum())
        self.residual_sum = omega.unsqueeze(-1) * residual.sum(0)
        self.offset_weight = count * omega
        # Sample moments, zero-padded in front so that index length + j reads time j (j < 0: 0):
        # P[j, i, j', i'] = sum_n x_nji x_nj'i',  padded_Q[j, k, o, i] = sum_n r0_nko x_nji.
        flat_x = x.reshape(count, length * dim)
        padded_P = x.new_zeros(2 * length, dim, 2 * length, dim)
        padded_P[length:, :, length:] = (flat_x.t() @ flat_x).reshape(length, dim, length, dim)
        Q = (flat_x.t() @ residual.reshape(count, -1)).reshape(length, dim, length, outputs)
        padded_Q = torch.cat([Q.new_zeros(length, length, outputs, dim), Q.permute(0, 2, 3, 1)])
        padded_sum = torch.cat([x.new_zeros(length, dim), x.sum(0)])
        steps = torch.arange(length)
        lag = length + steps.unsqueeze(1) - steps.unsqueeze(0)  # (k, s) -> length + k - s
        # G[s, i, s', i'] = sum_k omega_k P[k-s, i, k-s', i']: the window of padded P that ends
        # at k, read backwards, summed over k.
        window = x.new_zeros(length, dim, length, dim)
        for k in range(length):
            rows = slice(k + 1, k + 1 + length)
            window += omega[k] * padded_P[rows, :, rows]
        self.gram = window.flip(0, 2).reshape(length * dim, length * dim)
        # C[s, o, i] = sum_k omega_k Q[k, o, k-s, i],  X[k, s, i] = omega_k sum_n x_{n,k-s,i}
        self.cross = torch.einsum("k,ksoi->soi", omega, padded_Q[lag, steps.unsqueeze(1)])
        self.lag_sum = omega.reshape(length, 1, 1) * padded_sum[lag]

    def __call__(self, d_kernel: torch.Tensor, d_offset: torch.Tensor) -> torch.Tensor:
        """Losses of models off the reference by d_kernel (E, T, o, d) and d_offset (E, T, o)."""
        count, length, outputs = self.shape
        flat = d_kernel.permute(0, 2, 1, 3).reshape(d_kernel.shape[0], outputs, -1)
        quadratic = torch.einsum("eja,ab,ejb->e", flat, self.gram, flat)
        linear = torch.einsum("sji,esji->e", self.cross, d_kernel) + torch.einsum(
            "kj,ekj->e", self.residual_sum, d_offset
        )
        mixed = torch.einsum("ekj,ksi,esji->e", d_offset, self.lag_sum, d_kernel)
        offsets = torch.einsum("k,ekj->e", self.offset_weight, d_offset.pow(2))
        total = self.base - 2 * linear + quadratic + 2 * mixed + offsets
        return total.clamp(min=0.0) / (count * length * outputs)


@dataclass(frozen=True)
class PerturbationConfig:
    """beta grid, draws per beta, the divergence rule, and the ensemble chunk for the loop path."""

    betas: tuple[float, ...]
    draws: int = 30
    divergence_ratio: float = 1e4
    method: str = "auto"  # "auto": exact quadratic form for linear students, else the ensemble loop
    chunk_elements: int = 400_000  # outputs held at once: models x samples x T x outputs
    samples: int = 1024  # test samples evaluated (the first ones of the test split)
    dtype: str = "float64"  # precision of the ensemble loop; the exact form is always float64

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"perturbation.method: unknown {self.method!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"perturbation.dtype: unknown {self.dtype!r}")
        if any(later < earlier for earlier, later in zip(self.betas, self.betas[1:])):
            raise ValueError(f"perturbation.betas: must be ascending, got {self.betas}")


def ensemble_losses(
    spec: StudentSpec,
    weights_e: Weights,
    x: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor,
    chunk_elements: int,
    limit: float = math.inf,
) -> torch.Tensor:
    """Weighted MSE of each model of an ensemble (effective weights with a leading model dim).

    Samples go in chunks of ``chunk_elements`` outputs of all models (at least the samples of
    one step of the streamed loop); after each chunk, a model whose summed loss exceeds
    ``limit`` x (all samples) is +inf and leaves the ensemble.
    """
    models = weights_e.U.shape[0]
    chunk = chunk_elements // (x.shape[1] * spec.output_dim * models)
    samples = min(x.shape[0], max(chunk, samples_per_step(models, spec.width)))
    total = torch.zeros(models, dtype=x.dtype)
    active = torch.arange(models)
    with torch.no_grad():
        for start in range(0, x.shape[0], samples):
            ensemble = Weights(*(value[active] for value in vars(weights_e).values()))
            pred = run_student(spec, ensemble, x[start : start + samples])
            total[active] += (
                weighted_mse(pred, y[start : start + samples], weights) * pred.shape[-3]
            )
            diverged = ~(total[active] <= limit * x.shape[0])  # nan included
            total[active[diverged]] = math.inf
            active = active[~diverged]
            if len(active) == 0:
                break
    return total / x.shape[0]


def perturbation_losses(
    spec: StudentSpec,
    raw: Mapping[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor,
    config: PerturbationConfig,
    directions: Mapping[str, torch.Tensor],
) -> list[np.ndarray]:
    """Test losses per beta: a list with one array of R losses per beta (one loss at beta = 0).

    ``directions`` are the R unit-sup-norm draws of :func:`draw_directions`. The ensemble loop
    runs in ``config.dtype`` (float32 halves its cost for nonlinear students); the exact quadratic
    form of linear students runs in float64, where unstable draws reach 1e200 without overflow.
    """
    exact = config.method == "exact" or (config.method == "auto" and spec.linear)
    if exact and not spec.linear:
        raise ValueError("perturbation.method 'exact' needs a linear student")
    dtype = torch.float64 if exact else getattr(torch, config.dtype)
    raw = {name: value.detach().to(dtype) for name, value in raw.items()}
    directions = {name: value.to(dtype) for name, value in directions.items()}
    x, y, weights = x.to(dtype), y.to(dtype), weights.to(dtype)
    zero_loss = float(weighted_mse(torch.zeros_like(y), y, weights))
    limit = config.divergence_ratio * zero_loss
    with torch.no_grad():
        if exact:
            reference = effective_weights(spec, raw, constrained=False)
            kernel0, offset0 = impulse_response(spec, reference, x.shape[1])
            quadratic = QuadraticLoss(x, y, run_student(spec, reference, x), weights)
        alive = np.ones(next(iter(directions.values())).shape[0], dtype=bool)
        results = []
        for beta in config.betas:
            evaluated = alive.copy() if beta > 0 else np.ones(1, dtype=bool)
            values = np.full(len(evaluated), math.inf)
            if evaluated.any():
                if beta == 0:
                    ensemble = {name: value.unsqueeze(0) for name, value in raw.items()}
                else:
                    chosen = torch.from_numpy(np.flatnonzero(alive))
                    ensemble = perturbed(
                        raw, {name: value[chosen] for name, value in directions.items()}, beta
                    )
                effective = effective_weights(spec, ensemble, constrained=False)
                losses = torch.full((len(effective.U),), math.inf, dtype=dtype)
                # the trained student's E_m(0) is its own test error; perturbed runaways are inf
                bounded = ~runaway(spec, effective) if beta > 0 else torch.ones(1, dtype=bool)
                kept = Weights(*(value[bounded] for value in vars(effective).values()))
                if bounded.any() and exact:
                    kernel, offset = impulse_response(spec, kept, x.shape[1])
                    losses[bounded] = quadratic(kernel - kernel0, offset - offset0)
                elif bounded.any():
                    losses[bounded] = ensemble_losses(
                        spec, kept, x, y, weights, config.chunk_elements, limit
                    )
                values[evaluated] = losses.numpy()
            values[~np.isfinite(values) | (values > limit)] = math.inf
            if beta > 0:
                alive &= np.isfinite(values)
            results.append(values)
    return results
