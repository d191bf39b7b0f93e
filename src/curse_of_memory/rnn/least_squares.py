"""Students fitted by least squares (the construction behind IAT Figure 1): linear ones, and
relu ones of twice the width that carry the same kernel (:data:`PAIRED_ACTIVATIONS`).

A linear student with diagonal A is a causal convolution with an exponential-sum kernel,

    y_k = sum_s K_s x_{k-s},   K_s = dt sum_i a_i q_i^s,   q_i = 1 - dt lam_i,   a_i = c_i U_i,

and its training loss L = mean_{n,k} w_k^2 (yhat_nk - y_nk)^2 is a quadratic form in K:

    L(K) = K^T G K - 2 h^T K + L_0,
    G_{s s'} = (1/(N T)) sum_{n,k} w_k^2 x_{n,k-s} x_{n,k-s'},
    h_s = (1/(N T)) sum_{n,k} w_k^2 y_{n,k} x_{n,k-s},   L_0 = (1/(N T)) sum_{n,k} w_k^2 y_{n,k}^2.

With G = R^T R (Cholesky) and z = R^{-T} h, L = ||R K - z||^2 + (L_0 - ||z||^2). For fixed decays
q the best coefficients solve a linear least-squares problem, a(q) = argmin ||R Phi(q) a - z||
with Phi_{s i} = dt q_i^s; the decays minimise the projected residual (variable projection),
whose gradient is, because d/da vanishes at a(q),

    d ||r||^2 / d u_i = -2 a_i r^T R dPhi_{:, i}/du_i,   q_i = sigmoid(u_i) in (0, 1),

minimised by L-BFGS, one mode added at a time (:func:`fit_kernel`). This is the exact
minimiser of the student's own training loss over its kernel, so E_m(0) is what width m can
reach, not what an optimiser happened to reach in a number of epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import solve_triangular
from scipy.optimize import minimize

from .models import PARAMETERIZATIONS, StudentRNN, StudentSpec
from .recurrence import DRIVE_ACTIVATIONS
from .training import Log, TrainResult, evaluate


@dataclass(frozen=True)
class Moments:
    """Cholesky factor R of G, z = R^{-T} h and L_0 (see the module docstring)."""

    R: np.ndarray
    z: np.ndarray
    L0: float


def loss_moments(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> Moments:
    """G, h and L_0 of the weighted loss on inputs x (N, T) and targets y (N, T)."""
    count, length = x.shape
    omega = np.asarray(weights, dtype=float) ** 2
    inputs = x.T @ x / count  # inputs[i, j] = mean_n x_ni x_nj
    cross = y.T @ x / count  # cross[k, j] = mean_n y_nk x_nj
    G = np.zeros((length, length))
    h = np.zeros(length)
    for k in range(length):
        lagged = slice(k, None, -1) if k else slice(0, 1)  # x_k, x_{k-1}, ..., x_0
        G[: k + 1, : k + 1] += omega[k] * inputs[lagged, lagged]
        h[: k + 1] += omega[k] * cross[k, lagged]
    G /= length
    h /= length
    R = np.linalg.cholesky(G).T
    z = solve_triangular(R, h, trans="T")
    L0 = float(np.mean(omega * np.mean(y * y, axis=0)))
    return Moments(R, z, L0)


@dataclass
class KernelFit:
    """Decays q, coefficients a, the loss reached and how the optimiser ended."""

    q: np.ndarray
    a: np.ndarray
    loss: float
    iterations: int
    converged: bool
    message: str


def _decays(u: np.ndarray) -> np.ndarray:
    """q = sigmoid(u) in (0, 1)."""
    return 1.0 / (1.0 + np.exp(-u))


def _logits(q: np.ndarray) -> np.ndarray:
    """u = log(q / (1 - q)), the inverse of :func:`_decays`."""
    return np.log(q) - np.log1p(-q)


def _projected(u: np.ndarray, moments: Moments, dt: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Projected residual ||r||^2 (the loss minus its irreducible part L_0 - ||z||^2), its
    gradient in u and the coefficients a(q)."""
    q = _decays(u)
    s = np.arange(moments.R.shape[0])[:, None]
    Phi = dt * q**s
    design = moments.R @ Phi
    a = np.linalg.lstsq(design, moments.z, rcond=None)[0]
    residual = moments.z - design @ a
    dPhi = dt * s * q ** np.maximum(s - 1, 0) * (q * (1 - q))
    gradient = -2.0 * a * ((moments.R @ dPhi).T @ residual)
    return float(residual @ residual), gradient, a


def _refine(q0: np.ndarray, moments: Moments, dt: float, iterations: int):
    """L-BFGS on the projected residual from decays q0."""
    return minimize(
        lambda u: _projected(u, moments, dt)[:2],
        _logits(q0),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": iterations, "ftol": 1e-15, "gtol": 1e-12},
    )


def fit_kernel(moments: Moments, width: int, dt: float, iterations: int = 2000) -> KernelFit:
    """The least-squares m-term exponential-sum kernel, built one mode at a time.

    Mode j + 1 starts at the candidate decay (1 - dt lam, lam spread evenly in log over
    [1/T, 0.9] / dt, fastest first) that lowers the projected residual most, then all decays
    are refined together. So the fit of width m starts from that of width m - 1 and can only
    be better; a mode the target does not need (the residual is already at rounding level)
    goes to the fastest candidate with a ~ 0, where it does not touch the stability margin.
    """
    length = moments.R.shape[0]
    resolution = 1e-20 * moments.L0  # a residual change below this is rounding, not a better fit
    candidates = 1.0 - np.geomspace(0.9, 1.0 / length, 4 * length // 10)
    u = np.empty(0)
    iterations_used, result = 0, None
    for _ in range(width):
        current = _decays(u)
        best_q, best_residual = candidates[0], math.inf
        for q in candidates:
            residual = _projected(_logits(np.append(current, q)), moments, dt)[0]
            if residual < best_residual - resolution:
                best_q, best_residual = q, residual
        result = _refine(np.append(current, best_q), moments, dt, iterations)
        u = result.x
        iterations_used += int(result.nit)
    residual, _, a = _projected(u, moments, dt)
    loss = residual + moments.L0 - float(moments.z @ moments.z)
    return KernelFit(
        q=_decays(u),
        a=a,
        loss=loss,
        iterations=iterations_used,
        converged=bool(result.success) and math.isfinite(loss),
        message=str(result.message),
    )


PAIRED_ACTIVATIONS = ("relu",)
"""Drive-form activations with sigma(z) - sigma(-z) = z: two units of one decay, driven by
sigma(+U_i x) and sigma(-U_i x) and read out with +c_i and -c_i, sum to the linear mode
c_i U_i sum_s q_i^s x_{k-s} exactly, so such a student of width 2m is the m-mode fit. (Only on
the drive: inside the feedback, sigma(U x - A h), the pair would not be linear.)"""
assert set(PAIRED_ACTIVATIONS) <= set(DRIVE_ACTIVATIONS)


def fitted_modes(spec: StudentSpec) -> int:
    """Modes of the kernel fit a student of ``spec`` carries: its width if linear, half its
    width for a paired activation; ValueError otherwise."""
    if spec.input_dim != 1 or spec.output_dim != 1:
        raise ValueError("student.fit: least_squares needs one input and one output")
    if spec.linear:
        return spec.width
    if spec.activation in PAIRED_ACTIVATIONS and spec.width % 2 == 0:
        return spec.width // 2
    raise ValueError(
        "student.fit: least_squares needs a linear student, or an even width with activation "
        f"in {PAIRED_ACTIVATIONS} (width {spec.width}, activation {spec.activation!r})"
    )


@torch.no_grad()
def fit_student(
    student: StudentRNN, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor
) -> KernelFit:
    """Set a student's weights to the least-squares exponential-sum fit of its loss.

    lam_i = (1 - q_i) / dt, w_i = f^{-1}(lam_i); balanced factors U_i = sqrt|a_i|,
    c_i = sign(a_i) sqrt|a_i|; b = 0, c0 = 0; for a full structure P = I. A paired activation
    (:data:`PAIRED_ACTIVATIONS`) carries mode i on units i and m + i with U = +-sqrt|a_i|,
    c = +-sign(a_i) sqrt|a_i|.
    """
    spec = student.spec
    modes = fitted_modes(spec)
    moments = loss_moments(
        x[..., 0].double().numpy(), y[..., 0].double().numpy(), weights.double().numpy()
    )
    fit = fit_kernel(moments, modes, spec.dt)
    copies = spec.width // modes  # 1 (linear) or 2 (a pair per mode)
    unit_sign = torch.tensor([1.0, -1.0][:copies], dtype=torch.float64).repeat_interleave(modes)
    lam = torch.as_tensor((1.0 - fit.q) / spec.dt).repeat(copies)
    U = torch.as_tensor(np.sqrt(np.abs(fit.a))).repeat(copies) * unit_sign
    c = torch.as_tensor(np.sign(fit.a)).repeat(copies) * U
    dtype = student.w.dtype
    student.w.copy_(PARAMETERIZATIONS[spec.parameterization].inverse(lam.to(dtype)))
    student.U.copy_(U.to(dtype).unsqueeze(-1))
    student.c.copy_(c.to(dtype).unsqueeze(0))
    student.b.zero_()
    student.c0.zero_()
    if not spec.diagonal:
        student.P.copy_(torch.eye(spec.width, dtype=dtype))
    return fit


def fit_result(
    student: StudentRNN, data: dict[str, torch.Tensor], weights: torch.Tensor, log: Log = print
) -> TrainResult:
    """Fit ``student`` on data["train/..."] and record it like a training run (steps: L-BFGS
    iterations; converged: the optimiser's own convergence test)."""
    fit = fit_student(student, data["train/x"], data["train/y"], weights)
    log(f"fit loss {fit.loss:.3e} after {fit.iterations} L-BFGS iterations ({fit.message})")
    return TrainResult(
        best_valid=evaluate(student, data["valid/x"], data["valid/y"], weights),
        steps=fit.iterations,
        stop_reason="least_squares",
        converged=fit.converged,
        fit="least_squares",
    )
