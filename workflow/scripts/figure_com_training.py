"""COM-1: training loss against iterations (log-log), with the plateau claims."""

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
linear = io.read_csv(
    snakemake.input.linear, ("case", "delay", "iteration", "loss"), params.identities
)
chaotic = io.read_csv(snakemake.input.lorenz96, ("case", "iteration", "loss"), params.identities)


def detect(curve: pd.DataFrame, after_descent: bool = False) -> plateaus.Plateau | None:
    # iteration k is drawn at k + 1 so that the start sits on the log axis
    return plateaus.find_plateau(
        curve["iteration"] + 1, curve["loss"], criteria, after_descent=after_descent
    )


def mark(ax, plateau, color) -> None:
    """A thick translucent bar over the detected plateau, at its level."""
    if plateau is not None:
        ax.plot([plateau.start, plateau.end], [plateau.level] * 2, color=color, lw=7, alpha=0.25)


def escape(curve: pd.DataFrame) -> float:
    """Iterations until the loss first falls to fast_fraction x its initial value."""
    level = params.linear["fast_fraction"] * curve["loss"].iloc[0]
    return plateaus.first_crossing(curve["iteration"] + 1, curve["loss"], level) - 1


fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
series = linear[linear["case"] == "exponential_sum"]
series_plateau = detect(series)
axes[0].plot(series["iteration"] + 1, series["loss"], color="C0", label="exponential sum")
mark(axes[0], series_plateau, "C0")
axes[0].set_title("(a) linear RNN, GD, exponential-sum target", fontsize=9)

airy = linear[linear["case"] == "airy"]
delays = sorted(airy["delay"].unique())
colors = plotting.width_colors(list(range(len(delays))))
airy_plateaus, escapes = {}, {}
for i, delay in enumerate(delays):
    curve = airy[airy["delay"] == delay]
    airy_plateaus[delay], escapes[delay] = detect(curve), escape(curve)
    axes[1].plot(curve["iteration"] + 1, curve["loss"], color=colors[i], label=f"$t_0$ = {delay:g}")
    mark(axes[1], airy_plateaus[delay], colors[i])
axes[1].set_title(r"(b) linear RNN, GD, Airy targets Ai$(s_0(t - t_0))$", fontsize=9)

# Adam's first iterations are flat on log axes for any target: count a stall after a descent
chaotic_plateau = detect(chaotic, after_descent=True)
axes[2].plot(chaotic["iteration"] + 1, chaotic["loss"], color="C3", label="tanh RNN, Adam")
mark(axes[2], chaotic_plateau, "C3")
axes[2].set_title(
    f"(c) tanh RNN, Adam, two-scale Lorenz-96 sampled every {params.lorenz96_step:g}", fontsize=9
)
for ax in axes:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration + 1")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8, frameon=False)
fig.suptitle(f"{figure}: {params.title} (bars: detected plateaus)", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

panels = {"exponential_sum": "a", "airy": "b", "lorenz96": "c"}
table = pd.concat([linear, chaotic.assign(delay=np.nan)], ignore_index=True)
table.insert(0, "panel", table["case"].map(panels))
table.insert(0, "figure", figure)
io.write_csv(snakemake.output.csv, table)


def describe(plateau: plateaus.Plateau | None) -> str:
    if plateau is None:
        return "none"
    return f"iterations {plateau.start:.0f}-{plateau.end:.0f} at loss {plateau.level:.3g}"


fast = params.linear["fast_iterations"]
fraction = params.linear["fast_fraction"]
longest = delays[-1]
escape_list = [escapes[d] for d in delays]
rule = f"max slope {criteria.max_slope:g}, span >= {criteria.min_span:g}, drop >= {criteria.drop:g}"
rows = [
    claims.claim(
        figure,
        "(a) exponential-sum target: no plateau (detector)",
        describe(series_plateau),
        f"none ({rule})",
        series_plateau is None,
    ),
    claims.claim(
        figure,
        f"(a) exponential-sum target is fast: iterations until loss <= {fraction:g} x initial",
        escape(series),
        f"<= {fast}",
        escape(series) <= fast,
    ),
    claims.claim(
        figure,
        f"(b) Airy target with the longest memory (t0 = {longest:g}) has a plateau",
        describe(airy_plateaus[longest]),
        f"detected ({rule})",
        airy_plateaus[longest] is not None,
    ),
    claims.claim(
        figure,
        f"(b) plateaus worsen with memory: iterations until loss <= {fraction:g} x initial, "
        f"t0 = {', '.join(f'{d:g}' for d in delays)}",
        ", ".join(f"{e:.0f}" for e in escape_list),
        "strictly increasing in t0",
        all(b > a for a, b in zip(escape_list, escape_list[1:])),
    ),
    claims.claim(
        figure,
        "(c) Lorenz-96, tanh RNN + Adam: a plateau appears after the first descent",
        describe(chaotic_plateau),
        f"detected ({rule}), starting below {criteria.flat_ratio:.2f} x the first loss",
        chaotic_plateau is not None,
    ),
]
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
for row in rows:
    log(f"{row['verdict']}: {row['claim']}: {row['value']}")
