"""Damaged, foreign and deleted result files, on a finished tiny run: one table of damages, each
with the message its reader must show (the file, what is wrong, what to do) or the rules that
must redo a deleted file. After each, rerunning the same command restores every result byte for
byte: nothing is silently wrong, nothing needs a manual step.

Each damage is refused by its reader in this process (the record a reader expects is the one the
intact file carries, which the workflow's own runs below confirm), then one rerun regenerates
every refused file. Batches of damages in independent jobs go through the workflow itself: one
run (--keep-going) must show every message of its batch, the next one restore every result.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from test_bad_config import CASES
from test_workflow import REPO, snakemake

from curse_of_memory.shared import io

pytestmark = pytest.mark.workflow

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

        from curse_of_memory.shared import io

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
GEO, FILTER = "tiny_geometric", "tiny_filter"
REGENERATED = [
    ("deleted model", deleted(f"{G}/m2/model.safetensors"),
     {("train_student", GEO), ("perturb", GEO), ("stability", GEO),
      ("figure_perturbation", "T-1")}),
    ("deleted perturbation table", deleted(f"{P}/m2.csv"),
     {("perturb", GEO), ("stability", GEO), ("figure_perturbation", "T-1")}),
    ("deleted stability analysis", deleted(f"{S}/t1.json"),
     {("stability", FILTER), ("filter_teachers", FILTER), ("figure_filter", "T-3")}),
    ("deleted teacher data", deleted(f"{F}/t1/data.safetensors"),
     {("teacher", FILTER), ("train_student", FILTER), ("perturb", FILTER), ("stability", FILTER),
      ("filter_teachers", FILTER), ("figure_filter", "T-3")}),
]  # fmt: skip
"""Deleted results and the jobs (rule, experiment or figure) that must redo them."""
DELETIONS = [("deleted model", "deleted stability analysis"),
             ("deleted perturbation table", "deleted teacher data")]  # fmt: skip
"""Deletions redone by one run each: their jobs are of other experiments and figures."""


BATCHES = [
    ("width swap", "model of an older version", "teacher record swap"),
    ("metrics swap", "truncated metrics", "stability swap"),
    ("perturbation table of another config", "truncated filter table"),
]
"""Damages whose readers are independent jobs (no two in one job, none upstream of another's
reader, one reader job each: the teacher data has three, and the first to refuse it deletes it
under the others): the workflow shows every message of a batch in one run."""


@pytest.fixture(scope="module")
def workdir(tiny_run):
    """The finished TINY run of tests/test_workflow.py (conftest.py): every damage here is
    undone by the workflow, byte for byte."""
    return tiny_run


@pytest.fixture(scope="module")
def intact(workdir):
    """Every result's bytes after the finished run."""
    return results(workdir)


def results(root: Path) -> dict[str, bytes]:
    """Every result's bytes (not the logs, the benchmarks, the run times, the images)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for suffix in ("csv", "json", "safetensors")
        for p in sorted(root.glob(f"results/**/*.{suffix}"))
        if p.name != "runtimes.csv"
    }


def jobs_run(output: str) -> set[tuple[str, str]]:
    """(rule, value of its first wildcard: the experiment or figure) of every job Snakemake ran."""
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", output):
        if rule := re.match(r"(?:local)?rule (\w+):\n", block):
            wildcard = re.search(r"^ +wildcards: \w+=([^,\n]+)", block, re.MULTILINE)
            jobs.add((rule.group(1), wildcard.group(1) if wildcard else ""))
    return jobs


def damaged_file(message: str) -> str:
    return message.split(": ", 1)[0]


def carried_record(path: str, data: bytes) -> dict:
    """The identity record stored in a result file's intact ``data``."""
    if path.endswith(".safetensors"):
        size = int.from_bytes(data[:8], "little")
        return json.loads(json.loads(data[8 : 8 + size])["__metadata__"]["identity"])
    if path.endswith(".json"):
        return json.loads(data)["identity"]
    first = data.split(b"\n", 1)[0].decode()
    return json.loads(first.removeprefix(io.CSV_IDENTITY).rsplit(io.CSV_DIGEST, 1)[0])


READERS = {".safetensors": io.load_tensors, ".json": io.read_json, ".csv": io.read_csv}


def test_the_tables_are_not_trivial_and_the_readme_counts_them():
    assert len(REFUSED) >= 13 and len(REGENERATED) >= 4
    assert len({message for *_, message in REFUSED}) == len(REFUSED)
    names = [name for name, *_ in REFUSED]
    batched = [name for batch in BATCHES for name in batch]
    assert len(set(batched)) == len(batched) and set(batched) <= set(names)
    assert len(batched) > len(REFUSED) / 2  # most damages also go through the workflow
    assert sorted(sum(DELETIONS, ())) == sorted(name for name, *_ in REGENERATED)
    for first, second in DELETIONS:  # jobs of one deletion cannot stand in for the other's
        jobs = {name: {job[1] for job in redone} for name, _, redone in REGENERATED}
        assert not jobs[first] & jobs[second], (first, second)
    readme = " ".join((REPO / "README.md").read_text().split())
    counts = f"{len(CASES)} bad configs and {len(REFUSED)} damaged files refused, 0 silently wrong"
    assert f"{counts} (and {len(REGENERATED)} deleted results regenerated" in readme


@pytest.mark.parametrize(
    ("damage", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_damaged_result_is_refused_by_its_reader(workdir, intact, damage, message):
    path = damaged_file(message)
    (workdir / path).write_bytes(intact[path])  # an earlier case may have left it refused
    damage(workdir)
    expected = {path: carried_record(path, intact[path])}
    cwd = Path.cwd()
    os.chdir(workdir)  # the reader names the file as the job does, relative to the workdir
    try:
        with pytest.raises(io.CorruptResultError) as refused:
            READERS[Path(path).suffix](path, identities=expected)
    finally:
        os.chdir(cwd)
    assert str(refused.value).startswith(message), str(refused.value)
    assert FIX in str(refused.value)
    assert not (workdir / path).exists()


def test_every_refused_file_is_regenerated_by_rerunning_the_same_command(workdir, intact):
    refused = [damaged_file(message) for *_, message in REFUSED]
    assert not any((workdir / path).exists() for path in refused)
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert results(workdir) == intact


@pytest.mark.parametrize("batch", BATCHES, ids=[" + ".join(b) for b in BATCHES])
def test_the_workflow_refuses_a_batch_of_damages_then_regenerates_them(workdir, batch):
    before = results(workdir)
    cases = {name: (damage, message) for name, damage, message in REFUSED}
    for name in batch:
        cases[name][0](workdir)
    refused = snakemake(workdir, "--keep-going")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    for name in batch:
        assert cases[name][1] in output, f"{name}: {output[-3000:]}"
    assert output.count(FIX) >= len(batch)
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert results(workdir) == before


@pytest.mark.parametrize("batch", DELETIONS, ids=[" + ".join(b) for b in DELETIONS])
def test_deleted_results_are_regenerated_by_the_same_command(workdir, batch):
    before = results(workdir)
    cases = {name: (damage, redone) for name, damage, redone in REGENERATED}
    for name in batch:
        cases[name][0](workdir)
    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    jobs = jobs_run(rerun.stdout + rerun.stderr)
    for name in batch:
        assert cases[name][1] <= jobs, (name, sorted(jobs))
    assert results(workdir) == before
