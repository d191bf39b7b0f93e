import math

import numpy as np
import pytest

from curse_of_memory.plots import plotting

BETAS = np.concatenate([[0.0], 1e-3 * 2 ** np.arange(6)])


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_curves_that_are_never_finite_are_drawn_on_the_infinity_row(value, tmp_path):
    fig, ax = plotting.plt.subplots()
    curves = {2: np.full(BETAS.shape, value), 4: np.full(BETAS.shape, math.inf)}
    plotting.perturbation_panel(ax, BETAS, curves, np.array([math.nan]), None)
    tops = [line.get_ydata() for line in ax.get_lines()[:2]]
    assert all(np.all(y == y[0]) and y[0] > 1.0 for y in tops)  # one row, above the finite range
    plotting.save_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0


def test_title_names_evidence_and_expectation_and_beta0_only_when_stable():
    analysis = {"verdict": "undetermined", "evidence": "none", "beta0": math.nan}
    title = plotting.verdict_title("F", "t", analysis, "stable")
    assert "evidence: none" in title and "expected stable: fail" in title
    assert plotting.shown_beta0(analysis) is None
    stable = {"verdict": "stable", "evidence": "crossings", "beta0": 0.07}
    assert "expected stable: pass" in plotting.verdict_title("F", "t", stable, "stable")
    assert plotting.shown_beta0(stable) == 0.07
    assert plotting.shown_beta0({**stable, "verdict": "unstable"}) is None


def test_only_resolved_crossings_are_marked():
    analysis = {"crossings": [0.1, 0.002, math.nan], "crossings_informative": [True, False, True]}
    shown = plotting.shown_crossings(analysis)
    assert shown[0] == 0.1 and shown[1] == 0.0 and math.isnan(shown[2])
    assert not plotting.shown_crossings({**analysis, "evidence": "sensitivity"}).any()
    fig, ax = plotting.plt.subplots()
    curves = {2: np.linspace(1e-3, 1.0, len(BETAS)), 4: np.linspace(1e-4, 2.0, len(BETAS))}
    plotting.perturbation_panel(ax, BETAS, curves, shown, None)
    marks = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in marks] == [0.1]  # the unresolved 0.002 is not drawn
    assert any("1 crossing beyond the grid" in text.get_text() for text in ax.texts)
    plotting.plt.close(fig)


def test_each_finite_runaway_radius_is_a_triangle_on_the_infinity_row():
    fig, ax = plotting.plt.subplots()
    curves = {2: np.where(BETAS > 0.01, math.inf, 1e-2), 4: np.full(BETAS.shape, 1e-3)}
    plotting.perturbation_panel(ax, BETAS, curves, radii={2: 0.01, 4: math.inf})
    triangles = [
        line for line in ax.get_lines() if line.get_marker() == "v" and len(line.get_xdata())
    ]
    assert [float(line.get_xdata()[0]) for line in triangles] == [0.01]
    top = ax.get_lines()[0].get_ydata()[-1]  # width 2's +inf values, on the infinity row
    assert float(triangles[0].get_ydata()[0]) == top
    plotting.plt.close(fig)
