"""COM-4: loss curves of general students under GD and Adam; plateaus persist, Adam is faster."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.com import plateaus
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
figure = params.figure
criteria = plateaus.PlateauCriteria(**params.plateau)
runs = pd.concat(
    [
        io.read_csv(path, ("model", "optimizer", "iteration", "loss"), params.identities)
        for path in snakemake.input.runs
    ],
    ignore_index=True,
)

fig, axes = plt.subplots(
    1,
    len(params.models),
    figsize=(4.6 * len(params.models), 4),
    squeeze=False,
    layout="constrained",
)
rows, persist, faster = [], [], []
for ax, model in zip(axes[0], params.models):
    curves = {
        optimizer: runs.query("model == @model and optimizer == @optimizer")
        for optimizer in params.optimizers
    }
    # the best loss any optimizer reached shows what is attainable for this model
    final = min(float(np.nanmin(c["loss"])) for c in curves.values())
    gd = curves["gd"]
    plateau = plateaus.find_plateau(gd["iteration"] + 1, gd["loss"], criteria, attainable=final)
    persist.append(plateau is not None)
    escapes = {}
    for optimizer, curve in curves.items():
        color = "C0" if optimizer == "gd" else "C1"
        ax.plot(curve["iteration"] + 1, curve["loss"], color=color, label=optimizer)
        if plateau is not None:
            level = plateaus.escape_level(plateau.level, final, params.level_fraction)
            escapes[optimizer] = plateaus.first_crossing(
                curve["iteration"] + 1, curve["loss"], level
            )
            if np.isfinite(escapes[optimizer]):
                ax.axvline(escapes[optimizer], color=color, lw=0.7, ls=":")
    if plateau is not None:
        ax.plot([plateau.start, plateau.end], [plateau.level] * 2, color="C0", lw=7, alpha=0.25)
        faster.append(escapes["adam"] < escapes["gd"])
        log(f"{model}: GD plateau {plateau}; escape iterations {escapes}")
    else:
        faster.append(False)
        log(f"{model}: no GD plateau detected")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration + 1")
    ax.set_ylabel("weighted training loss")
    ax.set_title(model.replace("_", " "), fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    rows.append(
        claims.claim(
            figure,
            f"{model}: escape iteration (loss <= final + {params.level_fraction:g} x "
            "(plateau - final)), Adam vs GD",
            ", ".join(f"{k} {v:.0f}" for k, v in escapes.items()) if escapes else "no GD plateau",
            "adam < gd",
            faster[-1],
        )
    )
fig.suptitle(f"{figure}: {params.title} (bar: last GD plateau, dotted: escape)", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

table = runs.copy()
table.insert(0, "figure", figure)
io.write_csv(snakemake.output.csv, table)
rule = f"max slope {criteria.max_slope:g}, span >= {criteria.min_span:g}, drop >= {criteria.drop:g}"
rows.insert(
    0,
    claims.claim(
        figure,
        "plateaus persist: models whose gradient-descent curve has a plateau above the best "
        "loss reached by either optimizer",
        f"{sum(persist)}/{len(persist)}",
        f"{len(persist)}/{len(persist)} ({rule})",
        all(persist),
    ),
)
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
for row in rows:
    log(f"{row['verdict']}: {row['claim']}: {row['value']}")
