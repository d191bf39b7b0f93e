import numpy as np
import pytest
import torch

from curse_of_memory.shared.encodings import sinusoidal_positions
from curse_of_memory.shared.fits import fit_line, mean_and_error


def test_fit_line_recovers_a_line_and_its_r2(rng):
    x = rng.random(20)
    exact = fit_line(x, 3.0 - 2.0 * x)
    assert (exact.slope, exact.intercept) == pytest.approx((-2.0, 3.0))
    assert exact.r2 == pytest.approx(1.0) and exact.rss == pytest.approx(0.0, abs=1e-24)
    y = 1.0 + x + rng.normal(size=20)
    noisy = fit_line(x, y)
    assert noisy.rss == pytest.approx(np.sum((y - noisy.intercept - noisy.slope * x) ** 2))
    assert noisy.r2 == pytest.approx(1 - noisy.rss / np.sum((y - y.mean()) ** 2))
    assert fit_line(x, np.full(20, 2.0)).r2 == 1.0  # a constant: nothing left to explain


def test_mean_and_error_is_the_sample_standard_error(rng):
    values = rng.normal(size=(5, 3))
    mean, error = mean_and_error(values)
    np.testing.assert_allclose(mean, values.mean(axis=0))
    np.testing.assert_allclose(error, np.sqrt(values.var(axis=0, ddof=1) / 5))
    single_mean, single_error = mean_and_error(values[:1])
    np.testing.assert_array_equal(single_error, 0.0)
    np.testing.assert_array_equal(single_mean, values[0])


def test_sinusoidal_positions_follow_the_formula():
    table = sinusoidal_positions(7, 6, torch.float64)
    k, i = 5, 2
    assert table[k, 2 * i] == pytest.approx(np.sin(k / 10000 ** (2 * i / 6)))
    assert table[k, 2 * i + 1] == pytest.approx(np.cos(k / 10000 ** (2 * i / 6)))
    assert table.shape == (7, 6) and torch.all(table[0, 1::2] == 1)
