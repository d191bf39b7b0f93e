"""Targets (teachers) and the datasets they generate.

Inputs are white noise x_k = dt * xi_k, xi_k ~ N(0, 1) i.i.d. (optionally their cumulative sum,
a Gaussian-process input). A linear-functional target maps them to
y_k = sum_{s=0..k} rho(s dt) x_{k-s}, computed by zero-padded FFT convolution in O(T log T).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

SPLITS = ("train", "valid", "test")


def fft_convolve(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution y_k = sum_{s=0..k} kernel_s x_{k-s} along time, by FFT.

    x: (batch, T, d). kernel: (T,) for a scalar kernel, or (T, out, d).
    Returns (batch, T, out). Zero padding to 2T makes the circular FFT convolution causal.
    """
    batch, length, dim = x.shape
    if kernel.dim() == 1:
        if dim != 1:
            raise ValueError(f"a scalar kernel needs one input channel, got {dim}")
        kernel = kernel.reshape(-1, 1, 1)
    if kernel.shape[0] != length or kernel.shape[2] != dim:
        raise ValueError(
            f"kernel shape {tuple(kernel.shape)} does not match input {tuple(x.shape)}"
        )
    size = 2 * length
    x_hat = torch.fft.rfft(x, n=size, dim=1)
    k_hat = torch.fft.rfft(kernel.to(x.dtype), n=size, dim=0)
    y_hat = torch.einsum("bfi,foi->bfo", x_hat, k_hat)
    return torch.fft.irfft(y_hat, n=size, dim=1)[:, :length, :]


def white_noise(
    count: int,
    length: int,
    dim: int,
    dt: float,
    generator: torch.Generator,
    cumulative: bool = False,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """x_k = dt xi_k, xi ~ N(0, 1): shape (count, length, dim); summed over k if cumulative."""
    x = dt * torch.randn(count, length, dim, generator=generator, dtype=dtype)
    return torch.cumsum(x, dim=1) if cumulative else x


class LinearFunctional(torch.nn.Module):
    """y_k = sum_{s=0..k} rho(s dt) x_{k-s}: a linear time-invariant target with memory |rho|."""

    def __init__(self, rho: np.ndarray):
        super().__init__()
        self.register_buffer("rho", torch.as_tensor(np.asarray(rho, dtype=float)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        if length > self.rho.shape[0]:
            raise ValueError(
                f"sequence of length {length} exceeds the kernel's {self.rho.shape[0]}"
            )
        return fft_convolve(x, self.rho[:length].to(x.dtype))


@dataclass(frozen=True)
class InputSpec:
    """How inputs are drawn: sequence length T, step dt, input dim, and the input process."""

    length: int = 100
    dt: float = 1.0
    dim: int = 1
    cumulative: bool = False


def make_splits(
    teacher: Callable[[torch.Tensor], torch.Tensor],
    sizes: Mapping[str, int],
    inputs: InputSpec,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
    chunk: int = 1024,
) -> dict[str, torch.Tensor]:
    """Draw inputs for each split and label them with the teacher, ``chunk`` samples at a time
    (a width-256 RNN teacher holds n x T x 256 values: 26 GB at once for 128k sequences).

    Returns {"train/x", "train/y", "valid/x", ...}: x (n, T, d), y (n, T, out).
    """
    data: dict[str, torch.Tensor] = {}
    for split in SPLITS:
        x = white_noise(
            sizes[split], inputs.length, inputs.dim, inputs.dt, generator, inputs.cumulative, dtype
        )
        with torch.no_grad():
            y = torch.cat([teacher(part) for part in x.split(chunk)])
        data[f"{split}/x"] = x.contiguous()
        data[f"{split}/y"] = y.to(dtype).contiguous()
    return data


def held_out_samples(
    data: Mapping[str, torch.Tensor], samples: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): the first ``samples`` sequences of the test split of :func:`make_splits`."""
    return data["test/x"][:samples], data["test/y"][:samples]
