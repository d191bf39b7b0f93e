"""A diagonal state-space layer in the S4D style (S4D-Lin initialisation), stacked into a model.

Channel h = 1..H holds N/2 complex modes with

    A_n = -1/2 + i pi n,   B_n = 1,   C_hn ~ CN(0, 1),   log Delta_h ~ U(log dt_min, log dt_max),

discretised by zero-order hold, which gives the causal convolution kernel

    K_h(k) = 2 Re sum_n C_hn (exp(Delta_h A_n) - 1) / A_n * exp(k Delta_h A_n),   k = 0..T-1.

A layer maps u (batch, T, H) to u + Linear(GELU(K * u + D u)); the model encodes the input with a
linear map to H channels and stacks ``layers`` such layers. Parameters come from the global torch
generator (as torch.nn modules do); seed it, or wrap construction in torch.random.fork_rng.
"""

from __future__ import annotations

import math

import torch


def depthwise_convolve(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """y_k = sum_{s<=k} K_s u_{k-s} per channel, by zero-padded FFT; u (B, T, H), K (T, H)."""
    length = u.shape[1]
    size = 2 * length
    spectrum = torch.fft.rfft(u.transpose(1, 2), n=size) * torch.fft.rfft(kernel.t(), n=size)
    return torch.fft.irfft(spectrum, n=size)[..., :length].transpose(1, 2)


class DiagonalSSMLayer(torch.nn.Module):
    """One S4D-Lin layer with GELU, position-wise mixing and a residual connection."""

    def __init__(self, channels: int, state: int, dt_range: tuple[float, float]):
        super().__init__()
        modes = state // 2
        low, high = math.log(dt_range[0]), math.log(dt_range[1])
        self.log_dt = torch.nn.Parameter(low + (high - low) * torch.rand(channels))
        self.A_real = torch.nn.Parameter(torch.full((channels, modes), -0.5))
        self.A_imag = torch.nn.Parameter(math.pi * torch.arange(modes).repeat(channels, 1).float())
        self.C = torch.nn.Parameter(torch.randn(channels, modes, 2) * math.sqrt(0.5))
        self.D = torch.nn.Parameter(torch.randn(channels))
        self.mix = torch.nn.Linear(channels, channels)

    def kernel(self, length: int) -> torch.Tensor:
        """K (T, H) of the formula in the module docstring, in real arithmetic."""
        dt = torch.exp(self.log_dt).unsqueeze(-1)
        A = torch.complex(self.A_real, self.A_imag)
        weight = torch.view_as_complex(self.C.contiguous()) * torch.expm1(dt * A) / A
        steps = torch.arange(length, dtype=self.A_real.dtype).reshape(-1, 1, 1)
        decay = torch.exp(steps * (dt * self.A_real))
        phase = steps * (dt * self.A_imag)
        modes = weight.real * torch.cos(phase) - weight.imag * torch.sin(phase)
        return 2 * (decay * modes).sum(-1)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        y = depthwise_convolve(u, self.kernel(u.shape[1])) + self.D * u
        return u + self.mix(torch.nn.functional.gelu(y))


class DiagonalSSM(torch.nn.Module):
    """Linear encoder (d -> H), then ``layers`` DiagonalSSMLayer: (B, T, d) -> (B, T, H)."""

    def __init__(
        self,
        input_dim: int,
        channels: int,
        layers: int,
        state: int = 16,
        dt_range: tuple[float, float] = (1e-3, 1e-1),
    ):
        super().__init__()
        self.encoder = torch.nn.Linear(input_dim, channels)
        self.layers = torch.nn.ModuleList(
            DiagonalSSMLayer(channels, state, dt_range) for _ in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.encoder(x)
        for layer in self.layers:
            u = layer(u)
        return u
