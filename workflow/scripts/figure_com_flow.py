"""COM-2: gradient-flow loss curves per omega, and the claim that plateaus lengthen."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
figure = params.figure
curves = io.read_csv(snakemake.input.curves, ("omega", "repeat", "time", "loss"), params.identities)
times = io.read_csv(
    snakemake.input.times, ("omega", "repeat", "plateau_time", "final_loss"), params.identities
)
omegas = sorted(curves["omega"].unique(), reverse=True)
colors = plotting.width_colors(list(range(len(omegas))))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for i, omega in enumerate(omegas):
    for repeat, curve in curves[curves["omega"] == omega].groupby("repeat"):
        curve = curve[curve["time"] > 0]
        final = times.query("omega == @omega and repeat == @repeat")["final_loss"].iloc[0]
        style = {
            "color": colors[i],
            "lw": 1.5 if repeat == 0 else 0.6,
            "alpha": 1 if repeat == 0 else 0.5,
        }
        label = f"$1/\\omega$ = {1 / omega:g}" if repeat == 0 else None
        left.plot(curve["time"], curve["loss"], label=label, **style)
        excess = np.clip(curve["loss"] - final, 1e-16, None)
        right.plot(curve["time"], excess, **style)
        tau = times.query("omega == @omega and repeat == @repeat")["plateau_time"].iloc[0]
        if repeat == 0 and np.isfinite(tau):
            left.axvline(tau, color=colors[i], lw=0.6, ls=":")
left.set_xscale("log")
left.set_ylabel(r"white-noise loss $\int_0^\infty (\rho_\omega - \hat\rho)^2 dt$")
left.set_title("loss (dotted: plateau time)", fontsize=9)
right.set_xscale("log")
right.set_yscale("log")
right.set_ylim(1e-14, None)
right.set_ylabel("loss minus its final value")
right.set_title("excess loss (thin lines: other initialisations)", fontsize=9)
for ax in (left, right):
    ax.set_xlabel("gradient-flow time t")
left.legend(fontsize=8, frameon=False)
fig.suptitle(f"{figure}: {params.title}", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

table = curves.copy()
table.insert(0, "figure", figure)
io.write_csv(snakemake.output.csv, table)

ordered = times.sort_values("omega", ascending=False)
increasing = [
    bool(np.all(np.diff(group["plateau_time"].to_numpy()) > 0))
    for _, group in ordered.groupby("repeat")
]
finite = int(np.isfinite(times["plateau_time"]).sum())
median = ordered.groupby("omega", sort=False)["plateau_time"].median()
rows = [
    claims.claim(
        figure,
        "every run escapes its plateau (plateau time finite)",
        f"{finite}/{len(times)}",
        f"{len(times)}/{len(times)}",
        finite == len(times),
    ),
    claims.claim(
        figure,
        "plateau lengthens as omega -> 0: initialisations whose plateau time increases "
        f"strictly as omega decreases (median times: {', '.join(f'{t:.3g}' for t in median)})",
        f"{sum(increasing)}/{len(increasing)}",
        f"{len(increasing)}/{len(increasing)}",
        all(increasing),
    ),
]
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
for row in rows:
    log(f"{row['verdict']}: {row['claim']}: {row['value']}")
