"""Training of students: AdamW, gradient clipping, ReduceLROnPlateau, early stop at a threshold.

The loss is the time-weighted MSE of the public code: the residual at step k is scaled by
w_k = T (k+1)^p / sum_j (j+1)^p (p = 2, so the weights sum to T) before squaring,

    L = mean_{n,k,j} (w_k (yhat_nkj - y_nkj))^2,

or the plain MSE (all w_k = 1).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .models import StudentRNN

Log = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and stopping settings (defaults from the public code)."""

    lr: float = 0.01
    weight_decay: float = 0.0
    batch_size: int = 512
    grad_clip: float = 0.5
    plateau_factor: float = 0.1
    plateau_patience: int = 10
    loss: str = "weighted"
    weight_power: float = 2.0
    stop_loss: float = 1e-8
    max_epochs: int = 100
    log_every: int = 10
    dtype: str = "float64"  # precision of training; evaluation stays in the workflow's dtype

    def __post_init__(self) -> None:
        if self.loss not in ("weighted", "plain"):
            raise ValueError(f"training.loss: expected 'weighted' or 'plain', got {self.loss!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"training.dtype: expected 'float64' or 'float32', got {self.dtype!r}")


def time_weights(length: int, power: float, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """w_k = T ((k+1)/(T+1))^power / sum_j ((j+1)/(T+1))^power, k = 0..T-1 (sum_k w_k = T)."""
    raw = ((torch.arange(length, dtype=dtype) + 1) / (length + 1)) ** power
    return raw * (length / raw.sum())


def loss_weights(config: TrainConfig, length: int, dtype: torch.dtype) -> torch.Tensor:
    if config.loss == "plain":
        return torch.ones(length, dtype=dtype)
    return time_weights(length, config.weight_power, dtype)


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """mean over (..., n, k, j) of (w_k (pred - target))^2; leading model dims are kept."""
    scaled = (pred - target) * weights.unsqueeze(-1)
    return scaled.pow(2).mean(dim=(-3, -2, -1))


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor,
    chunk: int = 4096,
) -> float:
    """Weighted MSE of model on (x, y), in chunks of samples."""
    total = 0.0
    for start in range(0, x.shape[0], chunk):
        pred = model(x[start : start + chunk])
        total += float(weighted_mse(pred, y[start : start + chunk], weights)) * pred.shape[0]
    return total / x.shape[0]


@dataclass
class TrainResult:
    """What happened in training: per-epoch history and how it stopped."""

    history: list[dict] = field(default_factory=list)
    best_valid: float = math.inf
    epochs: int = 0
    steps: int = 0
    stop_reason: str = "max_epochs"
    diverged_step: int | None = None


def train(
    model: StudentRNN,
    data: dict[str, torch.Tensor],
    config: TrainConfig,
    generator: torch.Generator,
    log: Log = print,
) -> TrainResult:
    """Fit model to data["train/x"] -> data["train/y"]; keep the best-validation weights.

    A non-finite training loss stops training, records the step as ``diverged_step`` and
    restores the best weights seen so far. Ends with ``model.project_()``.
    """
    x, y = data["train/x"], data["train/y"]
    weights = loss_weights(config, x.shape[1], x.dtype)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.plateau_factor, patience=config.plateau_patience
    )
    result = TrainResult()
    best_state = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    for epoch in range(1, config.max_epochs + 1):
        order = torch.randperm(x.shape[0], generator=generator)
        epoch_loss = 0.0
        for batch in order.split(config.batch_size):
            loss = weighted_mse(model(x[batch]), y[batch], weights)
            result.steps += 1
            if not torch.isfinite(loss):
                result.stop_reason, result.diverged_step = "diverged", result.steps
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            epoch_loss += float(loss.detach()) * len(batch)
        if result.diverged_step is not None:
            log(f"epoch {epoch} step {result.steps}: training loss is not finite; stopped")
            break
        valid = evaluate(model, data["valid/x"], data["valid/y"], weights)
        if not math.isfinite(valid):
            result.stop_reason, result.diverged_step = "diverged", result.steps
            log(f"epoch {epoch} step {result.steps}: validation loss is not finite; stopped")
            break
        scheduler.step(valid)
        result.epochs = epoch
        lr = optimizer.param_groups[0]["lr"]
        elapsed = time.perf_counter() - start
        result.history.append(
            {"epoch": epoch, "train_loss": epoch_loss / x.shape[0], "valid_loss": valid, "lr": lr}
        )
        if valid < result.best_valid:
            result.best_valid = valid
            best_state = copy.deepcopy(model.state_dict())
        if epoch % config.log_every == 0 or epoch == 1:
            log(
                f"epoch {epoch} train {epoch_loss / x.shape[0]:.3e} valid {valid:.3e} "
                f"lr {lr:.1e} elapsed {elapsed:.1f}s"
            )
        if valid < config.stop_loss:
            result.stop_reason = "threshold"
            log(f"epoch {epoch}: validation loss {valid:.3e} below {config.stop_loss:.1e}; stopped")
            break
    model.load_state_dict(best_state)
    model.project_()
    return result
