import itertools

import pytest
import torch

from curse_of_memory.rnn import recurrence
from curse_of_memory.rnn.models import (
    PARAMETERIZATIONS,
    StudentRNN,
    StudentSpec,
    effective_weights,
    impulse_response,
    run_student,
)
from curse_of_memory.rnn.recurrence import fused_recurrence, step_loop

STRUCTURES = ("diagonal", "full", "orthogonal")
PARAMS = tuple(PARAMETERIZATIONS)


def loop_outputs(model: StudentRNN, x: torch.Tensor) -> torch.Tensor:
    """The reference: the plain autograd step loop, encoder and decoder written out; relu acts
    on the drive, h_{k+1} = h_k + dt (relu(z_k) - A h_k)."""
    w = model.weights()
    z = x @ w.U.t() + w.b
    activation = model.spec.activation
    if activation == "relu":
        z, activation = torch.relu(z), "linear"
    states = step_loop(z, w.recurrence, model.spec.dt, activation)
    return states @ w.c.t() + w.c0


@pytest.mark.parametrize(("structure", "parameterization"), itertools.product(STRUCTURES, PARAMS))
def test_linear_convolution_path_equals_step_loop(structure, parameterization, generator):
    spec = StudentSpec(
        width=8,
        structure=structure,
        parameterization=parameterization,
        dt=0.7,
        input_dim=2,
        output_dim=3,
    )
    model = StudentRNN(spec, generator)
    x = torch.randn(5, 60, 2, generator=generator)
    fast = model(x)
    slow = loop_outputs(model, x)
    assert (fast - slow).abs().max() < 1e-10
    grads_fast = torch.autograd.grad(fast.pow(2).sum(), list(model.parameters()))
    grads_slow = torch.autograd.grad(slow.pow(2).sum(), list(model.parameters()))
    for a, b in zip(grads_fast, grads_slow):
        assert (a - b).abs().max() <= 1e-10 * (1 + b.abs().max())


@pytest.mark.parametrize(
    ("structure", "activation"), itertools.product(STRUCTURES, ("tanh", "hardtanh", "relu"))
)
def test_fused_backward_equals_autograd_loop(structure, activation, generator):
    spec = StudentSpec(
        width=6, structure=structure, activation=activation, parameterization="softplus"
    )
    model = StudentRNN(spec, generator)
    x = 2 * torch.randn(4, 40, 1, generator=generator)
    fast = model(x)
    slow = loop_outputs(model, x)
    assert (fast - slow).abs().max() < 1e-12
    grads_fast = torch.autograd.grad(fast.sin().sum(), list(model.parameters()))
    grads_slow = torch.autograd.grad(slow.sin().sum(), list(model.parameters()))
    for a, b in zip(grads_fast, grads_slow):
        assert (a - b).abs().max() <= 1e-10 * (1 + b.abs().max())


def test_fused_recurrence_passes_gradcheck(generator):
    z = torch.randn(6, 2, 3, generator=generator, requires_grad=True)  # (T, batch, m)
    a = torch.rand(3, 3, generator=generator, requires_grad=True)
    lam = torch.rand(3, generator=generator, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, a: fused_recurrence(z, a, 0.5, "tanh"), (z, a))
    assert torch.autograd.gradcheck(lambda z, lam: fused_recurrence(z, lam, 0.5, "tanh"), (z, lam))


def test_impulse_response_is_c_M_power_U(generator):
    spec = StudentSpec(width=4, structure="full", dt=0.5)
    model = StudentRNN(spec, generator)
    w = model.weights()
    kernel, offset = impulse_response(spec, w, 7)
    M = torch.eye(4) - 0.5 * w.recurrence
    for s in range(7):
        power = torch.linalg.matrix_power(M, s)
        assert torch.allclose(kernel[s], 0.5 * w.c @ power @ w.U, atol=1e-13)
    partial = sum(torch.linalg.matrix_power(M, s) for s in range(7))
    assert torch.allclose(offset[6], w.c0 + 0.5 * w.c @ partial @ w.b, atol=1e-13)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_ensemble_weights_evaluate_each_model(structure, generator, monkeypatch):
    monkeypatch.setattr(recurrence, "STEP_ELEMENTS", 2 * 3 * 5)  # 2 samples per streamed chunk
    spec = StudentSpec(width=5, activation="tanh", structure=structure, input_dim=2, output_dim=3)
    models = [StudentRNN(spec, generator) for _ in range(3)]
    stacked = {
        name: torch.stack([m.raw()[name].detach() for m in models]) for name in models[0].raw()
    }
    x = torch.randn(7, 12, 2, generator=generator)
    together = run_student(spec, effective_weights(spec, stacked), x)
    assert together.shape == (3, 7, 12, 3)
    for i, model in enumerate(models):
        assert torch.allclose(together[i], model(x), atol=1e-13)


@pytest.mark.parametrize("name", PARAMS)
def test_parameterization_inverse_round_trips(name):
    lam = torch.linspace(0.05, 1.5, 20)
    p = PARAMETERIZATIONS[name]
    assert torch.allclose(p.evaluated(p.inverse(lam)), lam, atol=1e-12)


def test_initial_modes_are_positive_and_margin_is_smallest_eigenvalue(generator):
    diagonal = StudentRNN(StudentSpec(width=16, eigen_init=(0.2, 0.9)), generator)
    lam = diagonal.eigenvalues()
    assert lam.min() >= 0.2 and lam.max() <= 0.9
    assert diagonal.stability_margin() == pytest.approx(float(lam.min()))
    assert diagonal.dead_modes() == 0
    full = StudentRNN(StudentSpec(width=6, structure="full"), generator)
    P = full.P.detach()
    assert torch.allclose(P @ P.t(), torch.eye(6), atol=1e-12)
    assert full.stability_margin() == pytest.approx(float(full.eigenvalues().min()), rel=1e-10)


def test_an_orthogonal_student_has_eigenvalues_lam_whatever_its_raw_P(generator):
    """Oracle: eigvalsh of the dense A = Q^T diag(lam) Q for a raw P far from orthogonal (as
    training or a perturbation leaves it), against lam; and Q from an independent Gram-Schmidt
    of P's columns."""
    spec = StudentSpec(width=5, structure="orthogonal", activation="tanh", eigen_init=(0.1, 1.5))
    model = StudentRNN(spec, generator)
    with torch.no_grad():
        model.P.add_(0.7 * torch.randn(5, 5, generator=generator, dtype=torch.float64))
    A = model.weights().recurrence
    torch.testing.assert_close(torch.linalg.eigvalsh(A), model.eigenvalues(), rtol=0, atol=1e-12)
    assert model.stability_margin() == pytest.approx(float(model.eigenvalues().min()), abs=1e-12)
    P = model.P.detach()
    columns = []
    for j in range(5):
        v = P[:, j] - sum((q @ P[:, j]) * q for q in columns)
        columns.append(v / v.norm())
    Q = torch.stack(columns, 1)
    lam = model.w.detach()  # direct: lam = w, in the order of Q's rows
    torch.testing.assert_close(A, Q.t() @ torch.diag(lam) @ Q, rtol=0, atol=1e-12)


def test_direct_projection_counts_dead_modes(generator):
    model = StudentRNN(StudentSpec(width=4), generator)
    with torch.no_grad():
        model.w.copy_(torch.tensor([-0.3, 0.2, -0.1, 0.5]))
    x = torch.randn(2, 10, 1, generator=generator)
    before = model(x)  # trained through relu
    model.project_()
    assert model.dead_modes() == 2
    assert model.stability_margin() == 0.0
    assert torch.allclose(model(x), before)
    assert torch.allclose(run_student(model.spec, model.weights(constrained=False), x), before)


def test_bad_spec_names_the_key():
    with pytest.raises(ValueError, match="student.activation"):
        StudentSpec(width=3, activation="gelu")
    with pytest.raises(ValueError, match="student.eigen_init"):
        StudentSpec(width=3, eigen_init=(0.0, 1.0))


@pytest.mark.parametrize("name", list(recurrence.ACTIVATIONS))
def test_activation_written_into_a_tensor_equals_the_activation(name, generator):
    u = 3 * torch.randn(50, generator=generator)
    expected = recurrence.ACTIVATIONS[name](u.clone())
    assert torch.equal(recurrence.INTO[name](u, torch.empty_like(u)), expected)
    assert torch.equal(recurrence.INTO[name](u, u), expected) and torch.equal(u, expected)


@pytest.mark.parametrize(
    ("structure", "activation"), itertools.product(STRUCTURES, recurrence.ACTIVATIONS)
)
def test_widened_student_computes_the_same_outputs_and_its_new_units_learn(
    structure, activation, generator
):
    """Oracle: the width-3 student's own outputs; the new units enter y only through c = 0, so
    the loss gradient reaches them through dL/dc_new = sum (dL/dy) h_new != 0."""
    spec = StudentSpec(width=3, structure=structure, activation=activation)
    small = StudentRNN(spec, generator)
    wide = small.widened(
        StudentSpec(width=7, structure=structure, activation=activation), generator
    )
    x = torch.randn(4, 25, 1, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(wide(x), small(x), rtol=0, atol=1e-12)
    assert torch.equal(wide.c[:, 3:], torch.zeros(1, 4, dtype=torch.float64))
    (wide(x) - 1.0).pow(2).mean().backward()
    reached = wide.c.grad[:, 3:] != 0  # relu: a unit whose drive stays below 0 has h = 0
    assert reached.any() if activation == "relu" else reached.all()
    if structure != "diagonal":
        eye = torch.eye(7, dtype=torch.float64)
        torch.testing.assert_close(wide.P.detach() @ wide.P.detach().t(), eye)


def test_widening_refuses_another_family(generator):
    small = StudentRNN(StudentSpec(width=3), generator)
    with pytest.raises(ValueError, match="cannot widen"):
        small.widened(StudentSpec(width=5, activation="tanh"), generator)
    with pytest.raises(ValueError, match="cannot widen"):
        small.widened(StudentSpec(width=2), generator)


def test_a_student_rebuilt_from_its_raw_weights_and_spec_text_is_the_same(generator):
    import json
    from dataclasses import asdict

    model = StudentRNN(StudentSpec(width=3, structure="full", activation="tanh"), generator)
    spec = StudentSpec.from_json(json.dumps(asdict(model.spec)))
    rebuilt = StudentRNN.from_raw(spec, model.raw())
    x = torch.randn(2, 10, 1, generator=generator, dtype=torch.float64)
    assert spec == model.spec
    assert torch.equal(rebuilt(x), model(x))
