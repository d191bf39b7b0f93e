"""The `.test/` config: every figure kind, run for real as documented.

`snakemake --directory .test --cores 2` from the repository root runs the workflow on
.test/config.yaml, a config with every kind of config.FIGURE_KINDS at tiny sizes. Here the same
command runs in a copy of the repository's workflow files (the checkout is not written), and
every figure of that config must come out; its claims may fail at this scale.
"""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from curse_of_memory.pipeline import config, validation
from curse_of_memory.shared import claims

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / ".test" / "config.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
COMMAND = ["snakemake", "--directory", ".test", "--cores", "2"]
TIMEOUT = 1800  # seconds; about 2 minutes on 2 idle cores


def figures() -> dict:
    return validation.load_yaml(CONFIG)["figures"]


def expected_files(figure: str, spec: dict) -> list[str]:
    """The files of one figure, relative to .test/ (the figure rules' outputs)."""
    files = [f"results/figures/{figure}.{ext}" for ext in ("png", "pdf", "csv")]
    files.append(f"results/claims/{figure}.csv")
    if spec["kind"] == "perturbation":
        files.append(f"results/training/{figure}.png")
    if spec["kind"] == "digits_training":
        files += ["results/tables/IAT-table1.csv", "results/tables/IAT-table1.md"]
    return files


def test_covers_every_figure_kind():
    kinds = {spec["kind"] for spec in figures().values()}
    missing = sorted(set(config.FIGURE_KINDS) - kinds)
    assert not missing, f"add a figure of each kind to .test/config.yaml: {missing}"


def test_config_is_valid():
    settings = validation.resolve(
        validation.load_config([CONFIG]), validation.load_schema(SCHEMA), memory_limit=2**32
    )
    assert settings["figures"].keys() == figures().keys()


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args], cwd=root, capture_output=True, text=True, timeout=TIMEOUT
    )


def finished_checkout(tmp_path_factory) -> Path:
    """The workflow's files and .test/ (without results of a run by hand), run as documented:
    conftest.py's session fixture ``checkout``, shared with tests/test_run_identities.py."""
    root = tmp_path_factory.mktemp("checkout")
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, root / name)
    for name in ("workflow", "src", ".test"):
        shutil.copytree(
            REPO / name,
            root / name,
            ignore=shutil.ignore_patterns("__pycache__", "results", ".snakemake"),
        )
    result = run(root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.mark.workflow
def test_every_figure_file_is_written(checkout):
    for figure, spec in figures().items():
        for name in expected_files(figure, spec):
            path = checkout / ".test" / name
            assert path.is_file() and path.stat().st_size > 0, f"{figure}: {name}"
    for name in ("config_used.yaml", "runtimes.csv"):
        assert (checkout / ".test/results" / name).stat().st_size > 0, name


@pytest.mark.workflow
def test_claims_table_has_every_figure(checkout):
    table = pd.read_csv(checkout / ".test/results/claims.csv")
    assert tuple(table.columns) == claims.COLUMNS
    assert list(dict.fromkeys(table["figure"])) == list(figures())  # in the config's order
    assert set(table["verdict"]) <= {"pass", "fail"}
    for figure, rows in table.groupby("figure", sort=False):
        own = pd.read_csv(checkout / f".test/results/claims/{figure}.csv")
        assert len(rows) == len(own) >= 1, figure


@pytest.mark.workflow
def test_a_sentiment_figure_sets_its_own_query_length(checkout):
    table = pd.read_csv(checkout / ".test/results/figures/IAT-5a.csv")
    assert (table.groupby("word")["repeats"].max() == figures()["IAT-5a"]["repeats"]).all()
    one = table[table["word"] == "good"]
    memory, variation = one["memory"].to_numpy(), one["octave_variation"].dropna().to_numpy()
    assert len(variation) >= 10
    for j, value in enumerate(variation, start=1):  # V(j): the direct sum over [j, 2j)
        assert value == pytest.approx(memory[j - 1 : 2 * j - 1].sum(), rel=1e-9)


@pytest.mark.workflow
def test_a_second_run_has_nothing_to_do(checkout):
    result = run(checkout)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr, result.stderr[-3000:]
