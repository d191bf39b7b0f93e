"""The whole configuration, checked before any job runs; every failure names its key or file.

In the order the Snakefile runs them (the first failure is reported as ConfigError):

1. :func:`load_config`: each config file is read with a YAML loader that refuses duplicate keys
   and alias bombs (too many aliases, or a document that expands to too many values), and the
   files are merged with :func:`.config.deep_merge` (a kernel spec of another family replaces
   the old one whole);
2. :func:`load_schema`: the JSON schema, its enumerations filled in from the package's
   registries (:data:`ENUMS`) and one entry per figure kind of :data:`.config.FIGURE_KINDS`;
3. :func:`resolve`: every number is finite and every key a string; the JSON schema holds for the
   config as written and for it with each scale preset merged, so that every key under
   ``scales.*`` is checked like the rest (its errors name ``scales.<name>.<key>``); the semantic
   checks of :func:`.config.check` hold for every preset merged; and the biggest job of every
   experiment and figure of the chosen scale fits in this machine's memory
   (:func:`check_memory`). The merged config of the chosen scale is what the workflow runs.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..com import training_curves
from ..memory import decay as memory
from ..memory import random_models, sentiment
from ..rnn import models, recurrence, training
from ..stability import perturbation
from ..targets import teachers
from . import config
from .config import (
    BASE_SCALE,
    ConfigError,
    apply_scale,
    check,
    deep_merge,
    experiment_settings,
)

MAX_ALIASES = 100  # aliases (*name) per config file; the shipped config has none
MAX_VALUES = 100_000  # values of a config file with every alias expanded (config.yaml: ~2000)
BYTES = 8  # float64


# 1. Config files -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that counts aliases and refuses duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"more than {MAX_ALIASES} aliases (*name): refused as a possible alias bomb",
                    self.peek_event().start_mark,
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            lines: dict = {}  # key -> line of its first occurrence
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may be overridden
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = lines.get(key)
                except TypeError:  # an unhashable key: SafeLoader's own error follows
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first at line {first})",
                        key_node.start_mark,
                    )
                lines[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _expanded_size(root: yaml.Node) -> int:
    """Values of the document with every alias expanded, counted without expanding them.

    ValueError beyond MAX_VALUES, or for an alias inside the value it names (a cycle).
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        if children_done:
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            open_nodes.discard(key)
            if sizes[key] > MAX_VALUES:
                raise ValueError(
                    f"expands to more than {MAX_VALUES} values (aliases repeat what they name): "
                    "refused as a possible alias bomb"
                )
            continue
        if key in sizes:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                line = child.start_mark.line + 1
                raise ValueError(f"line {line}: an alias refers to a value that contains it")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _no_duplicates(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"duplicate key {key!r}")
    return dict(pairs)


def load_yaml(path: str | os.PathLike) -> dict:
    """One config file (JSON or YAML) as a dict; ConfigError naming the file if it is unsafe."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read ({error})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    except ValueError as error:
        if "duplicate key" in str(error):
            raise ConfigError(f"{path}: {error}") from None
        data = _load_yaml_text(text, path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values")
    return data


def _load_yaml_text(text: str, path: str | os.PathLike) -> object:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{path}: {where}{error.problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    finally:
        loader.dispose()


def load_config(paths: Iterable[str | os.PathLike], overrides: Mapping | None = None) -> dict:
    """The config files merged in order (later files win), then ``overrides`` (``--config``)."""
    merged: dict = {}
    for path in paths:
        merged = deep_merge(merged, load_yaml(path))
    return deep_merge(merged, dict(overrides or {}))


# 2. The schema -----------------------------------------------------------------------------

# The config's enumerations: ``$defs/<name>`` of the schema -> the registry whose names it allows.
ENUMS: dict[str, Collection[str]] = {
    "structure": models.STRUCTURES,
    "parameterization": models.PARAMETERIZATIONS,
    "activation": recurrence.ACTIVATIONS,
    "fit": training.FITS,
    "teacher_kind": teachers.KINDS,
    "teacher_output": teachers.OUTPUTS,
    "perturbation_method": perturbation.METHODS,
    "random_family_name": random_models.FAMILIES,
    "sentiment_model_name": sentiment.MODEL_KINDS,
    "optimizer": training_curves.OPTIMIZERS,
    "figure_kind": config.FIGURE_KINDS,
    "verdict": config.VERDICTS,
    "memory_expectation": config.MEMORY_EXPECTATIONS,
    "sentiment_expectation": config.SENTIMENT_EXPECTATIONS,
    "memory_input": memory.INPUTS,
    "memory_axes": config.MEMORY_AXES,
    "decay_label": config.DECAY_LABELS,
}


def load_schema(path: str | os.PathLike) -> dict:
    """The JSON schema at ``path``, completed from the package.

    ``$defs/<name>`` allows exactly the names of ``ENUMS[name]``, and a ``figures`` entry of kind
    k follows ``$defs/<k>_figure``, for every k of config.FIGURE_KINDS.
    """
    schema = load_yaml(path)
    defs = schema["$defs"]
    for name, names in ENUMS.items():
        if name not in defs:
            raise ConfigError(f"{path}: $defs.{name}: missing (validation.ENUMS fills it in)")
        defs[name]["enum"] = list(names)
    for kind in config.FIGURE_KINDS:
        if f"{kind}_figure" not in defs:
            raise ConfigError(f"{path}: $defs.{kind}_figure: missing for figure kind {kind}")
    schema["properties"]["figures"]["additionalProperties"]["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}},
            "then": {"$ref": f"#/$defs/{kind}_figure"},
        }
        for kind in config.FIGURE_KINDS
    ]
    return schema


# 3. The merged config ------------------------------------------------------------------------


def resolve(config: Mapping, schema: Mapping, memory_limit: int | None = None) -> dict:
    """The config with its scale preset merged, after every check; ConfigError naming the key.

    ``memory_limit``: bytes a job may use (default: this machine's memory).
    """
    import jsonschema

    check_values(config)
    validator = jsonschema.Draft202012Validator(schema)
    _check_schema(validator, config, config, None)
    presets = {name: apply_scale({**config, "scale": name}) for name in config.get("scales", {})}
    for name, preset in presets.items():
        _check_schema(validator, preset, config, name)
    scale = config.get("scale", BASE_SCALE)
    merged = apply_scale(config)
    limit = machine_memory() if memory_limit is None else memory_limit
    for name, settings in [(scale, merged), *((n, p) for n, p in presets.items() if n != scale)]:
        try:
            if name == scale:  # the machine runs this scale's jobs only
                check_memory(settings, limit)
            check(settings)
        except ConfigError as error:
            raise _named_in_preset(error, settings, config, name) from None
    return merged


def check_values(config: Mapping) -> None:
    """Every number finite (no .nan, .inf), every key a string; ConfigError naming the key."""
    stack: list[tuple[tuple, object]] = [((), config)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ConfigError(
                        f"{_dotted(path) or 'top level'}: key {key!r} is not a string (quote it)"
                    )
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{_dotted(path)}: must be a finite number, got {value}")


def _dotted(path: Iterable) -> str:
    """A key path as text; a part that is not a plain name is quoted (e.g. 'x\\n')."""
    return ".".join(
        part if isinstance(part, str) and re.fullmatch(r"[\w.-]+", part) else repr(part)
        for part in path
    )


def _check_schema(validator, instance: Mapping, config: Mapping, scale: str | None) -> None:
    """The schema's most relevant error on ``instance`` (``config`` with preset ``scale``)."""
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(instance))
    if error is None:
        return
    path, message = _schema_message(error)
    if scale is not None:
        source = _preset_source(config, scale, path)
        path = ["scales", scale, *source] if source is not None else path
    raise ConfigError(f"{_dotted(path) or 'top level'}: {message}")


def _schema_message(error) -> tuple[list, str]:
    """A jsonschema error as (key path, what is wrong)."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {})
        extra = [key for key in instance if key not in known]
        if extra:
            hint = f" (known: {', '.join(known)})" if known else ""
            return [*path, extra[0]], f"unknown key{hint}"
    if error.validator == "required" and isinstance(instance, Mapping):
        missing = [key for key in error.validator_value if key not in instance]
        if missing:
            return [*path, missing[0]], "required key missing"
    if "propertyNames" in error.relative_schema_path:
        rule = error.schema.get("description", f"must match {error.schema.get('pattern')}")
        return [*path, instance], f"invalid name {instance!r}: {rule}"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return path, message


def _preset_source(config: Mapping, scale: str, path: list) -> list | None:
    """Where in ``scales.<scale>`` the merged value at ``path`` comes from (None: not there)."""
    preset = config.get("scales", {}).get(scale)
    if not isinstance(preset, Mapping) or not path:
        return None
    candidates = [path]
    if path[0] == "experiments" and len(path) >= 2:
        candidates.append(["defaults", *path[2:]])  # the preset's defaults reach every experiment
    for candidate in candidates:
        node = preset
        for part in candidate:
            if not isinstance(node, Mapping):
                return candidate  # the preset replaced this list or value whole
            if part not in node:
                break
            node = node[part]
        else:
            return candidate
    return None


def _named_in_preset(error: ConfigError, merged: Mapping, config: Mapping, scale: str):
    """``error`` naming ``scales.<scale>.<key>`` when the preset set the offending value."""
    key, separator, rest = str(error).partition(": ")
    path = _split_key(key, merged)
    source = _preset_source(config, scale, path) if separator and path else None
    if source is None:
        return error
    return ConfigError(f"{_dotted(['scales', scale, *source])}: {rest}")


def _split_key(key: str, merged: Mapping) -> list:
    """A dotted key path as its parts; experiment and figure names may contain dots."""
    for section in ("experiments", "figures"):
        if key.startswith(f"{section}."):
            names = sorted(merged.get(section, {}), key=len, reverse=True)
            for name in names:
                if key == f"{section}.{name}" or key.startswith(f"{section}.{name}."):
                    rest = key[len(section) + len(name) + 2 :]
                    return [section, name, *(rest.split(".") if rest else [])]
    return key.split(".")


# 4. Memory -----------------------------------------------------------------------------------


def machine_memory() -> int:
    """Bytes of physical memory of this machine."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        text = Path("/proc/meminfo").read_text()
        return int(re.search(r"MemTotal:\s+(\d+) kB", text).group(1)) * 1024


@dataclass(frozen=True)
class Part:
    """One array (or group of arrays) a job holds: its size and the key that sets it."""

    key: str
    bytes: int
    what: str


@dataclass(frozen=True)
class Job:
    """A job's memory as the sum of its parts (rough: arrays held at once, not the allocator)."""

    name: str
    where: str
    parts: tuple[Part, ...]

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.parts)


def experiment_jobs(settings: Mapping, where: str) -> list[Job]:
    """Teacher, training and perturbation job of one experiment's widest student.

    Linear students run as Toeplitz products of M^s [U | b], s < T (arrays T x m and T x T);
    nonlinear ones keep every state of a batch for the backward pass (T x batch x m).
    """
    inputs, sizes = settings["inputs"], settings["data"]
    length, dim = inputs["length"], inputs.get("dim", 1)
    split = max(sizes, key=sizes.get)
    samples = sum(sizes.values())
    data = samples * length * (dim + 1) * BYTES
    data_part = Part(
        f"data.{split}",
        3 * data,
        f"{samples} samples x T {length} x (dim {dim} + 1) x 8 bytes, drawn, labelled and saved",
    )
    chunk = min(1024, sizes[split])  # targets.make_splits labels this many samples at once
    teacher = settings.get("teacher", {})
    teacher_parts = [data_part]
    if teacher.get("kind") == "tanh_rnn":
        width = teacher.get("width", 1)
        states = 3 * chunk * length * width * BYTES
        teacher_parts.append(Part("teacher.width", states, f"states of teacher width {width}"))
    elif teacher.get("kind") == "transformer":
        d_model, heads = teacher.get("d_model", 1), teacher.get("heads", 1)
        context = length  # steps attended over; relative positions add the silent past
        if teacher.get("positions") == "relative":
            context += teacher.get("layers", 1) * (length - 1)
        attention = 2 * chunk * heads * context * context * BYTES
        hidden = 8 * chunk * context * d_model * BYTES
        teacher_parts.append(
            Part("inputs.length", attention + hidden, f"attention {context} x {context}")
        )

    student = settings["student"]
    width = max(student.get("widths", [1]))
    has_P = student.get("structure", "diagonal") != "diagonal"  # full and orthogonal: m x m P
    linear = student.get("activation", "linear") == "linear"
    params = (width * width if has_P else width) + width * (dim + 2) + 1
    batch = settings.get("training", {}).get("batch_size", 1)
    perturbation = settings.get("perturbation", {})
    draws = perturbation.get("draws", 1)
    test = sizes.get("test", 0) * length * (dim + 1) * BYTES
    student_parts = [
        Part(f"data.{split}", 2 * data, "the data, loaded and in training precision"),
        Part("student.widths", 4 * params * BYTES, f"{params} weights of width {width} + Adam"),
    ]
    perturb_parts = [
        Part("data.test", 2 * test, "the test split"),
        Part(
            "perturbation.draws" if draws > params else "student.widths",
            2 * draws * params * BYTES,
            f"perturbation.draws {draws} perturbed copies of {params} weights of width {width}",
        ),
        Part("perturbation.beta_count", 2 * perturbation.get("beta_count", 0) * draws * BYTES, ""),
    ]
    if linear:
        powers = length * width * (dim + 1) * BYTES
        toeplitz = length * length * dim * BYTES
        what = f"M^s [U | b] for s < T {length}, width {width}"
        student_parts += [
            Part("student.widths", 3 * powers, what),
            Part("inputs.length", 3 * toeplitz, f"Toeplitz matrix T x T {length}"),
        ]
        perturb_parts += [
            Part("student.widths", 2 * draws * powers, f"{draws} x {what}"),
            Part("inputs.length", 7 * dim * toeplitz, f"exact quadratic form, T x T {length}"),
        ]
    else:
        states = 4 * batch * length * width * BYTES
        what = f"states of a batch: training.batch_size {batch} x T {length} x width {width}"
        student_parts.append(Part("student.widths", states, what))
        elements = perturbation.get("chunk_elements", 0)
        perturb_parts.append(Part("perturbation.chunk_elements", 4 * elements * BYTES, ""))
    return [
        Job("teacher", where, tuple(teacher_parts)),
        Job("train_student", where, tuple(student_parts)),
        Job("perturb", where, tuple(perturb_parts)),
    ]


def figure_jobs(spec: Mapping, where: str) -> list[Job]:
    """The arrays of the COM figures whose sizes the config sets freely."""
    kind = spec.get("kind")
    if kind == "com_flow":
        horizon = 1.0 / min(spec["omegas"]) + spec["horizon_tail"]
        quadrature = spec["quadrature"]
        nodes = math.ceil(horizon / quadrature["panel"]) * quadrature["order"]
        what = f"{nodes} quadrature nodes on [0, {horizon:g}]"
        part = Part("quadrature.panel", 2 * (spec["width"] + 4) * nodes * BYTES, what)
        return [Job("com_flow_run", where, (part,))]
    if kind == "com_sampled":
        inputs = spec["inputs"]
        size = inputs["samples"] * inputs["length"] * spec["width"] * BYTES
        return [Job("com_sampled_run", where, (Part("inputs.samples", 8 * size, "activations"),))]
    if kind == "com_approximation":
        size = spec["length"] * max(spec["widths"]) * BYTES
        return [Job(kind, where, (Part("length", 4 * size, "least-squares matrices"),))]
    return []


def check_memory(config: Mapping, limit: int) -> None:
    """Refuse a config whose biggest job needs more than ``limit`` bytes, naming the key."""
    jobs = []
    for name in config["experiments"]:
        jobs += experiment_jobs(experiment_settings(config, name), f"experiments.{name}")
    for figure, spec in config.get("figures", {}).items():
        jobs += figure_jobs(spec, f"figures.{figure}")
    job = max(jobs, key=lambda job: job.bytes, default=None)
    if job is not None and job.bytes > limit:
        part = max(job.parts, key=lambda p: p.bytes)
        detail = f"{part.what}: " if part.what else ""
        raise ConfigError(
            f"{job.where}.{part.key}: the {job.name} job needs about {job.bytes / 1e9:.1f} GB "
            f"({detail}{part.bytes / 1e9:.1f} GB), more than the {limit / 1e9:.1f} GB of "
            "memory of this machine"
        )
