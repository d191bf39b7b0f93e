"""Set-up shared by the workflow's job scripts: thread count and a line-buffered log."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a config precision: "float64" or "float32"."""
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


def start_job(log_path: str | os.PathLike, threads: int) -> Callable[[str], None]:
    """Send stdout/stderr to ``log_path`` (line-buffered), use ``threads`` threads.

    Torch is told directly if the job loaded it; the thread variables cover what loads later.

    Returns log(message), which prints the message with the elapsed seconds, so that
    ``tail -f`` on a running job's log shows where it is; log.summary(message) also shows it in
    the terminal (the one-line result of a long job).
    """
    stream = open(log_path, "w", buffering=1)  # noqa: SIM115 (lives as long as the job)
    sys.stdout = sys.stderr = stream
    threads = max(1, int(threads))
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    start = time.perf_counter()

    terminal = sys.__stderr__

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:8.1f}s] {message}", flush=True)

    def summary(message: str) -> None:
        """Log the message and show it in the terminal that runs the workflow too."""
        log(message)
        if terminal is not None:
            print(f"[{os.path.basename(str(log_path))}] {message}", file=terminal, flush=True)

    log.summary = summary  # type: ignore[attr-defined]
    sys.excepthook = _showing_refused_results(sys.excepthook, terminal, log_path)

    if "SLURM_JOB_ID" in os.environ:
        log(f"SLURM job {os.environ['SLURM_JOB_ID']} on {os.environ.get('SLURMD_NODENAME', '?')}")
    return log


def _showing_refused_results(hook, terminal, log_path):
    """``hook`` (the traceback, into the log), then a refused result's message in the terminal:
    which file, why, and what to do."""
    from ..shared.io import CorruptResultError

    def excepthook(kind, error, trace):
        hook(kind, error, trace)
        if terminal is not None and isinstance(error, CorruptResultError):
            print(f"[{os.path.basename(str(log_path))}] {error}", file=terminal, flush=True)

    return excepthook
