import numpy as np
import pytest

from curse_of_memory import phase_portrait as pp

W = np.array([[1.0, 1.0], [-4.0, -3.0]])


@pytest.mark.parametrize("point", [(0, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)])
def test_origin_and_corners_are_fixed_points(point):
    # f(v) = (1 - v^2) * (W v) vanishes at v = 0 and wherever every v_i = +-1 (closed form)
    np.testing.assert_array_equal(pp.vector_field(np.array(point, float), W), [0.0, 0.0])


def test_jacobian_matches_finite_differences(rng):
    v = rng.uniform(-1, 1, 2)
    h = 1e-6
    numeric = np.stack(
        [
            (pp.vector_field(v + h * e, W) - pp.vector_field(v - h * e, W)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=1,
    )
    np.testing.assert_allclose(pp.jacobian(v, W), numeric, atol=1e-8)


def test_fixed_points_and_their_linear_stability():
    points = pp.fixed_points(W, 1e-6)
    expected = [(-1, -1), (-1, 1), (0, 0), (1, -1), (1, 1)]
    np.testing.assert_allclose(points, expected, atol=1e-9)
    # closed forms: J(0) = W (eigenvalue -1 twice); J(1, 1) = diag(-2 (Wv)_i) = diag(-4, 14)
    eigen = {tuple(np.round(p).astype(int)): np.sort(np.linalg.eigvals(pp.jacobian(p, W)).real)
             for p in points}  # fmt: skip
    np.testing.assert_allclose(eigen[(0, 0)], [-1, -1], atol=1e-6)
    np.testing.assert_allclose(eigen[(1, 1)], [-4, 14], atol=1e-9)
    assert pp.linear_stability(eigen[(1, 1)]) == "saddle"
    assert pp.linear_stability(eigen[(0, 0)]) == "stable"
    assert pp.linear_stability(eigen[(1, -1)]) == "non-hyperbolic"


def test_rk4_converges_to_the_stable_origin_from_near_it():
    ends = pp.rk4(np.array([[0.1, -0.1], [-0.05, 0.02]]), W, 0.05, 60.0)
    np.testing.assert_allclose(ends, 0.0, atol=1e-12)


def test_analysis_sends_most_of_the_grid_to_the_origin():
    portrait = pp.analyse(pp.PortraitSpec(grid=11, horizon=50.0))
    origin = int(np.argmin(np.abs(portrait.points).max(axis=1)))
    assert portrait.labels[origin] == "stable"
    assert portrait.basin_fraction[origin] > 0.8
    assert portrait.basin_fraction.sum() + portrait.transit_fraction == pytest.approx(1.0)
