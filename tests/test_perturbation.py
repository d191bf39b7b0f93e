import math

import numpy as np
import pytest
import torch

from curse_of_memory.rnn import recurrence
from curse_of_memory.rnn.models import (
    StudentRNN,
    StudentSpec,
    effective_weights,
    run_student,
    runaway,
)
from curse_of_memory.rnn.recurrence import step_loop
from curse_of_memory.rnn.training import time_weights, weighted_mse
from curse_of_memory.stability import perturbation
from curse_of_memory.stability.curves import losses_from_table, losses_table, perturbation_curve
from curse_of_memory.stability.perturbation import (
    PerturbationConfig,
    beta_grid,
    draw_directions,
    ensemble_losses,
    perturbation_losses,
    perturbed,
)
from curse_of_memory.targets.datasets import LinearFunctional


def test_beta_grid_is_the_spec_default():
    grid = beta_grid()
    assert grid[0] == 0 and len(grid) == 22
    np.testing.assert_allclose(grid[1:], 1e-3 * 2 ** (np.arange(21) / 2))


def test_directions_have_unit_sup_norm_and_perturb_every_tensor(generator):
    model = StudentRNN(StudentSpec(width=5, structure="full"), generator)
    directions = draw_directions(model.raw(), 7, generator)
    assert set(directions) == {"w", "P", "U", "b", "c", "c0"}
    for name, value in directions.items():
        sup = value.reshape(7, -1).abs().amax(1)
        assert torch.allclose(sup, torch.ones(7)), name
    ensemble = perturbed(model.raw(), directions, 0.25)
    for name, value in model.raw().items():
        step = (ensemble[name] - value.detach()).reshape(7, -1).abs().amax(1)
        assert torch.allclose(step, torch.full((7,), 0.25))


def test_curve_is_running_max_and_keeps_infinity():
    losses = [
        np.array([0.1]),
        np.array([0.2, 0.05]),
        np.array([0.15, 0.1]),
        np.array([math.inf, 0.3]),
        np.array([0.2, 0.2]),
    ]
    curve = perturbation_curve(losses)
    np.testing.assert_array_equal(curve, [0.1, 0.2, 0.2, math.inf, math.inf])
    assert np.all(np.diff(curve[:3]) >= 0)


def setup_linear(structure, generator):
    spec = StudentSpec(width=6, structure=structure)
    model = StudentRNN(spec, generator)
    x = torch.randn(64, 40, 1, generator=generator)
    y = LinearFunctional((1 + np.arange(40.0)) ** -1.1)(x)
    return spec, model, x, y, time_weights(40, 2)


@pytest.mark.parametrize("structure", ["diagonal", "full", "orthogonal"])
def test_exact_quadratic_form_equals_direct_evaluation(structure, generator):
    spec, model, x, y, w = setup_linear(structure, generator)
    betas = tuple(beta_grid(1e-3, 2.0, 12))
    exact = PerturbationConfig(betas=betas, draws=6, method="exact", divergence_ratio=1e300)
    direct = PerturbationConfig(betas=betas, draws=6, method="ensemble", divergence_ratio=1e300)
    directions = draw_directions(model.raw(), 6, generator)
    a = perturbation_losses(spec, model.raw(), x, y, w, exact, directions)
    b = perturbation_losses(spec, model.raw(), x, y, w, direct, directions)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-8)
    assert max(np.max(v) for v in b) > 1e6  # the comparison includes exploding draws


def test_float32_ensemble_agrees_with_float64_and_linear_stays_exact(generator):
    spec = StudentSpec(width=6, activation="tanh")
    model = StudentRNN(spec, generator)
    x = torch.randn(32, 40, 1, generator=generator, dtype=torch.float64)
    y = LinearFunctional((1 + np.arange(40.0)) ** -1.1)(x)
    directions = draw_directions(model.raw(), 5, generator)
    betas, w = tuple(beta_grid(1e-2, 2.0, 6)), time_weights(40, 2)
    runs = {
        dtype: perturbation_losses(
            spec, model.raw(), x, y, w, PerturbationConfig(betas, 5, dtype=dtype), directions
        )
        for dtype in ("float64", "float32")
    }
    for single, double in zip(runs["float32"], runs["float64"]):
        np.testing.assert_allclose(single, double, rtol=1e-4)
    spec, model, x, y, w = setup_linear("full", generator)
    directions = draw_directions(model.raw(), 4, generator)
    exact = {
        dtype: perturbation_losses(
            spec, model.raw(), x, y, w, PerturbationConfig(betas, 4, dtype=dtype), directions
        )
        for dtype in ("float64", "float32")
    }
    for single, double in zip(exact["float32"], exact["float64"]):
        np.testing.assert_array_equal(single, double)


@pytest.mark.parametrize("structure", ["diagonal", "full", "orthogonal"])
def test_exact_quadratic_form_with_several_inputs_and_outputs(structure, generator):
    spec = StudentSpec(width=4, structure=structure, input_dim=2, output_dim=3)
    model = StudentRNN(spec, generator)
    x = torch.randn(32, 15, 2, generator=generator)
    y = torch.randn(32, 15, 3, generator=generator)
    betas, w = tuple(beta_grid(1e-2, 2.0, 6)), time_weights(15, 2)
    directions = draw_directions(model.raw(), 4, generator)
    exact, direct = (
        perturbation_losses(
            spec, model.raw(), x, y, w, PerturbationConfig(betas, 4, method=method), directions
        )
        for method in ("exact", "ensemble")
    )
    for u, v in zip(exact, direct):
        np.testing.assert_allclose(u, v, rtol=1e-9)


def test_beta_zero_is_one_evaluation_of_the_trained_model(generator):
    spec, model, x, y, w = setup_linear("diagonal", generator)
    config = PerturbationConfig(betas=(0.0, 0.01), draws=4)
    directions = draw_directions(model.raw(), 4, generator)
    losses = perturbation_losses(spec, model.raw(), x, y, w, config, directions)
    assert len(losses[0]) == 1 and len(losses[1]) == 4
    with torch.no_grad():
        direct = float(weighted_mse(run_student(spec, model.weights(False), x), y, w))
    assert losses[0][0] == pytest.approx(direct, rel=1e-10)


def test_divergent_draws_count_as_infinity(generator):
    spec = StudentSpec(width=4, activation="relu", parameterization="direct")
    model = StudentRNN(spec, generator)
    x = torch.randn(16, 60, 1, generator=generator)
    y = torch.randn(16, 60, 1, generator=generator)
    config = PerturbationConfig(betas=(0.0, 5.0), draws=8, divergence_ratio=10.0)
    directions = draw_directions(model.raw(), 8, generator)
    losses = perturbation_losses(spec, model.raw(), x, y, time_weights(60, 2), config, directions)
    assert np.isfinite(losses[0][0])
    assert np.isinf(losses[1]).any()


def test_loss_table_round_trips():
    losses = [np.array([0.5]), np.array([1.0, math.inf, 2.0])]
    betas, back = losses_from_table(losses_table((0.0, 0.1), losses))
    np.testing.assert_array_equal(betas, [0.0, 0.1])
    for a, b in zip(losses, back):
        np.testing.assert_array_equal(a, b)


def draw_loss_by_step_loop(spec, raw, x, y, w):
    """One perturbed model, evaluated by the plain autograd step loop (independent of the
    ensemble path); relu acts on the drive, h_{k+1} = h_k + dt (relu(z_k) - A h_k)."""
    weights = effective_weights(spec, raw, constrained=False)
    z = x @ weights.U.t() + weights.b
    activation = spec.activation
    if activation == "relu":
        z, activation = torch.relu(z), "linear"
    states = step_loop(z, weights.recurrence, spec.dt, activation)
    return float(weighted_mse(states @ weights.c.t() + weights.c0, y, w))


def runs_away_by_eigenvalues(spec, raw):
    """Oracle of models.runaway: the general eigenvalues of the dense A, built by hand (an
    orthogonal student's A = Q^T diag(lam) Q has the eigenvalues lam for every orthogonal Q)."""
    lam = raw["w"].double().numpy()  # direct parameterization: lam = w
    if spec.structure == "full":
        P = raw["P"].double().numpy()
        mu = np.linalg.eigvals(P.T @ np.diag(lam) @ P).real
    else:
        mu = lam
    on_state = spec.activation in ("linear", "relu")
    return bool(mu.min() < -1e-9 or (on_state and mu.max() > 2 / spec.dt + 1e-9))


@pytest.mark.parametrize("structure", ["diagonal", "full", "orthogonal"])
def test_skipped_evaluations_leave_every_draw_curve_unchanged(structure, generator, monkeypatch):
    """Diverged draws are not evaluated again and chunks stop early; each draw's running max over
    beta (what E_m and its bootstrap over draws use) equals that of evaluating everything."""
    monkeypatch.setattr(recurrence, "STEP_ELEMENTS", 1)  # chunks of chunk_elements only
    spec = StudentSpec(width=5, structure=structure, activation="relu")
    model = StudentRNN(spec, generator)
    x = torch.randn(24, 50, 1, generator=generator)
    y = torch.randn(24, 50, 1, generator=generator)
    w = time_weights(50, 2)
    betas = tuple(beta_grid(0.05, 2.0, 8))
    config = PerturbationConfig(betas, 6, divergence_ratio=20.0, chunk_elements=6 * 50 * 4)
    directions = draw_directions(model.raw(), 6, generator)
    got = perturbation_losses(spec, model.raw(), x, y, w, config, directions)
    limit = 20.0 * float(weighted_mse(torch.zeros_like(y), y, w))
    expected = np.array(
        [
            [
                draw_loss_by_step_loop(
                    spec,
                    {k: v[r] for k, v in perturbed(model.raw(), directions, b).items()},
                    x,
                    y,
                    w,
                )
                for r in range(6)
            ]
            for b in betas[1:]
        ]
    )
    expected[~(expected <= limit)] = math.inf
    away = np.array(
        [
            [
                runs_away_by_eigenvalues(
                    spec, {k: v[r] for k, v in perturbed(model.raw(), directions, b).items()}
                )
                for r in range(6)
            ]
            for b in betas[1:]
        ]
    )
    expected[away] = math.inf
    assert np.isinf(expected).any() and np.isfinite(expected).any()
    got_draws = np.array(got[1:])
    np.testing.assert_allclose(
        np.maximum.accumulate(got_draws, axis=0),
        np.maximum.accumulate(expected, axis=0),
        rtol=1e-10,
    )
    finite = np.isfinite(got_draws)
    np.testing.assert_allclose(got_draws[finite], expected[finite], rtol=1e-10)


def test_ensemble_stops_a_model_once_its_partial_loss_exceeds_the_limit(generator, monkeypatch):
    monkeypatch.setattr(recurrence, "STEP_ELEMENTS", 1)  # chunks of chunk_elements only
    sizes = []

    def counting_run_student(spec, weights, x):
        sizes.append(weights.U.shape[0])
        return run_student(spec, weights, x)

    spec = StudentSpec(width=4, activation="tanh", structure="full")
    model = StudentRNN(spec, generator)
    x = torch.randn(40, 30, 1, generator=generator)
    y = torch.zeros(40, 30, 1)
    y[:8] = 50.0  # the first chunk alone holds most of the error
    w = time_weights(30, 2)
    directions = draw_directions(model.raw(), 5, generator)
    ensemble = effective_weights(spec, perturbed(model.raw(), directions, 0.5), constrained=False)
    full = ensemble_losses(spec, ensemble, x, y, w, chunk_elements=5 * 30 * 8)
    limit = float(full.median())
    monkeypatch.setattr(perturbation, "run_student", counting_run_student)
    stopped = ensemble_losses(spec, ensemble, x, y, w, chunk_elements=5 * 30 * 8, limit=limit)
    above = full > limit
    assert above.any() and (~above).any()
    assert torch.isinf(stopped[above]).all()
    torch.testing.assert_close(stopped[~above], full[~above], rtol=1e-12, atol=0)
    assert sizes[0] == 5 and sizes[-1] == int((~above).sum())  # the diverged left after chunk 1


def test_betas_must_be_ascending():
    with pytest.raises(ValueError, match="perturbation.betas: must be ascending"):
        PerturbationConfig(betas=(0.0, 0.2, 0.1))


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "hardtanh"])
def test_a_runaway_recurrence_is_infinite_however_short_the_horizon(activation, generator):
    """A mode at lam = 0.002 pushed below 0 grows by at most (1 + dt |lam|)^50 ~ 1.2 on 50
    steps, far below the divergence ratio, yet its error over all times is infinite: exactly
    the draws whose perturbed lam goes negative are +inf. lam > 2 / dt runs away only when the
    step is linear in h (linear, relu drive form); tanh and hardtanh keep that oscillation
    bounded."""
    spec = StudentSpec(width=3, activation=activation)
    model = StudentRNN(spec, generator)
    with torch.no_grad():
        model.w.copy_(torch.tensor([0.002, 0.5, 1.999]))
    x = torch.randn(16, 50, 1, generator=generator)
    y = torch.randn(16, 50, 1, generator=generator)
    config = PerturbationConfig((0.0, 0.004), 40, divergence_ratio=1e4)
    directions = draw_directions(model.raw(), 40, generator)
    losses = perturbation_losses(spec, model.raw(), x, y, time_weights(50, 2), config, directions)
    lam = (model.w.detach() + 0.004 * directions["w"]).numpy()
    expected = lam.min(axis=1) < 0
    if activation in ("linear", "relu"):
        expected |= lam.max(axis=1) > 2.0
    assert np.isfinite(losses[0][0])
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(np.isinf(losses[1]), expected)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_runaway_of_a_full_a_follows_its_eigenvalues_not_rounding(activation, generator):
    """A = P^T diag(lam) P with a non-orthogonal P (as perturbed) has the inertia of diag(lam):
    an eigenvalue -1e-4 runs away (the oracle: general eigenvalues of the dense A), while a
    mode at exactly 0 stored in float32, which rounding moves below 0 in some draws, does not."""
    spec = StudentSpec(width=4, structure="full", activation=activation)
    rounded_below = 0
    for lam0 in [0.0] * 20 + [-1e-4] * 5:
        model = StudentRNN(spec, generator, dtype=torch.float32)
        with torch.no_grad():
            model.w.copy_(torch.tensor([lam0, 0.1, 0.3, 0.5]))
            model.P.add_(0.2 * torch.randn(4, 4, generator=generator))
            weights = effective_weights(spec, model.raw(), constrained=False)
        assert bool(runaway(spec, weights)) is (lam0 < 0)
        if lam0 < 0:
            assert runs_away_by_eigenvalues(spec, {k: v.detach() for k, v in model.raw().items()})
        rounded_below += bool(torch.linalg.eigvalsh(weights.recurrence).min() < 0)
    assert rounded_below > 0  # the tolerance is needed
