"""Figure stage: E_m(beta) per width for one teacher, with its claims."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io
from curse_of_memory.stability import curves, verdict_claims
from curse_of_memory.stability import verdict as stability

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
analysis = io.read_json(snakemake.input.stability, params.identities)
curve_of = {}
for width, table, radius in zip(
    analysis["widths"], snakemake.input.perturbation, analysis["runaway_radii"]
):
    betas, losses = curves.losses_from_table(io.read_csv(table, identities=params.identities))
    curve_of[width] = curves.analysed_curve(betas, losses, radius)

notes = {
    int(m): f"training diverged at step {student['diverged_step']}"
    for m, student in analysis["students"].items()
    if student["stop_reason"] == "diverged"
}
fig, ax = plt.subplots(figsize=(5.2, 4.0))
plotting.perturbation_panel(
    ax,
    betas,
    curve_of,
    plotting.shown_crossings(analysis),
    plotting.shown_beta0(analysis),
    notes,
    dict(zip(analysis["widths"], analysis["runaway_radii"])),
)
ax.set_title(
    plotting.verdict_title(params.figure, params.title, analysis, params.expect), fontsize=8
)
plotting.verdict_note(ax, analysis)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

students = {
    width: io.read_json(path, params.identities)
    for width, path in zip(analysis["widths"], snakemake.input.metrics)
}
fig, ax = plt.subplots(figsize=(5.2, 4.0))
plotting.training_panel(ax, students)
ax.set_title(f"{params.figure}: training of the students", fontsize=9)
plotting.save_figure(fig, snakemake.output.training, None)

table = pd.DataFrame(
    [
        {
            "figure": params.figure,
            "width": m,
            "beta": beta,
            "E": value,
            "diverged": not np.isfinite(value),
        }
        for m, curve in curve_of.items()
        for beta, value in zip(betas, curve)
    ]
)
io.write_csv(snakemake.output.csv, table)
rows = verdict_claims.stability_claims(
    params.figure, analysis, params.expect, stability.StabilityConfig(**params.stability)
)
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
log(f"{params.figure}: verdict {analysis['verdict']}, expected {params.expect}")
