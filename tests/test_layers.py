"""The package's subpackages import one way (docs/architecture.md): each only those below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "curse_of_memory"
ALLOWED = {  # subpackage -> the subpackages its modules may import
    "shared": set(),
    "rnn": {"shared"},
    "targets": {"shared"},
    "stability": {"rnn", "shared"},
    "memory": {"rnn", "shared"},
    "com": {"memory", "rnn", "shared"},
    "plots": {"memory", "shared"},
    "pipeline": {"com", "memory", "plots", "rnn", "shared", "stability", "targets"},
}


def imported_subpackages(path: Path) -> set[str]:
    """Other subpackages a module imports: ``from ..x import`` and ``curse_of_memory.x``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 2 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("curse_of_memory."):
                found.add(node.module.split(".")[1])
            assert node.level <= 2, f"{path}: import beyond the package"
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("curse_of_memory.")
            )
    return found - {path.parent.name}


def test_every_module_lives_in_a_known_subpackage():
    top = {path.name for path in PACKAGE.glob("*.py")}
    assert top == {"__init__.py"}
    assert {
        path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"
    } == set(ALLOWED)


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_imports_point_down(subpackage):
    for path in sorted((PACKAGE / subpackage).glob("*.py")):
        extra = imported_subpackages(path) - ALLOWED[subpackage]
        assert not extra, f"{path.name} imports {sorted(extra)}, above {subpackage}"
