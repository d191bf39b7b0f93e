"""A faithful re-creation of the public paper code's student and its loops (the speed anchor).

The recurrent layer of the public code: hidden states kept in a Python list and joined with
torch.cat, the input sliced as x[:, i:i+1, :] inside the time loop, an encoder Linear(d -> m)
and a decoder Linear(m -> 1), A = P^T diag(relu(w)) P with P initialised orthogonal ("full") or
A = diag(relu(w)) ("diagonal"); the time-weighted MSE (weights applied to the residual);
perturbation sweeps that evaluate one perturbed model at a time; its training protocol
(:func:`train_to_loss`).
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

ACTIVATIONS = {"linear": lambda u: u, "tanh": torch.tanh}


class ReferenceRNN(torch.nn.Module):
    """Encoder -> residual recurrence (step loop, list of states) -> decoder, as the public code."""

    def __init__(self, width: int, structure: str, activation: str, dt: float = 1.0):
        super().__init__()
        self.encoder = torch.nn.Linear(1, width, dtype=torch.float64)
        self.W = torch.nn.Parameter(torch.rand(width, dtype=torch.float64))
        if structure == "full":
            q, _ = torch.linalg.qr(torch.randn(width, width, dtype=torch.float64))
            self.P = torch.nn.Parameter(q)
        self.decoder = torch.nn.Linear(width, 1, dtype=torch.float64)
        self.structure = structure
        self.activation = ACTIVATIONS[activation]
        self.dt = dt
        self.relu = True

    def feedback(self, h: torch.Tensor) -> torch.Tensor:
        lam = F.relu(self.W) if self.relu else self.W
        if self.structure == "diagonal":
            return h * lam
        return F.linear(F.linear(h, self.P) * lam, self.P.t())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder(x)
        hidden = [torch.zeros(1, 1, self.W.shape[0], dtype=x.dtype)]
        for i in range(x.shape[1]):
            step = self.activation(x[:, i : i + 1, :] - self.feedback(hidden[i]))
            hidden.append(hidden[i] + self.dt * step)
        return self.decoder(torch.cat(hidden[1:], dim=1))


def twe_mse(pred: torch.Tensor, target: torch.Tensor, p: float = 2.0) -> torch.Tensor:
    """The public code's time-weighted MSE: weights ((k+1)/(T+1))^p normalised to sum T."""
    length = pred.shape[1]
    weight = torch.ones(1, length, 1, dtype=pred.dtype)
    for i in range(length):
        weight[:, i] = ((i + 1) / (length + 1)) ** p
    weight = weight / weight.sum() * length
    return F.mse_loss(pred * weight, target * weight)


def training_step(model: ReferenceRNN, optimizer, x, y) -> torch.Tensor:
    loss = twe_mse(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    return loss


@torch.no_grad()
def perturbation_sweep(model: ReferenceRNN, x, y, betas, directions) -> list[list[float]]:
    """Test loss of every (beta, draw), one perturbed model at a time; beta = 0 once.

    directions[name] has shape (draws, *param.shape), indexed like model.named_parameters().
    """
    state = {name: value.clone() for name, value in model.state_dict().items()}
    model.relu = False
    draws = next(iter(directions.values())).shape[0]
    losses = []
    for beta in betas:
        row = []
        for r in range(1 if beta == 0 else draws):
            model.load_state_dict(state)
            for name, param in model.named_parameters():
                param.add_(beta * directions[name][r])
            loss = float(twe_mse(model(x), y))
            row.append(loss if loss == loss else float("inf"))
        losses.append(row)
    model.load_state_dict(state)
    model.relu = True
    return losses


def train_to_loss(
    model: ReferenceRNN,
    data: dict[str, torch.Tensor],
    target: float,
    cap: float,
    generator: torch.Generator,
    batch_size: int = 512,
    log=print,
) -> dict:
    """The public code's training protocol until the validation loss falls below ``target``
    or ``cap`` seconds of wall time have passed: AdamW (lr 0.01, no weight decay), shuffled
    batches of 512, gradient norm clipped at 0.5, one validation pass per epoch driving
    ReduceLROnPlateau (factor 0.1, patience 10). Data in float64, as the model.

    Returns seconds, steps, epochs, the last validation loss and whether it reached target.
    """
    x, y = data["train/x"], data["train/y"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=0.1, patience=10
    )
    start = time.perf_counter()
    steps = epochs = 0
    valid = float("inf")
    while time.perf_counter() - start < cap:
        epoch_loss = 0.0
        for batch in torch.randperm(x.shape[0], generator=generator).split(batch_size):
            epoch_loss += training_step(model, optimizer, x[batch], y[batch]).item() * len(batch)
            steps += 1
        with torch.no_grad():
            valid = float(twe_mse(model(data["valid/x"]), data["valid/y"]))
        scheduler.step(valid)
        epochs += 1
        if epochs % 25 == 0:
            log(
                f"  reference epoch {epochs}: valid {valid:.3e}, "
                f"lr {optimizer.param_groups[0]['lr']:.0e}, {time.perf_counter() - start:.1f} s"
            )
        if valid < target:
            break
    return {
        "seconds": time.perf_counter() - start,
        "steps": steps,
        "epochs": epochs,
        "valid": valid,
        "reached": valid < target,
    }
