"""The package-only example runs end to end and prints a verdict."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_kernel_to_verdict_example_prints_a_verdict():
    # the package from this checkout, installed or not
    path = [str(REPO / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    run = subprocess.run(
        [sys.executable, str(REPO / "examples" / "kernel_to_verdict.py"), "--tiny"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert re.search(r"^E_m\(0\): .*m=2: .*m=4: ", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^crossings: m=2/4: ", run.stdout, re.MULTILINE), run.stdout
    verdict = re.search(
        r"^verdict: (stable|unstable|undetermined) \(.+\)$", run.stdout, re.MULTILINE
    )
    assert verdict, run.stdout[-2000:]
