"""Figure stage: memory functions of randomly initialised models of one family."""

import matplotlib.pyplot as plt
import pandas as pd

from curse_of_memory.memory import decay as memory
from curse_of_memory.memory import random_models
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import memory_plots, plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
figure, spec, family = params.figure, params.spec, params.family
options = {k: v for k, v in family.items() if k not in ("layers", "length")}
curves, rows, claim_rows = {}, [], []
for layers in family["layers"]:
    model = random_models.RandomModelSpec(spec["family"], layers, **options)
    keys = (params.seed, "random_memory", spec["family"], layers)
    times, draws = random_models.memory_draws(
        model, family["length"], spec["input"], params.draws, params.input_draws, keys
    )
    summary = random_models.summarize(times, draws, **params.fit)
    curves[layers] = (summary.mean, summary.standard_error)
    rows += [
        {"figure": figure, "family": spec["family"], "input": spec["input"], "layers": layers,
         "t": t, "mean": m, "standard_error": e, "draws": params.draws}
        for t, m, e in zip(times, summary.mean, summary.standard_error)
    ]  # fmt: skip
    individually = ", ".join(f"{n} {label}" for label, n in summary.draw_labels.items())
    subject = (
        f"{layers} layer{'s' if layers > 1 else ''}, geometric mean of {params.draws} draws "
        f"(draws on their own: {individually})"
    )
    claim_rows.append(memory.decay_claim(figure, subject, summary.fit, spec["expect"]))
    log(f"{layers} layers: {summary.fit}")

fig, ax = plt.subplots(figsize=(5.4, 4.0))
memory_plots.mean_memory_panel(ax, times, curves, spec["axes"], params.fit["floor"])
ax.set_title(
    f"{figure}: {spec.get('title', '')}\nmean ± standard error over {params.draws} draws",
    fontsize=9,
)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))
io.write_csv(snakemake.output.claims, pd.DataFrame(claim_rows, columns=claims.COLUMNS))
