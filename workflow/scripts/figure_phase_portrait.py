"""Figure stage: phase portrait of the 2-D system of IAT-11b and its attractors."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.memory import phase_portrait
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import memory_plots, plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
figure, spec = snakemake.params.figure, snakemake.params.spec
setup = phase_portrait.PortraitSpec(
    W=tuple(map(tuple, spec["W"])),
    grid=spec["grid"],
    step=spec["step"],
    horizon=spec["horizon"],
    near=spec["near"],
)
portrait = phase_portrait.analyse(setup)
eigenvalues = np.round(portrait.eigenvalues, 10) + 0.0  # no "-0"
rows = [
    {"figure": figure, "v1": p[0], "v2": p[1], "eigenvalue_1": str(e[0]), "eigenvalue_2": str(e[1]),
     "linear_stability": label, "trajectory_fraction": share, "attractor": bool(share > 0)}
    for p, e, label, share in zip(
        portrait.points, eigenvalues, portrait.labels, portrait.basin_fraction
    )
]  # fmt: skip


def point_text(p: np.ndarray) -> str:
    return f"({p[0]:g}, {p[1]:g})"


def spectrum(index: int) -> str:
    ordered = sorted(eigenvalues[index], key=lambda e: (e.real, e.imag))
    return ", ".join(f"{e.real:.3g}" if abs(e.imag) < 1e-12 else f"{e:.3g}" for e in ordered)


def matches(points: np.ndarray, p: np.ndarray) -> bool:
    return bool(len(points)) and float(np.max(np.abs(points - p), axis=1).min()) < setup.near


expected = np.array(spec["expect"], dtype=float).reshape(-1, 2)
reported = np.array(spec.get("reported", []), dtype=float).reshape(-1, 2)  # the paper's statement
fate = (
    f"of the {setup.grid}x{setup.grid} grid trajectories within {setup.near:g} of it at "
    f"t = {setup.horizon:g} and still at t = {1.5 * setup.horizon:g}"
)
claim_rows = []
for point in expected:
    distance = np.max(np.abs(portrait.points - point), axis=1)
    index = int(distance.argmin())
    there = distance[index] < setup.near
    share = float(portrait.basin_fraction[index]) if there else 0.0
    stability = f"{portrait.labels[index]}, eigenvalues {spectrum(index)}" if there else "none"
    paper = "" if matches(reported, point) or not len(reported) else "; not among the paper's"
    claim_rows.append(
        claims.claim(
            figure,
            f"{point_text(point)} is an attractor found numerically: fraction {fate} (fixed point "
            f"there: {stability}{paper})",
            share,
            "> 0",
            share > 0,
        )
    )
found = portrait.attractors
extra = [p for p in found if not matches(expected, p)]
claim_rows.append(
    claims.claim(
        figure,
        "no attractor besides the expected ones is found numerically",
        "; ".join(f"({p[0]:.3g}, {p[1]:.3g})" for p in extra) or "none",
        "none",
        not extra,
    )
)
# every other fixed point: its linear stability, and that no trajectory settles there
for index, point in enumerate(portrait.points):
    if matches(expected, point):
        continue
    share = float(portrait.basin_fraction[index])
    label = portrait.labels[index]
    paper = " (the paper reports it as an attractor)" if matches(reported, point) else ""
    claim_rows.append(
        claims.claim(
            figure,
            f"{point_text(point)} is a fixed point but no attractor{paper}: linear stability "
            f"{label}, eigenvalues {spectrum(index)}; fraction {fate}",
            f"{label}, {share:.4g}",
            "not stable, 0",
            label != "stable" and share == 0,
        )
    )

fig, ax = plt.subplots(figsize=(5.2, 5.2))
W = setup.matrix
memory_plots.portrait_panel(ax, W, portrait)
ax.set_title(
    f"{figure}: {spec.get('title', '')}\nfilled: attractors found from a {setup.grid}x{setup.grid}"
    f" grid (RK4 to t = {setup.horizon:g}); {100 * portrait.transit_fraction:.1f}% in transit",
    fontsize=8,
)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))
io.write_csv(snakemake.output.claims, pd.DataFrame(claim_rows, columns=claims.COLUMNS))
log("attractors found: " + "; ".join(f"({p[0]:.3g}, {p[1]:.3g})" for p in found))
