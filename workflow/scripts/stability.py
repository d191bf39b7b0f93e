"""Filtering stage: crossings, margins and the verdict for one teacher's students."""

import json

from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import models
from curse_of_memory.shared import io, seeding
from curse_of_memory.stability import curves, runaway_radius
from curse_of_memory.stability import verdict as stability

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
losses, margins, radii, students = {}, {}, {}, {}
for width, table, metrics_path, model_path in zip(
    params.widths, snakemake.input.perturbation, snakemake.input.metrics, snakemake.input.model
):
    betas, losses[width] = curves.losses_from_table(
        io.read_csv(table, ("beta_index", "beta", "draw", "loss"), params.identities)
    )
    metrics = io.read_json(metrics_path, params.identities)
    margins[width] = metrics["stability_margin"]
    spec = models.StudentSpec.from_json(json.dumps(metrics["spec"]))
    radii[width] = runaway_radius.runaway_radius(
        spec, io.load_tensors(model_path, params.identities)
    )
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
)
io.write_json(
    snakemake.output[0],
    {**analysis.to_dict(), "betas": betas.tolist(), "students": students},
    params.identities,
)
log(f"{params.key}: verdict {analysis.verdict} ({analysis.reason})")
if analysis.resolve:
    log(f"to resolve: {analysis.resolve}")
