"""The residual recurrence h_{k+1} = h_k + dt * sigma(z_k - A h_k), h_0 = 0.

Three implementations of the same recurrence (the first two map drives z (batch, T, m) to
states h_1..h_T; the third runs the whole student from inputs to outputs):

- :func:`step_loop`: the plain autograd loop, the reference; its arguments may carry a leading
  model dimension, so that many perturbed copies of one model run as batched matrix products;
- :class:`FusedRecurrence`: one autograd Function with a hand-written backward pass through
  time (no per-step autograd graph), for training nonlinear students;
- :func:`evaluation_loop`: no autograd, streamed over time from inputs to outputs for a stack of
  models (states are not stored); for evaluation and for perturbed ensembles.

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


def activation_slope(name: str, post: torch.Tensor) -> torch.Tensor:
    """sigma'(pre) written in terms of post = sigma(pre) (the same for every pre of a post)."""
    if name == "tanh":
        return 1.0 - post * post
    if name == "hardtanh":
        return (post.abs() < 1.0).to(post.dtype)
    if name == "relu":
        return (post > 0.0).to(post.dtype)
    if name == "linear":
        return torch.ones_like(post)
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


IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda u: u,
    "tanh": torch.tanh_,
    "hardtanh": F.hardtanh_,
    "relu": torch.relu_,
}


STEP_ELEMENTS = 2**17  # models x samples x m of one step of evaluation_loop (about 1 MB in float64)


@torch.no_grad()
def evaluation_loop(
    x: torch.Tensor,
    drive: tuple[torch.Tensor, torch.Tensor],
    recurrence: torch.Tensor,
    readout: tuple[torch.Tensor, torch.Tensor],
    dt: float,
    activation: str,
) -> torch.Tensor:
    """Outputs y (E, batch, T, o) of E models on inputs x (batch, T, d), without autograd.

    drive = (U (E, m, d), b (E, m)), recurrence = lam (E, m) or A (E, m, m),
    readout = (c (E, o, m), c0 (E, o)). Streams over time, keeping only h and the outputs:

        pre = b + x_k U^T - h A^T,   h <- h + dt sigma(pre),   y_k = c0 + h c^T,

    for chunks of STEP_ELEMENTS / (E m) samples, so that one step's working set stays in cache
    (3x faster than storing every state for m = 64).
    """
    sigma = IN_PLACE[activation]
    U, b = drive
    c, c0 = readout
    models, width = b.shape
    diagonal = recurrence.dim() == 2
    feedback = recurrence.unsqueeze(-2) if diagonal else recurrence.transpose(-1, -2).contiguous()
    inputs, bias = U.transpose(-1, -2).contiguous(), b.unsqueeze(-2)
    output, offset = c.transpose(-1, -2).contiguous(), c0.unsqueeze(-2)
    time_major = x.transpose(0, 1).contiguous()
    length, batch, dim = time_major.shape
    y = torch.empty(length, models, batch, c.shape[-2], dtype=x.dtype)
    chunk = max(1, STEP_ELEMENTS // (models * width))
    for start in range(0, batch, chunk):
        xs = time_major[:, start : start + chunk]
        h = x.new_zeros(models, xs.shape[1], width)
        for k in range(length):
            pre = torch.baddbmm(bias, xs[k].expand(models, -1, dim), inputs)
            if diagonal:
                pre.addcmul_(h, feedback, value=-1.0)
            else:
                pre.baddbmm_(h, feedback, alpha=-1.0)
            h.add_(sigma(pre), alpha=dt)
            torch.baddbmm(offset, h, output, out=y[k, :, start : start + chunk])
    return y.permute(1, 2, 0, 3)


class FusedRecurrence(torch.autograd.Function):
    """h_1..h_T for one model with a hand-written backward pass through time.

    Forward stores only the activations s_k = sigma(pre_k). Backward, with g = dL/dh_{k+1}
    accumulated from later steps and sigma'(pre_k) computed from s_k for all k at once:
        dL/dpre_k = g * dt * sigma'(pre_k),   dL/dz_k = dL/dpre_k,
        dL/dh_k   = g - dL/dpre_k A,           dL/dA = -sum_k dL/dpre_k^T h_k.
    """

    @staticmethod
    def forward(ctx, z, recurrence, dt, activation):
        sigma = ACTIVATIONS[activation]
        diagonal = recurrence.dim() == 1
        transposed = None if diagonal else recurrence.t()
        h = z.new_zeros(z.shape[0], z.shape[2])
        states, posts = [], []
        for z_k in z.unbind(1):
            if diagonal:
                pre = torch.addcmul(z_k, h, recurrence, value=-1.0)
            else:
                pre = torch.addmm(z_k, h, transposed, alpha=-1.0)
            post = sigma(pre)
            h = torch.add(h, post, alpha=dt)
            posts.append(post)
            states.append(h)
        states = torch.stack(states, 1)
        ctx.save_for_backward(states, torch.stack(posts, 1), recurrence)
        ctx.dt, ctx.activation = dt, activation
        return states

    @staticmethod
    def backward(ctx, grad_states):
        states, posts, recurrence = ctx.saved_tensors
        diagonal = recurrence.dim() == 1
        slopes = activation_slope(ctx.activation, posts).mul_(ctx.dt)
        grad_pre = torch.empty_like(states)
        g = torch.zeros_like(states[:, 0])
        for k in range(states.shape[1] - 1, -1, -1):
            g = g + grad_states[:, k]
            gp = torch.mul(g, slopes[:, k], out=grad_pre[:, k])
            if diagonal:
                g = torch.addcmul(g, gp, recurrence, value=-1.0)
            else:
                g = torch.addmm(g, gp, recurrence, alpha=-1.0)
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
