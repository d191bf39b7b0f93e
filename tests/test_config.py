from pathlib import Path

import pytest
import yaml

from curse_of_memory import config as settings_lib

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
    assert raw["experiments"]["iat2_tanh_polynomial"]["data"]["train"] == 2048
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
