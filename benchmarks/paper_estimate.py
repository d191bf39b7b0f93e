"""CPU cost of the IAT student experiments at `scale: paper`, measured per student on this machine.

    python benchmarks/paper_estimate.py [--config config.yaml]

For every experiment and width of the config at paper scale, times training steps of that exact
student (batch, length, precision as configured, one thread, as the workflow runs its jobs) and
one perturbation level, then extrapolates:

    train_h   = epochs * (steps_per_epoch * s_per_step + valid_samples * s_per_valid_sample)
                (fit: least_squares: one whole fit on the training split, timed)
    perturb_h = (1 + (betas - 1) * draws) / draws * s_per_level   (betas incl. 0; a level: R draws)
    job_h     = the longest training job (training.epochs_per_job epochs) or the perturbation job

and writes results/benchmarks/paper_estimate.csv. Only an upper estimate for training: it
assumes every student runs its max_epochs (early stops at stop_loss make it shorter).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from curse_of_memory.pipeline import config as settings_lib
from curse_of_memory.rnn import least_squares, models, training
from curse_of_memory.stability import perturbation
from curse_of_memory.targets import datasets, teachers


def median_seconds(run, repeats: int = 3) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def least_squares_seconds(settings: dict, model: models.StudentRNN, weights) -> float:
    """Seconds of one least-squares fit of ``model`` on a training split of the configured
    size, labelled by the experiment's first teacher."""
    inputs = settings_lib.input_spec(settings)
    spec = settings_lib.teacher_spec(settings, settings_lib.teacher_ids(settings)[0])
    generator = torch.Generator().manual_seed(0)
    teacher = teachers.build_teacher(spec, inputs, generator, torch.float64)
    sizes = {"train": settings["data"]["train"], "valid": 1, "test": 1}
    data = datasets.make_splits(teacher, sizes, inputs, generator)
    start = time.perf_counter()
    least_squares.fit_student(model, data["train/x"], data["train/y"], weights)
    return time.perf_counter() - start


def student_costs(settings: dict, width: int) -> dict:
    spec = settings_lib.student_spec(settings, width)
    config = settings_lib.train_config(settings)
    pert = settings_lib.perturbation_config(settings)
    length, data = settings["inputs"]["length"], settings["data"]
    dtype = getattr(torch, config.dtype)
    model = models.StudentRNN(spec, torch.Generator().manual_seed(0), dtype)
    x = torch.randn(config.batch_size, length, spec.input_dim, dtype=dtype)
    y = torch.randn(config.batch_size, length, spec.output_dim, dtype=dtype)
    weights = training.loss_weights(config, length, dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def step():
        loss = training.weighted_mse(model(x), y, weights)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()

    per_step = median_seconds(step)
    per_valid = median_seconds(lambda: training.evaluate(model, x, y, weights)) / len(x)
    steps = math.ceil(data["train"] / config.batch_size)
    per_epoch = steps * per_step + data["valid"] * per_valid
    fitted = config.fit == "least_squares"
    train_s = least_squares_seconds(settings, model, weights) if fitted else None

    evaluation = getattr(torch, settings["dtype"])
    raw = {name: value.detach().to(evaluation) for name, value in model.raw().items()}
    samples = min(pert.samples, data["test"])
    xt = torch.randn(samples, length, spec.input_dim, dtype=evaluation)
    yt = torch.randn(samples, length, spec.output_dim, dtype=evaluation)
    directions = perturbation.draw_directions(raw, pert.draws, torch.Generator().manual_seed(1))
    one_level = perturbation.PerturbationConfig(
        **{**vars(pert), "betas": (pert.betas[1],), "divergence_ratio": math.inf}
    )
    per_level = median_seconds(
        lambda: perturbation.perturbation_losses(
            spec, raw, xt, yt, weights.to(evaluation), one_level, directions
        ),
        repeats=1,
    )
    levels = (1 + (len(pert.betas) - 1) * pert.draws) / pert.draws
    epochs_per_job = config.epochs_per_job or config.max_epochs
    return {
        "width": width,
        "activation": spec.activation,
        "train_dtype": config.dtype,
        "s_per_step": per_step,
        "fit": config.fit,
        "epochs": 0 if fitted else config.max_epochs,
        "train_h": (train_s if fitted else config.max_epochs * per_epoch) / 3600,
        "training_jobs": 1 if fitted else math.ceil(config.max_epochs / epochs_per_job),
        "perturb_h": levels * per_level / 3600,
        "longest_job_h": max(
            train_s if fitted else min(epochs_per_job, config.max_epochs) * per_epoch,
            levels * per_level,
        )
        / 3600,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--output", default="results/benchmarks/paper_estimate.csv")
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw_config = yaml.safe_load(Path(args.config).read_text())
    config = settings_lib.apply_scale({**raw_config, "scale": "paper"})
    rows = []
    for name in config["experiments"]:
        settings = {**settings_lib.experiment_settings(config, name), "dtype": config["dtype"]}
        teachers = len(settings_lib.teacher_ids(settings))
        for width in settings["student"]["widths"]:
            cost = student_costs(settings, width)
            rows.append({"experiment": name, "teachers": teachers, **cost})
            print(f"{name} m={width}: {cost['train_h'] * teachers:.2f} h training", flush=True)
    table = pd.DataFrame(rows)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False)
    total = ((table["train_h"] + table["perturb_h"]) * table["teachers"]).sum()
    with pd.option_context("display.width", 160, "display.float_format", "{:.3g}".format):
        print(table.to_string(index=False))
    print(
        f"\nIAT students at paper scale: {total:.0f} CPU-hours; longest job "
        f"{table['longest_job_h'].max():.2f} h; written to {args.output}"
    )


if __name__ == "__main__":
    main()
