"""Workflow configuration: scale presets, per-experiment settings, and semantic checks.

The JSON schema (workflow/schemas/config.schema.yaml) checks types and ranges; :func:`check`
adds what a schema cannot say (a kernel's parameters, increasing widths, figure references),
so that a bad config fails before any job runs, with a message naming the offending key.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Mapping

import numpy as np

from ..com.dynamics import quadrature
from ..com.lorenz96 import Lorenz96
from ..memory.decay import DECAY_LABELS as FIT_LABELS
from ..memory.decay import INPUTS as MEMORY_INPUTS
from ..memory.random_models import RandomModelSpec
from ..rnn.least_squares import fitted_modes
from ..rnn.models import StudentSpec
from ..rnn.training import TrainConfig
from ..stability.perturbation import PerturbationConfig, beta_grid
from ..stability.verdict import StabilityConfig
from ..targets.datasets import InputSpec
from ..targets.kernels import KernelSpecError, build_kernel, family_names
from ..targets.teachers import KINDS as TEACHER_KINDS

BASE_SCALE = "default"  # the config as written; other scales are presets under ``scales``
# What a figure may expect or choose (the schema's enums of the same names are filled from them).
VERDICTS = ("stable", "unstable")
MEMORY_EXPECTATIONS = ("exponential", "slow")
SENTIMENT_EXPECTATIONS = ("exponential", "not_exponential")
MEMORY_AXES = ("semilogy", "loglog")
DECAY_LABELS = tuple(label for label in FIT_LABELS if label != "undetermined")


class ConfigError(ValueError):
    """A config value that cannot be used; the message starts with its key path."""


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """A new dict: ``override`` merged into ``base``; nested mappings merge, the rest replaces.

    A kernel spec (a mapping whose ``family`` names a kernel family) is replaced whole when the
    override names another family: parameters of different families never mix, so
    ``{family: exp, a: 2}`` over ``{family: pol, s: 1, p: 1.1}`` is ``{family: exp, a: 2}``.
    An override of the same family (or without ``family``) merges its parameters, so
    ``{family: pol, p: 1.5}`` keeps ``s: 1`` instead of silently falling back to its default.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if (
            isinstance(value, Mapping)
            and isinstance(merged.get(key), Mapping)
            and not _other_kernel_family(merged[key], value)
        ):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _other_kernel_family(base: Mapping, override: Mapping) -> bool:
    """Does ``override`` replace the kernel spec ``base`` by one of another family?"""
    kernel_families = family_names()
    return (
        "family" in override
        and override["family"] != base.get("family")
        and (override["family"] in kernel_families or base.get("family") in kernel_families)
    )


def apply_scale(config: Mapping) -> dict:
    """The config with ``scales[scale]`` merged over it (no preset for ``default``: a no-op).

    The preset's ``defaults`` also win over what an experiment sets for the default scale (its
    data sizes and epochs), and the preset's ``experiments.<name>`` win over both.
    """
    scale = config.get("scale", BASE_SCALE)
    presets = config.get("scales", {})
    if scale not in presets and scale != BASE_SCALE:
        raise ConfigError(
            f"scale: unknown scale {scale!r}; defined: {', '.join(presets) or 'none'}"
        )
    preset = presets.get(scale, {})
    for name in preset.get("experiments", {}):
        if name not in config.get("experiments", {}):
            raise ConfigError(f"scales.{scale}.experiments.{name}: no such experiment")
    merged = deep_merge(config, preset)
    scaled_defaults = preset.get("defaults", {})
    for name, experiment in config.get("experiments", {}).items():
        own = preset.get("experiments", {}).get(name, {})
        merged["experiments"][name] = deep_merge(deep_merge(experiment, scaled_defaults), own)
    return merged


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
    options = {
        key: value
        for key, value in settings["student"].items()
        if key not in ("widths", "fit", "warm_start", "attempts")
    }
    if "eigen_init" in options:
        options["eigen_init"] = tuple(options["eigen_init"])
    inputs = settings["inputs"]
    return StudentSpec(width=int(width), dt=inputs["dt"], input_dim=inputs["dim"], **options)


def input_spec(settings: Mapping) -> InputSpec:
    return InputSpec(**settings["inputs"])


def train_config(settings: Mapping) -> TrainConfig:
    """Training settings, with the student's ``fit`` (gradient | least_squares) and
    ``warm_start``."""
    student = settings["student"]
    return TrainConfig(
        **settings["training"],
        fit=student.get("fit", "gradient"),
        warm_start=student.get("warm_start", False),
        attempts=student.get("attempts", 1),
    )


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
    _check_teacher_reference(config, where, spec)
    if spec.get("expect") not in VERDICTS:
        raise ConfigError(f"{where}.expect: must be one of {', '.join(VERDICTS)}")


def _check_experiment_reference(config: Mapping, where: str, spec: Mapping) -> None:
    if spec.get("experiment") not in config["experiments"]:
        raise ConfigError(
            f"{where}.experiment: unknown experiment {spec.get('experiment')!r}; "
            f"defined: {', '.join(config['experiments'])}"
        )


def _check_teacher_reference(config: Mapping, where: str, spec: Mapping) -> None:
    """The figure's ``teacher`` (default t0) is one of its experiment's teachers."""
    teacher = spec.get("teacher", "t0")
    known = teacher_ids(experiment_settings(config, spec["experiment"]))
    if teacher not in known:
        raise ConfigError(
            f"{where}.teacher: unknown teacher {teacher!r}; experiment {spec['experiment']} "
            f"has {', '.join(known)}"
        )


def _check_teacher_memory_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """A teacher-memory figure draws one teacher's memory function."""
    _check_experiment_reference(config, where, spec)
    _check_teacher_reference(config, where, spec)
    if spec.get("expect") not in MEMORY_EXPECTATIONS:
        raise ConfigError(f"{where}.expect: must be one of {', '.join(MEMORY_EXPECTATIONS)}")


def _require_section(config: Mapping, where: str, section: str) -> Mapping:
    if not isinstance(config.get(section), Mapping):
        raise ConfigError(f"{where}: this kind of figure needs the top-level `{section}` section")
    return config[section]


def _check_choice(where: str, value: object, known: Collection) -> None:
    if value not in known:
        raise ConfigError(f"{where}: unknown {value!r}; known: {', '.join(map(str, known))}")


def _check_random_memory_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """Memory of randomly initialised models of one family in ``random_memory.families``."""
    families = _require_section(config, where, "random_memory")["families"]
    _check_choice(f"{where}.family", spec.get("family"), families)
    family = spec["family"]
    options = {k: v for k, v in families[family].items() if k not in ("layers", "length")}
    try:
        RandomModelSpec(family=family, **options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}.family: random_memory.families.{family}: {error}") from None
    _check_choice(f"{where}.input", spec.get("input"), MEMORY_INPUTS)
    _check_choice(f"{where}.expect", spec.get("expect"), DECAY_LABELS)


def _check_phase_portrait_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """A 2 x 2 matrix W and expected attractors inside the closed box [-1, 1]^2."""
    W = spec.get("W")
    if not (isinstance(W, list) and len(W) == 2 and all(len(row) == 2 for row in W)):
        raise ConfigError(f"{where}.W: must be a 2 x 2 matrix, got {W!r}")
    for i, point in enumerate(spec.get("expect", [])):
        if len(point) != 2 or max(abs(c) for c in point) > 1:
            raise ConfigError(f"{where}.expect.{i}: must be a point of [-1, 1]^2, got {point!r}")


def _check_sentiment_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """A model trained on the synthetic corpus, query words from its vocabulary."""
    section = _require_section(config, where, "sentiment")
    _check_choice(f"{where}.model", spec.get("model"), section["models"])
    _check_choice(f"{where}.expect", spec.get("expect"), SENTIMENT_EXPECTATIONS)
    words = set(section["corpus"]["positive"]) | set(section["corpus"]["negative"])
    words |= set(section["corpus"]["ambiguous"]) | set(section["corpus"]["filler"])
    for word in section["query"]["words"]:
        _check_choice("sentiment.query.words", word, sorted(words))


def _check_digits_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """The digits runs: direct must be among the parameterizations (the baseline of the claims)."""
    section = _require_section(config, where, "digits")
    if "direct" not in section["parameterizations"]:
        raise ConfigError("digits.parameterizations: must include direct, the baseline")


def _require(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{where}: {message}")


def _check_kernel(
    spec: object, where: str, times: np.ndarray | None = None, grid: str = ""
) -> None:
    """A valid kernel spec; with ``times``: finite values where the jobs evaluate it (``grid``)."""
    try:
        kernel = build_kernel(spec, where)
        if times is None:
            return
        if spec.get("family") == "expr":
            where = f"{where}.formula"
        with np.errstate(all="ignore"):
            values = np.asarray(kernel(times), dtype=float)
    except KernelSpecError as error:
        raise ConfigError(str(error)) from None
    except (ArithmeticError, ValueError, MemoryError, RecursionError) as error:
        raise ConfigError(
            f"{where}: cannot be evaluated on {grid} ({type(error).__name__}: {error})"
        ) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ConfigError(
            f"{where}: not finite at t = {times[bad[0]]:g} (value {values[bad[0]]}) of {grid}"
        )


def _time_grid(length: int, dt: float) -> tuple[np.ndarray, str]:
    """The times t = k dt, k = 0..length-1, at which a job evaluates a kernel, and their name."""
    grid = f"the time grid t = k dt, k = 0..{length - 1}, dt = {dt:g}"
    return np.arange(length) * float(dt), grid


def _check_range(pair: list, where: str) -> None:
    _require(0 < pair[0] <= pair[1], where, f"need 0 < low <= high, got {pair}")


def _check_student(options: Mapping, where: str, **extra: object) -> None:
    try:
        StudentSpec(**options, **extra)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {error}") from None


def _check_memory_target(target: Mapping, where: str, times: np.ndarray, grid: str) -> None:
    _check_kernel(target["smooth"], f"{where}.smooth", times, grid)


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
        system = Lorenz96(**lorenz["system"])
    except ValueError as error:
        raise ConfigError(f"{where}.lorenz96.system: {error}") from None
    limit = system.euler_step_limit()  # explicit Euler's stability at the attractor's size
    _require(
        lorenz["dt"] <= limit,
        f"{where}.lorenz96.dt",
        f"{lorenz['dt']:g} makes the Euler-Maruyama simulation of this system unstable (it "
        f"diverges); need dt <= {limit:.3g} (lorenz96.Lorenz96.euler_step_limit)",
    )
    slow = lorenz["system"]["slow"]
    _check_student(lorenz["student"], f"{where}.lorenz96.student", input_dim=slow, output_dim=slow)


def _check_flow_figure(config: Mapping, where: str, spec: Mapping) -> None:
    """COM-2: gradient flow of sum_i c_i exp(-w_i t) on rho_omega for several omega."""
    omegas = spec["omegas"]
    _require(
        len(set(omegas)) == len(omegas), f"{where}.omegas", f"need distinct values, got {omegas}"
    )
    horizon = 1.0 / min(omegas) + spec["horizon_tail"]
    nodes, _ = quadrature(horizon, **spec["quadrature"])
    grid = f"the quadrature nodes on [0, 1/omega + horizon_tail = {horizon:g}]"
    _check_memory_target(spec["target"], f"{where}.target", nodes, grid)
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
    inputs = spec["inputs"]
    times, grid = _time_grid(inputs["length"], inputs["dt"])
    _check_memory_target(spec["target"], f"{where}.target", times, grid)
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
    _check_kernel(spec["exp"], f"{where}.exp", *_time_grid(spec["length"], 1.0))
    widths = spec["widths"]
    _require(
        len(widths) >= 4 and all(b > a for a, b in zip(widths, widths[1:])),
        f"{where}.widths",
        f"need at least 4 increasing widths (a decay rate per half needs two), got {widths}",
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
    "filter": _check_experiment_reference,
    "teacher_memory": _check_teacher_memory_figure,
    "random_memory": _check_random_memory_figure,
    "phase_portrait": _check_phase_portrait_figure,
    "sentiment_memory": _check_sentiment_figure,
    "digits_training": _check_digits_figure,
    "com_training": _check_training_figure,
    "com_flow": _check_flow_figure,
    "com_plateau_time": _check_plateau_time_figure,
    "com_sampled": _check_sampled_figure,
    "com_approximation": _check_approximation_figure,
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
    student = settings["student"]
    if student.get("fit") == "least_squares":
        for width in widths:
            try:
                fitted_modes(student_spec(settings, width))
            except ValueError as error:
                raise ConfigError(f"{where}.{error} (or use fit: gradient)") from None
    if student.get("warm_start") and student.get("fit") == "least_squares":
        raise ConfigError(
            f"{where}.student.warm_start: applies to fit: gradient (least_squares already "
            "starts each width from the previous width's fit)"
        )
    restarts = student.get("attempts", 1) > 1 and student.get("fit", "gradient") == "gradient"
    if restarts and settings["training"].get("epochs_per_job", 0) > 0:
        raise ConfigError(
            f"{where}.student.attempts: restarts run inside one training job; with "
            "training.epochs_per_job > 0 set attempts: 1"
        )
    teacher = settings["teacher"]
    if teacher["kind"] == "linear_functional":  # rho(k dt), k < T: what the teacher job evaluates
        inputs = settings["inputs"]
        times, grid = _time_grid(inputs["length"], inputs["dt"])
        _check_kernel(teacher["kernel"], f"{where}.teacher.kernel", times, grid)


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
