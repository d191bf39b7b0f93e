"""The package files a workflow script runs: its imports, followed through the package.

A rule's ``code`` inputs are these files, so that editing any module a script uses, directly or
through another module, reruns the rule. Found by reading the code (``ast``), never by importing
it: ``from curse_of_memory import a`` and ``from curse_of_memory.x import y`` in the script, then
the relative (``from .z import w``) and absolute imports of every package file reached.
"""

from __future__ import annotations

import ast
from pathlib import Path


def script_sources(script: str | Path, package: str | Path) -> list[Path]:
    """Files of ``package`` (its directory) that ``script`` imports, transitively, sorted.

    Each imported module brings its file and the ``__init__.py`` of every package above it.
    """
    package = Path(package)
    found: set[Path] = set()
    todo = [Path(script)]
    while todo:
        source = todo.pop()
        for module in _imported_modules(source, package):
            for path in _module_files(module, package):
                if path not in found:
                    found.add(path)
                    todo.append(path)
    return sorted(found)


def _imported_modules(source: Path, package: Path) -> set[str]:
    """Dotted names of the package's modules that ``source`` imports (anywhere in the file)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, source, package)
            modules.add(base)
            modules.update(f"{base}.{alias.name}" for alias in node.names)  # submodules, if any
    name = package.name
    return {module for module in modules if module == name or module.startswith(f"{name}.")}


def _absolute(node: ast.ImportFrom, source: Path, package: Path) -> str:
    """The module of ``from <module> import ...``; a relative one made absolute.

    ``from ..x import y`` in package/a/b.py (``__package__`` pkg.a) names pkg.x: each dot
    beyond the first goes one package up.
    """
    if not node.level:
        return node.module or ""
    try:
        parts = source.parent.resolve().relative_to(package.resolve()).parts
    except ValueError:
        raise ValueError(f"{source}: relative import outside the package {package}") from None
    if node.level - 1 > len(parts):
        raise ValueError(f"{source}:{node.lineno}: relative import beyond the package")
    parent = (package.name, *parts[: len(parts) - (node.level - 1)])
    return ".".join((*parent, node.module) if node.module else parent)


def _module_files(module: str, package: Path) -> list[Path]:
    """The files importing ``module`` runs: each enclosing ``__init__.py``, then its own file.

    Empty when ``module`` is no file of the package (a name defined in a module, not a module).
    """
    parts = module.split(".")[1:]
    own = [package.joinpath(*parts).with_suffix(".py")] if parts else []
    file = next(
        (path for path in (*own, package.joinpath(*parts, "__init__.py")) if path.is_file()), None
    )
    if file is None:
        return []
    inits = (package.joinpath(*parts[:i], "__init__.py") for i in range(len(parts)))
    return [*(path for path in inits if path.is_file()), file]
