"""The workflow on a real SLURM cluster, through the slurm profile (pytest -m slurm).

Uses a reachable cluster, or, as root on Debian, starts a single-node cluster with
.ci/slurm-up.sh and stops it by PID afterwards. Elsewhere the test is skipped with the reason,
unless CURSE_OF_MEMORY_REQUIRE_SLURM=1 (CI), where not having SLURM is a failure.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from test_workflow import TINY, copy_workflow, csv_bytes

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slurm, pytest.mark.workflow]


def cluster_is_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    state = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
    return state.returncode == 0 and "idle" in state.stdout


@pytest.fixture(scope="module")
def slurm_cluster():
    started = False
    if not cluster_is_up():
        reason = None
        if os.geteuid() != 0:
            reason = "no SLURM cluster reachable and not root, so none can be started"
        elif shutil.which("apt-get") is None:
            reason = "no SLURM cluster reachable and no apt-get to install one"
        if reason:
            if os.environ.get("CURSE_OF_MEMORY_REQUIRE_SLURM") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
        up = subprocess.run(["bash", str(REPO / ".ci/slurm-up.sh")], capture_output=True, text=True)
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        started = True
    yield
    if started:
        subprocess.run(["bash", str(REPO / ".ci/slurm-down.sh")], check=False)


SLURM_CONFIG = {
    **TINY,
    "experiments": {k: v for k, v in TINY["experiments"].items() if k != "tiny_filter"},
    "figures": {k: v for k, v in TINY["figures"].items() if k != "T-3"},
}


def test_workflow_runs_on_slurm_with_the_numbers_of_a_local_run(slurm_cluster, tmp_path):
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for root in (on_slurm, local):
        copy_workflow(root, SLURM_CONFIG)
    result = subprocess.run(
        [
            "snakemake",
            "--workflow-profile",
            "workflow/profiles/slurm",
            "--slurm-status-command",
            "squeue",
            "--slurm-init-seconds-before-status-checks",
            "5",
            "--jobs",
            "4",
            "--group-components",
            "perturbation=2",
            "analysis=2",
        ],
        cwd=on_slurm,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    logs = sorted((on_slurm / "results/logs").rglob("*.log"))
    assert logs
    job_ids = {
        match.group(1) for log in logs for match in re.finditer(r"SLURM job (\d+)", log.read_text())
    }
    assert len(job_ids) >= 4, "rule logs should name the SLURM jobs they ran in"
    local_run = subprocess.run(
        ["snakemake", "--cores", "2"], cwd=local, capture_output=True, text=True
    )
    assert local_run.returncode == 0, local_run.stderr[-3000:]
    assert csv_bytes(on_slurm) == csv_bytes(local)
    assert yaml.safe_load((on_slurm / "config.yaml").read_text()) == SLURM_CONFIG
