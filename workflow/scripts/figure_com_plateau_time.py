"""COM-3: plateau time against 1/omega on a semi-log plot, with the fitted line."""

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
columns = ("omega", "inverse_omega", "repeat", "plateau_time")
times = io.read_csv(snakemake.input.times, columns, params.identities)
fit = plateaus.exponential_scaling(times["inverse_omega"], times["plateau_time"])

fig, ax = plt.subplots(figsize=(5.2, 4.0))
for repeat, group in times.groupby("repeat"):
    ax.plot(
        group["inverse_omega"],
        group["plateau_time"],
        "o",
        ms=4,
        alpha=0.8,
        label=f"initialisation {repeat}",
    )
x = np.linspace(times["inverse_omega"].min(), times["inverse_omega"].max(), 50)
ax.plot(
    x,
    np.exp(fit.intercept + fit.slope * x),
    "k--",
    lw=1,
    label=rf"fit: log $\tau$ = {fit.intercept:.2f} + {fit.slope:.2f}/$\omega$, "
    rf"$R^2$ = {fit.r2:.3f}",
)
ax.set_yscale("log")
ax.set_xlabel(r"$1/\omega$ (position of the memory)")
ax.set_ylabel(r"plateau time $\tau$ (gradient-flow time)")
ax.legend(fontsize=7, frameon=False)
ax.set_title(f"{figure}: {params.title}", fontsize=9)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

table = times[["omega", "inverse_omega", "repeat", "plateau_time"]].copy()
table["fitted_time"] = np.exp(fit.intercept + fit.slope * table["inverse_omega"])
table.insert(0, "figure", figure)
io.write_csv(snakemake.output.csv, table)
rows = [
    claims.claim(
        figure,
        "log(plateau time) grows with 1/omega: fitted slope of log tau against 1/omega",
        fit.slope,
        "> 0",
        bool(fit.slope > 0),
    ),
    claims.claim(
        figure,
        f"log(plateau time) is linear in 1/omega: R^2 of the fit over {fit.count} runs",
        fit.r2,
        f">= {params.min_r2:g}",
        bool(fit.r2 >= params.min_r2),
    ),
]
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
for row in rows:
    log(f"{row['verdict']}: {row['claim']}: {row['value']}")
