"""Figure stage: the memory function of one teacher (Heaviside and impulse), with its claim."""

import matplotlib.pyplot as plt
import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
memory = io.read_json(snakemake.input.info, params.identities)["memory"]
fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
for ax, kind in zip(axes, ("heaviside", "impulse")):
    decay = memory[kind]["decay"]
    plotting.memory_curve_panel(
        ax, memory[kind]["times"], memory[kind]["values"], kind, loglog=True
    )
    ax.set_title(
        f"{kind} input: {decay['label']} (rate {decay['exponential_rate']:.3g}, "
        f"power {decay['polynomial_power']:.3g})",
        fontsize=9,
    )
fig.suptitle(f"{params.figure}: {params.title}", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
rows = [
    {"input": kind, "t": t, "M": v}
    for kind in ("heaviside", "impulse")
    for t, v in zip(memory[kind]["times"], memory[kind]["values"])
]
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))
label = memory["heaviside"]["decay"]["label"]
# "slow" needs evidence of slow decay: undetermined (a tie of the two tail fits) passes neither
slow_labels = ("polynomial", "non-decaying")
passed = label in (("exponential",) if params.expect == "exponential" else slow_labels)
rows = [
    claims.claim(
        params.figure,
        "decay of the teacher's memory function (Heaviside input)",
        label,
        params.expect,
        passed,
    )
]
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
log(f"{params.figure}: memory {label}, expected {params.expect}")
