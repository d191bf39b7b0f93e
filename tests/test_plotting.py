import math

import numpy as np
import pytest

from curse_of_memory import plotting

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
