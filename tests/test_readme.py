"""Every command of README.md and docs/install.md, run, so that the docs and the code agree.

Each ```bash block is split into commands (one a line, comments after ``#`` dropped, backslash
continuations joined), and every command is one test, named by its file, line and text. How a
command is run depends on what it is (``RULES``, first match wins):

- install steps (pip install, git clone, venvs, activate, cd, conda env create/activate) are
  skipped, each by the rule named in its skip reason;
- ``python -m pytest ...`` is not run recursively: its selection is collected
  (``--collect-only``), and a ``-m`` expression is checked to deselect the tests it excludes;
- ``snakemake ... --report ...`` builds its targets (the default target if none) on a tiny
  config whose figures carry the IDs the command names, then runs as written; the report must
  hold those targets' results, and its first page name the sections it lacks;
- any other ``snakemake ...`` runs as a dry run (``-n`` appended) in a copy of the workflow with
  the repository's config.yaml; a yaml block the docs ask to write (the file named in the
  paragraph before it, e.g. ``mine.yaml``) is written first, and a command with targets and
  such a ``--configfile`` must schedule only the jobs of its figures;
- ``python benchmarks/...`` (tens of minutes) is compiled only;
- anything else (``python examples/...``) runs as written, from the checkout.
"""

from __future__ import annotations

import json
import os
import py_compile
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/install.md")
TIMEOUT = 900  # seconds for one command; the machine may be busy with other work
SINGLE_THREAD = {f"{name}_NUM_THREADS": "1" for name in ("OMP", "MKL", "OPENBLAS")}

# Install steps: what they do is the reader's machine, not the checkout's behaviour.
INSTALL = (
    (r"(python3? -m )?pip install\b", "installs packages"),
    (r"git clone\b", "clones the repository"),
    (r"python3? -m venv\b", "creates a virtual environment"),
    (r"(\.|source) \S*activate\b", "activates a virtual environment"),
    (r"cd\b", "changes into the checkout (every command here runs from the checkout)"),
    (r"conda (env create|activate)\b", "creates or activates a conda environment"),
)

# Rules no job of a user's own figure may run: every one belongs to another experiment.
OTHER_EXPERIMENTS = re.compile(r"^(train_sentiment|train_digits|com_\w+|figure_com_\w+)$")


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def strip_comment(line: str) -> str:
    """``line`` without a shell comment (a ``#`` outside quotes, at the start or after a blank)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def fenced_blocks(text: str) -> list[tuple[str, int, list[str], str]]:
    """(language, line of the first content line, lines, paragraph before) of every fence."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.groups()
        before = []
        for previous in reversed(lines[:i]):  # the paragraph right before the fence
            if not previous.strip():
                if before:
                    break
                continue
            if previous.strip().startswith("```"):
                break
            before.insert(0, previous)
        body, i = [], i + 1
        start = i + 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        blocks.append((language, start, body, "\n".join(before)))
        i += 1
    return blocks


def commands(doc: str) -> list[Command]:
    found = []
    for language, start, body, _ in fenced_blocks((REPO / doc).read_text()):
        if language != "bash":
            continue
        pending, first = "", None
        for offset, raw in enumerate(body):
            line = raw.rstrip()
            if line.endswith("\\"):
                pending += line[:-1] + " "
                first = first or start + offset
                continue
            text = strip_comment(pending + line).strip()
            text = re.sub(r"\s+", " ", text)
            if text:
                found.append(Command(doc, first or start + offset, text))
            pending, first = "", None
    return found


def yaml_files(doc: str) -> dict[str, str]:
    """The yaml blocks the doc asks to write: file name (the last named in the paragraph right
    before the block) to content."""
    files = {}
    for language, _, body, before in fenced_blocks((REPO / doc).read_text()):
        names = re.findall(r"`([\w./-]+\.ya?ml)`", before)
        if language == "yaml" and names:
            files[names[-1]] = "\n".join(body) + "\n"
    return files


ALL = [command for doc in DOCS for command in commands(doc)]
YAML_FILES = {name: body for doc in DOCS for name, body in yaml_files(doc).items()}


def run(args, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **SINGLE_THREAD},
        **kwargs,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return (result.stdout[-3000:] + "\n" + result.stderr[-3000:]).strip()


def copy_workflow(root: Path, config: dict | None = None) -> Path:
    """The workflow's files in ``root``, with the repository's config.yaml or ``config``."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, root / name)
    for name in ("workflow", "src"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    if config is None:
        shutil.copy(REPO / "config.yaml", root / "config.yaml")
    else:
        (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def snakemake_args(words: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Targets and options (option -> its values) of a snakemake command line."""
    targets, options, current = [], {}, None
    for word in words[1:]:
        if word.startswith("-"):
            name, _, value = word.partition("=")
            current = name
            options.setdefault(name, [])
            if value:
                options[name].append(value)
        elif (
            current
            in (
                "--report",
                "--cores",
                "-c",
                "--jobs",
                "-j",
                "--workflow-profile",
                "--profile",
                "--sdm",
                "--software-deployment-method",
                "--directory",
                "-d",
                "--snakefile",
                "-s",
            )
            and not options[current]
        ):
            options[current].append(word)
            current = None
        elif current in ("--configfile", "--configfiles", "--config"):
            options[current].append(word)  # these take several values: targets go first
        else:
            targets.append(word)
    return targets, options


def job_counts(stdout: str) -> dict[str, int]:
    """The dry run's job stats table: rule -> number of jobs."""
    stats = stdout[stdout.index("Job stats:") :].splitlines()[3:]
    counts = {}
    for line in stats:
        words = line.split()
        if len(words) != 2 or not words[1].isdigit():
            break
        counts[words[0]] = int(words[1])
    return counts


def wildcard_values(stdout: str, name: str) -> set[str]:
    return set(re.findall(rf"^\s*wildcards:.*\b{name}=([^,\s]+)", stdout, re.MULTILINE))


# ---------------------------------------------------------------------------------------------
# the ways of running a command


def check_pytest(words: list[str]) -> None:
    """Collect the command's selection; a ``-m`` expression must deselect what it excludes."""
    args = words[3:]
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    selected = run([*collect, *args], REPO)
    assert selected.returncode == 0, output(selected)
    chosen = {line for line in selected.stdout.splitlines() if "::" in line}
    assert chosen, output(selected)
    if "-m" in args:
        expression = args[args.index("-m") + 1]
        assert re.search(r"\d+ deselected", selected.stdout), output(selected)
        for marker in re.findall(r"\bnot\s+(\w+)", expression):
            marked = run([*collect, "-m", marker], REPO)
            assert marked.returncode == 0, output(marked)
            excluded = {line for line in marked.stdout.splitlines() if "::" in line}
            assert excluded, f"no test is marked {marker!r}: -m {expression!r} deselects nothing"
            assert not excluded & chosen, f"-m {expression!r} still selects {excluded & chosen}"


def check_benchmark(words: list[str]) -> None:
    """Benchmarks take tens of minutes: the script must exist and compile."""
    script = REPO / words[1]
    assert script.is_file(), f"{words[1]} does not exist"
    py_compile.compile(str(script), doraise=True, cfile=os.devnull)


def check_dry_run(words: list[str], tmp_path: Path) -> None:
    """A dry run in a copy of the workflow; with targets and a doc's own config file, only the
    jobs of the targeted figures."""
    targets, options = snakemake_args(words)
    methods = options.get("--sdm", []) + options.get("--software-deployment-method", [])
    wants_conda = "conda" in methods or "--use-conda" in options
    if wants_conda and not (shutil.which("conda") or shutil.which("mamba")):
        pytest.skip("conda is not installed here: Snakemake cannot set up the rules' environment")
    root = copy_workflow(tmp_path / "checkout")
    configs = options.get("--configfile", []) + options.get("--configfiles", [])
    own = [name for name in configs if name in YAML_FILES]
    for name in own:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(YAML_FILES[name])
    result = run([*words, "-n"], root)
    assert result.returncode == 0, output(result)
    assert "This was a dry-run" in result.stdout, output(result)
    if not (own and targets):
        return
    config = yaml.safe_load((root / "config.yaml").read_text())
    for name in own:
        config.setdefault("figures", {}).update(yaml.safe_load(YAML_FILES[name]).get("figures", {}))
    figures = {
        match.group(1)
        for target in targets
        if (match := re.fullmatch(r"results/figures/([^/]+)\.(png|pdf|csv)", target))
    }
    assert figures, f"no figure among the targets {targets}"
    counts = job_counts(result.stdout)
    others = sorted(rule for rule in counts if OTHER_EXPERIMENTS.match(rule))
    assert not others, f"jobs of other experiments scheduled: {others}\n{counts}"
    kinds = Counter(f"figure_{config['figures'][figure]['kind']}" for figure in figures)
    for rule, number in kinds.items():
        assert counts.get(rule) == number, f"{rule}: not {number} job(s) for {figures}: {counts}"
    experiments = {config["figures"][f].get("experiment") for f in figures} - {None}
    assert wildcard_values(result.stdout, "figure") <= figures, result.stdout[-3000:]
    assert wildcard_values(result.stdout, "experiment") <= experiments, result.stdout[-3000:]


def tiny_config(figures: list[str]) -> dict:
    """The tiny config of tests/test_workflow.py with one small linear perturbation figure per
    ID: a report command's figure targets exist and build in seconds."""
    from test_workflow import TINY  # the tests' tiny sizes, kept in one place

    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["experiments"] = {"tiny_geometric": config["experiments"]["tiny_geometric"]}
    config["figures"] = {
        figure: {"kind": "perturbation", "experiment": "tiny_geometric", "expect": "stable"}
        for figure in figures
    }
    return config


def report_variable(html: str, name: str):
    """A JSON value the report's page defines as ``var <name> = ...`` (the last one)."""
    key = f"var {name} = "
    return json.JSONDecoder().raw_decode(html, html.rindex(key) + len(key))[0]


SECTIONS = {  # report category: the target that puts it in a report
    "Claims": "results/claims.csv",
    "Configuration": "results/config_used.yaml",
    "Runtimes": "results/runtimes.csv",
}


def check_report(words: list[str], tmp_path: Path) -> None:
    """Build the command's targets (the default target when it names none) on a tiny config,
    then run the command as written; the report holds exactly what was asked for."""
    targets, options = snakemake_args(words)
    figures = [
        match.group(1)
        for target in targets
        if (match := re.fullmatch(r"results/(?:figures|training)/([^/]+)\.\w+", target))
    ]
    root = copy_workflow(tmp_path / "checkout", tiny_config(figures or ["IAT-1a"]))
    build = run(["snakemake", "--cores", "1", *targets], root)
    assert build.returncode == 0, output(build)
    result = run(words, root)
    assert result.returncode == 0, output(result)

    html = (root / (options["--report"] or ["report.html"])[0]).read_text()
    sections = report_variable(html, "categories")
    results = report_variable(html, "results")
    intro = report_variable(html, "workflow_desc")
    config = yaml.safe_load((root / "config.yaml").read_text())
    for figure in figures or config["figures"]:
        assert f"results/figures/{figure}.png" in results, sorted(results)
    for section, target in SECTIONS.items():
        asked = not targets or target in targets
        assert (section in sections) == asked, (section, sorted(sections))
        absent = re.search(rf"Not in this report.*<strong>{section}</strong>", intro, re.S)
        assert bool(absent) != asked, (section, intro)
    if "Claims" in sections:
        # the first page opens on the claims, per figure, at the run's scale
        assert f"Claims at scale {config['scale']}" in intro, intro
        assert intro.index("Claims at scale") < intro.index("In this report"), intro
        assert sorted(sections)[0] == "Claims"  # the report's menu sorts sections by name
        caption = results["results/claims.csv"]["caption"]
        assert f"scale <strong>{config['scale']}</strong>" in caption, caption
    assert "system-message" not in intro, intro  # no markup error on the first page


def run_as_written(words: list[str]) -> None:
    result = run(words, REPO)
    assert result.returncode == 0, output(result)


# ---------------------------------------------------------------------------------------------


def test_every_doc_has_commands():
    for doc in DOCS:
        assert any(command.doc == doc for command in ALL), f"no ```bash command in {doc}"
    assert "mine.yaml" in YAML_FILES  # "Your own experiment" writes its config first


def test_comments_and_continuations_are_handled():
    assert strip_comment('python -m pytest -m "not slurm"   # no # here') == (
        'python -m pytest -m "not slurm"'
    )
    assert strip_comment("echo a#b") == "echo a#b"
    assert snakemake_args(
        shlex.split("snakemake --cores 2 results/figures/MY-1.png --configfile mine.yaml")
    ) == (["results/figures/MY-1.png"], {"--cores": ["2"], "--configfile": ["mine.yaml"]})


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, id=c.id, marks=[pytest.mark.workflow] * c.text.startswith("snakemake"))
        for c in ALL
    ],
)
def test_documented_command(command: Command, tmp_path: Path):
    for pattern, what in INSTALL:
        if re.match(pattern, command.text):
            pytest.skip(f"install step ({what}): rule {pattern!r}")
    words = shlex.split(command.text)
    if words[:3] in (["python", "-m", "pytest"], ["python3", "-m", "pytest"]):
        check_pytest(words)
    elif words[0] == "snakemake" and "--report" in command.text.split():
        check_report(words, tmp_path)
    elif words[0] == "snakemake":
        check_dry_run(words, tmp_path)
    elif words[0] in ("python", "python3") and words[1].startswith("benchmarks/"):
        check_benchmark(words)
    else:
        run_as_written(words)
