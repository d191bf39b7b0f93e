"""Workflow configuration: scale presets, per-experiment settings, and semantic checks.

The JSON schema (workflow/schemas/config.schema.yaml) checks types and ranges; :func:`check`
adds what a schema cannot say (a kernel's parameters, increasing widths, figure references),
so that a bad config fails before any job runs, with a message naming the offending key.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

from .kernels import KernelSpecError, build_kernel
from .models import StudentSpec
from .perturbation import PerturbationConfig, beta_grid
from .stability import StabilityConfig
from .targets import InputSpec
from .training import TrainConfig

TEACHER_KINDS = ("linear_functional", "tanh_rnn", "transformer")
VERDICTS = ("stable", "unstable")
MEMORY_EXPECTATIONS = ("exponential", "slow")


class ConfigError(ValueError):
    """A config value that cannot be used; the message starts with its key path."""


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """A new dict: ``override`` merged into ``base``; nested mappings merge, the rest replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_scale(config: Mapping) -> dict:
    """The config with ``scales[scale]`` merged over it (no preset for ``quick``: a no-op)."""
    scale = config.get("scale", "quick")
    presets = config.get("scales", {})
    if scale not in presets and scale != "quick":
        raise ConfigError(
            f"scale: unknown scale {scale!r}; defined: {', '.join(presets) or 'none'}"
        )
    return deep_merge(config, presets.get(scale, {}))


def experiment_settings(config: Mapping, name: str) -> dict:
    """``defaults`` merged with ``experiments[name]``: every stage's settings for one experiment."""
    if name not in config["experiments"]:
        raise ConfigError(f"experiments.{name}: no such experiment")
    return deep_merge(config["defaults"], config["experiments"][name])


def teacher_ids(settings: Mapping) -> list[str]:
    """Teacher identifiers t0, t1, ...: one per entry of ``gains`` (tanh_rnn), else ``count``."""
    teacher = settings["teacher"]
    count = len(teacher["gains"]) if "gains" in teacher else int(teacher.get("count", 1))
    return [f"t{i}" for i in range(count)]


def teacher_spec(settings: Mapping, teacher_id: str) -> dict:
    """What one teacher depends on: its kind and parameters (tanh_rnn: its own ``gain``)."""
    spec = {
        key: value for key, value in settings["teacher"].items() if key not in ("count", "gains")
    }
    if "gains" in settings["teacher"]:
        spec["gain"] = settings["teacher"]["gains"][int(teacher_id[1:])]
    return spec


def student_spec(settings: Mapping, width: int) -> StudentSpec:
    options = {key: value for key, value in settings["student"].items() if key != "widths"}
    if "eigen_init" in options:
        options["eigen_init"] = tuple(options["eigen_init"])
    inputs = settings["inputs"]
    return StudentSpec(width=int(width), dt=inputs["dt"], input_dim=inputs["dim"], **options)


def input_spec(settings: Mapping) -> InputSpec:
    return InputSpec(**settings["inputs"])


def train_config(settings: Mapping) -> TrainConfig:
    return TrainConfig(**settings["training"])


def perturbation_config(settings: Mapping) -> PerturbationConfig:
    options = dict(settings["perturbation"])
    betas = beta_grid(
        options.pop("beta_base"), options.pop("beta_ratio"), options.pop("beta_count")
    )
    return PerturbationConfig(betas=tuple(float(b) for b in betas), **options)


def stability_config(settings: Mapping) -> StabilityConfig:
    return StabilityConfig(**settings["stability"])


def check(config: Mapping) -> None:
    """Raise ConfigError naming the key of the first value the workflow cannot use."""
    for name in config["experiments"]:
        _check_experiment(config, name)
    for figure, spec in config.get("figures", {}).items():
        where = f"figures.{figure}"
        kind = spec.get("kind")
        if kind not in FIGURE_KINDS:
            raise ConfigError(
                f"{where}.kind: unknown figure kind {kind!r}; known: {', '.join(FIGURE_KINDS)}"
            )
        FIGURE_KINDS[kind](config, where, spec)


def _check_perturbation_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """A perturbation figure draws one experiment's students and states the expected verdict."""
    _check_experiment_reference(config, where, spec)
    if spec.get("expect") not in VERDICTS:
        raise ConfigError(f"{where}.expect: must be one of {', '.join(VERDICTS)}")


def _check_experiment_reference(config: Mapping, where: str, spec: Mapping) -> None:
    if spec.get("experiment") not in config["experiments"]:
        raise ConfigError(
            f"{where}.experiment: unknown experiment {spec.get('experiment')!r}; "
            f"defined: {', '.join(config['experiments'])}"
        )


def _check_teacher_memory_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """A teacher-memory figure draws one teacher's memory function."""
    _check_experiment_reference(config, where, spec)
    teacher = spec.get("teacher", "t0")
    if teacher not in teacher_ids(experiment_settings(config, spec["experiment"])):
        raise ConfigError(f"{where}.teacher: experiment {spec['experiment']} has no {teacher}")
    if spec.get("expect") not in MEMORY_EXPECTATIONS:
        raise ConfigError(f"{where}.expect: must be one of {', '.join(MEMORY_EXPECTATIONS)}")


# Figure kind -> check of its entry in ``figures``; each kind has its own rule in workflow/rules/.
FIGURE_KINDS: dict[str, Callable[[Mapping, str, Mapping], None]] = {
    "perturbation": _check_perturbation_figure,
    "filter": _check_experiment_reference,
    "teacher_memory": _check_teacher_memory_figure,
}


def _check_experiment(config: Mapping, name: str) -> None:
    where = f"experiments.{name}"
    settings = experiment_settings(config, name)
    _check_teacher(settings.get("teacher", {}), f"{where}.teacher")
    widths = settings["student"].get("widths", [])
    if len(widths) < 2 or any(b <= a for a, b in zip(widths, widths[1:])) or widths[0] < 1:
        raise ConfigError(
            f"{where}.student.widths: need at least two positive, strictly increasing widths, "
            f"got {widths}"
        )
    for section, build in (
        ("student", lambda: student_spec(settings, widths[0])),
        ("inputs", lambda: input_spec(settings)),
        ("training", lambda: train_config(settings)),
        ("perturbation", lambda: perturbation_config(settings)),
        ("stability", lambda: stability_config(settings)),
    ):
        try:
            build()
        except (TypeError, ValueError) as error:
            message = str(error)
            if message.startswith(f"{section}."):
                raise ConfigError(f"{where}.{message}") from None
            raise ConfigError(f"{where}.{section}: {message}") from None


def _check_teacher(teacher: Mapping, where: str) -> None:
    kind = teacher.get("kind")
    if kind not in TEACHER_KINDS:
        raise ConfigError(
            f"{where}.kind: unknown teacher kind {kind!r}; known: {', '.join(TEACHER_KINDS)}"
        )
    required = {
        "linear_functional": ("kernel",),
        "tanh_rnn": ("width", "gains"),
        "transformer": ("d_model", "heads", "layers"),
    }[kind]
    for key in required:
        if key not in teacher:
            raise ConfigError(f"{where}.{key}: required for teacher kind '{kind}'")
    if kind == "linear_functional":
        try:
            build_kernel(teacher["kernel"], f"{where}.kernel")
        except KernelSpecError as error:
            raise ConfigError(str(error)) from None
    if kind == "transformer" and teacher["d_model"] % (2 * teacher["heads"]):
        raise ConfigError(f"{where}.d_model: must be a multiple of 2 x heads")
