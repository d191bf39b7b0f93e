"""The residual recurrence h_{k+1} = h_k + dt * sigma(z_k - A h_k), h_0 = 0.

Three implementations of the same recurrence (the first two map drives z to states h_1..h_T;
the third runs the whole student from inputs to outputs):

- :func:`step_loop`: the plain autograd loop on z (..., batch, T, m), the reference; its
  arguments may carry a leading model dimension;
- :class:`FusedRecurrence`: one autograd Function on time-major z (T, batch, m) with a
  hand-written backward pass through time (no per-step autograd graph), for training;
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


DRIVE_ACTIVATIONS = ("relu",)
"""Activations applied to the drive instead: h_{k+1} = h_k + dt (sigma(z_k) - A h_k). Inside the
feedback, relu makes every increment dt relu(.) >= 0, so each state could only grow and a
zero-mean target would be out of reach; on the drive, the state moves both ways and A alone
decides stability, as in the theorem's setting."""


def activation_slope(name: str, post: torch.Tensor) -> torch.Tensor:
    """sigma'(pre) written in terms of post = sigma(pre) (the same for every pre of a post)."""
    if name == "tanh":
        return torch.mul(post, post).neg_().add_(1.0)
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


INTO: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "linear": lambda u, out: out.copy_(u),
    "tanh": lambda u, out: torch.tanh(u, out=out),
    "hardtanh": lambda u, out: torch.clamp(u, -1.0, 1.0, out=out),  # 2x F.hardtanh in float64
    "relu": lambda u, out: torch.clamp(u, min=0.0, out=out),
}
"""sigma(u) written into ``out`` (which may be u itself): no allocation per step."""


STEP_ELEMENTS = 2**18  # models x samples x m of one step of evaluation_loop (2 MB in float64)


def samples_per_step(models: int, width: int) -> int:
    """Samples evaluation_loop streams at once: STEP_ELEMENTS / (models x width), at least 1."""
    return max(1, STEP_ELEMENTS // (models * width))


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
    readout = (c (E, o, m), c0 (E, o)). Samples are columns. With s_k = sigma(pre_k), the
    pre-activation and the output are updated, never recomputed from h (h is not kept):

        pre_{k+1} = pre_k - dt A s_k + U (x_{k+1} - x_k),   pre_0 = b + U x_0,
        y_k       = y_{k-1} + dt c s_k,                    y_{-1} = c0,

    for full A one batched product per step, [pre; y] += [[-dt A, U], [dt c, 0]] [s_k; dx_k];
    for diagonal A = diag(lam) the A term is elementwise. Chunks of :func:`samples_per_step`
    samples keep one step's working set in cache.
    """
    sigma = INTO[activation]
    U, b = drive
    c, c0 = readout
    models, width = b.shape
    dim, outputs = U.shape[-1], c.shape[-2]
    diagonal = recurrence.dim() == 2
    if diagonal:
        decay = dt * recurrence.unsqueeze(-1)
    else:
        system = torch.cat(
            [
                torch.cat([-dt * recurrence, U], dim=-1),
                torch.cat([dt * c, c.new_zeros(models, outputs, dim)], dim=-1),
            ],
            dim=-2,
        )
    columns = x.permute(1, 2, 0).contiguous()  # (T, d, batch)
    steps = torch.diff(columns, dim=0, append=columns[-1:])  # x_{k+1} - x_k (last: 0, unused)
    length, _, batch = columns.shape
    y = torch.empty(length, models, outputs, batch, dtype=x.dtype)
    chunk = samples_per_step(models, width)
    for start in range(0, batch, chunk):
        part = slice(start, start + chunk)
        first = columns[0, :, part].expand(models, dim, -1)
        state = torch.cat(  # [pre; y] (E, m + o, samples)
            [
                torch.baddbmm(b.unsqueeze(-1), U, first),
                c0.unsqueeze(-1).expand(-1, -1, first.shape[-1]),
            ],
            dim=-2,
        )
        pre, out = state[:, :width], state[:, width:]
        update = x.new_empty(models, width + dim, first.shape[-1])  # [s_k; dx_k]
        s, dx = update[:, :width], update[:, width:]
        for k in range(length):
            sigma(pre, s)
            dx.copy_(steps[k, :, part].expand(models, dim, -1))
            if diagonal:
                pre.addcmul_(s, decay, value=-1.0).baddbmm_(U, dx)
                out.baddbmm_(c, s, alpha=dt)
            else:
                state.baddbmm_(system, update)
            y[k, ..., part] = out
    return y.permute(1, 3, 0, 2)


@torch.no_grad()
def drive_loop(
    x: torch.Tensor,
    drive: tuple[torch.Tensor, torch.Tensor],
    recurrence: torch.Tensor,
    readout: tuple[torch.Tensor, torch.Tensor],
    dt: float,
    activation: str,
) -> torch.Tensor:
    """Outputs y (E, batch, T, o) of E drive-form models (see DRIVE_ACTIVATIONS), no autograd:

        h_{k+1} = h_k - dt A h_k + dt sigma(U x_k + b),   y_k = c h_{k+1} + c0,

    arguments as for :func:`evaluation_loop`; samples are columns, streamed in chunks.
    """
    sigma = ACTIVATIONS[activation]
    U, b = drive
    c, c0 = readout
    models, width = b.shape
    columns = x.permute(1, 2, 0).contiguous()  # (T, d, batch)
    length, dim, batch = columns.shape
    y = torch.empty(length, models, c.shape[-2], batch, dtype=x.dtype)
    chunk = samples_per_step(models, width)
    for start in range(0, batch, chunk):
        part = slice(start, start + chunk)
        h = x.new_zeros(models, width, columns[0, :, part].shape[-1])
        for k in range(length):
            inputs = columns[k, :, part].expand(models, dim, -1)
            if recurrence.dim() == 2:
                h.addcmul_(h, recurrence.unsqueeze(-1), value=-dt)
            else:
                h = torch.baddbmm(h, recurrence, h, alpha=-dt)
            h.add_(sigma(torch.baddbmm(b.unsqueeze(-1), U, inputs)), alpha=dt)
            y[k, ..., part] = torch.baddbmm(c0.unsqueeze(-1), c, h)
    return y.permute(1, 3, 0, 2)


class FusedRecurrence(torch.autograd.Function):
    """States h_1..h_T (T, batch, m) of one model, time-major, with a hand-written backward.

    Forward writes pre_k and s_k = sigma(pre_k) in place into one preallocated (T, batch, m)
    tensor and the states into another (no per-step allocation; every step slice is
    contiguous). Backward, with g = dL/dh_{k+1} accumulated from later steps:

        dL/dpre_k = dt g sigma'(pre_k),   dL/dz_k = dL/dpre_k,
        dL/dh_k   = g - dL/dpre_k A,       dL/dA = -sum_k dL/dpre_k^T h_k,

    sigma'(pre_k) computed from s_k for all k at once, into the tensor that becomes dL/dz.
    """

    @staticmethod
    def forward(ctx, z, recurrence, dt, activation):
        sigma = INTO[activation]
        diagonal = recurrence.dim() == 1
        posts, states = torch.empty_like(z), torch.empty_like(z)
        h = z.new_zeros(z.shape[1:])
        for k in range(z.shape[0]):
            if diagonal:
                torch.addcmul(z[k], h, recurrence, value=-1.0, out=posts[k])
            else:
                torch.addmm(z[k], h, recurrence.t(), alpha=-1.0, out=posts[k])
            h = torch.add(h, sigma(posts[k], posts[k]), alpha=dt, out=states[k])
        ctx.save_for_backward(states, posts, recurrence)
        ctx.dt, ctx.activation = dt, activation
        return states

    @staticmethod
    def backward(ctx, grad_states):
        states, posts, recurrence = ctx.saved_tensors
        diagonal, dt = recurrence.dim() == 1, ctx.dt
        grad_pre = activation_slope(ctx.activation, posts)  # becomes dL/dpre / dt in the loop
        g = torch.zeros_like(states[0])
        for k in range(states.shape[0] - 1, -1, -1):
            g.add_(grad_states[k])
            gp = grad_pre[k].mul_(g)
            if diagonal:
                g.addcmul_(gp, recurrence, value=-dt)
            else:
                g.addmm_(gp, recurrence, alpha=-dt)
        grad_pre.mul_(dt)
        pre, previous = grad_pre[1:].flatten(0, 1), states[:-1].flatten(0, 1)  # h_0 = 0
        grad_recurrence = -(pre * previous).sum(0) if diagonal else -(pre.t() @ previous)
        return grad_pre, grad_recurrence, None, None


def fused_recurrence(
    z: torch.Tensor, recurrence: torch.Tensor, dt: float, activation: str
) -> torch.Tensor:
    """States (T, batch, m) for time-major drives z (T, batch, m), hand-written backward."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    return FusedRecurrence.apply(z, recurrence, float(dt), activation)
