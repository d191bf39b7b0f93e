"""Time the package against the reference loop of the public code, on identical inputs.

    python benchmarks/run.py            # all cases, writes results/benchmarks/summary.csv
    python benchmarks/run.py --quick    # fewer repeats and samples (a smoke run)

Each case builds one reference model (benchmarks/reference.py), copies its weights into the
package's StudentRNN, checks that both compute the same numbers (max relative difference of
outputs / losses) and reports the ratio of wall times measured in the same run, one thread each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from curse_of_memory.rnn import models, recurrence, training
from curse_of_memory.stability import perturbation

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import ReferenceRNN, perturbation_sweep, training_step, twe_mse  # noqa: E402

NAMES = {
    "w": "W",
    "P": "P",
    "U": "encoder.weight",
    "b": "encoder.bias",
    "c": "decoder.weight",
    "c0": "decoder.bias",
}


def paired_seconds(
    reference: Callable[[], object],
    project: Callable[[], object],
    repeats: int,
    rounds: int = 2,
    warm_up: bool = True,
) -> tuple[float, float]:
    """Median wall times of both over ``rounds`` x ``repeats`` calls, in alternating blocks of
    ``repeats`` calls (each after one untimed call, unless the calls are long), so that both
    see the same states of a shared machine, each with its own data in cache."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for run, spent in zip((reference, project), times):
            if warm_up:
                run()
            spent.extend(call_seconds(run) for _ in range(repeats))
    return statistics.median(times[0]), statistics.median(times[1])


def call_seconds(run: Callable[[], object]) -> float:
    """Wall time of one call of ``run``."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def pair(width: int, structure: str, activation: str, dtype=torch.float64):
    """A reference model and the package's student with the same weights."""
    torch.manual_seed(width)
    reference = ReferenceRNN(width, structure, activation)
    spec = models.StudentSpec(width=width, structure=structure, activation=activation)
    student = models.StudentRNN(spec, torch.Generator().manual_seed(0), dtype)
    with torch.no_grad():
        reference.W.abs_()  # every mode alive, as the package initialises
        params = dict(reference.named_parameters())
        for name, value in student.named_parameters():
            value.copy_(params[NAMES[name]].to(dtype))
    return reference, student


def relative(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """max |a - b| / max |b| over the finite entries; inf if a and b diverge in different places."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    finite = np.isfinite(b)
    if not np.array_equal(np.isfinite(a), finite):
        return float("inf")
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(a[finite] - b[finite])) / max(np.max(np.abs(b[finite])), 1e-300))


def training_case(width, structure, activation, batch, repeats, dtype=torch.float64):
    reference, student = pair(width, structure, activation, dtype)
    x = torch.randn(batch, 100, 1, dtype=torch.float64)
    y = torch.randn(batch, 100, 1, dtype=torch.float64)
    xs, ys = x.to(dtype), y.to(dtype)
    weights = training.time_weights(100, 2.0, dtype)
    with torch.no_grad():
        diff = relative(student(xs).double(), reference(x))
        diff = max(
            diff,
            relative(
                training.weighted_mse(student(xs), ys, weights).double(), twe_mse(reference(x), y)
            ),
        )
    ref_opt = torch.optim.AdamW(reference.parameters(), lr=1e-4)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4)

    def project_step():
        loss = training.weighted_mse(student(xs), ys, weights)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 0.5)
        opt.step()

    return (
        *paired_seconds(lambda: training_step(reference, ref_opt, x, y), project_step, repeats),
        diff,
    )


def evaluation_case(width, structure, activation, samples, repeats):
    reference, student = pair(width, structure, activation)
    x = torch.randn(samples, 100, 1, dtype=torch.float64)
    weights = training.time_weights(100, 2.0)
    with torch.no_grad():
        diff = relative(student(x), reference(x))
    y = torch.zeros_like(x)
    return (
        *paired_seconds(
            lambda: torch.no_grad()(lambda: twe_mse(reference(x), y))(),
            lambda: training.evaluate(student, x, y, weights),
            repeats,
        ),
        diff,
    )


def sweep_case(width, structure, activation, samples, draws, rounds, precision="float64"):
    """One sweep (1 + 21 x draws evaluations) by both; the max loss over draws per beta compared.

    Linear students: every loss compared, however large (divergence_ratio = 1e300). Nonlinear
    students: the workflow's rule, losses above 1e4 x the zero predictor's count as +inf, for
    both. Above it the perturbed tanh models are chaotic (beta ~ 1: two float64 formulations of
    the same model differ by 1e-4 per draw), so no two implementations agree there.
    """
    reference, student = pair(width, structure, activation)
    x = torch.randn(samples, 100, 1, dtype=torch.float64)
    with torch.no_grad():
        y = reference(x) + 0.1 * torch.randn_like(x)
    betas = tuple(perturbation.beta_grid())
    directions = perturbation.draw_directions(
        student.raw(), draws, torch.Generator().manual_seed(1)
    )
    reference_directions = {NAMES[name]: value for name, value in directions.items()}
    ratio = 1e300 if activation == "linear" else 1e4
    config = perturbation.PerturbationConfig(
        betas=betas, draws=draws, divergence_ratio=ratio, dtype=precision
    )
    weights = training.time_weights(100, 2.0)
    results = {}

    def reference_sweep():
        results["expected"] = perturbation_sweep(reference, x, y, betas, reference_directions)

    def project_sweep():
        results["got"] = perturbation.perturbation_losses(
            student.spec, student.raw(), x, y, weights, config, directions
        )

    reference_time, project_time = paired_seconds(
        reference_sweep, project_sweep, 1, rounds, warm_up=False
    )
    expected, got = results["expected"], results["got"]
    limit = ratio * float(twe_mse(torch.zeros_like(y), y))
    expected = [np.where(np.asarray(e) > limit, np.inf, e) for e in expected]
    diff = max(relative(np.max(g), np.max(e)) for g, e in zip(got, expected))
    return reference_time, project_time, diff


def ensemble_floor(width: int, draws: int, samples: int, dtype: torch.dtype) -> dict:
    """ns per state element (model x sample x unit x step) of the full tanh ensemble loop, and of
    its two kernels alone on the same shapes: the batched product [[-dt A, U], [dt c, 0]] and
    tanh. Their sum bounds any loop that does this arithmetic; the rest is the loop's own."""
    generator = torch.Generator().manual_seed(0)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=dtype)

    A, U, b = 0.1 * randn(draws, width, width), randn(draws, width, 1), randn(draws, width)
    c, c0 = randn(draws, 1, width), randn(draws, 1)
    x = randn(samples, 100, 1)
    system = randn(draws, width + 1, width + 1)
    update, state = randn(draws, width + 1, samples), randn(draws, width + 1, samples)
    pre, s = state[:, :width], update[:, :width]
    kernels = {
        "loop": lambda: recurrence.evaluation_loop(x, (U, b), A, (c, c0), 1.0, "tanh"),
        "product": lambda: [state.baddbmm_(system, update) for _ in range(100)],
        "tanh": lambda: [torch.tanh(pre, out=s) for _ in range(100)],
    }
    elements = draws * samples * width * 100
    return {
        name: min(call_seconds(run) for _ in range(5)) / elements * 1e9
        for name, run in kernels.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and samples")
    parser.add_argument("--output", default="results/benchmarks/summary.csv")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 2 if args.quick else 3
    rounds = 1 if args.quick else 2  # alternating blocks of timed calls
    eval_samples = 1024 if args.quick else 12800
    sweep_samples = 128 if args.quick else 1024
    draws = 30
    cases = {}
    for structure, activation, width in [
        ("full", "linear", 8),
        ("full", "linear", 64),
        ("diagonal", "linear", 64),
        ("full", "tanh", 8),
        ("full", "tanh", 64),
        ("diagonal", "tanh", 64),
    ]:
        name = f"train_step/{activation}/{structure}/m{width}"
        cases[name] = training_case(width, structure, activation, 512, repeats)
    cases["train_step/tanh/full/m64/float32"] = training_case(
        64, "full", "tanh", 512, repeats, torch.float32
    )
    cases["eval_pass/tanh/full/m64"] = evaluation_case(64, "full", "tanh", eval_samples, repeats)
    cases["eval_pass/linear/full/m64"] = evaluation_case(
        64, "full", "linear", eval_samples, repeats
    )
    for activation in ("linear", "tanh"):
        cases[f"perturbation_sweep/{activation}/full/m64"] = sweep_case(
            64, "full", activation, sweep_samples, draws, rounds
        )
    cases["perturbation_sweep/tanh/full/m64/float32"] = sweep_case(
        64, "full", "tanh", sweep_samples, draws, rounds, "float32"
    )
    rows = [
        {
            "case": case,
            "reference_s": ref,
            "project_s": proj,
            "speedup": ref / proj,
            "max_rel_diff": diff,
        }
        for case, (ref, proj, diff) in cases.items()
    ]
    table = pd.DataFrame(rows)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False)
    with pd.option_context("display.width", 140, "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    print(
        f"\nwritten to {args.output} (eval pass: {eval_samples} samples; "
        f"sweeps: 1 + 21 x {draws} draws on {sweep_samples} samples)"
    )
    columns = recurrence.samples_per_step(draws, 64)
    for dtype in (torch.float64, torch.float32):
        ns = ensemble_floor(64, draws, columns, dtype)
        print(
            f"tanh ensemble loop, m = 64, {dtype}: {ns['loop']:.2f} ns per state element; "
            f"its product alone {ns['product']:.2f}, tanh alone {ns['tanh']:.2f}"
        )


if __name__ == "__main__":
    main()
