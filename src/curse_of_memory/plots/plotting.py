"""Figures drawn like the papers: log-log perturbation curves with beta = 0 and infinity shown."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..shared.io import atomic_write  # noqa: E402

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "font.size": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def width_colors(widths: list[int]) -> dict[int, tuple]:
    cmap = plt.get_cmap("viridis")
    return {m: cmap(i / max(1, len(widths) - 1) * 0.9) for i, m in enumerate(widths)}


def perturbation_panel(
    ax: plt.Axes,
    betas: np.ndarray,
    curves: Mapping[int, np.ndarray],
    crossings: np.ndarray | None = None,
    beta0: float | None = None,
    notes: Mapping[int, str] | None = None,
    radii: Mapping[int, float] | None = None,
) -> None:
    """E_m(beta) per width on log-log axes; ``notes[m]`` is added to width m's legend entry.

    beta = 0 is drawn at a tenth of the first beta (tick "0"); +inf values sit on a top
    row labelled "inf" above a dashed line. ``beta0`` (when given) is drawn as a vertical line,
    each width's runaway radius ``radii[m]`` (when finite and on the axis) as a triangle on the
    inf row: E_m is +inf beyond it.
    """
    betas = np.asarray(betas, dtype=float)
    x = betas.copy()
    x[0] = betas[1] / 10
    finite = np.concatenate([c[np.isfinite(c)] for c in curves.values()])
    if finite.size:
        low, high = finite.min(), finite.max()
    else:  # every value diverged (or is nan): only the infinity row is drawn
        low, high = 1e-3, 1.0
        ax.text(
            0.5,
            0.5,
            "every E_m(beta) is infinite (diverged)",
            transform=ax.transAxes,
            ha="center",
            fontsize=8,
            color="crimson",
        )
    top = 10 ** (np.ceil(np.log10(high)) + 1)
    colors = width_colors(sorted(curves))
    for m in sorted(curves):
        y = np.where(np.isfinite(curves[m]), curves[m], top)  # +inf and nan on the top row
        note = f" ({notes[m]})" if notes and m in notes else ""
        ax.plot(x, y, "o-", ms=3, lw=1.4, color=colors[m], label=f"m = {m}{note}")
        radius = (radii or {}).get(m, math.inf)
        if x[0] < radius < x[-1] * 1.5:
            ax.plot([radius], [top], "v", ms=7, color=colors[m], mec="k", mew=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axhline(top / 3, color="0.5", lw=0.8, ls="--")
    ax.set_ylim(low / 3, top * 3)
    ticks = [t for t in ax.get_yticks() if low / 3 <= t <= top / 3]
    ax.set_yticks([*ticks, top], [*(f"$10^{{{int(np.log10(t))}}}$" for t in ticks), r"$\infty$"])
    xticks = [x[0], *[t for t in 10.0 ** np.arange(-6, 3) if betas[1] <= t <= betas[-1]]]
    ax.set_xticks(xticks, ["0", *(f"$10^{{{int(np.log10(t))}}}$" for t in xticks[1:])])
    ax.set_xlim(x[0] / 1.5, x[-1] * 1.5)
    if crossings is not None:
        for c in crossings:
            if np.isfinite(c) and c > 0:
                ax.axvline(c, color="0.3", lw=0.6, ls=":", ymax=0.06)
        beyond = int(np.sum(np.isnan(crossings)))
        if beyond:
            ax.annotate(
                f"{beyond} crossing{'s' if beyond > 1 else ''} beyond the grid "
                rf"($\beta > {betas[-1]:.3g}$) $\rightarrow$",
                xy=(1.0, 0.02),
                xycoords="axes fraction",
                ha="right",
                fontsize=7,
                color="0.3",
            )
    if beta0 is not None and np.isfinite(beta0):
        ax.axvline(beta0, color="crimson", lw=1.2, ls="--", label=rf"$\beta_0 \approx {beta0:.3g}$")
    if radii and any(x[0] < r < x[-1] * 1.5 for r in radii.values()):
        ax.plot([], [], "v", ms=7, color="0.6", mec="k", mew=0.5, label="runaway radius")
    ax.set_xlabel(r"perturbation $\beta$")
    ax.set_ylabel(r"perturbation error $E_m(\beta)$")
    ax.legend(fontsize=8, loc="upper left", frameon=False)


def training_panel(ax: plt.Axes, students: Mapping[int, Mapping]) -> None:
    """Validation loss / zero predictor's loss against optimiser steps, per width, from each
    student's metrics (history of epochs, steps, stop reason, converged, fit)."""
    colors = width_colors(sorted(students))
    for m in sorted(students):
        metrics = students[m]
        zero = metrics["zero_loss"]
        state = "converged" if metrics["converged"] else f"not converged ({metrics['stop_reason']})"
        if metrics["fit"] == "least_squares" or not metrics["history"]:
            ax.plot(
                [max(metrics["steps"], 1)],
                [metrics["losses"]["valid"] / zero],
                "o",
                color=colors[m],
                label=f"m = {m}: least squares, {state}",
            )
            continue
        per_epoch = metrics["steps"] / max(1, metrics["epochs"])
        steps = [entry["epoch"] * per_epoch for entry in metrics["history"]]
        valid = [entry["valid_loss"] / zero for entry in metrics["history"]]
        ax.plot(steps, valid, lw=1.2, color=colors[m], label=f"m = {m}: {state}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("optimiser steps")
    ax.set_ylabel("validation loss / zero predictor's loss")
    ax.legend(fontsize=7, frameon=False)


def verdict_title(figure: str, title: str, analysis: Mapping, expect: str | None) -> str:
    """Figure title: ID, title, the verdict with the evidence it rests on, and with ``expect``
    the expected verdict and pass/fail."""
    line = f"verdict: {analysis['verdict']} (evidence: {analysis['evidence']})"
    if expect:
        outcome = "pass" if analysis["verdict"] == expect else "fail"
        line += f"; expected {expect}: {outcome}"
    return f"{figure}: {title}\n{line}"


def verdict_note(ax: plt.Axes, analysis: Mapping, width: int = 70) -> None:
    """The verdict's reason, and what would resolve an undetermined one, under the axes."""
    text = analysis["reason"]
    if analysis["verdict"] == "undetermined" and analysis.get("resolve"):
        text += f". To resolve: {analysis['resolve']}"
    ax.text(
        0.0,
        -0.2,
        textwrap.fill(text, width),
        transform=ax.transAxes,
        va="top",
        fontsize=6.5,
        color="0.25",
    )


def shown_beta0(analysis: Mapping) -> float | None:
    """beta_0 to draw: only for a stable verdict resting on points on the grid."""
    beta0 = analysis["beta0"]
    if analysis["verdict"] == "stable" and beta0 is not None and np.isfinite(beta0):
        return beta0
    return None


def shown_crossings(analysis: Mapping) -> np.ndarray:
    """The crossings to mark: those of informative width pairs (``crossings_informative``); any
    other pair's is 0 (not drawn), an informative pair's beyond the grid nan (counted in the
    panel's note). None is marked (all 0) when the verdict rests on the sensitivity."""
    crossings = np.array(analysis["crossings"], dtype=float)
    informative = np.array(
        analysis.get("crossings_informative", [True] * len(crossings)), dtype=bool
    )
    if analysis.get("evidence") == "sensitivity":
        informative[:] = False
    return np.where(informative, crossings, 0.0)


def save_figure(
    fig: plt.Figure, png: str | os.PathLike, pdf: str | os.PathLike | None = None
) -> None:
    """Write the figure as PNG and PDF (atomically; no PDF if ``pdf`` is None), without time
    stamps, and close it."""
    outputs = (
        (png, {"metadata": {"Software": None}}),
        (
            pdf,
            {
                "metadata": {
                    "CreationDate": None,
                    "ModDate": None,
                    "Producer": None,
                    "Creator": None,
                }
            },
        ),
    )
    for path, options in outputs:
        if path is None:
            continue
        suffix = Path(path).suffix.lstrip(".")
        atomic_write(
            path,
            lambda tmp, o=options, s=suffix: fig.savefig(tmp, format=s, bbox_inches="tight", **o),
        )
    plt.close(fig)


def memory_curve_panel(
    ax: plt.Axes, times: np.ndarray, values: np.ndarray, label: str, loglog: bool = False
) -> None:
    """A memory function M(t) on semi-log (or log-log) axes; non-positive values are not drawn."""
    times, values = np.asarray(times, float), np.asarray(values, float)
    keep = (values > 0) & (times > 0 if loglog else np.ones_like(times, dtype=bool))
    ax.plot(times[keep], values[keep], lw=1.4, label=label)
    ax.set_yscale("log")
    if loglog:
        ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("memory M(t)")
