"""Figure stage: learning curves of the sequential-digits runs (IAT-9)."""

import matplotlib.pyplot as plt
import pandas as pd

from curse_of_memory.memory import sequential_digits
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import memory_plots, plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
runs = [io.read_json(path, params.identities) for path in snakemake.input.metrics]
histories = {}
for run in runs:
    histories.setdefault(run["parameterization"], []).append(run["history"])
curves = sequential_digits.curve_table(histories)

# Identical initial weights: compare every run's initial effective weights with those of the
# first parameterization of the same repeat.
initial = {}
for run, path in zip(runs, snakemake.input.models):
    tensors = io.load_tensors(path, params.identities)
    initial[(run["parameterization"], run["repeat"])] = {
        k: v for k, v in tensors.items() if k.startswith("initial.")
    }
difference = max(
    float((tensors[k] - initial[(runs[0]["parameterization"], repeat)][k]).abs().max())
    for (name, repeat), tensors in initial.items()
    for k in tensors
)

fig, axes = plt.subplots(2, 2, figsize=(9.5, 7.0))
for row, metric in enumerate(("loss", "accuracy")):
    for col, split in enumerate(("train", "valid")):
        part = curves[(curves["split"] == split) & (curves["metric"] == metric)]
        lines = {
            name: (g["step"].to_numpy(), g["mean"].to_numpy(), g["standard_error"].to_numpy())
            for name, g in part.groupby("parameterization", sort=False)
        }
        label = f"{'training' if split == 'train' else 'validation'} {metric}"
        memory_plots.learning_curve_panel(axes[row, col], lines, label)
        if metric == "loss":
            axes[row, col].set_yscale("log")
repeats = curves["repeats"].max()
fig.suptitle(
    f"{params.figure}: {params.title}\nmean and ±1 standard error over {repeats} repeats",
    fontsize=9,
)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
io.write_csv(snakemake.output.csv, curves.assign(figure=params.figure)[["figure", *curves.columns]])
rows = sequential_digits.training_claims(
    params.figure, curves, difference, params.speed_tolerance, params.init_tolerance
)
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
log(f"{params.figure}: {sum(r['verdict'] == 'pass' for r in rows)}/{len(rows)} claims pass")
