"""Panels of the memory-function and training-dynamics figures (IAT-5, 6, 9, 10, 11)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..memory.phase_portrait import Portrait, rk4, vector_field
from .plotting import plt, width_colors


def mean_memory_panel(
    ax: plt.Axes,
    times: np.ndarray,
    curves: Mapping[int, tuple[np.ndarray, np.ndarray]],
    axes: str = "semilogy",
    floor: float = 0.0,
) -> None:
    """Mean memory per depth with standard-error bars; values <= floor are not drawn.

    On log axes a bar whose lower end is not positive is cut at the bottom of the panel.
    """
    colors = width_colors(sorted(curves))
    every = max(1, len(times) // 25)
    for layers in sorted(curves):
        mean, error = curves[layers]
        shown = mean > floor
        lower = np.minimum(error, mean * (1 - 1e-9))
        ax.errorbar(
            times[shown], mean[shown], yerr=(lower[shown], error[shown]), color=colors[layers],
            lw=1.2, elinewidth=0.7, capsize=1.5, errorevery=every,
            label=f"{layers} layer{'s' if layers > 1 else ''}",
        )  # fmt: skip
    ax.set_yscale("log")
    if axes == "loglog":
        ax.set_xscale("log")
    ax.set_xlabel("time t")
    ax.set_ylabel("memory function M(t)")
    ax.legend(fontsize=8, frameon=False)


def repetition_panels(
    score_ax: plt.Axes,
    memory_ax: plt.Axes,
    scores: Mapping[str, np.ndarray],
    floor: float,
    rates: Mapping[str, float] | None = None,
) -> None:
    """Left: score s(n) of n repeats of each word; right: |s(n+1) - s(n)| on a log axis, with
    (``rates``) a dashed line e^(-r n) of each word's asymptotic rate r through its last point
    above the floor."""
    for word, s in scores.items():
        n = np.arange(1, len(s) + 1)
        score_ax.plot(n, s, lw=1.3, label=f'"{word}"')
        step = np.abs(np.diff(s))
        shown = step > floor
        line = memory_ax.plot(n[:-1][shown], step[shown], lw=1.3, label=f'"{word}"')[0]
        rate = (rates or {}).get(word, math.nan)
        if np.isfinite(rate) and rate > 0 and shown.any():
            last = n[:-1][shown][-1]
            span = np.linspace(0.6 * last, last, 20)
            anchor = step[shown][-1]
            memory_ax.plot(
                span, anchor * np.exp(-rate * (span - last)), ls="--", lw=1.0,
                color=line.get_color(),
            )  # fmt: skip
    score_ax.set_xlabel("repeats n")
    score_ax.set_ylabel("sentiment score s(n) = P(positive)")
    score_ax.set_ylim(-0.03, 1.03)
    memory_ax.set_yscale("log")
    memory_ax.set_xlabel("repeats n")
    memory_ax.set_ylabel("|s(n+1) - s(n)|")
    memory_ax.axhline(floor, color="0.6", lw=0.8, ls=":")
    if rates:
        memory_ax.plot(
            [], [], ls="--", lw=1.0, color="0.3", label="asymptotic rate bound (fixed points)"
        )
        memory_ax.legend(fontsize=7, frameon=False, loc="upper right")
    score_ax.legend(fontsize=8, frameon=False)


def variation_panel(ax: plt.Axes, variations: Mapping[str, np.ndarray]) -> None:
    """Octave variation V(j) = sum of |s(k+1) - s(k)| over [j, 2j) of each word, log-log.

    A flat line is the envelope 1/k; exponential memory bends down."""
    for word, variation in variations.items():
        j = np.arange(1, len(variation) + 1)
        shown = variation > 0
        ax.loglog(j[shown], variation[shown], lw=1.3, label=f'"{word}"')
    ax.set_xlabel("repeats j")
    ax.set_ylabel("octave variation V(j)")


def portrait_panel(ax: plt.Axes, W: np.ndarray, portrait: Portrait, samples: int = 7) -> None:
    """Stream plot of f on [-1, 1]^2, a few trajectories, fixed points marked by their fate."""
    axis = np.linspace(-1.0, 1.0, 41)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1)
    flow = vector_field(grid, W)
    ax.streamplot(axis, axis, flow[..., 0], flow[..., 1], color="0.7", density=1.1, linewidth=0.7)
    starts = np.stack(np.meshgrid(*(np.linspace(-0.9, 0.9, samples),) * 2), -1).reshape(-1, 2)
    path = [starts]
    for _ in range(500):
        path.append(rk4(path[-1], W, 0.02, 0.2))
    path = np.stack(path)
    for k in range(path.shape[1]):
        ax.plot(path[:, k, 0], path[:, k, 1], color="tab:blue", lw=0.5, alpha=0.6)
    for point, label, share in zip(portrait.points, portrait.labels, portrait.basin_fraction):
        attractor = share > 0
        ax.plot(
            *point, "o", ms=9 if attractor else 7, mfc="crimson" if attractor else "white",
            mec="crimson" if attractor else "k", zorder=5, clip_on=False,
        )  # fmt: skip
        note = f"{label}\nends: {100 * share:.1f}%" if attractor else label
        ax.annotate(
            note, point, textcoords="offset points", fontsize=7, zorder=6,
            xytext=(-8 if point[0] > 0 else 8, -16 if point[1] > 0 else 8),
            ha="right" if point[0] > 0 else "left",
        )  # fmt: skip
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel("$v_1$")
    ax.set_ylabel("$v_2$")


def learning_curve_panel(
    ax: plt.Axes, curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], ylabel: str
) -> None:
    """Mean over repeats against steps with a +-1 standard-error band, one line per key."""
    for name, (steps, mean, error) in curves.items():
        (line,) = ax.plot(steps, mean, lw=1.3, label=name)
        ax.fill_between(steps, mean - error, mean + error, color=line.get_color(), alpha=0.25)
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
