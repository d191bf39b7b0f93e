"""From a memory kernel to a stability verdict with the package alone (no Snakemake).

The steps of the workflow's IAT-1b experiment, in one script:

1. a target with polynomial memory rho(t) = (1 + t)^-1.1 (kernels, targets);
2. train, valid and test data from white-noise inputs (targets.make_splits);
3. linear RNN students of several widths m, fitted to it by least squares (the construction of
   IAT Figure 1: the exact minimiser of the training loss over exponential-sum kernels,
   least_squares) or, with ``--fit gradient``, trained by AdamW (training);
4. the test losses of randomly perturbed copies of each student at every beta
   (perturbation), giving the curves E_m(beta) (curves);
5. crossings of consecutive curves, the stability margins and the verdict (stability).

    python examples/kernel_to_verdict.py           # 5 widths as in the workflow, seconds
    python examples/kernel_to_verdict.py --tiny    # 2 widths on little data

The inverse approximation theorem predicts ``unstable`` for this kernel: its memory decays
polynomially, so the crossings should move left as m grows and the margin collapse. A verdict is
only as good as the students behind it: it is ``stable`` or ``unstable`` only when E_m(0) falls
with m by a meaningful factor (or every student represents the target exactly); otherwise it is
``undetermined`` and says what would resolve it. With two widths (``--tiny``) the trend cannot
be estimated; the printed reason always says why.
"""

from __future__ import annotations

import argparse
import time

import torch

from curse_of_memory.rnn import least_squares, models, training
from curse_of_memory.shared import seeding
from curse_of_memory.stability import curves, perturbation
from curse_of_memory.stability import verdict as stability
from curse_of_memory.targets import datasets as targets
from curse_of_memory.targets import kernels

# Sizes: the workflow's quick scale for IAT-1b, and a tiny one for the tests.
SIZES = {
    "default": {
        "widths": [2, 4, 6, 8, 14],
        "data": {"train": 4096, "valid": 1024, "test": 1024},
        "epochs": 300,
        "draws": 30,
        "samples": 512,
        "bootstrap": 200,
    },
    "tiny": {
        "widths": [2, 4],
        "data": {"train": 128, "valid": 64, "test": 64},
        "epochs": 3,
        "draws": 4,
        "samples": 64,
        "bootstrap": 20,
    },
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="2 widths, little data, few epochs")
    parser.add_argument(
        "--fit", choices=training.FITS, default="least_squares", help="how students are fitted"
    )
    parser.add_argument("--epochs", type=int, help="gradient fit: epochs per student (300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    return parser.parse_args(argv)


def listing(labels, values, spec: str) -> str:
    """'m=2: 1.2e-03, m=4: ...' for labels and values."""
    return ", ".join(f"m={label}: {value:{spec}}" for label, value in zip(labels, values))


def main(argv: list[str] | None = None) -> stability.StabilityAnalysis:
    args = parse_args(argv)
    size = SIZES["tiny" if args.tiny else "default"]
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {message}", flush=True)

    # 1-2. Target and data: y_k = sum_s rho(s dt) x_{k-s} on white-noise inputs x.
    inputs = targets.InputSpec(length=100, dt=1.0)
    kernel = kernels.build_kernel({"family": "pol", "s": 1.0, "p": 1.1})
    rho = kernels.kernel_values(kernel, inputs.length, inputs.dt)
    teacher = targets.LinearFunctional(rho)
    data = targets.make_splits(
        teacher, size["data"], inputs, seeding.torch_generator(args.seed, "data")
    )
    log(f"data: {size['data']} sequences of length {inputs.length}, rho(t) = (1 + t)^-1.1")

    # The loss of training, of the perturbed copies and of the zero predictor (the scale that
    # says when a perturbed student has diverged, and whether the students fit the target).
    epochs = args.epochs or size["epochs"]
    train_config = training.TrainConfig(max_epochs=epochs, log_every=100, converge_window=20)
    x_test, y_test = data["test/x"], data["test/y"]
    weights = training.loss_weights(train_config, inputs.length, x_test.dtype)
    zero_loss = float(training.weighted_mse(torch.zeros_like(y_test), y_test, weights))

    betas = perturbation.beta_grid()  # 0 and 1e-3 * 2^(i/2), i = 0..20
    perturb_config = perturbation.PerturbationConfig(
        betas=tuple(float(beta) for beta in betas),
        draws=size["draws"],
        samples=size["samples"],
    )
    x, y = x_test[: perturb_config.samples], y_test[: perturb_config.samples]

    losses, margins = {}, {}
    for width in size["widths"]:
        # 3. A linear RNN student of width m (diagonal A, direct parameterization).
        spec = models.StudentSpec(width=width, dt=inputs.dt)
        student = models.StudentRNN(spec, seeding.torch_generator(args.seed, "init", width))
        width_log = lambda message, width=width: log(f"m={width}: {message}")  # noqa: E731
        if args.fit == "least_squares":
            result = least_squares.fit_result(student, data, weights, width_log)
        else:
            result = training.train(
                student,
                data,
                train_config,
                seeding.torch_generator(args.seed, "train", width),
                log=width_log,
            )
        margins[width] = student.stability_margin()
        test_loss = training.evaluate(student, x_test, y_test, weights)
        log(
            f"m={width}: {result.steps} steps ({result.stop_reason}, converged "
            f"{result.converged}), "
            f"test loss {test_loss:.3e}, margin {margins[width]:.4g}"
        )

        # 4. Perturbation: each raw parameter p -> p + beta g / ||g||_inf, R draws per beta.
        raw = student.raw()
        directions = perturbation.draw_directions(
            raw, perturb_config.draws, seeding.torch_generator(args.seed, "perturbation", width)
        )
        losses[width] = perturbation.perturbation_losses(
            spec, raw, x, y, weights, perturb_config, directions
        )
        curve = curves.perturbation_curve(losses[width])
        log(f"m={width}: E(0) = {curve[0]:.3e}, E(beta_max = {betas[-1]:.3g}) = {curve[-1]:.3e}")

    # 5. Crossings of E_m and E_m', margin trend, verdict (stable / unstable / undetermined).
    analysis = stability.analyse(
        betas,
        losses,
        margins,
        stability.StabilityConfig(bootstrap=size["bootstrap"]),
        seeding.numpy_generator(args.seed, "stability"),
        zero_loss=zero_loss,
        # the direct parameterization lets a perturbation of w reach lam = 0
        margin_reachable=True,
    )
    log("analysis done")
    widths = analysis.widths
    print()
    print("E_m(0):    " + listing(widths, analysis.errors_at_zero, ".3e"))
    print(
        "crossings: "
        + listing([f"{a}/{b}" for a, b in zip(widths, widths[1:])], analysis.crossings, ".3g")
    )
    print("margins:   " + listing(widths, analysis.margins, ".3g"))
    print(
        f"evidence:  {analysis.evidence} ({analysis.precondition}), beta_0 = {analysis.beta0:.3g}"
    )
    print(f"verdict: {analysis.verdict} ({analysis.reason})")
    if analysis.resolve:
        print(f"to resolve: {analysis.resolve}")
    return analysis


if __name__ == "__main__":
    main()
