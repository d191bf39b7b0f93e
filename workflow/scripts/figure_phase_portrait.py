"""Figure stage: phase portrait of the 2-D system of IAT-11b and its attractors."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory import claims, io, jobs, memory_plots, phase_portrait, plotting

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

expected = np.array(spec["expect"], dtype=float).reshape(-1, 2)
claim_rows = []
for point in expected:
    distance = np.max(np.abs(portrait.points - point), axis=1)
    index = int(distance.argmin())
    share = float(portrait.basin_fraction[index]) if distance[index] < setup.near else 0.0
    claim_rows.append(
        claims.claim(
            figure,
            f"({point[0]:g}, {point[1]:g}) is an attractor found numerically: fraction of "
            f"{setup.grid}x{setup.grid} grid trajectories ending there (fixed point there: "
            f"{portrait.labels[index] if distance[index] < setup.near else 'none'})",
            share,
            "> 0",
            share > 0,
        )
    )
found = portrait.attractors
extra = [p for p in found if np.max(np.abs(expected - p), axis=1).min() >= setup.near]
claim_rows.append(
    claims.claim(
        figure,
        "no attractor besides the expected ones is found numerically",
        "; ".join(f"({p[0]:.3g}, {p[1]:.3g})" for p in extra) or "none",
        "none",
        not extra,
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
