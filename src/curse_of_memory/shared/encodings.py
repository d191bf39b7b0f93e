"""Sinusoidal position encodings, shared by the transformer teacher and the sentiment classifier."""

from __future__ import annotations

import math

import torch


def sinusoidal_positions(length: int, width: int, dtype: torch.dtype) -> torch.Tensor:
    """P[k, 2i] = sin(k / 10000^(2i/width)), P[k, 2i+1] = cos(...), k = 0..length-1."""
    position = torch.arange(length, dtype=dtype).unsqueeze(1)
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, width, 2, dtype=dtype) / width)
    table = torch.zeros(length, width, dtype=dtype)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]
    return table
