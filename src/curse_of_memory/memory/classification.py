"""Training of sequence classifiers with learning curves recorded against optimisation steps.

Loss: cross-entropy L = -mean_n log softmax(z_n)_{y_n} of the logits z_n. Every ``eval_every``
steps (and after the last) the loss and the accuracy mean_n [argmax z_n = y_n] are evaluated on
every split, so that train and validation curves share one step axis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Log = Callable[[str], None]


@dataclass(frozen=True)
class ClassifierTraining:
    """AdamW settings, epochs, gradient clipping and how often curves are evaluated."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    grad_clip: float = 1.0
    epochs: int = 10
    eval_every: int = 20


@dataclass(frozen=True)
class Split:
    """Model inputs (tensors with samples along dim 0, passed as model(*inputs)) and labels."""

    inputs: tuple[torch.Tensor, ...]
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]

    def rows(self, index: torch.Tensor) -> Split:
        return Split(tuple(x[index] for x in self.inputs), self.labels[index])


@torch.no_grad()
def evaluate(model: torch.nn.Module, split: Split, chunk: int = 1024) -> tuple[float, float]:
    """(cross-entropy, accuracy) of ``model`` on ``split``."""
    loss, correct = 0.0, 0
    for start in range(0, len(split), chunk):
        part = split.rows(torch.arange(start, min(start + chunk, len(split))))
        logits = model(*part.inputs)
        loss += float(F.cross_entropy(logits, part.labels, reduction="sum"))
        correct += int((logits.argmax(dim=1) == part.labels).sum())
    return loss / len(split), correct / len(split)


def train_classifier(
    model: torch.nn.Module,
    splits: Mapping[str, Split],
    config: ClassifierTraining,
    generator: torch.Generator,
    log: Log = print,
) -> list[dict]:
    """Train on splits["train"] with AdamW; return the curve rows {step, epoch, <split>_loss, ...}.

    A non-finite training loss stops training (the row of that step records it).
    """
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    train = splits["train"]
    history: list[dict] = []
    start, step = time.perf_counter(), 0

    def record(epoch: int) -> None:
        row = {"step": step, "epoch": epoch}
        for name, split in splits.items():
            row[f"{name}_loss"], row[f"{name}_accuracy"] = evaluate(model, split)
        history.append(row)
        log(
            f"epoch {epoch} step {step} train loss {row['train_loss']:.4f} "
            f"valid accuracy {row.get('valid_accuracy', math.nan):.3f} "
            f"elapsed {time.perf_counter() - start:.1f}s"
        )

    model.train()
    record(0)
    for epoch in range(1, config.epochs + 1):
        for batch in torch.randperm(len(train), generator=generator).split(config.batch_size):
            part = train.rows(batch)
            loss = F.cross_entropy(model(*part.inputs), part.labels)
            step += 1
            if not torch.isfinite(loss):
                log(f"epoch {epoch} step {step}: training loss is not finite; stopped")
                record(epoch)
                return history
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            if step % config.eval_every == 0:
                record(epoch)
    if history[-1]["step"] != step:
        record(config.epochs)
    return history
