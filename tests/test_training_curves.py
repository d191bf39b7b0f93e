import numpy as np
import pytest
import torch

from curse_of_memory.com.training_curves import CurveConfig, training_curve


def test_gradient_descent_curve_matches_the_closed_form():
    """L(w) = mean((w x - y)^2) with x = 1, y = 0: w_k = w_0 (1 - 2 lr)^k, L = w_k^2."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(2.0)
    x, y = torch.ones(3, 1, 1), torch.zeros(3, 1, 1)
    losses = training_curve(model, x, y, CurveConfig("gd", 0.1, 8), log=lambda _: None)
    np.testing.assert_allclose(losses, 4.0 * 0.8 ** (2 * np.arange(9)))


def test_weights_scale_the_residual_of_each_step():
    """mean_k (w_k r)^2 with r = 1 at every step: L = mean(w^2)."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    x, y = torch.ones(2, 3, 1), torch.zeros(2, 3, 1)
    weights = torch.tensor([1.0, 2.0, 3.0])
    config = CurveConfig("gd", 1e-9, 1)
    losses = training_curve(model, x, y, config, weights, log=lambda _: None)
    assert losses[0] == pytest.approx(14.0 / 3)


def test_adam_reduces_the_loss_and_unknown_optimizers_fail():
    model = torch.nn.Linear(2, 1)
    x = torch.randn(16, 5, 2, generator=torch.Generator().manual_seed(0))
    y = x @ torch.tensor([[1.0], [-2.0]])
    losses = training_curve(model, x, y, CurveConfig("adam", 0.05, 200), log=lambda _: None)
    assert losses[-1] < 1e-2 * losses[0]
    with pytest.raises(ValueError, match="optimizer"):
        CurveConfig("lbfgs")
