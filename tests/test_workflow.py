"""The real workflow on a tiny config, run by Snakemake in a temporary directory."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib import image

from curse_of_memory.shared.io import read_json

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.workflow

TINY = {
    "scale": "default",
    "seed": 7,
    "dtype": "float64",
    "defaults": {
        "inputs": {"length": 24, "dt": 1.0, "dim": 1, "cumulative": False},
        "data": {"train": 128, "valid": 64, "test": 64},
        "student": {
            "structure": "diagonal",
            "parameterization": "direct",
            "activation": "linear",
            "eigen_init": [0.05, 1.0],
        },
        "training": {
            "lr": 0.01,
            "weight_decay": 0.0,
            "batch_size": 64,
            "grad_clip": 0.5,
            "plateau_factor": 0.1,
            "plateau_patience": 10,
            "loss": "weighted",
            "weight_power": 2.0,
            "stop_loss": 1e-8,
            "max_epochs": 15,
            "log_every": 5,
        },
        "perturbation": {
            "beta_base": 1e-3,
            "beta_ratio": 4.0,
            "beta_count": 8,
            "draws": 5,
            "divergence_ratio": 1e4,
            "method": "auto",
            "chunk_elements": 1000000,
            "samples": 64,
        },
        "memory": {"draws": 4, "tail_start": 0.3, "floor": 1e-10, "min_decay_factor": 2.0},
        "stability": {
            "slope_tolerance": 0.5,
            "margin_slope_tolerance": 0.5,
            "min_crossings": 2,
            "bootstrap": 20,
            "confidence": 0.9,
            "require_margin_agreement": True,
        },
    },
    "experiments": {
        "tiny_geometric": {
            "teacher": {"kind": "linear_functional", "kernel": {"family": "geom", "q": 0.7}},
            "student": {"widths": [1, 2, 4]},
        },
        "tiny_filter": {  # restarts: training stops once 3 epochs gain less than 20%
            "teacher": {"kind": "tanh_rnn", "width": 16, "gains": [0.5, 1.5]},
            "student": {"widths": [1, 2, 4], "activation": "tanh", "attempts": 3},
            "training": {"converge_window": 3, "converge_tolerance": 0.2},
        },
        "tiny_user": {
            "teacher": {
                "kind": "linear_functional",
                "kernel": {"family": "expr", "formula": "exp(-t/4) * cos(t/2)"},
            },
            "student": {
                "widths": [2, 3, 5],
                "activation": "tanh",
                "parameterization": "softplus",
                "structure": "full",
                "warm_start": True,
            },
        },
    },
    "figures": {
        "T-3": {"kind": "filter", "experiment": "tiny_filter"},
        "T-1": {"kind": "perturbation", "experiment": "tiny_geometric", "expect": "stable"},
        "T-2": {
            "kind": "perturbation",
            "experiment": "tiny_user",
            "expect": "stable",
            "title": "a user's own kernel",
        },
    },
}


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["snakemake", "--cores", "2", *args], cwd=workdir, capture_output=True, text=True
    )


def copy_workflow(root: Path, config: dict) -> None:
    """The workflow's files and ``config`` as config.yaml, in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, root / name)
    for name in ("workflow", "src"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "config.yaml").write_text(yaml.safe_dump(config))


def finished_run(tmp_path_factory, name: str, config: dict) -> Path:
    """A copy of the workflow with ``config``, run to the end."""
    root = tmp_path_factory.mktemp(name)
    copy_workflow(root, config)
    result = snakemake(root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def workdir(tiny_run):
    return tiny_run


def csv_bytes(root: Path) -> dict[str, bytes]:
    """Every result CSV (not runtimes.csv: wall times are measurements, not results)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.glob("results/**/*.csv"))
        if p.name != "runtimes.csv"
    }


def test_figures_claims_and_verdicts_are_produced(workdir):
    for figure in ("T-1", "T-2"):
        for ext in ("png", "pdf", "csv"):
            assert (workdir / f"results/figures/{figure}.{ext}").stat().st_size > 0
        table = pd.read_csv(workdir / f"results/figures/{figure}.csv")
        assert list(table.columns) == ["figure", "width", "beta", "E", "diverged"]
        for width, group in table.groupby("width"):
            assert group["E"].is_monotonic_increasing, width
    claims = pd.read_csv(workdir / "results/claims.csv")
    assert list(claims.columns) == ["figure", "claim", "value", "threshold", "verdict"]
    assert set(claims["figure"]) == {"T-1", "T-2", "T-3"}
    assert set(claims["verdict"]) <= {"pass", "fail"}
    for experiment in ("tiny_geometric", "tiny_user"):
        analysis = read_json(workdir / f"results/stability/{experiment}/t0.json")
        assert analysis["verdict"] in ("stable", "unstable", "undetermined")
        assert len(analysis["crossings"]) == len(analysis["widths"]) - 1
    metrics = read_json(workdir / "results/students/tiny_user/t0/m5/metrics.json")
    assert metrics["spec"]["structure"] == "full" and metrics["dead_modes"] == 0
    assert metrics["stability_margin"] > 0
    log = (workdir / "results/logs/train_student/tiny_user/t0/m5.log").read_text()
    assert "epoch 5/15 train" in log and "epochs/s" in log and "s left" in log
    assert "warm start: the width-3 student, widened to 5" in log
    assert metrics["converged"] is False and metrics["stop_reason"] == "max_epochs"
    assert "NOT converged (max_epochs, 30 steps)" in log  # the terminal's one-line summary
    for figure in ("T-1", "T-2"):
        assert (workdir / f"results/training/{figure}.png").stat().st_size > 0


def test_restarts_aim_below_the_smaller_width_and_keep_the_best_attempt(workdir):
    """Each width's target is the smaller width's validation loss / min_improvement (2); an
    attempt follows only one that stopped (converged) above it; the kept student's validation
    loss is the lowest attempt's."""
    restarted = 0
    for teacher in ("t0", "t1"):
        students = workdir / f"results/students/tiny_filter/{teacher}"
        smaller = read_json(students / "m1/metrics.json")
        assert smaller["target_valid"] is None and smaller["attempts"] == []
        for width in (2, 4):
            metrics = read_json(students / f"m{width}/metrics.json")
            target = smaller["losses"]["valid"] / 2.0
            assert metrics["target_valid"] == pytest.approx(target, rel=1e-12)
            attempts = metrics["attempts"]
            assert [a["attempt"] for a in attempts] == list(range(len(attempts)))
            for before in attempts[:-1]:
                assert before["stop_reason"] == "converged"
                assert min(a["valid_loss"] for a in attempts[: before["attempt"] + 1]) > target
            best = min(attempts, key=lambda a: a["valid_loss"])
            assert metrics["losses"]["valid"] == pytest.approx(best["valid_loss"], rel=1e-6)
            assert metrics["epochs"] == best["epochs"]
            restarted += len(attempts) > 1
            smaller = metrics
    assert restarted > 0  # the tiny teachers make at least one width restart


def test_rerun_from_scratch_gives_byte_identical_csvs(workdir):
    before = csv_bytes(workdir)
    shutil.rmtree(workdir / "results")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert csv_bytes(workdir) == before


def planned_jobs(workdir: Path, edit) -> tuple[dict[str, str], str]:
    """Jobs a dry run plans after ``edit(config)``: counts per rule, and the full output."""
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    edit(config)
    extra = workdir / "edited.yaml"
    extra.write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", "--configfile", str(extra))
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stdout[result.stdout.index("Job stats") :]
    counts = dict(line.split()[:2] for line in stats.splitlines()[3:] if len(line.split()) == 2)
    return counts, result.stdout


def test_adding_a_width_schedules_only_the_new_jobs(workdir):
    counts, output = planned_jobs(
        workdir,
        lambda c: c["experiments"]["tiny_geometric"]["student"].update(widths=[1, 2, 4, 6]),
    )
    assert counts.get("train_student") == "1" and counts.get("perturb") == "1"
    assert "teacher" not in counts
    assert "results/students/tiny_geometric/t0/m6/model.safetensors" in output


def test_filter_lists_every_teacher_with_a_status(workdir):
    table = pd.read_csv(workdir / "results/filter/tiny_filter.csv", skiprows=1)  # line 1: identity
    assert list(table["teacher"]) == ["t0", "t1"]
    assert list(table["gain"]) == [0.5, 1.5]
    assert set(table["status"]) <= {"kept", "rejected", "undetermined"}
    assert {"E0_m1", "crossing_m1_m2_low", "margin_m4", "memory_decay"} <= set(table.columns)
    assert (workdir / "results/figures/T-3.png").stat().st_size > 0


def test_adding_a_teacher_schedules_only_its_jobs(workdir):
    counts, output = planned_jobs(
        workdir,
        lambda c: c["experiments"]["tiny_filter"]["teacher"].update(gains=[0.5, 1.5, 0.9]),
    )
    assert counts["teacher"] == "1" and counts["train_student"] == "3"
    assert counts["stability"] == "1" and counts["filter_teachers"] == "1"
    assert "results/teachers/tiny_filter/t2/data.safetensors" in output


def test_bad_config_fails_before_any_job(tmp_path):
    bad = yaml.safe_load(yaml.safe_dump(TINY))
    bad["experiments"]["tiny_user"]["teacher"]["kernel"] = {"family": "pol", "q": 3}
    copy_workflow(tmp_path, bad)
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "experiments.tiny_user.teacher.kernel.q" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


def test_default_config_dry_run_and_lint():
    result = subprocess.run(["snakemake", "-n", "-F"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "results/figures/IAT-1a.png" in result.stdout
    lint = subprocess.run(["snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert "Congratulations" in lint.stdout + lint.stderr


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def test_report_has_every_figure_claims_config_and_runtimes(workdir):
    result = subprocess.run(
        ["snakemake", "--cores", "1", "--report", "results/report.html"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = (workdir / "results/report.html").read_text()
    for needle in (
        "T-1",
        "T-2",
        "T-3",
        "claims.csv",
        "config_used.yaml",
        "runtimes.csv",
        "Reproduces",
        "a user&#x27;s own kernel",
    ):
        assert needle in html or needle.replace("&#x27;", "'") in html, needle


def test_report_renders_in_a_headless_browser(workdir, tmp_path):
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        pytest.skip("no chromium installed (Debian package: chromium)")
    report = workdir / "results/report.html"
    if not report.exists():
        subprocess.run(
            ["snakemake", "--cores", "1", "--report", str(report)],
            cwd=workdir,
            check=True,
            capture_output=True,
        )
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            "--window-size=1280,900",
            "--virtual-time-budget=5000",
            f"--screenshot={shot}",
            f"file://{report}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pixels = image.imread(shot)
    assert pixels.shape[0] >= 800 and pixels.shape[1] >= 1200
    assert np.std(pixels[..., :3]) > 0.05, "the rendered report is blank"
    shutil.copy(shot, workdir / "results/report_screenshot.png")


def test_a_killed_training_job_is_redone_and_gives_the_uninterrupted_numbers(tmp_path):
    """SIGKILL a real training job mid-run; the rerun completes with the same CSVs."""
    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["experiments"] = {"tiny_user": config["experiments"]["tiny_user"]}
    config["experiments"]["tiny_user"]["training"] = {"max_epochs": 400, "log_every": 1}
    config["figures"] = {"T-2": config["figures"]["T-2"]}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for root in (whole, killed):
        copy_workflow(root, config)
    assert snakemake(whole).returncode == 0

    run = subprocess.Popen(
        ["snakemake", "--cores", "1"],
        cwd=killed,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = killed / "results/logs/train_student/tiny_user/t0/m2.log"
    deadline = time.monotonic() + 300
    while not (log.exists() and "epoch 20/" in log.read_text()):
        assert time.monotonic() < deadline and run.poll() is None, "training never started"
        time.sleep(0.05)
    job = subprocess.run(
        ["pgrep", "-f", f"{killed}/.snakemake/scripts/.*train_student"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert job, "the training job was not found"
    for pid in job:
        os.kill(int(pid), signal.SIGKILL)
    assert run.wait(timeout=300) != 0
    assert not (killed / "results/students/tiny_user/t0/m2/model.safetensors").exists()

    rerun = snakemake(killed)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert csv_bytes(killed) == csv_bytes(whole)


def test_training_split_into_jobs_gives_the_numbers_of_one_job(workdir, tmp_path):
    """training.epochs_per_job chains checkpointed jobs; the students come out bit for bit."""
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["experiments"]["tiny_user"]["training"] = {"epochs_per_job": 6}
    copy_workflow(tmp_path, config)
    students = [f"results/students/tiny_user/t0/m{m}" for m in (2, 3, 5)]
    tables = [f"results/perturbation/tiny_user/t0/m{m}.csv" for m in (2, 3, 5)]
    result = snakemake(tmp_path, *tables)
    assert result.returncode == 0, result.stderr[-3000:]
    for student, table in zip(students, tables):
        checkpoints = sorted(p.name for p in (tmp_path / student).glob("upto*"))
        assert checkpoints == ["upto12.safetensors", "upto6.safetensors"]
        log = tmp_path / f"{student.replace('students', 'logs/train_student')}.log"
        assert "resumed from" in log.read_text()
        for name in ("metrics.json", "model.safetensors"):
            split, whole = tmp_path / student / name, workdir / student / name
            assert split.read_bytes() == whole.read_bytes(), name
        assert (tmp_path / table).read_bytes() == (workdir / table).read_bytes()


def test_a_truncated_checkpoint_is_reported_with_its_path_and_the_fix(workdir):
    model = workdir / "results/students/tiny_geometric/t0/m2/model.safetensors"
    original = model.read_bytes()
    try:
        model.write_bytes(original[: len(original) // 2])
        result = snakemake(workdir, "--forcerun", "perturb", "--until", "perturb")
        assert result.returncode != 0
        log = (workdir / "results/logs/perturb/tiny_geometric/t0/m2.log").read_text()
        assert str(model.relative_to(workdir)) in log
        assert "rerun the same snakemake command" in log and not model.exists()
    finally:
        model.write_bytes(original)
        assert snakemake(workdir).returncode == 0
