"""Training curves: the loss at every iteration of full-batch training (COM figures 1c, 4).

On a fixed sample (x, y) the loss is the time-weighted MSE
L(theta) = mean_{n,k,j} (w_k (model(x)_{nkj} - y_{nkj}))^2 (w_k = 1: plain MSE), and an
optimizer takes one step per iteration on the whole sample:

- ``gd``: plain gradient descent, theta <- theta - lr grad L;
- ``adam``: torch.optim.Adam with learning rate lr and default betas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..rnn.training import weighted_mse

OPTIMIZERS = ("gd", "adam")


@dataclass(frozen=True)
class CurveConfig:
    """Optimizer name, learning rate and number of iterations; log progress every log_every."""

    optimizer: str = "adam"
    lr: float = 0.01
    iterations: int = 1000
    log_every: int = 500

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}")


def make_optimizer(name: str, parameters, lr: float) -> torch.optim.Optimizer:
    if name == "gd":
        return torch.optim.SGD(parameters, lr=lr)
    return torch.optim.Adam(parameters, lr=lr)


def training_curve(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    config: CurveConfig,
    weights: torch.Tensor | None = None,
    log: Callable[[str], None] = print,
) -> np.ndarray:
    """Losses L(theta_0), ..., L(theta_N) of N = config.iterations full-batch steps.

    ``weights``: w_k for the T steps (default all 1). A non-finite loss stops training; it and
    the remaining entries are +inf.
    """
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    if weights is None:
        weights = torch.ones(x.shape[1], dtype=x.dtype)
    losses = np.full(config.iterations + 1, np.inf)
    for k in range(config.iterations + 1):
        loss = weighted_mse(model(x), y, weights)
        value = float(loss.detach())
        if not math.isfinite(value):
            log(f"iteration {k}: loss is not finite; stopped")
            break
        losses[k] = value
        if k % config.log_every == 0:
            log(f"iteration {k} loss {value:.4e}")
        if k < config.iterations:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return losses
