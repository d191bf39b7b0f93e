"""Bad input fails before any job runs, with a message naming the key (or file), touching no
result: one table of bad configs, each with the text its error must show.

Every case runs through the workflow's loader and checks in this process (what the Snakefile
calls, on the same files); one case of each kind also runs through snakemake itself, which must
stop before selecting a job and leave results/ as it was (a process takes seconds, mostly
imports: the whole table through it took CI 8.5 minutes)."""

import copy
import hashlib
import math
import os
import queue
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest
import yaml
from test_workflow import REPO, TINY, copy_workflow

from curse_of_memory.pipeline import validation

pytestmark = pytest.mark.workflow


def edit(path: str, value=None, delete: bool = False):
    """A function that sets (or deletes) the dotted ``path`` of a config."""

    def apply(config: dict) -> dict:
        config = copy.deepcopy(config)
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        if delete:
            del node[last]
        else:
            node[last] = value
        return config

    return apply


def rename(section: str, old: str, new: str):
    """A function that renames an experiment or figure (and what refers to it)."""

    def apply(config: dict) -> dict:
        config = copy.deepcopy(config)
        config[section][new] = config[section].pop(old)
        if section == "experiments":
            for figure in config["figures"].values():
                if figure.get("experiment") == old:
                    figure["experiment"] = new
        return config

    return apply


class Files(NamedTuple):
    """Files to write instead of (or next to) the tiny config, and Snakemake arguments."""

    files: dict
    args: tuple = ()


def tiny_yaml() -> str:
    return yaml.safe_dump(TINY, sort_keys=False)


def configfile(text: str) -> Files:
    """The tiny config.yaml plus ``text`` as a --configfile."""
    return Files({"config.yaml": tiny_yaml(), "extra.yaml": text}, ("--configfile", "extra.yaml"))


def billion_laughs() -> str:
    lines = ["scales:", "  paper:", '    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def dict_bomb(levels: int = 10) -> str:
    """Billion laughs of mappings (9^levels), which Snakemake's own config merge would expand."""
    keys = ", ".join(f"k{j}: lol" for j in range(9))
    lines = ["scales:", "  paper:", f"    d0: &d0 {{{keys}}}"]
    for i in range(1, levels):
        lines.append(f"    d{i}: &d{i} {{" + ", ".join(f"k{j}: *d{i - 1}" for j in range(9)) + "}")
    return "\n".join(lines) + "\n"


def lorenz96_step(dt: float):
    """A function that adds the .test config's COM-1 figure with Lorenz-96 step ``dt``."""

    def apply(config: dict) -> dict:
        figure = yaml.safe_load((REPO / ".test/config.yaml").read_text())["figures"]["COM-1"]
        figure["lorenz96"]["dt"] = dt
        return {**config, "figures": {**config["figures"], "COM-1": figure}}

    return apply


def expr(formula: str):
    kernel = {"family": "expr", "formula": formula}
    return edit(f"{U}.teacher.kernel", kernel)


G, U = "experiments.tiny_geometric", "experiments.tiny_user"  # linear diagonal, tanh full
FIG = "figures.T-1"
PAPER = "scales.paper"
CASES = [
    # types, ranges, unknown keys (the schema)
    (edit("seed", "abc"), "seed"),
    (edit("dtype", "float16"), "dtype"),
    (edit("scale", "huge"), "scale: unknown scale 'huge'"),
    (edit("colour", "red"), "colour: unknown key"),
    (edit("defaults.training.lr", -0.1), "defaults.training.lr"),
    (edit("defaults.training.loss", "huber"), "defaults.training.loss"),
    (edit("defaults.training.max_epochs", 0), "defaults.training.max_epochs"),
    (edit("defaults.training.batch_size", 12.5), "defaults.training.batch_size"),
    (edit("defaults.inputs.length", "long"), "defaults.inputs.length"),
    (edit("defaults.perturbation.beta_ratio", 0.5), "defaults.perturbation.beta_ratio"),
    (edit("defaults.perturbation.draws", 0), "defaults.perturbation.draws"),
    (edit("defaults.stability.confidence", 1.5), "defaults.stability.confidence"),
    (edit("defaults.data.train", -5), "defaults.data.train"),
    (edit("defaults.data.train", "1e9"), "defaults.data.train: '1e9' is not of type 'integer'"),
    (edit(f"{G}.student.widths", [4, -2]), f"{G}.student.widths.1"),
    (edit(f"{G}.student.widths", []), f"{G}.student.widths"),
    (edit(f"{G}.student.widths", [1, 2.5]), f"{G}.student.widths.1: 2.5 is not of type"),
    (edit(f"{G}.student.widths", [4, 2, 8]), f"{G}.student.widths: need at least two"),
    (edit(f"{G}.student.activation", "gelu"), f"{G}.student.activation"),
    (edit(f"{G}.student.warm_start", "yes"), f"{G}.student.warm_start: 'yes' is not of type"),
    (edit(f"{G}.student.parameterization", "cayley"), f"{G}.student.parameterization"),
    (edit(f"{G}.student.eigen_init", [0.9, 0.1]), f"{G}.student.eigen_init"),
    (edit(f"{G}.teacher.kind", "oracle"), f"{G}.teacher.kind"),
    (edit(f"{G}.teacher", None, delete=True), f"{G}.teacher: required key missing"),
    (edit(f"{G}.typo", 1), f"{G}.typo: unknown key"),
    (edit(f"{G}.teacher.kernel", {"family": "zeta"}), f"{G}.teacher.kernel.family"),
    (edit(f"{G}.teacher.kernel", {"family": "pol", "q": 2}), f"{G}.teacher.kernel.q: unknown"),
    (edit(f"{G}.teacher.kernel", {"family": "geom", "q": -1}), f"{G}.teacher.kernel.q: must be"),
    (edit(f"{FIG}.experiment", "missing"), f"{FIG}.experiment: unknown experiment"),
    (edit(f"{FIG}.expect", "maybe"), f"{FIG}.expect"),
    (edit(f"{FIG}.kind", "sculpture"), f"{FIG}.kind"),
    # the scale preset: checked like the rest, named under scales.<name>
    (edit(f"{PAPER}.defaults.training.lr", "abc"), f"{PAPER}.defaults.training.lr: 'abc' is"),
    (edit(f"{PAPER}.defaults.perturbation.draws", 0), f"{PAPER}.defaults.perturbation.draws"),
    (
        edit(f"{PAPER}.experiments.tiny_geometric.student.widths", [1, 2.5]),
        f"{PAPER}.experiments.tiny_geometric.student.widths.1: 2.5 is not of type",
    ),
    (
        edit(f"{PAPER}.experiments.tiny_geometric.student.widths", [4, 2]),
        f"{PAPER}.experiments.tiny_geometric.student.widths: need at least two",
    ),
    (edit(f"{PAPER}.experiments.missing.data.train", 9), f"{PAPER}.experiments.missing: no such"),
    (edit(f"{PAPER}.colour", "red"), f"{PAPER}.colour: unknown key"),
    (edit(PAPER, 5), f"{PAPER}: 5 is not of type 'object'"),
    # NaN and infinity, anywhere
    (edit("defaults.training.lr", math.nan), "defaults.training.lr: must be a finite number"),
    (edit("defaults.perturbation.beta_base", math.nan), "defaults.perturbation.beta_base: must"),
    (edit("defaults.perturbation.beta_ratio", math.inf), "defaults.perturbation.beta_ratio: must"),
    (edit("defaults.inputs.dt", math.inf), "defaults.inputs.dt: must be a finite number, got inf"),
    (edit("defaults.perturbation.divergence_ratio", math.nan), "divergence_ratio: must be"),
    (edit("defaults.memory.tail_start", math.nan), "defaults.memory.tail_start: must be"),
    (edit(f"{G}.teacher.kernel.q", math.nan), f"{G}.teacher.kernel.q: must be a finite number"),
    (edit(f"{PAPER}.defaults.training.lr", -math.inf), f"{PAPER}.defaults.training.lr: must be"),
    # names: no path-like names, no trailing newline, at most 64 characters; teachers that exist
    (rename("experiments", "tiny_geometric", "geo\n"), "experiments.'geo\\n': invalid name"),
    (rename("experiments", "tiny_geometric", ".."), "experiments...: invalid name '..'"),
    (rename("experiments", "tiny_geometric", "a/b"), "experiments.'a/b': invalid name"),
    (rename("experiments", "tiny_geometric", "x" * 65), "invalid name 'xxxxx"),
    (rename("figures", "T-1", "."), "figures..: invalid name '.'"),
    (rename("figures", "T-1", "T-1\n"), "figures.'T-1\\n': invalid name"),
    (edit(f"{FIG}.teacher", "t5"), f"{FIG}.teacher: unknown teacher 't5'"),
    (edit(f"{FIG}.teacher", "t0\n"), f"{FIG}.teacher: 't0\\n' does not match"),
    (lambda c: {**c, "experiments": {**c["experiments"], 7: {}}}, "experiments: key 7 is not a"),
    # sizes the machine cannot hold
    (edit(f"{U}.student.widths", [2, 100000]), f"{U}.student.widths: the perturb job needs"),
    (edit("defaults.data.train", 10**9), ".data.train: the teacher job needs about"),
    (edit(f"{G}.inputs.length", 10**7), f"{G}.inputs.length: the perturb job needs about"),
    # kernels: evaluated where the jobs evaluate them (T = 24 here), bounded formulas
    (expr("log(20 - t)"), f"{U}.teacher.kernel.formula: not finite at t = 20"),
    (expr("exp(50 * t)"), f"{U}.teacher.kernel.formula: not finite at t = 15"),
    (expr("9**9**9"), f"{U}.teacher.kernel.formula: '9**9**9' is not finite"),
    (expr("-" * 10000 + "t"), f"{U}.teacher.kernel.formula: 10001 characters, at most 1000"),
    (expr(" + ".join(["t"] * 100000)), f"{U}.teacher.kernel.formula: 399997 characters"),
    (expr("-" * 100 + "t"), f"{U}.teacher.kernel.formula: nested more than 64 levels"),
    (expr("open('x')"), f"{U}.teacher.kernel.formula: unsupported element"),
    (expr("t\x00"), f"{U}.teacher.kernel.formula: not a formula"),
    (edit(f"{G}.teacher.kernel", {"family": "exp", "a": -50}), f"{G}.teacher.kernel: not finite"),
    # a simulation step beyond explicit Euler's stability for the system (limit 0.00193 here)
    (lorenz96_step(0.005), "figures.COM-1.lorenz96.dt: 0.005 makes the Euler-Maruyama simulation"),
    # config files: duplicate keys and alias bombs, in config.yaml and in --configfile
    (Files({"config.yaml": tiny_yaml() + "seed: 8\n"}), "duplicate key 'seed' (first at line"),
    (Files({"config.yaml": tiny_yaml() + billion_laughs()}), "config.yaml: expands to more than"),
    (Files({"config.yaml": tiny_yaml() + dict_bomb()}), "config.yaml: expands to more than 100000"),
    (Files({"config.yaml": "- a\n- b\n"}), "config.yaml: the top level must be a mapping"),
    (Files({"config.yaml": "seed: [1,\n"}), "config.yaml: line 2, column 1: expected the node"),
    (configfile(billion_laughs()), "extra.yaml: expands to more than 100000 values"),
    # Snakemake merges a --configfile before the workflow runs, copying every mapping an alias
    # repeats: 9^6 take it a second, then the workflow refuses the file (9^8 exhaust its memory)
    (configfile(dict_bomb(6)), "extra.yaml: expands to more than 100000 values (aliases repeat"),
    (configfile("a: &a [1, *a]\n"), "extra.yaml: line 1: an alias refers to a value that"),
    (configfile("seed: 1\nseed: 2\n"), "extra.yaml: line 2, column 1: duplicate key 'seed'"),
    (configfile('{"seed": 1, "seed": 2}'), "extra.yaml: duplicate key 'seed'"),
    (configfile("\n".join(["a: &a 1", *(f"b{i}: *a" for i in range(101))])), "100 aliases"),
]


# One case of each kind of check, run through snakemake too: the schema, a scale preset, a NaN,
# a name, a size, a kernel formula, a simulation step, and each way a config file can be bad
# (read by the workflow's loader, or merged by Snakemake before the workflow runs).
THROUGH_SNAKEMAKE = {
    "colour: unknown key",
    f"{PAPER}.defaults.training.lr: 'abc' is",
    "defaults.training.lr: must be a finite number",
    "experiments.'a/b': invalid name",
    f"{U}.student.widths: the perturb job needs",
    f"{U}.teacher.kernel.formula: unsupported element",
    "figures.COM-1.lorenz96.dt: 0.005 makes the Euler-Maruyama simulation",
    "duplicate key 'seed' (first at line",
    "extra.yaml: expands to more than 100000 values",
    "extra.yaml: expands to more than 100000 values (aliases repeat",
    "extra.yaml: duplicate key 'seed'",
}
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def case_files(change) -> Files:
    """The files (config.yaml and any --configfile) and snakemake arguments of a case."""
    if isinstance(change, Files):
        return Files({"config.yaml": tiny_yaml(), **change.files}, change.args)
    return Files({"config.yaml": yaml.safe_dump(change(TINY), sort_keys=False)})


def digest(root):
    results = root / "results"
    if not results.exists():
        return {}
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in results.rglob("*")
        if p.is_file()
    }


def make_workdir(root):
    copy_workflow(root, TINY)
    (root / "results").mkdir()
    (root / "results/marker.txt").write_text("results of an earlier run")
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return make_workdir(tmp_path_factory.mktemp("bad-config"))


def snakemake(workdir, *args):
    result = subprocess.run(
        ["snakemake", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


class Outcome(NamedTuple):
    code: int
    output: str
    before: dict
    after: dict


def probe(workdir, change) -> Outcome:
    """Run snakemake in ``workdir`` on the bad config ``change`` makes; the results' digests
    before and after."""
    setup = case_files(change)
    for name, text in setup.files.items():
        (workdir / name).write_text(text)
    before = digest(workdir)
    try:
        code, output = snakemake(workdir, *setup.args)
    finally:
        for name in setup.files:
            if name != "config.yaml":
                (workdir / name).unlink()
    return Outcome(code, output, before, digest(workdir))


TEST = "test_bad_config_stops_snakemake_before_any_job"


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory):
    """The snakemake outcome of every selected case, keyed by its message: one process per core
    at a time, each in its own copy of the workflow."""
    chosen = {
        item.callspec.params["message"]
        for item in request.session.items
        if item.originalname == TEST and item.module is request.module
    }
    cases = [(change, message) for change, message in CASES if message in chosen]
    workers = max(1, min(len(os.sched_getaffinity(0)), len(cases)))
    roots = queue.SimpleQueue()
    for worker in range(workers):
        roots.put(make_workdir(tmp_path_factory.mktemp(f"bad-config-{worker}")))

    def run(case):
        root = roots.get()
        try:
            return case[1], probe(root, case[0])
        except Exception as error:  # e.g. a timeout: that case's test fails, not the others
            return case[1], error
        finally:
            roots.put(root)

    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(run, cases))


def test_the_table_is_not_trivial():
    messages = {message for _, message in CASES}
    assert len(CASES) >= 75
    assert len(messages) == len(CASES)
    assert THROUGH_SNAKEMAKE.issubset(messages)


@pytest.fixture(scope="module")
def schema():
    return validation.load_schema(SCHEMA)


@pytest.mark.parametrize(("change", "message"), CASES, ids=[message for _, message in CASES])
def test_bad_config_fails_naming_the_key(change, message, schema, tmp_path, monkeypatch):
    """The Snakefile's two steps on the case's files: load_config (config.yaml, then each
    --configfile), then resolve with the schema."""
    setup = case_files(change)
    monkeypatch.chdir(tmp_path)
    for name, text in setup.files.items():
        (tmp_path / name).write_text(text)
    configfiles = ["config.yaml", *setup.args[1::2]]  # args: ("--configfile", name) pairs
    with pytest.raises(validation.ConfigError) as error:
        validation.resolve(validation.load_config(configfiles), schema)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [case for case in CASES if case[1] in THROUGH_SNAKEMAKE],
    ids=[message for _, message in CASES if message in THROUGH_SNAKEMAKE],
)
def test_bad_config_stops_snakemake_before_any_job(outcomes, change, message):
    outcome = outcomes[message]
    if isinstance(outcome, Exception):
        raise outcome
    assert outcome.code != 0
    assert "invalid configuration: " in outcome.output, outcome.output[-2000:]
    assert message in outcome.output, outcome.output[-2000:]
    assert "Select jobs to execute" not in outcome.output
    assert outcome.after == outcome.before


def test_a_kernel_of_another_family_replaces_the_experiments_kernel(workdir):
    """--configfile with {family: exp, a: 2} over {family: geom, q: 0.7}: not `kernel.q` unknown."""
    (workdir / "config.yaml").write_text(tiny_yaml())
    extra = {"experiments": {"tiny_geometric": {"teacher": {"kernel": {"family": "exp", "a": 2}}}}}
    (workdir / "extra.yaml").write_text(yaml.safe_dump(extra))
    try:
        code, output = snakemake(workdir, "-n", "--configfile", "extra.yaml")
    finally:
        (workdir / "extra.yaml").unlink()
    assert code == 0, output[-2000:]
