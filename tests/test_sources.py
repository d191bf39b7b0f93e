"""The package files each workflow script runs (the rules' ``code`` inputs), read from imports."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from curse_of_memory.pipeline.sources import script_sources

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "curse_of_memory"
SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("*.py"))


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_relative_imports_are_followed_through_the_package(tmp_path):
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import x\n\ndef f():\n    from . import c\n",
            "pkg/b.py": "import numpy\nx = 1\n",
            "pkg/c.py": "",
            "pkg/unused.py": "from . import a\n",
            "pkg/sub/__init__.py": "from ..a import f\n",
            "pkg/sub/d.py": "from .e import g\nfrom .. import c\n",
            "pkg/sub/e.py": "g = 2\n",
            "script.py": "import os\nfrom pkg.sub import d\nfrom pkg.b import x\n",
        },
    )
    found = script_sources(tmp_path / "script.py", tmp_path / "pkg")
    expected = ["__init__.py", "a.py", "b.py", "c.py", "sub/__init__.py", "sub/d.py", "sub/e.py"]
    assert found == sorted(tmp_path / "pkg" / name for name in expected)


def test_paths_stay_relative_when_the_package_is_given_relative(tmp_path, monkeypatch):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "", "s.py": "from pkg import a\n"})
    monkeypatch.chdir(tmp_path)
    assert script_sources("s.py", "pkg") == [Path("pkg/__init__.py"), Path("pkg/a.py")]


def test_a_relative_import_beyond_the_package_is_refused(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "from .. import x\n", "s.py": "import pkg\n"})
    with pytest.raises(ValueError, match="beyond the package"):
        script_sources(tmp_path / "s.py", tmp_path / "pkg")


# What Python really imports: each script's import statements run in a fresh package.
ORACLE = """
import ast, json, sys
sys.path.insert(0, sys.argv[1])
imported = {}
for script in sys.argv[2:]:
    for name in [n for n in sys.modules if n.split(".")[0] == "curse_of_memory"]:
        del sys.modules[name]
    tree = ast.parse(open(script).read())
    body = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(body=body, type_ignores=[]), script, "exec"), {})
    imported[script] = sorted(
        module.__file__ for name, module in list(sys.modules.items())
        if name.split(".")[0] == "curse_of_memory" and getattr(module, "__file__", None)
    )
print(json.dumps(imported))
"""


@pytest.fixture(scope="module")
def imported():
    scripts = [str(script) for script in SCRIPTS]
    result = subprocess.run(
        [sys.executable, "-c", ORACLE, str(REPO / "src"), *scripts],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        Path(s): {Path(f).resolve() for f in files}
        for s, files in json.loads(result.stdout).items()
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_module_a_script_imports_is_among_its_sources(script, imported):
    found = {path.resolve() for path in script_sources(script, PACKAGE)}
    assert imported[script], "the script imports nothing of the package"
    assert imported[script] <= found, sorted(imported[script] - found)


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, over workflow/rules/*.smk."""
    blocks = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^(?=rule |checkpoint )", path.read_text(), flags=re.M)[1:]:
            blocks[block.split()[1].rstrip(":")] = block
    return blocks


@pytest.mark.parametrize("name", sorted(rule_blocks()))
def test_a_rule_with_a_script_takes_that_scripts_sources_as_code(name):
    block = rule_blocks()[name]
    script = re.search(r'script:\s*"\.\./scripts/([\w.]+)"', block)
    if script is None:
        assert "code=" not in block
        return
    assert re.search(rf'code=script_code\("{re.escape(script[1])}"\)', block), name
