import math
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from curse_of_memory.pipeline import config as settings_lib
from curse_of_memory.pipeline import validation

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def base():
    return settings_lib.apply_scale(yaml.safe_load((REPO / "config.yaml").read_text()))


def test_default_config_passes_the_checks(base):
    settings_lib.check(base)


def test_paper_scale_merges_its_preset():
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    paper = settings_lib.apply_scale({**raw, "scale": "paper"})
    assert paper["defaults"]["data"]["train"] == 128000
    assert paper["defaults"]["training"]["lr"] == raw["defaults"]["training"]["lr"]
    tanh = settings_lib.experiment_settings(paper, "iat2_tanh_polynomial")
    assert tanh["data"]["train"] == 128000 and tanh["training"]["max_epochs"] == 1000
    assert tanh["training"]["dtype"] == "float32"  # what the preset does not set stays
    assert raw["experiments"]["iat2_tanh_polynomial"]["data"]["train"] == 8192
    with pytest.raises(settings_lib.ConfigError, match="^scale:"):
        settings_lib.apply_scale({**raw, "scale": "huge"})


def test_experiment_overrides_defaults(base):
    base["experiments"]["iat1_geometric"]["training"] = {"lr": 0.5}
    settings = settings_lib.experiment_settings(base, "iat1_geometric")
    assert settings["training"]["lr"] == 0.5
    assert settings["training"]["batch_size"] == base["defaults"]["training"]["batch_size"]


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (
            lambda c: c["experiments"]["iat1_geometric"]["teacher"]["kernel"].update(family="zeta"),
            "experiments.iat1_geometric.teacher.kernel.family",
        ),
        (
            lambda c: c["experiments"]["iat1_geometric"]["teacher"]["kernel"].update(p=2),
            "experiments.iat1_geometric.teacher.kernel.p",
        ),
        (
            lambda c: c["experiments"]["iat1_geometric"]["student"].update(widths=[4, 2]),
            "experiments.iat1_geometric.student.widths",
        ),
        (
            lambda c: c["experiments"]["iat1_geometric"]["teacher"].update(kind="oracle"),
            "experiments.iat1_geometric.teacher.kind",
        ),
        (
            lambda c: c["figures"]["IAT-1a"].update(experiment="missing"),
            "figures.IAT-1a.experiment",
        ),
        (lambda c: c["figures"]["IAT-1a"].update(expect="maybe"), "figures.IAT-1a.expect"),
        (
            lambda c: c["defaults"]["student"].update(eigen_init=[0.5, 0.1]),
            "experiments.iat1_geometric.student.eigen_init",
        ),
        (
            lambda c: c["defaults"]["training"].update(loss="huber"),
            "experiments.iat1_geometric.training.loss",
        ),
        (
            lambda c: c["defaults"]["training"].update(epochs_per_job=100),
            "experiments.iat2_tanh_polynomial.student.attempts",
        ),
        (  # a tanh student has no exact least-squares form
            lambda c: c["experiments"]["iat2_tanh_polynomial"]["student"].update(
                fit="least_squares"
            ),
            "experiments.iat2_tanh_polynomial.student.fit",
        ),
        (  # relu students carry a fitted mode on a pair of units: odd widths cannot
            lambda c: c["experiments"]["iat7_relu_direct"]["student"].update(
                fit="least_squares", widths=[8, 15]
            ),
            "experiments.iat7_relu_direct.student.fit",
        ),
    ],
)
def test_semantic_errors_name_the_key(base, edit, key):
    edit(base)
    with pytest.raises(settings_lib.ConfigError) as error:
        settings_lib.check(base)
    assert str(error.value).startswith(key)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["figures"]["IAT-10a"].update(family="transformer"), "figures.IAT-10a.family"),
        (lambda c: c["figures"]["IAT-10a"].update(input="ramp"), "figures.IAT-10a.input"),
        (lambda c: c["figures"]["IAT-5a"].update(model="gpt"), "figures.IAT-5a.model"),
        (lambda c: c.pop("sentiment"), "figures.IAT-5a"),
        (lambda c: c["sentiment"]["query"]["words"].append("zzz"), "sentiment.query.words"),
        (lambda c: c["figures"]["IAT-11b"].update(expect=[[2, 0]]), "figures.IAT-11b.expect.0"),
        (lambda c: c["digits"].update(parameterizations=["exp"]), "digits.parameterizations"),
    ],
)
def test_memory_figure_errors_name_the_key(base, edit, key):
    edit(base)
    with pytest.raises(settings_lib.ConfigError) as error:
        settings_lib.check(base)
    assert str(error.value).startswith(key)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["figures"]["COM-2"].update(omegas=[0.1, 0.1]), "figures.COM-2.omegas"),
        (
            lambda c: c["figures"]["COM-2"]["init"].update(w_range=[2.0, 0.5]),
            "figures.COM-2.init.w_range",
        ),
        (lambda c: c["figures"]["COM-3"].update(source="COM-1"), "figures.COM-3.source"),
        (
            lambda c: c["figures"]["COM-4"]["inputs"].update(length=20),
            "figures.COM-4.inputs.length",
        ),
        (
            lambda c: c["figures"]["COM-4"]["models"]["full_tanh"].update(activation="swish"),
            "figures.COM-4.models.full_tanh",
        ),
        (lambda c: c["figures"]["COM-A"].update(widths=[4, 2, 8]), "figures.COM-A.widths"),
        (
            lambda c: c["figures"]["COM-A"].update(exp={"family": "exp", "b": 1}),
            "figures.COM-A.exp.b",
        ),
        (
            lambda c: c["figures"]["COM-1"]["airy"].update(delays=[6, 4]),
            "figures.COM-1.airy.delays",
        ),
        (
            lambda c: c["figures"]["COM-1"]["lorenz96"]["system"].update(slow=3),
            "figures.COM-1.lorenz96.system",
        ),
    ],
)
def test_com_figure_errors_name_the_key(base, edit, key):
    edit(base)
    with pytest.raises(settings_lib.ConfigError) as error:
        settings_lib.check(base)
    assert str(error.value).startswith(key)


# The whole-config validation of the Snakefile (curse_of_memory.pipeline.validation).

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


@pytest.fixture(scope="module")
def schema():
    return validation.load_schema(SCHEMA)


@pytest.fixture
def raw():
    return validation.load_yaml(REPO / "config.yaml")


SCALES = ("default", "fast", "paper")  # the presets config.yaml ships (default: as written)


def test_the_shipped_presets_are_the_ones_tested(raw):
    assert (settings_lib.BASE_SCALE, *raw["scales"]) == SCALES


@pytest.mark.parametrize("scale", SCALES)
def test_every_shipped_preset_passes_the_schema_and_the_checks(schema, scale):
    """The Snakefile's path (load_config with --config scale=..., then resolve) on config.yaml;
    what it returns, the config with the preset merged, is what the schema validates."""
    config = validation.load_config([REPO / "config.yaml"], {"scale": scale})
    merged = validation.resolve(config, schema)
    assert merged == settings_lib.apply_scale(config)
    jsonschema.validate(merged, schema, cls=jsonschema.Draft202012Validator)
    settings_lib.check(merged)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["scales"]["paper"]["defaults"]["training"].update(lr="abc"),
            "scales.paper.defaults.training.lr: 'abc' is not of type 'number'",
        ),
        (
            lambda c: c["scales"]["paper"]["defaults"]["perturbation"].update(draws=0),
            "scales.paper.defaults.perturbation.draws: 0 is less than the minimum of 1",
        ),
        (
            lambda c: c["scales"]["paper"].update(
                experiments={"iat1_geometric": {"student": {"widths": [1, 2.5]}}}
            ),
            "scales.paper.experiments.iat1_geometric.student.widths.1: 2.5 is not of type",
        ),
        (
            lambda c: c["scales"]["paper"]["figures"]["COM-2"].update(omegas=[0.1, 0.1]),
            "scales.paper.figures.COM-2.omegas: need distinct values",
        ),
        (lambda c: c["scales"]["paper"].update(colour=1), "scales.paper.colour: unknown key"),
        (lambda c: c["defaults"]["training"].update(lr=math.nan), "defaults.training.lr: must be"),
        (
            lambda c: c["scales"]["paper"]["defaults"]["perturbation"].update(beta_ratio=math.inf),
            "scales.paper.defaults.perturbation.beta_ratio: must be a finite number, got inf",
        ),
        (lambda c: c["figures"]["IAT-1a"].update(teacher="t5"), "figures.IAT-1a.teacher: unknown"),
        (lambda c: c["figures"]["IAT-1a"].update(teacher="t0\n"), "figures.IAT-1a.teacher:"),
        (
            lambda c: c["experiments"].update({"x\n": c["experiments"]["iat1_geometric"]}),
            "experiments.'x\\n': invalid name 'x\\n'",
        ),
    ],
)
def test_scales_and_values_are_checked_like_the_rest(raw, schema, edit, message):
    """Both scales: the preset's keys are checked whichever scale runs."""
    edit(raw)
    for scale in SCALES:
        with pytest.raises(settings_lib.ConfigError) as error:
            validation.resolve({**raw, "scale": scale}, schema)
        assert str(error.value).startswith(message), str(error.value)


def test_the_biggest_job_must_fit_in_memory(raw, schema):
    raw["experiments"]["iat2_tanh_polynomial"]["student"]["widths"] = [4, 100000]
    with pytest.raises(
        settings_lib.ConfigError,
        match=r"^experiments.iat2_tanh_polynomial"
        r".student.widths: the train_student job needs about [0-9.]+ GB",
    ):
        validation.resolve(raw, schema, memory_limit=8 * 10**9)
    raw["experiments"]["iat2_tanh_polynomial"]["student"]["widths"] = [4, 8]
    raw["defaults"]["data"]["train"] = 10**9
    with pytest.raises(settings_lib.ConfigError, match=r"data.train: the teacher job needs"):
        validation.resolve(raw, schema, memory_limit=8 * 10**9)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("log(20 - t)", "not finite at t = 20"),  # finite on [0, 10], not on the real grid
        ("9**9**9", "not finite"),
        ("-" * 10000 + "t", "10001 characters, at most 1000"),
        ("+".join(["t"] * 100000), "characters, at most 1000"),
        ("-" * 100 + "t", "nested more than 64 levels"),
        ("1e999 * t", "out of range"),
        ("exp(t * 50)", "not finite at t = 15"),
    ],
)
def test_expr_kernels_are_evaluated_on_the_time_grid(base, formula, message):
    kernel = {"family": "expr", "formula": formula}
    base["experiments"]["iat1_geometric"]["teacher"]["kernel"] = kernel
    start = time.perf_counter()
    with pytest.raises(settings_lib.ConfigError) as error:
        settings_lib.check(base)
    assert time.perf_counter() - start < 1.0
    assert str(error.value).startswith("experiments.iat1_geometric.teacher.kernel.formula: ")
    assert message in str(error.value)


def test_a_kernel_of_another_family_replaces_the_spec():
    polynomial = {"kernel": {"family": "pol", "s": 1.0, "p": 1.1}}
    merged = settings_lib.deep_merge(polynomial, {"kernel": {"family": "exp", "a": 2}})
    assert merged == {"kernel": {"family": "exp", "a": 2}}
    # the same family: parameters merge (s stays 1.0, not the family's default 0.1)
    merged = settings_lib.deep_merge(polynomial, {"kernel": {"family": "pol", "p": 1.5}})
    assert merged == {"kernel": {"family": "pol", "s": 1.0, "p": 1.5}}
    # other mappings with a `family` (random-memory figures) still merge
    figure = {"kind": "random_memory", "family": "rnn", "input": "impulse"}
    assert settings_lib.deep_merge(figure, {"family": "gru"})["input"] == "impulse"


def write(path, text):
    path.write_text(text)
    return path


def billion_laughs(path):
    lines = ["scales:", "  paper:", '    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return write(path, "\n".join(lines) + "\n")


def test_config_files_refuse_alias_bombs_fast_and_duplicate_keys(tmp_path):
    bomb = billion_laughs(tmp_path / "bomb.yaml")
    start = time.perf_counter()
    with pytest.raises(settings_lib.ConfigError, match="bomb.yaml: expands to more than"):
        validation.load_yaml(bomb)
    assert time.perf_counter() - start < 0.5
    many = "\n".join(["a: &a 1", *(f"b{i}: *a" for i in range(101))])
    with pytest.raises(settings_lib.ConfigError, match="more than 100 aliases"):
        validation.load_yaml(write(tmp_path / "many.yaml", many))
    with pytest.raises(settings_lib.ConfigError, match="contains it"):
        validation.load_yaml(write(tmp_path / "cycle.yaml", "a: &a [1, *a]\n"))
    duplicate = write(tmp_path / "dup.yaml", "defaults:\n  training:\n    lr: 1\n    lr: 2\n")
    with pytest.raises(settings_lib.ConfigError, match=r"dup.yaml: line 4.*duplicate key 'lr'"):
        validation.load_yaml(duplicate)
    with pytest.raises(settings_lib.ConfigError, match="duplicate key 'seed'"):
        validation.load_yaml(write(tmp_path / "dup.json", '{"seed": 1, "seed": 2}'))
    merge = "base: &base {a: 1, b: 2}\nmine:\n  <<: *base\n  b: 3\n"  # `<<` may be overridden
    assert validation.load_yaml(write(tmp_path / "merge.yaml", merge))["mine"] == {"a": 1, "b": 3}
    # the shipped config loads as yaml.safe_load reads it
    assert validation.load_yaml(REPO / "config.yaml") == yaml.safe_load(
        (REPO / "config.yaml").read_text()
    )


def test_config_files_merge_in_order_and_a_kernel_family_override_replaces(tmp_path):
    base = write(tmp_path / "a.yaml", "k: {family: pol, s: 1.0, p: 1.1}\nx: {y: 1, z: 2}\n")
    override = write(tmp_path / "b.yaml", "k: {family: exp, a: 2}\nx: {z: 3}\n")
    merged = validation.load_config([base, override], {"seed": 3})
    assert merged == {"k": {"family": "exp", "a": 2}, "x": {"y": 1, "z": 3}, "seed": 3}
