import numpy as np
import pytest
import torch

torch.set_default_dtype(torch.float64)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def generator():
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def checkout(tmp_path_factory):
    """A copy of the workflow with .test/config.yaml, run to the end (one run per session)."""
    from test_dot_test import finished_checkout

    return finished_checkout(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A copy of the workflow with tests/test_workflow.py's TINY config, run to the end: one run
    for that module and tests/test_damaged_results.py (which leaves it as it found it)."""
    from test_workflow import TINY, finished_run

    return finished_run(tmp_path_factory, "workflow", TINY)
