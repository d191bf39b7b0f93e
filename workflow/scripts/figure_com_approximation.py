"""COM-A: L2 error of exponential-sum fits (width-m linear RNN, decays on a fixed grid) vs m."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.com import approximation
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import plotting
from curse_of_memory.shared import claims, io
from curse_of_memory.targets import kernels

log = jobs.start_job(snakemake.log[0], snakemake.threads)
figure, spec = snakemake.params.figure, snakemake.params.spec
widths = np.array(spec["widths"])
length = spec["length"]
targets = {"exp": spec["exp"]} | {
    f"pol p={p:g}": {"family": "pol", "s": spec["pol"]["s"], "p": p} for p in spec["pol"]["powers"]
}
errors = {
    name: approximation.grid_fit_errors(
        kernels.kernel_values(kernels.build_kernel(k), length, 1.0), widths
    )
    for name, k in targets.items()
}
# geometric (constant rate -d log E / dm) against algebraic (rate p / m) decay of the error
fits = {name: approximation.width_decay(widths, e, spec["floor"]) for name, e in errors.items()}
needed = {
    name: approximation.width_needed(widths, e, spec["tolerance"]) for name, e in errors.items()
}

fig, (semilog, loglog) = plt.subplots(1, 2, figsize=(10.5, 4))
colors = plotting.width_colors(list(range(len(targets))))
for i, (name, e) in enumerate(errors.items()):
    for ax in (semilog, loglog):
        ax.plot(widths, e, "o-", ms=3, color="k" if name == "exp" else colors[i], label=name)
for ax in (semilog, loglog):
    ax.set_yscale("log")
    ax.axhline(spec["tolerance"], color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("width m (terms of the exponential sum)")
    ax.set_ylabel(r"L2 error $\|\rho - \hat\rho_m\|$ (bound on the best)")
loglog.set_xscale("log")
semilog.set_title("semi-log: geometric decay is a straight line", fontsize=9)
loglog.set_title("log-log: algebraic decay is a straight line (dashed: tolerance)", fontsize=9)
semilog.legend(fontsize=8, frameon=False)
fig.suptitle(f"{figure}: {spec.get('title', '')}", fontsize=10)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)

table = pd.DataFrame(
    [
        {"figure": figure, "kernel": name, "width": int(m), "error": value}
        for name, e in errors.items()
        for m, value in zip(widths, e)
    ]
)
io.write_csv(snakemake.output.csv, table)

exp_fit = fits["exp"]
pol_names = [name for name in targets if name != "exp"]
need = [needed[name] for name in pol_names]


def trend_text(fit: approximation.WidthDecay) -> str:
    return (
        f"rate per width {fit.rates[0]:.3g} at m = {fit.widths[0]:.3g}, {fit.rates[1]:.3g} at "
        f"m = {fit.widths[1]:.3g}: d log rate / d log m = {fit.trend:+.2f}"
    )


rows = [
    claims.claim(
        figure,
        "exp kernel: error falls geometrically in m (least-squares rate -d log E / dm on each "
        f"half of the widths; geometric 0, algebraic -1: {trend_text(exp_fit)}; geometric fit "
        f"R^2 {exp_fit.geometric_r2:.3f}, algebraic {exp_fit.algebraic_r2:.3f})",
        f"{exp_fit.trend:+.2f}, R^2 {exp_fit.geometric_r2:.3f}",
        f"trend >= -1/3 (2 log|1+s|/|s| >= {exp_fit.min_evidence:.2f}) and geometric R^2 >= "
        f"{spec['min_r2']:g}",
        exp_fit.label == "geometric" and exp_fit.geometric_r2 >= spec["min_r2"],
    ),
    claims.claim(
        figure,
        "pol kernels: error falls slowly, algebraically in m (rate trend d log rate / d log m "
        + ", ".join(f"{fits[n].trend:+.2f}" for n in pol_names)
        + "; algebraic rates "
        + ", ".join(f"{fits[n].algebraic_power:.2f}" for n in pol_names)
        + ")",
        f"{sum(fits[n].label == 'algebraic' for n in pol_names)}/{len(pol_names)}",
        f"{len(pol_names)}/{len(pol_names)} with trend <= -2/3",
        all(fits[n].label == "algebraic" for n in pol_names),
    ),
    claims.claim(
        figure,
        f"width needed for L2 error <= {spec['tolerance']:g} grows as p -> 1 "
        f"(p = {', '.join(f'{p:g}' for p in spec['pol']['powers'])})",
        ", ".join(f"{n:g}" for n in need),
        "non-increasing in p, larger at the smallest p than at the largest",
        all(b <= a for a, b in zip(need, need[1:])) and need[0] > need[-1],
    ),
]
io.write_csv(snakemake.output.claims, pd.DataFrame(rows, columns=claims.COLUMNS))
for row in rows:
    log(f"{row['verdict']}: {row['claim']}: {row['value']}")
