import numpy as np
import pytest

from curse_of_memory.memory import phase_portrait as pp

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


@pytest.mark.parametrize(
    ("corner", "eigenvalues"),
    # hand-derived: J(c) = diag(-2 c_i (W c)_i); W (1, 1) = (2, -7), W (1, -1) = (0, -1)
    [((1, 1), (-4, 14)), ((-1, -1), (-4, 14)), ((1, -1), (-2, 0)), ((-1, 1), (-2, 0))],
)
def test_corner_jacobians_match_the_closed_form(corner, eigenvalues):
    c = np.array(corner, float)
    np.testing.assert_allclose(pp.jacobian(c, W), pp.corner_jacobian(c, W), atol=0)
    np.testing.assert_allclose(pp.corner_jacobian(c, W), np.diag(np.diag(pp.corner_jacobian(c, W))))
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(pp.jacobian(c, W)).real), eigenvalues)


def test_origin_is_a_stable_node_with_a_double_eigenvalue():
    # J(0) = W: trace -2, det 1, so (lambda + 1)^2 = 0; W + I is nilpotent (a Jordan block)
    np.testing.assert_array_equal(pp.jacobian(np.zeros(2), W), W)
    assert np.trace(W) == -2 and np.linalg.det(W) == pytest.approx(1.0)
    np.testing.assert_array_equal((W + np.eye(2)) @ (W + np.eye(2)), np.zeros((2, 2)))


def test_edges_carry_the_cycle_and_the_saddle_nodes_release_slowly():
    s = np.linspace(-0.9, 0.9, 7)
    top, right = (
        pp.vector_field(np.stack([s, 1 + 0 * s], 1), W),
        pp.vector_field(np.stack([1 + 0 * s, s], 1), W),
    )
    bottom, left = (
        pp.vector_field(np.stack([s, -1 + 0 * s], 1), W),
        pp.vector_field(np.stack([-1 + 0 * s, s], 1), W),
    )
    # (-1, 1) -> (1, 1) -> (1, -1) -> (-1, -1) -> (-1, 1); the edges are invariant
    assert np.all(top[:, 0] > 0) and np.all(right[:, 1] < 0)
    assert np.all(bottom[:, 0] < 0) and np.all(left[:, 1] > 0)
    np.testing.assert_array_equal(
        np.concatenate([top[:, 1], bottom[:, 1], right[:, 0], left[:, 0]]), 0
    )
    # leaving (1, -1) along v_2 = -1: a = 1 - v_1 grows like a' = 2 a^2 (algebraically)
    for a in (1e-2, 1e-3, 1e-4):
        assert -pp.vector_field(np.array([1 - a, -1.0]), W)[0] == pytest.approx(2 * a**2, rel=2 * a)


def test_numerical_attractors_are_the_origin_and_the_opposite_corners():
    portrait = pp.analyse(pp.PortraitSpec(grid=21, horizon=100.0))
    found = {tuple(np.round(p).astype(int)) for p in portrait.attractors}
    assert found == {(0, 0), (1, -1), (-1, 1)}
    share = dict(zip(map(tuple, np.round(portrait.points).astype(int)), portrait.basin_fraction))
    assert share[(1, 1)] == 0 and share[(-1, -1)] == 0  # the paper's (1, 1), (-1, -1): saddles
    assert share[(1, -1)] == pytest.approx(share[(-1, 1)])  # f(-v) = -f(v): point symmetry
