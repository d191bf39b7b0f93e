"""Seeds derived from names, never from execution order.

Every random draw of the workflow is seeded from (global seed, stage, identifiers), so a job
gives the same numbers alone, in parallel, locally or on a cluster.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


def derive_seed(*keys: object) -> int:
    """Return a 63-bit seed: the first 8 bytes of SHA-256("k1/k2/...") as an integer."""
    text = "/".join(str(key) for key in keys)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def torch_generator(*keys: object) -> torch.Generator:
    """A CPU torch.Generator seeded with derive_seed(*keys)."""
    import torch  # analysis stages seed numpy only and never load torch

    generator = torch.Generator()
    generator.manual_seed(derive_seed(*keys))
    return generator


def numpy_generator(*keys: object) -> np.random.Generator:
    """A numpy Generator seeded with derive_seed(*keys)."""
    return np.random.default_rng(derive_seed(*keys))
