"""Workflow configuration: scale presets, per-experiment settings, and semantic checks.

The JSON schema (workflow/schemas/config.schema.yaml) checks types and ranges; :func:`check`
adds what a schema cannot say (a kernel's parameters, increasing widths, figure references),
so that a bad config fails before any job runs, with a message naming the offending key.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

from .kernels import KernelSpecError, build_kernel
from .lorenz96 import Lorenz96
from .models import StudentSpec
from .perturbation import PerturbationConfig, beta_grid
from .stability import StabilityConfig
from .targets import InputSpec
from .training import TrainConfig

TEACHER_KINDS = ("linear_functional",)
VERDICTS = ("stable", "unstable")


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
    """Teacher identifiers t0, t1, ... of an experiment."""
    return [f"t{i}" for i in range(int(settings["teacher"].get("count", 1)))]


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
    if spec.get("experiment") not in config["experiments"]:
        raise ConfigError(
            f"{where}.experiment: unknown experiment {spec.get('experiment')!r}; "
            f"defined: {', '.join(config['experiments'])}"
        )
    if spec.get("expect") not in VERDICTS:
        raise ConfigError(f"{where}.expect: must be one of {', '.join(VERDICTS)}")


def _require(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{where}: {message}")


def _check_kernel(spec: object, where: str) -> None:
    try:
        build_kernel(spec, where)
    except KernelSpecError as error:
        raise ConfigError(str(error)) from None


def _check_range(pair: list, where: str) -> None:
    _require(0 < pair[0] <= pair[1], where, f"need 0 < low <= high, got {pair}")


def _check_student(options: Mapping, where: str, **extra: object) -> None:
    try:
        StudentSpec(**options, **extra)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {error}") from None


def _check_memory_target(target: Mapping, where: str) -> None:
    _check_kernel(target["smooth"], f"{where}.smooth")


def _check_training_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-1: linear RNN + GD on exponential-sum and Airy targets, tanh RNN on Lorenz-96."""
    linear = spec["linear"]
    _check_range(linear["init"]["eigen_range"], f"{where}.linear.init.eigen_range")
    _require(
        linear["fast_iterations"] <= linear["iterations"],
        f"{where}.linear.fast_iterations",
        "must not exceed linear.iterations",
    )
    series = spec["exponential_sum"]
    _check_range(series["coefficient_range"], f"{where}.exponential_sum.coefficient_range")
    _check_range(series["rate_range"], f"{where}.exponential_sum.rate_range")
    delays = spec["airy"]["delays"]
    _require(
        all(b > a for a, b in zip(delays, delays[1:])),
        f"{where}.airy.delays",
        f"need increasing delays, got {delays}",
    )
    lorenz = spec["lorenz96"]
    try:
        Lorenz96(**lorenz["system"])
    except ValueError as error:
        raise ConfigError(f"{where}.lorenz96.system: {error}") from None
    slow = lorenz["system"]["slow"]
    _check_student(lorenz["student"], f"{where}.lorenz96.student", input_dim=slow, output_dim=slow)


def _check_flow_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-2: gradient flow of sum_i c_i exp(-w_i t) on rho_omega for several omega."""
    omegas = spec["omegas"]
    _require(
        len(set(omegas)) == len(omegas), f"{where}.omegas", f"need distinct values, got {omegas}"
    )
    _check_memory_target(spec["target"], f"{where}.target")
    _check_range(spec["init"]["w_range"], f"{where}.init.w_range")
    solver = spec["solver"]
    _require(solver["t_min"] < solver["t_max"], f"{where}.solver.t_min", "must be below t_max")


def _check_plateau_time_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-3: plateau times of a com_flow figure against 1/omega."""
    source = config.get("figures", {}).get(spec["source"], {})
    _require(
        source.get("kind") == "com_flow",
        f"{where}.source",
        f"{spec['source']!r} is not a figure of kind com_flow",
    )
    _require(len(source["omegas"]) >= 3, f"{where}.source", "needs at least 3 omegas to fit a line")


def _check_sampled_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-4: the COM-2 target learned by general students on sampled inputs."""
    _check_memory_target(spec["target"], f"{where}.target")
    inputs = spec["inputs"]
    horizon = inputs["length"] * inputs["dt"]
    memory = 1.0 / spec["omega"] + 2.0 * spec["target"]["bump_width"]
    _require(
        horizon >= memory,
        f"{where}.inputs.length",
        f"horizon length * dt = {horizon:g} must cover the bump (1/omega + 2 width = {memory:g})",
    )
    for name, model in spec["models"].items():
        _check_student(
            model,
            f"{where}.models.{name}",
            width=spec["width"],
            dt=inputs["dt"],
            eigen_init=tuple(spec["eigen_init"]),
        )


def _check_approximation_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-A: least-squares exponential-sum fits of exp and pol kernels against width."""
    _check_kernel(spec["exp"], f"{where}.exp")
    widths = spec["widths"]
    _require(
        len(widths) >= 3 and all(b > a for a, b in zip(widths, widths[1:])),
        f"{where}.widths",
        f"need at least 3 increasing widths, got {widths}",
    )
    powers = spec["pol"]["powers"]
    _require(
        len(powers) >= 2 and all(b > a for a, b in zip(powers, powers[1:])),
        f"{where}.pol.powers",
        f"need at least 2 increasing powers, got {powers}",
    )


# Figure kind -> check of its entry in ``figures``; each kind has its own rule in workflow/rules/.
FIGURE_KINDS: dict[str, Callable[[Mapping, str, Mapping], None]] = {
    "perturbation": _check_perturbation_figure,
    "com_training": _check_training_figure,
    "com_flow": _check_flow_figure,
    "com_plateau_time": _check_plateau_time_figure,
    "com_sampled": _check_sampled_figure,
    "com_approximation": _check_approximation_figure,
}


def _check_experiment(config: Mapping, name: str) -> None:
    where = f"experiments.{name}"
    settings = experiment_settings(config, name)
    teacher = settings.get("teacher", {})
    if teacher.get("kind") not in TEACHER_KINDS:
        raise ConfigError(
            f"{where}.teacher.kind: unknown teacher kind {teacher.get('kind')!r}; "
            f"known: {', '.join(TEACHER_KINDS)}"
        )
    try:
        build_kernel(teacher.get("kernel"), f"{where}.teacher.kernel")
    except KernelSpecError as error:
        raise ConfigError(str(error)) from None
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
