"""Figure stage (IAT-3): students of a kept teacher, its memory, and kept vs rejected teachers."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io
from curse_of_memory.stability import curves, filtering

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
table = io.read_csv(
    snakemake.input.filter, ("teacher", "status", "memory_decay"), params.identities
)
analyses, infos = (
    {
        teacher: io.read_json(path, params.identities)
        for teacher, path in zip(params.teachers, paths)
    }
    for paths in (snakemake.input.stability, snakemake.input.info)
)
tables = iter(snakemake.input.perturbation)
betas = np.array(analyses[params.teachers[0]]["betas"])
teacher_curves = {
    teacher: {
        m: curves.analysed_curve(
            betas,
            curves.losses_from_table(io.read_csv(next(tables), identities=params.identities))[1],
            radius,
        )
        for m, radius in zip(params.widths, analyses[teacher]["runaway_radii"])
    }
    for teacher in params.teachers
}
kept = table[table["status"] == "kept"]
shown = kept["teacher"].iloc[0] if len(kept) else params.teachers[0]
analysis = analyses[shown]

fig, axes = plt.subplots(1, 3, figsize=(14, 4.0))
plotting.perturbation_panel(
    axes[0],
    betas,
    teacher_curves[shown],
    plotting.shown_crossings(analysis),
    plotting.shown_beta0(analysis),
    radii=dict(zip(analysis["widths"], analysis["runaway_radii"])),
)
status = table.set_index("teacher").loc[shown, "status"]
axes[0].set_title(
    f"students of {shown}: {status}\n(verdict {analysis['verdict']}, "
    f"evidence: {analysis['evidence']})",
    fontsize=9,
)
plotting.verdict_note(axes[0], analysis, width=60)
memory = infos[shown]["memory"]["heaviside"]
plotting.memory_curve_panel(axes[1], memory["times"], memory["values"], f"teacher {shown}")
axes[1].set_title(
    f"memory of teacher {shown}: {memory['decay']['label']}, "
    f"rate {memory['decay']['exponential_rate']:.3g}",
    fontsize=9,
)
markers = {
    "kept": ("o", "tab:green"),
    "rejected": ("x", "tab:red"),
    "undetermined": ("s", "tab:gray"),
}
for state, (marker, color) in markers.items():
    rows = table[table["status"] == state]
    axes[2].scatter(
        rows["gain"],
        rows["memory_rate"].clip(lower=1e-4),
        marker=marker,
        color=color,
        label=f"{state} ({len(rows)})",
    )
axes[2].set_yscale("log")
axes[2].set_xlabel("teacher recurrent gain")
axes[2].set_ylabel("memory decay rate r (M ~ exp(-r t))")
axes[2].set_title("teachers kept vs rejected by memory decay rate", fontsize=9)
axes[2].legend(fontsize=8, frameon=False)
fig.suptitle(f"{params.figure}: {params.title}", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

rows = (
    [
        {"panel": "perturbation", "teacher": shown, "width": m, "x": b, "y": e}
        for m, curve in teacher_curves[shown].items()
        for b, e in zip(betas, curve)
    ]
    + [
        {"panel": "memory", "teacher": shown, "width": np.nan, "x": t, "y": v}
        for t, v in zip(memory["times"], memory["values"])
    ]
    + [
        {
            "panel": "summary",
            "teacher": r.teacher,
            "width": np.nan,
            "x": r.gain,
            "y": r.memory_rate,
            "status": r.status,
            "memory_decay": r.memory_decay,
        }
        for r in table.itertuples()
    ]
)
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))

rows = filtering.filter_claims(params.figure, table.to_dict("records"))
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
log(f"{params.figure}: kept {list(kept['teacher'])}, shown {shown}")
