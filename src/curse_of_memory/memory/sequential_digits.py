"""Sequential image classification on scikit-learn's bundled 8x8 handwritten digits (IAT Fig 9).

Each 8x8 image (intensities 0..16) is read row by row as a 64-step sequence of one pixel,
x_k = pixel_k / 16. The classifier is the package's residual RNN (:class:`.models.StudentRNN`)
with 10 outputs, under any of its parameterizations lam = f(w); the logits are its output at the
last step, z = c h_64 + c0. Models built from the same seed have the same initial effective
weights (lam, U, b, c, c0) whatever the parameterization, since w = f^{-1}(lam) at initialisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits

from ..rnn.models import StudentRNN, StudentSpec
from ..shared.claims import claim
from ..shared.fits import mean_and_error

SEQUENCE_LENGTH = 64
CLASSES = 10


def load_sequences(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """(x (1797, 64, 1) = pixels / 16 in row-major order, labels (1797,)), in the bundled order."""
    digits = load_digits()
    x = torch.as_tensor(digits.images.reshape(-1, SEQUENCE_LENGTH, 1) / 16.0, dtype=dtype)
    return x, torch.as_tensor(digits.target, dtype=torch.long)


def split_indices(
    count: int, fractions: dict[str, float], rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    """A seeded permutation of range(count) cut into consecutive parts of the given fractions.

    The last split takes the remainder so that every sample is used exactly once.
    """
    order = torch.as_tensor(rng.permutation(count))
    names = list(fractions)
    sizes = [int(round(fractions[name] * count)) for name in names[:-1]]
    sizes.append(count - sum(sizes))
    return dict(zip(names, order.split(sizes)))


class DigitsClassifier(torch.nn.Module):
    """logits z = y_64 of a StudentRNN with input dim 1 and 10 outputs."""

    def __init__(self, spec: StudentSpec, generator: torch.Generator, dtype: torch.dtype):
        super().__init__()
        self.rnn = StudentRNN(spec, generator, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[:, -1]


def classifier_spec(
    width: int, parameterization: str, activation: str = "tanh", structure: str = "full",
    eigen_init: tuple[float, float] = (0.05, 1.0), dt: float = 1.0,
) -> StudentSpec:  # fmt: skip
    """The StudentSpec of a digits classifier (input dim 1, 10 outputs)."""
    return StudentSpec(
        width=width,
        structure=structure,
        parameterization=parameterization,
        activation=activation,
        dt=dt,
        input_dim=1,
        output_dim=CLASSES,
        eigen_init=tuple(eigen_init),
    )


def standardize(x: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """(x - m) / s with the mean m and standard deviation s of the training pixels x[train]."""
    return (x - x[train].mean()) / x[train].std()


def effective_initial_weights(model: DigitsClassifier) -> dict[str, torch.Tensor]:
    """The weights the recurrence uses (lam through the evaluation map, P, U, b, c, c0)."""
    weights = model.rnn.weights(constrained=False)
    tensors = {"lam": model.rnn.eigenvalues(), "U": weights.U, "b": weights.b}
    tensors |= {"c": weights.c, "c0": weights.c0}
    if not model.rnn.spec.diagonal:
        tensors["P"] = model.rnn.P
    return {name: value.detach().clone() for name, value in tensors.items()}


def curve_table(histories: dict[str, list[list[dict]]]) -> pd.DataFrame:
    """Tidy mean and standard error over repeats per parameterization, step, split and metric."""
    rows = []
    for name, runs in histories.items():
        steps = [row["step"] for row in runs[0]]
        for split in ("train", "valid"):
            for metric in ("loss", "accuracy"):
                values = np.array([[row[f"{split}_{metric}"] for row in run] for run in runs])
                mean, error = mean_and_error(values)
                rows += [
                    {"parameterization": name, "step": s, "split": split, "metric": metric,
                     "mean": m, "standard_error": e, "repeats": len(runs)}
                    for s, m, e in zip(steps, mean, error)
                ]  # fmt: skip
    return pd.DataFrame(rows)


def test_table(tests: dict[str, list[dict]]) -> pd.DataFrame:
    """Table 1: test loss and accuracy per parameterization, mean and standard error."""
    rows = []
    for name, runs in tests.items():
        loss, loss_se = mean_and_error(np.array([r["loss"] for r in runs]))
        accuracy, accuracy_se = mean_and_error(np.array([r["accuracy"] for r in runs]))
        rows.append(
            {"parameterization": name, "repeats": len(runs), "test_loss": loss,
             "test_loss_se": loss_se, "test_accuracy": accuracy, "test_accuracy_se": accuracy_se}
        )  # fmt: skip
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame) -> str:
    """Table 1 as Markdown: mean +- standard error."""
    lines = [
        "| parameterization | test loss | test accuracy | repeats |",
        "|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.parameterization} | {row.test_loss:.4f} ± {row.test_loss_se:.4f} "
            f"| {row.test_accuracy:.4f} ± {row.test_accuracy_se:.4f} | {row.repeats} |"
        )
    return "\n".join(lines) + "\n"


def training_claims(
    figure: str,
    curves: pd.DataFrame,
    init_difference: float,
    speed_tolerance: float,
    init_tolerance: float,
) -> list[dict]:
    """Identical initial weights, and every stable map trains at least as fast as direct.

    Speed: the mean training loss over all evaluation steps (the area under the curve divided by
    its length) must be at most (1 + speed_tolerance) times that of direct.
    """
    rows = [
        claim(
            figure,
            "all parameterizations start from the same effective weights: max |difference|",
            init_difference,
            f"<= {init_tolerance:g}",
            init_difference <= init_tolerance,
        )
    ]
    train = curves[(curves["split"] == "train") & (curves["metric"] == "loss")]
    area = train.groupby("parameterization")["mean"].mean()
    for name in area.index.drop("direct"):
        ratio = float(area[name] / area["direct"])
        rows.append(
            claim(
                figure,
                f"{name} trains at least as fast as direct: mean training loss over the curve, "
                f"ratio to direct ({area[name]:.4g} / {area['direct']:.4g})",
                ratio,
                f"<= {1 + speed_tolerance:g}",
                ratio <= 1 + speed_tolerance,
            )
        )
    return rows
