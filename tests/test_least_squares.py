"""Least-squares fits of linear students against independent oracles."""

import numpy as np
import pytest
import torch

from curse_of_memory.rnn import least_squares, models
from curse_of_memory.rnn.training import time_weights, weighted_mse
from curse_of_memory.shared.seeding import torch_generator
from curse_of_memory.targets import datasets as targets


def data_of(rho, count=512, length=40):
    inputs = targets.InputSpec(length=length)
    return targets.make_splits(
        targets.LinearFunctional(np.asarray(rho)),
        {"train": count, "valid": 64, "test": 64},
        inputs,
        torch_generator(0, "data"),
    )


def test_loss_moments_give_the_weighted_mse_of_any_kernel():
    """K^T G K - 2 h^T K + L_0 equals the loss of the convolution y = K * x, computed directly."""
    length = 30
    data = data_of(0.8 ** np.arange(length), length=length)
    x, y = data["train/x"], data["train/y"]
    w = time_weights(length, 2.0)
    moments = least_squares.loss_moments(x[..., 0].numpy(), y[..., 0].numpy(), w.numpy())
    kernel = np.random.default_rng(1).normal(size=length) / (1 + np.arange(length))
    direct = float(weighted_mse(targets.fft_convolve(x, torch.as_tensor(kernel)), y, w))
    G = moments.R.T @ moments.R
    h = moments.R.T @ moments.z
    assert kernel @ G @ kernel - 2 * h @ kernel + moments.L0 == pytest.approx(direct, rel=1e-10)


def test_an_exponential_sum_is_recovered_exactly():
    """rho = 0.9^t + 0.5 * 0.6^t: two modes fit it to rounding, with those decays; a third
    mode the target does not need carries no coefficient."""
    t = np.arange(40)
    data = data_of(0.9**t + 0.5 * 0.6**t)
    w = time_weights(40, 2.0)
    for width in (2, 3):
        student = models.StudentRNN(models.StudentSpec(width=width), torch_generator(0, width))
        fit = least_squares.fit_student(student, data["train/x"], data["train/y"], w)
        big = np.abs(fit.a) > 1e-6
        assert sorted(fit.q[big]) == pytest.approx([0.6, 0.9], rel=1e-6)
        assert sorted(fit.a[big]) == pytest.approx([0.5, 1.0], rel=1e-6)
        zero = float(weighted_mse(torch.zeros_like(data["test/y"]), data["test/y"], w))
        with torch.no_grad():
            test = float(weighted_mse(student(data["test/x"]), data["test/y"], w))
        assert test < 1e-20 * zero
        assert student.stability_margin() == pytest.approx(0.1, rel=1e-6)  # lam = 1 - q


def test_wider_fits_are_never_worse():
    """Width m starts from width m - 1's fit, so the fitted loss cannot grow with m."""
    data = data_of((1 + np.arange(40.0)) ** -1.1)
    w = time_weights(40, 2.0)
    moments = least_squares.loss_moments(
        data["train/x"][..., 0].numpy(), data["train/y"][..., 0].numpy(), w.numpy()
    )
    losses = [least_squares.fit_kernel(moments, m, 1.0).loss for m in (1, 2, 3, 4, 6)]
    assert all(b <= a * (1 + 1e-9) + 1e-15 for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 1e-3 * losses[0]


def test_a_relu_student_of_twice_the_width_is_the_linear_fit():
    """relu(z) - relu(-z) = z: the relu student of width 2m (drive form, its own step loop)
    gives the linear m-mode student's outputs, while each unit alone is not linear in x."""
    data = data_of((1 + np.arange(40.0)) ** -1.1)
    x, y, w = data["train/x"], data["train/y"], time_weights(40, 2.0)
    linear = models.StudentRNN(models.StudentSpec(width=3), torch_generator(0))
    relu = models.StudentRNN(models.StudentSpec(width=6, activation="relu"), torch_generator(1))
    for student in (linear, relu):
        least_squares.fit_student(student, x, y, w)
    with torch.no_grad():
        assert torch.allclose(relu(data["test/x"]), linear(data["test/x"]), atol=1e-12, rtol=0)
        half = relu.c.clone()
        half[:, 3:] = 0  # the units driven by relu(+U x) alone
        relu.c.copy_(half)
        doubled = relu(2 * data["test/x"]) + relu(-2 * data["test/x"])
    assert doubled.abs().max() > 1e-3  # relu(2z) + relu(-2z) = 2|z|: not odd in x


@pytest.mark.parametrize(("width", "activation"), [(2, "tanh"), (5, "relu")])
def test_a_student_without_an_exact_fit_is_refused(width, activation):
    spec = models.StudentSpec(width=width, activation=activation)
    student = models.StudentRNN(spec, torch_generator(0))
    data = data_of(0.9 ** np.arange(40))
    with pytest.raises(ValueError, match="student.fit"):
        least_squares.fit_student(student, data["train/x"], data["train/y"], time_weights(40, 2.0))
