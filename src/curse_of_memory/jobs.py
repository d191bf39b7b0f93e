"""Set-up shared by the workflow's job scripts: thread count and a line-buffered log."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import torch

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def start_job(log_path: str | os.PathLike, threads: int) -> Callable[[str], None]:
    """Send stdout/stderr to ``log_path`` (line-buffered), use ``threads`` threads.

    Returns log(message), which prints the message with the elapsed seconds, so that
    ``tail -f`` on a running job's log shows where it is.
    """
    stream = open(log_path, "w", buffering=1)  # noqa: SIM115 (lives as long as the job)
    sys.stdout = sys.stderr = stream
    torch.set_num_threads(max(1, int(threads)))
    start = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:8.1f}s] {message}", flush=True)

    if "SLURM_JOB_ID" in os.environ:
        log(f"SLURM job {os.environ['SLURM_JOB_ID']} on {os.environ.get('SLURMD_NODENAME', '?')}")
    return log
