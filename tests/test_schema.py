"""The schema's enumerations are the package's registries: one source of truth for every name."""

import importlib
import re
from pathlib import Path

import jsonschema
import pytest

from curse_of_memory.pipeline import config, validation
from curse_of_memory.rnn import models

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def enums(node) -> list[list]:
    """Every ``enum`` list of a schema, however deep."""
    if isinstance(node, dict):
        own = [node["enum"]] if "enum" in node else []
        return own + [found for value in node.values() for found in enums(value)]
    if isinstance(node, list):
        return [found for value in node for found in enums(value)]
    return []


@pytest.mark.parametrize("name", sorted(validation.ENUMS))
def test_each_enumeration_is_the_registry_its_schema_entry_names(name):
    """$defs/<name> allows the registry's names, and its description names that registry."""
    registry = list(validation.ENUMS[name])
    assert validation.load_schema(SCHEMA)["$defs"][name]["enum"] == registry
    module, attribute = validation.load_yaml(SCHEMA)["$defs"][name]["description"].rsplit(".", 1)
    named = getattr(importlib.import_module(f"curse_of_memory.{module}"), attribute)
    assert list(named) == registry


def test_the_schema_file_writes_no_name_of_a_registry():
    """A name listed by hand would be a second source to keep in step."""
    registered = {name for names in validation.ENUMS.values() for name in names}
    for values in enums(validation.load_yaml(SCHEMA)):
        assert not registered & set(values), values


def test_every_figure_kind_has_its_entry_and_no_other_kind_passes():
    schema = validation.load_schema(SCHEMA)
    entry = schema["properties"]["figures"]["additionalProperties"]
    kinds = [rule["if"]["properties"]["kind"]["const"] for rule in entry["allOf"]]
    assert kinds == list(config.FIGURE_KINDS)
    figure = {"figures": {"F": {"kind": "sculpture"}}}
    errors = jsonschema.Draft202012Validator(schema).iter_errors(figure)
    assert any(list(error.absolute_path) == ["figures", "F", "kind"] for error in errors)


def student_is_valid(student: dict) -> bool:
    """Does ``student`` pass $defs/student of the schema as loaded now?"""
    defs = validation.load_schema(SCHEMA)["$defs"]
    schema = {"$defs": defs, "$ref": "#/$defs/student"}
    return jsonschema.Draft202012Validator(schema).is_valid(student)


def test_a_new_parameterization_is_one_registry_entry(monkeypatch):
    """Added to models.PARAMETERIZATIONS, a name passes the schema (and is refused before)."""
    student = {"widths": [2, 4], "parameterization": "cayley"}
    assert not student_is_valid(student)
    monkeypatch.setitem(models.PARAMETERIZATIONS, "cayley", models.PARAMETERIZATIONS["exp"])
    assert student_is_valid(student)


def test_a_missing_schema_entry_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(config.FIGURE_KINDS, "sculpture", config.FIGURE_KINDS["filter"])
    with pytest.raises(config.ConfigError, match=r"\$defs.sculpture_figure: missing"):
        validation.load_schema(SCHEMA)


@pytest.mark.parametrize("rules", sorted((REPO / "workflow" / "rules").glob("*.smk")))
def test_no_rule_file_lists_the_names_of_a_registry(rules):
    """Wildcard constraints come from the registries (common.smk: one_of), not from a regex."""
    text = rules.read_text()
    for name, names in validation.ENUMS.items():
        alternatives = "|".join(re.escape(value) for value in names)
        assert not re.search(rf"\b({alternatives})\|({alternatives})\b", text), name
