"""Filtering stage: crossings, margins and the verdict for one teacher's students."""

import json
from functools import cache

from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import models, training
from curse_of_memory.shared import io, seeding
from curse_of_memory.stability import curves, edge_modes, runaway_radius
from curse_of_memory.stability import verdict as stability
from curse_of_memory.targets import datasets

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
losses, margins, radii, lift_ratios, students = {}, {}, {}, {}, {}


@cache
def test_split():
    """(x, y, loss weights) of the perturbation samples: loaded only for a student with an
    edge mode."""
    data = io.load_tensors(snakemake.input.data, params.identities)
    x, y = datasets.held_out_samples(data, params.samples)
    weights = training.loss_weights(training.TrainConfig(**params.loss), x.shape[1], x.dtype)
    return x, y, weights


for width, table, metrics_path, model_path in zip(
    params.widths, snakemake.input.perturbation, snakemake.input.metrics, snakemake.input.model
):
    betas, losses[width] = curves.losses_from_table(
        io.read_csv(table, ("beta_index", "beta", "draw", "loss"), params.identities)
    )
    metrics = io.read_json(metrics_path, params.identities)
    margins[width] = metrics["stability_margin"]
    spec = models.StudentSpec.from_json(json.dumps(metrics["spec"]))
    model = io.load_tensors(model_path, params.identities)
    radii[width] = runaway_radius.runaway_radius(spec, model)
    if margins[width] <= stability.EDGE_MARGIN:  # is the mode at the edge the fit's?
        lift_ratios[width] = edge_modes.lift_ratio(spec, model, *test_split(), betas[1])
        log(f"m = {width}: edge mode raised to {betas[1]:g}: loss x {lift_ratios[width]:.3g}")
    students[width] = {
        key: metrics[key]
        for key in (
            "losses",
            "dead_modes",
            "stop_reason",
            "diverged_step",
            "converged",
            "steps",
            "fit",
        )
    }
config = stability.StabilityConfig(**params.stability)
rng = seeding.numpy_generator(params.seed, "stability", *params.key)
converged = {width: student["converged"] for width, student in students.items()}
memory = io.read_json(snakemake.input.info, params.identities)["memory"]["heaviside"]
analysis = stability.analyse(
    betas,
    losses,
    margins,
    config,
    rng,
    metrics["zero_loss"],
    params.margin_reachable,
    converged,
    memory["decay"]["label"] if params.exact_memory else None,
    radii,
    lift_ratios,
    horizon=params.horizon,  # the training window T dt
    estimated_memory=None if params.exact_memory else memory["decay"]["label"],
)
io.write_json(
    snakemake.output[0],
    {
        **analysis.to_dict(),
        "betas": betas.tolist(),
        "students": students,
        "edge_lift_ratios": lift_ratios,
    },
    params.identities,
)
log(f"{params.key}: verdict {analysis.verdict} ({analysis.reason})")
if analysis.resolve:
    log(f"to resolve: {analysis.resolve}")
