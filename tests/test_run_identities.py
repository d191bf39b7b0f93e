"""COM runs, sentiment and digits models carry identity records too (issue 16): on the finished
.test run (every figure kind), a swapped or foreign one is refused by its reader with the file
named, and rerunning the same command restores every result byte for byte."""

import shutil
from pathlib import Path

import pytest
from test_dot_test import run

pytestmark = pytest.mark.workflow

FIX = "The file has been deleted: rerun the same snakemake command to regenerate it"
RUNS = "results/com/COM-2/runs"
DIGITS = "results/digits/softplus"
COM1 = "results/com/COM-1"

# (what, file copied, over which file, the message its reader must show). One reader job each:
# the first of two readers to refuse a file deletes it under the other.
SWAPS = [
    ("COM-2 run of another omega", f"{RUNS}/omega1/r0/summary.csv", f"{RUNS}/omega0/r0/summary.csv",
     f"{RUNS}/omega0/r0/summary.csv: it holds another result: index 1, expected 0; config "),
    ("COM-1 table of another panel", f"{COM1}/linear.csv", f"{COM1}/lorenz96.csv",
     f"{COM1}/lorenz96.csv: it holds another result: result com_linear, expected "
     "com_lorenz96"),
    ("COM-4 run of another optimizer", "results/com/COM-4/diagonal_linear/adam.csv",
     "results/com/COM-4/diagonal_linear/gd.csv",
     "results/com/COM-4/diagonal_linear/gd.csv: it holds another result: optimizer adam, "
     "expected gd"),
    ("sentiment model replaced by a digits model", "results/digits/direct/r0/model.safetensors",
     "results/sentiment/bilstm/model.safetensors",
     "results/sentiment/bilstm/model.safetensors: it holds another result: result digits_model, "
     "expected sentiment_model"),
    ("digits model of another repeat", f"{DIGITS}/r0/model.safetensors",
     f"{DIGITS}/r1/model.safetensors",
     f"{DIGITS}/r1/model.safetensors: it holds another result: repeat 0, expected 1 (found: "),
]  # fmt: skip


def results(root: Path) -> dict[str, bytes]:
    """Every result's bytes (not the logs, the benchmarks, the run times, the images)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for suffix in ("csv", "json", "safetensors")
        for p in sorted(root.glob(f"results/**/*.{suffix}"))
        if p.name != "runtimes.csv"
    }


def test_a_swapped_run_or_model_is_refused_naming_it_then_regenerated(checkout):
    root = checkout / ".test"
    before = results(root)
    for _, source, target, _ in SWAPS:
        assert target in before and source in before
        shutil.copyfile(root / source, root / target)
    refused = run(checkout, "--keep-going")  # independent readers: every refusal shows
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    for what, *_, message in SWAPS:
        assert message in output, f"{what}: {output[-3000:]}"
    assert FIX in output
    rerun = run(checkout)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert results(root) == before
