"""Training of students: AdamW, gradient clipping, ReduceLROnPlateau (with a floor), early stop
at a threshold or on convergence.

The loss is the time-weighted MSE of the public code: the residual at step k is scaled by
w_k = T (k+1)^p / sum_j (j+1)^p (p = 2, so the weights sum to T) before squaring,

    L = mean_{n,k,j} (w_k (yhat_nkj - y_nkj))^2,

or the plain MSE (all w_k = 1).

Training has converged when the best validation loss fell by less than a fraction
``converge_tolerance`` over the last ``converge_window`` epochs:
best_e >= (1 - tolerance) best_{e - window}. It then stops (``stop_reason`` "converged"); a
student cut by ``max_epochs`` while still improving is recorded as not converged.

Restarts (``attempts`` > 1, the per-width protocol): width m should reach a validation loss
below L_prev / f, the previous width's divided by the factor a width pair needs to resolve
(stability.min_improvement). A student that stopped above it (converged to a local minimum, or
diverged) is trained again from a fresh start of its own seed, up to ``attempts`` times; the
lowest validation loss is kept. A student cut by ``max_epochs`` is not restarted: it was still
improving, and a fresh start with the same budget would not be.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from ..shared import io
from .models import StudentRNN

Log = Callable[[str], None]
FITS = ("gradient", "least_squares")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and stopping settings (defaults from the public code)."""

    lr: float = 0.01
    weight_decay: float = 0.0
    batch_size: int = 512
    grad_clip: float = 0.5
    plateau_factor: float = 0.1
    plateau_patience: int = 10
    min_lr: float = 0.0  # the plateau schedule never lowers the learning rate below this
    loss: str = "weighted"
    weight_power: float = 2.0
    stop_loss: float = 1e-8
    max_epochs: int = 100
    converge_window: int = 0  # > 0: stop once the best validation loss stalls over this many epochs
    converge_tolerance: float = 0.01
    log_every: int = 10
    dtype: str = "float64"  # precision of training; evaluation stays in the workflow's dtype
    epochs_per_job: int = 0  # > 0: the workflow trains in jobs of this many epochs (checkpoints)
    fit: str = "gradient"  # gradient | least_squares (linear or paired relu: rnn/least_squares.py)
    warm_start: bool = False  # gradient: start from the previous width's student, widened
    attempts: int = 1  # gradient: fresh starts a width may take to beat the previous one

    def __post_init__(self) -> None:
        if self.fit not in FITS:
            raise ValueError(f"student.fit: expected one of {FITS}, got {self.fit!r}")
        if self.loss not in ("weighted", "plain"):
            raise ValueError(f"training.loss: expected 'weighted' or 'plain', got {self.loss!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"training.dtype: expected 'float64' or 'float32', got {self.dtype!r}")
        if self.epochs_per_job < 0:
            raise ValueError(f"training.epochs_per_job: expected >= 0, got {self.epochs_per_job}")
        if self.attempts < 1:
            raise ValueError(f"student.attempts: expected >= 1, got {self.attempts}")


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
    converged: bool = False
    fit: str = "gradient"
    attempts: list[dict] = field(default_factory=list)  # restart(): one record per attempt
    target_valid: float | None = None  # restart(): the validation loss aimed below


class Trainer:
    """The training loop, resumable: run() up to an epoch, save() and load() between jobs.

    A checkpoint holds everything later epochs depend on (weights, AdamW moments, the plateau
    scheduler, the shuffling generator, the best weights and the history), so training split into
    several jobs gives bit for bit the weights of one uninterrupted run.

    A non-finite training or validation loss stops training, records the step as
    ``diverged_step``; the best weights seen so far are kept.
    """

    def __init__(
        self,
        model: StudentRNN,
        data: dict[str, torch.Tensor],
        config: TrainConfig,
        generator: torch.Generator,
    ):
        self.model, self.data, self.config, self.generator = model, data, config, generator
        x = data["train/x"]
        self.weights = loss_weights(config, x.shape[1], x.dtype)
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer,
            mode="min",
            factor=config.plateau_factor,
            patience=config.plateau_patience,
            min_lr=config.min_lr,
        )
        self.result = TrainResult()
        self.best_state = copy.deepcopy(model.state_dict())

    def run(self, until_epoch: int, log: Log = print) -> None:
        """Train epochs result.epochs + 1 .. min(until_epoch, max_epochs), unless stopped."""
        config, result, model = self.config, self.result, self.model
        x, y = self.data["train/x"], self.data["train/y"]
        start = time.perf_counter()
        if result.stop_reason != "max_epochs":  # stopped in an earlier job: nothing left to do
            return
        first = result.epochs + 1
        for epoch in range(first, min(until_epoch, config.max_epochs) + 1):
            order = torch.randperm(x.shape[0], generator=self.generator)
            epoch_loss = 0.0
            for batch in order.split(config.batch_size):
                loss = weighted_mse(model(x[batch]), y[batch], self.weights)
                result.steps += 1
                if not torch.isfinite(loss):
                    result.stop_reason, result.diverged_step = "diverged", result.steps
                    log(f"epoch {epoch} step {result.steps}: training loss is not finite; stopped")
                    return
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                self.optimizer.step()
                epoch_loss += float(loss.detach()) * len(batch)
            valid = evaluate(model, self.data["valid/x"], self.data["valid/y"], self.weights)
            if not math.isfinite(valid):
                result.stop_reason, result.diverged_step = "diverged", result.steps
                log(f"epoch {epoch} step {result.steps}: validation loss is not finite; stopped")
                return
            self.scheduler.step(valid)
            result.epochs = epoch
            lr = self.optimizer.param_groups[0]["lr"]
            train_loss = epoch_loss / x.shape[0]
            result.history.append(
                {"epoch": epoch, "train_loss": train_loss, "valid_loss": valid, "lr": lr}
            )
            if valid < result.best_valid:
                result.best_valid = valid
                self.best_state = copy.deepcopy(model.state_dict())
            if epoch % config.log_every == 0 or epoch == 1:
                elapsed = time.perf_counter() - start
                done = epoch - first + 1
                left = min(until_epoch, config.max_epochs) - epoch
                log(
                    f"epoch {epoch}/{config.max_epochs} train {train_loss:.3e} valid {valid:.3e} "
                    f"lr {lr:.1e} {done / elapsed:.2f} epochs/s, "
                    f"at most {left * elapsed / done:.0f}s left"
                )
            if valid < config.stop_loss:
                result.stop_reason, result.converged = "threshold", True
                log(f"epoch {epoch}: validation loss {valid:.3e} below {config.stop_loss:.1e}")
                return
            if self.stalled():
                result.stop_reason, result.converged = "converged", True
                log(
                    f"epoch {epoch}: converged (best validation loss {result.best_valid:.3e} fell "
                    f"by less than {config.converge_tolerance:g} over {config.converge_window} "
                    "epochs)"
                )
                return

    def stalled(self) -> bool:
        """best_e >= (1 - tolerance) best_{e - window}: no real progress over the window."""
        window, history = self.config.converge_window, self.result.history
        if window <= 0 or len(history) <= window:
            return False
        before = min(entry["valid_loss"] for entry in history[:-window])
        best = min(entry["valid_loss"] for entry in history)
        return best >= (1.0 - self.config.converge_tolerance) * before

    def keep_start(self) -> None:
        """Make the starting weights the best so far (a warm start), so that training ends with
        a validation loss no larger than theirs."""
        valid = evaluate(self.model, self.data["valid/x"], self.data["valid/y"], self.weights)
        self.result.best_valid = valid
        self.best_state = copy.deepcopy(self.model.state_dict())

    def finish(self) -> TrainResult:
        """Load the best-validation weights, project them (model.project_()), return the record."""
        self.model.load_state_dict(self.best_state)
        self.model.project_()
        return self.result

    def save(self, path: str | os.PathLike, identities: io.Identities | None = None) -> None:
        """Write a checkpoint: tensors as safetensors, the rest as JSON in its metadata (with
        ``identities``, its identity record too)."""
        tensors = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        tensors |= {f"best/{k}": v for k, v in self.best_state.items()}
        tensors["generator"] = self.generator.get_state()
        optimizer = self.optimizer.state_dict()
        for index, moments in optimizer["state"].items():
            tensors |= {f"optimizer/{index}/{k}": v for k, v in moments.items()}
        state = {
            "param_groups": optimizer["param_groups"],
            "scheduler": self.scheduler.state_dict(),
            "result": asdict(self.result),
        }
        io.save_tensors(path, tensors, {"trainer": json.dumps(state)}, identities)

    def load(self, path: str | os.PathLike, identities: io.Identities | None = None) -> None:
        """Continue from a checkpoint written by :meth:`save` for the same model and data
        (with ``identities``, its identity record checked first)."""
        tensors = io.load_tensors(path, identities)
        state = json.loads(io.load_metadata(path)["trainer"])
        self.model.load_state_dict(_prefixed(tensors, "model/"))
        self.best_state = _prefixed(tensors, "best/")
        self.generator.set_state(tensors["generator"])
        moments: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in _prefixed(tensors, "optimizer/").items():
            index, name = key.split("/")
            moments.setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict({"state": moments, "param_groups": state["param_groups"]})
        self.scheduler.load_state_dict(state["scheduler"])
        self.result = TrainResult(**state["result"])


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def segment_ends(config: TrainConfig) -> list[int]:
    """Last epoch of each training job: every epochs_per_job epochs, and max_epochs (one job for
    a least-squares fit, which has no epochs)."""
    if config.fit == "least_squares":
        return [config.max_epochs]
    step = config.epochs_per_job or config.max_epochs
    return [*range(step, config.max_epochs, step), config.max_epochs]


def train(
    model: StudentRNN,
    data: dict[str, torch.Tensor],
    config: TrainConfig,
    generator: torch.Generator,
    log: Log = print,
) -> TrainResult:
    """Fit model to data["train/x"] -> data["train/y"] in one job; keep the best weights."""
    trainer = Trainer(model, data, config, generator)
    trainer.run(config.max_epochs, log)
    return trainer.finish()


def attempt_record(attempt: int, result: TrainResult) -> dict:
    """One attempt's outcome: its best validation loss and how it stopped."""
    return {
        "attempt": attempt,
        "valid_loss": result.best_valid,
        "epochs": result.epochs,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
    }


def restart(
    first: Trainer,
    fresh: Callable[[int], Trainer],
    attempts: int,
    target: float,
    log: Log = print,
) -> Trainer:
    """The per-width protocol, after ``first`` has finished: while the best student so far
    stopped (converged or diverged) with a validation loss above ``target`` and attempts remain,
    train ``fresh(k)`` (attempt k) to the end. Return the trainer with the lowest validation loss
    (finished), its result recording every attempt and the target."""
    best, records = first, [attempt_record(0, first.result)]
    for attempt in range(1, attempts):
        if best.result.best_valid <= target or best.result.stop_reason == "max_epochs":
            break
        log(
            f"attempt {attempt}: best validation loss {best.result.best_valid:.3e} stopped "
            f"({best.result.stop_reason}) above the target {target:.3e}; a fresh start"
        )
        trainer = fresh(attempt)
        trainer.run(trainer.config.max_epochs, log)
        trainer.finish()
        records.append(attempt_record(attempt, trainer.result))
        if trainer.result.best_valid < best.result.best_valid:
            best = trainer
    best.result.attempts, best.result.target_valid = records, target
    return best
