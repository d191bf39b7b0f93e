"""The residual recurrence h_{k+1} = h_k + dt * sigma(z_k - A h_k), h_0 = 0.

Three implementations of the same map from drives z (batch, T, m) to states h_1..h_T:

- :func:`step_loop`: the plain autograd loop, the reference; its arguments may carry a leading
  model dimension, so that many perturbed copies of one model run as batched matrix products;
- :class:`FusedRecurrence`: one autograd Function with a hand-written backward pass through
  time (no per-step autograd graph), for training nonlinear students.

``recurrence`` is either a vector lam (diagonal A = diag(lam)) or a matrix A.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Activation = Callable[[torch.Tensor], torch.Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "linear": lambda u: u,
    "tanh": torch.tanh,
    "hardtanh": F.hardtanh,
    "relu": torch.relu,
}


def activation_derivative(name: str, pre: torch.Tensor, post: torch.Tensor) -> torch.Tensor:
    """sigma'(pre), using post = sigma(pre) where that is cheaper."""
    if name == "tanh":
        return 1.0 - post * post
    if name == "hardtanh":
        return ((pre > -1.0) & (pre < 1.0)).to(pre.dtype)
    if name == "relu":
        return (pre > 0.0).to(pre.dtype)
    if name == "linear":
        return torch.ones_like(pre)
    raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")


def feedback(h: torch.Tensor, recurrence: torch.Tensor) -> torch.Tensor:
    """A h for row states h (..., batch, m): h * lam for a vector lam, else h @ A^T."""
    if recurrence.dim() == h.dim() - 1:
        return h * recurrence.unsqueeze(-2)
    return h @ recurrence.transpose(-1, -2)


def step_loop(
    z: torch.Tensor, recurrence: torch.Tensor, dt: float, activation: str
) -> torch.Tensor:
    """h_{k+1} = h_k + dt sigma(z_k - A h_k), autograd through every step.

    z: (..., batch, T, m); recurrence: (..., m) for diagonal A or (..., m, m).
    """
    sigma = ACTIVATIONS[activation]
    h = torch.zeros_like(z[..., 0, :])
    states = []
    for z_k in z.unbind(-2):
        h = h + dt * sigma(z_k - feedback(h, recurrence))
        states.append(h)
    return torch.stack(states, dim=-2)


class FusedRecurrence(torch.autograd.Function):
    """h_1..h_T for one model with a hand-written backward pass through time.

    Backward, with g = dL/dh_{k+1} accumulated from later steps:
        dL/dpre_k = g * dt * sigma'(pre_k),   dL/dz_k = dL/dpre_k,
        dL/dh_k   = g - dL/dpre_k A,           dL/dA = -sum_k dL/dpre_k^T h_k.
    """

    @staticmethod
    def forward(ctx, z, recurrence, dt, activation):
        sigma = ACTIVATIONS[activation]
        diagonal = recurrence.dim() == 1
        transposed = None if diagonal else recurrence.t()
        h = z.new_zeros(z.shape[0], z.shape[2])
        states = []
        slopes = []
        for z_k in z.unbind(1):
            pre = z_k - (h * recurrence if diagonal else h @ transposed)
            post = sigma(pre)
            slopes.append(activation_derivative(activation, pre, post))
            h = h + dt * post
            states.append(h)
        states = torch.stack(states, 1)
        ctx.save_for_backward(states, torch.stack(slopes, 1), recurrence)
        ctx.dt = dt
        return states

    @staticmethod
    def backward(ctx, grad_states):
        states, slopes, recurrence = ctx.saved_tensors
        dt = ctx.dt
        diagonal = recurrence.dim() == 1
        grad_pre = torch.empty_like(states)
        g = torch.zeros_like(states[:, 0])
        for k in range(states.shape[1] - 1, -1, -1):
            g = g + grad_states[:, k]
            gp = g * (dt * slopes[:, k])
            grad_pre[:, k] = gp
            g = g - (gp * recurrence if diagonal else gp @ recurrence)
        previous = torch.cat([torch.zeros_like(states[:, :1]), states[:, :-1]], 1)
        if diagonal:
            grad_recurrence = -(grad_pre * previous).sum((0, 1))
        else:
            m = states.shape[2]
            grad_recurrence = -(grad_pre.reshape(-1, m).t() @ previous.reshape(-1, m))
        return grad_pre, grad_recurrence, None, None


def fused_recurrence(
    z: torch.Tensor, recurrence: torch.Tensor, dt: float, activation: str
) -> torch.Tensor:
    """h_1..h_T (batch, T, m) for z (batch, T, m); autograd uses the hand-written backward."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    return FusedRecurrence.apply(z, recurrence, float(dt), activation)
