"""Malformed configs fail before any job runs, name the offending key, and touch no result."""

import copy
import hashlib
import subprocess

import pytest
import yaml
from test_workflow import TINY, copy_workflow

pytestmark = pytest.mark.workflow


def edit(path: str, value=None, delete: bool = False):
    """A function that sets (or deletes) the dotted ``path`` of a config."""

    def apply(config: dict) -> dict:
        config = copy.deepcopy(config)
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        if delete:
            del node[last]
        else:
            node[last] = value
        return config

    return apply


G = "experiments.tiny_geometric"
CASES = [
    (edit("seed", "abc"), "seed"),
    (edit("dtype", "float16"), "dtype"),
    (edit("scale", "huge"), "scale"),
    (edit("colour", "red"), "colour"),
    (edit("defaults.training.lr", -0.1), "lr"),
    (edit("defaults.training.loss", "huber"), "loss"),
    (edit("defaults.training.max_epochs", 0), "max_epochs"),
    (edit("defaults.training.batch_size", 12.5), "batch_size"),
    (edit("defaults.inputs.length", "long"), "length"),
    (edit("defaults.perturbation.beta_ratio", 0.5), "beta_ratio"),
    (edit("defaults.perturbation.draws", 0), "draws"),
    (edit("defaults.stability.confidence", 1.5), "confidence"),
    (edit("defaults.data.train", -5), "train"),
    (edit(f"{G}.student.widths", [4, -2]), "widths"),
    (edit(f"{G}.student.widths", []), "widths"),
    (edit(f"{G}.student.widths", [4, 2, 8]), f"{G}.student.widths"),
    (edit(f"{G}.student.activation", "gelu"), "activation"),
    (edit(f"{G}.student.parameterization", "cayley"), "parameterization"),
    (edit(f"{G}.student.eigen_init", [0.9, 0.1]), f"{G}.student.eigen_init"),
    (edit(f"{G}.teacher.kernel", {"family": "zeta"}), f"{G}.teacher.kernel.family"),
    (edit(f"{G}.teacher.kernel", {"family": "pol", "q": 2}), f"{G}.teacher.kernel.q"),
    (edit(f"{G}.teacher.kernel", {"family": "geom", "q": -1}), f"{G}.teacher.kernel.q"),
    (
        edit(f"{G}.teacher.kernel", {"family": "expr", "formula": "open('x')"}),
        f"{G}.teacher.kernel.formula",
    ),
    (edit(f"{G}.teacher.kind", "oracle"), "kind"),
    (edit(f"{G}.teacher", None, delete=True), "teacher"),
    (edit(f"{G}.typo", 1), "typo"),
    (edit("figures.T-1.experiment", "missing"), "figures.T-1.experiment"),
    (edit("figures.T-1.expect", "maybe"), "expect"),
    (edit("figures.T-1.kind", "sculpture"), "kind"),
]


def digest(root):
    results = root / "results"
    if not results.exists():
        return {}
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in results.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-config")
    copy_workflow(root, TINY)
    (root / "results").mkdir()
    (root / "results/marker.txt").write_text("results of an earlier run")
    return root


@pytest.mark.parametrize(("change", "key"), CASES, ids=[key for _, key in CASES])
def test_malformed_config_fails_fast_naming_the_key(workdir, change, key):
    (workdir / "config.yaml").write_text(yaml.safe_dump(change(TINY)))
    before = digest(workdir)
    result = subprocess.run(
        ["snakemake", "--cores", "1"], cwd=workdir, capture_output=True, text=True, timeout=120
    )
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert key in message, message[-2000:]
    assert "Select jobs to execute" not in message
    assert digest(workdir) == before
