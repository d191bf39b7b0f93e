"""Damaged, foreign and deleted result files, on a finished tiny run: one table of damages, each
with the message its reader must show (the file, what is wrong, what to do) or the rules that
must redo a deleted file. After each, rerunning the same command restores every result byte for
byte: nothing is silently wrong, nothing needs a manual step."""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from test_bad_config import CASES
from test_workflow import REPO, TINY, finished_run, snakemake

pytestmark = pytest.mark.workflow

CONFIG = copy.deepcopy(TINY)
del CONFIG["experiments"]["tiny_user"], CONFIG["figures"]["T-2"]

G = "results/students/tiny_geometric/t0"  # linear students, widths 1, 2, 4
P = "results/perturbation/tiny_geometric/t0"
F = "results/teachers/tiny_filter"  # teachers t0 and t1
S = "results/stability/tiny_filter"
FIX = "The file has been deleted: rerun the same snakemake command to regenerate it"


def copied(source: str, target: str):
    """Copy one result over another (a new mtime, as ``cp`` gives)."""
    return lambda root: shutil.copyfile(root / source, root / target)


def truncated(path: str):
    def damage(root: Path) -> None:
        data = (root / path).read_bytes()
        (root / path).write_bytes(data[: len(data) // 2])

    return damage


def deleted(path: str):
    return lambda root: (root / path).unlink()


def without_identity(path: str):
    """The file as an older version wrote it: no identity record."""

    def damage(root: Path) -> None:
        from safetensors.torch import load_file, save_file

        from curse_of_memory import io

        metadata = io.load_metadata(root / path)
        metadata.pop("identity")
        save_file(load_file(root / path), root / path, metadata=metadata)

    return damage


def csv_edited(path: str, edit):
    """A CSV whose identity record (first line) and table go through ``edit``."""

    def damage(root: Path) -> None:
        first, table = (root / path).read_text().split("\n", 1)
        (root / path).write_text("\n".join(edit(first, table)))

    return damage


def other_config(first: str, table: str) -> tuple[str, str]:
    """The record of another config (the table and its digest unchanged)."""
    record, digest = first.removeprefix("# identity: ").split(" sha256: ")
    changed = json.loads(record) | {"config": "0" * 16}
    return f"# identity: {json.dumps(changed)} sha256: {digest}", table


def without_loss(first: str, table: str) -> tuple[str, str]:
    rows = [",".join(line.split(",")[:-1]) for line in table.splitlines()]
    return first, "\n".join(rows) + "\n"


REFUSED = [
    ("width swap", copied(f"{G}/m1/model.safetensors", f"{G}/m2/model.safetensors"),
     f"{G}/m2/model.safetensors: it holds another result: width 1, expected 2"),
    ("experiment swap", copied(f"{G.replace('geometric', 'filter')}/m2/model.safetensors",
                               f"{G}/m2/model.safetensors"),
     f"{G}/m2/model.safetensors: it holds another result: experiment tiny_filter, expected "
     "tiny_geometric; activation tanh, expected linear"),
    ("truncated model", truncated(f"{G}/m2/model.safetensors"),
     f"{G}/m2/model.safetensors: cannot be read (not a valid safetensors file"),
    ("model of an older version", without_identity(f"{G}/m4/model.safetensors"),
     f"{G}/m4/model.safetensors: it carries no identity record"),
    ("metrics swap", copied(f"{G}/m1/metrics.json", f"{G}/m2/metrics.json"),
     f"{G}/m2/metrics.json: it holds another result: width 1, expected 2"),
    ("truncated metrics", truncated(f"{G}/m4/metrics.json"),
     f"{G}/m4/metrics.json: cannot be read (not valid JSON"),
    ("perturbation table swap", copied(f"{P}/m4.csv", f"{P}/m2.csv"),
     f"{P}/m2.csv: it holds another result: width 4, expected 2"),
    ("perturbation table of another config", csv_edited(f"{P}/m1.csv", other_config),
     f"{P}/m1.csv: it holds another result: config 0000000000000000, expected "),
    ("perturbation table without its loss column", csv_edited(f"{P}/m2.csv", without_loss),
     f"{P}/m2.csv: cannot be read (its table does not match the sha256 on its first line)"),
    ("stability swap", copied(f"{S}/t1.json", f"{S}/t0.json"),
     f"{S}/t0.json: it holds another result: teacher t1, expected t0"),
    ("teacher data swap", copied(f"{F}/t1/data.safetensors", f"{F}/t0/data.safetensors"),
     f"{F}/t0/data.safetensors: it holds another result: teacher t1, expected t0"),
    ("teacher record swap", copied(f"{F}/t1/teacher.json", f"{F}/t0/teacher.json"),
     f"{F}/t0/teacher.json: it holds another result: teacher t1, expected t0"),
    ("truncated filter table", truncated("results/filter/tiny_filter.csv"),
     "results/filter/tiny_filter.csv: cannot be read (its table does not match the sha256"),
]  # fmt: skip
REGENERATED = [
    ("deleted model", deleted(f"{G}/m2/model.safetensors"),
     {"train_student", "perturb", "stability", "figure_perturbation"}),
    ("deleted perturbation table", deleted(f"{P}/m2.csv"),
     {"perturb", "stability", "figure_perturbation"}),
    ("deleted stability analysis", deleted(f"{S}/t1.json"),
     {"stability", "filter_teachers", "figure_filter"}),
    ("deleted teacher data", deleted(f"{F}/t1/data.safetensors"),
     {"teacher", "train_student", "perturb", "stability", "filter_teachers", "figure_filter"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return finished_run(tmp_path_factory, "damaged", CONFIG)


def results(root: Path) -> dict[str, bytes]:
    """Every result's bytes (not the logs, the benchmarks, the run times, the images)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for suffix in ("csv", "json", "safetensors")
        for p in sorted(root.glob(f"results/**/*.{suffix}"))
        if p.name != "runtimes.csv"
    }


def rules_run(output: str) -> set[str]:
    return set(re.findall(r"^(?:local)?rule (\w+):$", output, re.MULTILINE))


def test_the_tables_are_not_trivial_and_the_readme_counts_them():
    assert len(REFUSED) >= 13 and len(REGENERATED) >= 4
    assert len({message for *_, message in REFUSED}) == len(REFUSED)
    readme = " ".join((REPO / "README.md").read_text().split())
    counts = f"{len(CASES)} bad configs and {len(REFUSED)} damaged files refused, 0 silently wrong"
    assert f"{counts} (and {len(REGENERATED)} deleted results regenerated" in readme


@pytest.mark.parametrize(
    ("damage", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_damaged_result_is_refused_then_regenerated(workdir, damage, message):
    before = results(workdir)
    damage(workdir)
    refused = snakemake(workdir)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert message in output, output[-3000:]
    assert FIX in output
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert results(workdir) == before


@pytest.mark.parametrize(
    ("damage", "redone"), [c[1:] for c in REGENERATED], ids=[c[0] for c in REGENERATED]
)
def test_a_deleted_result_is_regenerated_by_the_same_command(workdir, damage, redone):
    before = results(workdir)
    damage(workdir)
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert redone <= rules_run(rerun.stdout + rerun.stderr)
    assert results(workdir) == before
