"""Student RNNs: the residual form of dh/dt = sigma(W h + U x + b).

    h_0 = 0,   h_{k+1} = h_k + dt * sigma(U x_k + b - A h_k),   y_k = c h_{k+1} + c0,

(for sigma = relu the drive form h_{k+1} = h_k + dt (relu(U x_k + b) - A h_k), see
:data:`.recurrence.DRIVE_ACTIVATIONS`)

with A = diag(lam) ("diagonal"), A = P^T diag(lam) P ("full": P trainable, initialised
orthogonal) or A = Q^T diag(lam) Q with Q the orthogonal factor of P's QR decomposition
("orthogonal": A's eigenvalues are lam exactly, for every P, trained or perturbed), lam = f(w)
for a parameterization f of the raw weights w:

==========  =====================  ==========================================
name        lam = f(w)             note
==========  =====================  ==========================================
direct      w                      trained through relu(w), evaluated as w
exp         exp(w)                 stable: lam > 0 for every w
softplus    log(1 + exp(w))        stable
inverse     1 / (w^2 + 0.5)        stable, the "best" map of StableSSM
==========  =====================  ==========================================

With sigma = linear the model is linear time-invariant: y_k = sum_{s<=k} K_s x_{k-s} + o_k with
K_s = dt c M^s U, M = I - dt A, and o_k = c0 + dt c sum_{s<=k} M^s b. That path is a Toeplitz
matrix product (no step loop). Nonlinear students run the step loop of :mod:`.recurrence`.

Every function here also accepts weights with leading model dimensions (an ensemble of
perturbed copies), evaluated together as batched products.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .recurrence import (
    ACTIVATIONS,
    DRIVE_ACTIVATIONS,
    drive_loop,
    evaluation_loop,
    fused_recurrence,
)

STRUCTURES = ("diagonal", "full", "orthogonal")


@dataclass(frozen=True)
class Parameterization:
    """lam = trained(w) during training, evaluated(w) afterwards; w = inverse(lam) at init."""

    trained: Callable[[torch.Tensor], torch.Tensor]
    evaluated: Callable[[torch.Tensor], torch.Tensor]
    inverse: Callable[[torch.Tensor], torch.Tensor]
    stable: bool


PARAMETERIZATIONS: dict[str, Parameterization] = {
    "direct": Parameterization(torch.relu, lambda w: w, lambda lam: lam, stable=False),
    "exp": Parameterization(torch.exp, torch.exp, torch.log, stable=True),
    "softplus": Parameterization(
        F.softplus, F.softplus, lambda lam: lam + torch.log(-torch.expm1(-lam)), stable=True
    ),
    "inverse": Parameterization(
        lambda w: 1.0 / (w * w + 0.5),
        lambda w: 1.0 / (w * w + 0.5),
        lambda lam: torch.sqrt(1.0 / lam - 0.5),
        stable=True,
    ),
}


@dataclass(frozen=True)
class StudentSpec:
    """Architecture of a student: width m, structure, parameterization, activation, dt, dims.

    eigen_init = (low, high): every mode starts with lam ~ Uniform(low, high), low > 0, so that
    no mode starts dead (the public code's N(0, 1) init leaves relu-dead modes at lam = 0).
    """

    width: int
    structure: str = "diagonal"
    parameterization: str = "direct"
    activation: str = "linear"
    dt: float = 1.0
    input_dim: int = 1
    output_dim: int = 1
    eigen_init: tuple[float, float] = (0.3, 1.0)

    def __post_init__(self) -> None:
        checks = {
            "width": self.width >= 1,
            "structure": self.structure in STRUCTURES,
            "parameterization": self.parameterization in PARAMETERIZATIONS,
            "activation": self.activation in ACTIVATIONS,
            "dt": self.dt > 0,
            "input_dim": self.input_dim >= 1,
            "output_dim": self.output_dim >= 1,
            "eigen_init": 0 < self.eigen_init[0] <= self.eigen_init[1],
        }
        if self.parameterization == "inverse":
            checks["eigen_init"] = checks["eigen_init"] and self.eigen_init[1] < 2.0
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"student.{key}: invalid value {getattr(self, key)!r}")

    @classmethod
    def from_json(cls, text: str) -> StudentSpec:
        """The spec written as json.dumps(asdict(spec))."""
        options = json.loads(text)
        return cls(**options | {"eigen_init": tuple(options["eigen_init"])})

    @property
    def linear(self) -> bool:
        return self.activation == "linear"

    @property
    def diagonal(self) -> bool:
        return self.structure == "diagonal"

    @property
    def spectral(self) -> bool:
        """A's eigenvalues are lam = f(w) (diagonal or orthogonal structure)."""
        return self.structure != "full"


@dataclass
class Weights:
    """Effective weights; each may carry leading model dimensions (...).

    recurrence: lam (..., m) if diagonal else A (..., m, m); U (..., m, d); b (..., m);
    c (..., o, m); c0 (..., o).
    """

    recurrence: torch.Tensor
    U: torch.Tensor
    b: torch.Tensor
    c: torch.Tensor
    c0: torch.Tensor


def eigenvalues(spec: StudentSpec, w: torch.Tensor, constrained: bool) -> torch.Tensor:
    """lam = f(w): the training map if constrained, else the evaluation map."""
    parameterization = PARAMETERIZATIONS[spec.parameterization]
    return parameterization.trained(w) if constrained else parameterization.evaluated(w)


def effective_weights(
    spec: StudentSpec, raw: Mapping[str, torch.Tensor], constrained: bool = True
) -> Weights:
    """Map raw parameters (w, [P], U, b, c, c0) to the weights the recurrence uses."""
    lam = eigenvalues(spec, raw["w"], constrained)
    if spec.diagonal:
        recurrence = lam
    else:
        P = orthogonal_factor(raw["P"]) if spec.structure == "orthogonal" else raw["P"]
        recurrence = P.transpose(-1, -2) @ (lam.unsqueeze(-1) * P)
    return Weights(recurrence, raw["U"], raw["b"], raw["c"], raw["c0"])


def state_powers(spec: StudentSpec, weights: Weights, length: int) -> torch.Tensor:
    """V_s = M^s [U | b] for s = 0..length-1, M = I - dt A: shape (..., length, m, d + 1)."""
    V0 = torch.cat([weights.U, weights.b.unsqueeze(-1)], dim=-1)
    if spec.diagonal:
        q = 1.0 - spec.dt * weights.recurrence
        ones = torch.ones_like(q).unsqueeze(-2)
        steps = q.unsqueeze(-2).expand(*q.shape[:-1], length - 1, q.shape[-1])
        powers = torch.cat([ones, steps], dim=-2).cumprod(dim=-2)
        return powers.unsqueeze(-1) * V0.unsqueeze(-3)
    m, columns = weights.recurrence.shape[-1], V0.shape[-1]
    M = torch.eye(m, dtype=weights.recurrence.dtype) - spec.dt * weights.recurrence
    blocks = V0  # (..., m, n * (d + 1)): the powers found so far, side by side
    while True:
        missing = length * columns - blocks.shape[-1]
        blocks = torch.cat([blocks, M @ blocks[..., :missing]], dim=-1)
        if blocks.shape[-1] == length * columns:
            break
        M = M @ M
    blocks = blocks.unflatten(-1, (length, columns))
    return blocks.movedim(-2, -3)


def impulse_response(
    spec: StudentSpec, weights: Weights, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """K_s = dt c M^s U (..., T, o, d) and o_k = c0 + dt c sum_{s<=k} M^s b (..., T, o)."""
    V = state_powers(spec, weights, length)
    KV = spec.dt * (weights.c.unsqueeze(-3) @ V)
    kernel = KV[..., : spec.input_dim]
    offset = KV[..., spec.input_dim].cumsum(dim=-2) + weights.c0.unsqueeze(-2)
    return kernel, offset


def toeplitz_convolve(kernel: torch.Tensor, offset: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """y_k = sum_{j<=k} K_{k-j} x_j + o_k as one product with the (T, T) Toeplitz matrix of K.

    kernel (..., T, o, d), offset (..., T, o), x (batch, T, d) -> y (..., batch, T, o).
    """
    length = x.shape[1]
    lag = torch.arange(length).unsqueeze(1) - torch.arange(length).unsqueeze(0)
    causal = (lag >= 0).to(kernel.dtype).unsqueeze(-1).unsqueeze(-1)
    toeplitz = kernel[..., lag.clamp(min=0), :, :] * causal
    return torch.einsum("...kjoi,bji->...bko", toeplitz, x) + offset.unsqueeze(-3)


def recurrence_spectrum(spec: StudentSpec, weights: Weights) -> torch.Tensor:
    """Eigenvalues of A (..., m): lam if diagonal, else those of the symmetric A = P^T diag(lam) P
    (symmetric for any P, so real; symmetrised against rounding)."""
    A = weights.recurrence
    if spec.diagonal:
        return A
    return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))


def runaway(spec: StudentSpec, weights: Weights, tolerance: float = 1e-6) -> torch.Tensor:
    """Whether the state can grow without bound over time, per model (...,).

    An eigenvalue mu < 0 of A: for a step linear in h (linear, drive form) the state grows
    geometrically along its eigenvector; for tanh and hardtanh it drifts off by up to dt per
    step once the activation saturates (without input, V = h^T A h / 2 cannot rise, since
    (A h) . sigma(-A h) <= 0, and falls without bound once negative). An eigenvalue mu > 2 / dt,
    for a step linear in h: I - dt A has an eigenvalue below -1 (a saturating activation keeps
    that oscillation bounded). Eigenvalues within ``tolerance`` x (1 + max |mu|) of these bounds
    do not count: an integrator (mu = 0, e.g. a mode clamped at 0 in training) grows at most
    linearly, and float32 rounding puts such a mode of a full A at ~1e-7 relative.
    """
    mu = recurrence_spectrum(spec, weights)
    slack = tolerance * (1.0 + mu.abs().amax(-1))
    grows = mu.amin(-1) < -slack
    if spec.linear or spec.activation in DRIVE_ACTIVATIONS:
        grows |= mu.amax(-1) > 2.0 / spec.dt + slack
    return grows


def run_student(spec: StudentSpec, weights: Weights, x: torch.Tensor) -> torch.Tensor:
    """Outputs y (..., batch, T, o) of the student with ``weights`` on inputs x (batch, T, d)."""
    if spec.linear:
        kernel, offset = impulse_response(spec, weights, x.shape[1])
        return toeplitz_convolve(kernel, offset, x)
    on_drive = spec.activation in DRIVE_ACTIVATIONS
    if weights.U.dim() == 2 and torch.is_grad_enabled():
        batch, length, dim = x.shape
        inputs = x.transpose(0, 1).reshape(length * batch, dim)  # time-major rows
        z = torch.addmm(weights.b, inputs, weights.U.t()).reshape(length, batch, -1)
        if on_drive:
            z, activation = ACTIVATIONS[spec.activation](z), "linear"
        else:
            activation = spec.activation
        states = fused_recurrence(z, weights.recurrence, spec.dt, activation).flatten(0, 1)
        y = torch.addmm(weights.c0, states, weights.c.t()).reshape(length, batch, -1)
        return y.transpose(0, 1)
    lead = weights.U.shape[:-2]
    flat = Weights(*(w.reshape(-1, *w.shape[len(lead) :]) for w in vars(weights).values()))
    loop = drive_loop if on_drive else evaluation_loop
    y = loop(x, (flat.U, flat.b), flat.recurrence, (flat.c, flat.c0), spec.dt, spec.activation)
    return y.reshape(*lead, *y.shape[1:])


def orthogonal_factor(P: torch.Tensor) -> torch.Tensor:
    """Q of P = Q R (QR decomposition, batched over leading dimensions) with the signs that make
    diag(R) > 0: unique for invertible P, and Q = P when P is orthogonal."""
    q, r = torch.linalg.qr(P)
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)


def random_orthogonal(m: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """The orthogonal factor of an m x m N(0, 1) matrix (Haar distributed)."""
    return orthogonal_factor(torch.randn(m, m, generator=generator, dtype=dtype))


class StudentRNN(torch.nn.Module):
    """A student of :class:`StudentSpec` with raw parameters w, [P], U, b, c, c0."""

    def __init__(
        self, spec: StudentSpec, generator: torch.Generator, dtype: torch.dtype = torch.float64
    ):
        super().__init__()
        self.spec = spec
        m, d, o = spec.width, spec.input_dim, spec.output_dim

        def uniform(shape: tuple[int, ...], bound: float) -> torch.nn.Parameter:
            values = (2 * torch.rand(shape, generator=generator, dtype=dtype) - 1) * bound
            return torch.nn.Parameter(values)

        low, high = spec.eigen_init
        lam = low + (high - low) * torch.rand(m, generator=generator, dtype=dtype)
        self.w = torch.nn.Parameter(PARAMETERIZATIONS[spec.parameterization].inverse(lam))
        if not spec.diagonal:
            self.P = torch.nn.Parameter(random_orthogonal(m, generator, dtype))
        self.U = uniform((m, d), d**-0.5)
        self.b = uniform((m,), d**-0.5)
        self.c = uniform((o, m), m**-0.5)
        self.c0 = uniform((o,), m**-0.5)

    @classmethod
    def from_raw(cls, spec: StudentSpec, raw: Mapping[str, torch.Tensor]) -> StudentRNN:
        """The student of ``spec`` whose raw parameters are ``raw`` (as :meth:`raw` returns)."""
        model = cls(spec, torch.Generator(), raw["w"].dtype)
        model.load_state_dict(raw)
        return model

    def raw(self) -> dict[str, torch.Tensor]:
        return dict(self.named_parameters())

    def weights(self, constrained: bool = True) -> Weights:
        return effective_weights(self.spec, self.raw(), constrained)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_student(self.spec, self.weights(), x)

    @torch.no_grad()
    def project_(self) -> None:
        """Make the evaluation map equal the training map (direct: w <- relu(w), as public code)."""
        if self.spec.parameterization == "direct":
            self.w.clamp_(min=0.0)

    @torch.no_grad()
    def eigenvalues(self) -> torch.Tensor:
        """lam of the evaluation map, sorted ascending."""
        return torch.sort(eigenvalues(self.spec, self.w, constrained=False)).values

    @torch.no_grad()
    def stability_margin(self) -> float:
        """Distance from instability: min lam (diagonal) or min eigenvalue of the symmetric A."""
        return float(recurrence_spectrum(self.spec, self.weights(constrained=False)).min())

    @torch.no_grad()
    def widened(self, spec: StudentSpec, generator: torch.Generator) -> StudentRNN:
        """A student of the wider ``spec`` that computes exactly what this one computes.

        Its first m' units are this student's; the new units are drawn as at initialisation
        but read out with c = 0 and coupled to the old ones by nothing (A is block diagonal:
        diag(lam', lam_new), or P = diag(P', Q) with a random orthogonal Q), so y is unchanged
        while the gradient reaches the new units through c (their states are not 0).
        """
        old = self.spec.width
        if spec.width < old or spec != replace(self.spec, width=spec.width):
            raise ValueError(f"cannot widen {self.spec} to {spec}")
        dtype = self.w.dtype
        wide = StudentRNN(spec, generator, dtype)
        wide.w[:old] = self.w
        wide.U[:old] = self.U
        wide.b[:old] = self.b
        wide.c[:, :old] = self.c
        wide.c[:, old:] = 0.0
        wide.c0.copy_(self.c0)
        if not spec.diagonal:
            added = spec.width - old
            wide.P.copy_(torch.block_diag(self.P, random_orthogonal(added, generator, dtype)))
        return wide

    @torch.no_grad()
    def dead_modes(self) -> int:
        """Number of modes whose lam is at or below 0 under the evaluation map."""
        return int((eigenvalues(self.spec, self.w, constrained=False) <= 0).sum())
