import math

import pytest
import torch

from curse_of_memory.rnn.models import StudentRNN, StudentSpec, effective_weights, runaway
from curse_of_memory.stability.perturbation import draw_directions, perturbed
from curse_of_memory.stability.runaway_radius import runaway_radius


def trained(spec: StudentSpec, seed: int = 0) -> dict[str, torch.Tensor]:
    """A student as initialised; a full one's P made far from orthogonal (as training leaves
    it), so that the eigenvalues of A are not lam."""
    generator = torch.Generator().manual_seed(seed)
    raw = {name: value.detach() for name, value in StudentRNN(spec, generator).raw().items()}
    if not spec.diagonal:
        raw["P"] = raw["P"] + 0.4 * torch.randn(raw["P"].shape, generator=generator)
    return raw


def runs_away(spec: StudentSpec, raw: dict[str, torch.Tensor]) -> torch.Tensor:
    return runaway(spec, effective_weights(spec, raw, constrained=False))


@pytest.mark.parametrize("structure", ["diagonal", "orthogonal"])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
def test_direct_spectral_radius_is_the_distance_to_either_bound(activation, structure):
    """Closed form: A's eigenvalues are lam = w (diagonal, or orthogonal whatever P), so
    r = min(min lam, 2 / dt - max lam) for a step linear in h (linear, relu drive form) and
    min lam for tanh, whose saturation bounds the oscillation."""
    spec = StudentSpec(
        width=6, structure=structure, activation=activation, dt=0.8, eigen_init=(0.05, 2.4)
    )
    raw = trained(spec)
    lam = raw["w"]
    expected = float(lam.min())
    if activation != "tanh":
        expected = min(expected, 2.0 / spec.dt - float(lam.max()))
    assert runaway_radius(spec, raw) == pytest.approx(expected, abs=1e-5)  # runaway's slack


def test_exp_linear_radius_is_where_the_fastest_mode_passes_two_over_dt():
    """exp(w) > 0 for every w: only the upper bound, at beta = log(2 / dt) - max w."""
    spec = StudentSpec(width=5, parameterization="exp", dt=1.0)
    raw = trained(spec)
    expected = math.log(2.0) - float(raw["w"].max())
    assert runaway_radius(spec, raw) == pytest.approx(expected, abs=1e-5)
    saturating = StudentSpec(width=5, parameterization="softplus", activation="tanh")
    assert runaway_radius(saturating, trained(saturating)) == math.inf


@pytest.mark.parametrize(
    "spec",
    [
        StudentSpec(width=5, activation="relu", eigen_init=(0.1, 1.5)),
        StudentSpec(width=4, activation="tanh", structure="full", eigen_init=(0.05, 0.9)),
        StudentSpec(width=4, parameterization="softplus", eigen_init=(0.2, 1.0)),
        StudentSpec(width=4, structure="orthogonal", eigen_init=(0.1, 1.5), dt=0.9),
    ],
    ids=["direct-relu", "direct-full-tanh", "softplus-linear", "direct-orthogonal-linear"],
)
def test_no_draw_inside_the_radius_runs_away_and_a_point_just_beyond_it_does(spec):
    """Oracle: the dense runaway test of models. 2000 random points of the ball of radius 0.99 r
    (P, U, b, c included) never run away; the extreme point of the ball of radius 1.01 r that
    moves every w towards the bound the radius names does."""
    raw = trained(spec, seed=3)
    radius = runaway_radius(spec, raw)
    directions = draw_directions(raw, 2000, torch.Generator().manual_seed(1))
    assert not runs_away(spec, perturbed(raw, directions, 0.99 * radius)).any()
    lower = spec.parameterization == "direct" and radius == pytest.approx(raw["w"].min(), abs=1e-5)
    sign = -1.0 if lower else 1.0  # toward lam < 0, else toward lam > 2 / dt
    extreme = {name: value.clone() for name, value in raw.items()}
    extreme["w"] = raw["w"] + sign * 1.01 * radius
    assert runs_away(spec, extreme)
