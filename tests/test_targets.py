import numpy as np
import torch

from curse_of_memory.shared.seeding import derive_seed, torch_generator
from curse_of_memory.targets.datasets import InputSpec, LinearFunctional, fft_convolve, make_splits
from curse_of_memory.targets.teachers import RandomTanhRNN


def direct_convolution(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The oracle: y[b, k, o] = sum_{s=0..k} sum_i kernel[s, o, i] x[b, k - s, i]."""
    batch, length, _ = x.shape
    y = np.zeros((batch, length, kernel.shape[1]))
    for k in range(length):
        for s in range(k + 1):
            y[:, k, :] += x[:, k - s, :] @ kernel[s].T
    return y


def test_fft_convolution_equals_direct_double_sum(rng):
    x = rng.standard_normal((4, 37, 1))
    rho = (1 + np.arange(37.0)) ** -1.1
    got = fft_convolve(torch.as_tensor(x), torch.as_tensor(rho)).numpy()
    np.testing.assert_allclose(got, direct_convolution(x, rho.reshape(-1, 1, 1)), atol=1e-13)


def test_fft_convolution_with_matrix_kernel(rng):
    x = rng.standard_normal((3, 16, 2))
    kernel = rng.standard_normal((16, 3, 2)) * np.exp(-np.arange(16.0))[:, None, None]
    got = fft_convolve(torch.as_tensor(x), torch.as_tensor(kernel)).numpy()
    np.testing.assert_allclose(got, direct_convolution(x, kernel), atol=1e-13)


def test_splits_are_reproducible_from_the_seed():
    teacher = LinearFunctional(0.9 ** np.arange(20.0))
    sizes = {"train": 8, "valid": 4, "test": 4}
    first = make_splits(teacher, sizes, InputSpec(length=20), torch_generator(1, "a"))
    second = make_splits(teacher, sizes, InputSpec(length=20), torch_generator(1, "a"))
    other = make_splits(teacher, sizes, InputSpec(length=20), torch_generator(1, "b"))
    for name in first:
        assert torch.equal(first[name], second[name])
    assert not torch.equal(first["train/x"], other["train/x"])
    assert first["train/x"].shape == (8, 20, 1) and first["test/y"].shape == (4, 20, 1)
    assert not torch.equal(first["train/x"][:4], first["valid/x"])


def test_cumulative_inputs_are_the_running_sum():
    spec = InputSpec(length=10, dt=0.5, cumulative=True)
    teacher = LinearFunctional(np.ones(10))
    data = make_splits(teacher, {"train": 2, "valid": 1, "test": 1}, spec, torch_generator(0))
    increments = torch.diff(data["train/x"], dim=1, prepend=torch.zeros(2, 1, 1))
    assert torch.all(increments.abs() < 5)  # dt * N(0, 1) increments
    assert not torch.allclose(increments, data["train/x"])


def test_derived_seeds_depend_on_every_key():
    assert derive_seed(1, "teacher", "e", "t0") == derive_seed(1, "teacher", "e", "t0")
    assert derive_seed(1, "teacher", "e", "t0") != derive_seed(1, "teacher", "e", "t1")
    assert 0 <= derive_seed("x") < 2**63


def test_labels_in_chunks_equal_the_teacher_on_the_whole_split():
    teacher = RandomTanhRNN(16, 0.9, torch_generator(0, "teacher"))
    sizes = {"train": 11, "valid": 5, "test": 3}
    data = make_splits(teacher, sizes, InputSpec(length=30), torch_generator(2), chunk=4)
    for split in sizes:
        with torch.no_grad():
            whole = teacher(data[f"{split}/x"])
        torch.testing.assert_close(data[f"{split}/y"], whole, rtol=1e-13, atol=1e-15)
