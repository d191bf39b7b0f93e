"""Helpers shared by the rules: resolved settings, target lists, per-rule params."""

import re
from dataclasses import asdict

from snakemake.exceptions import WorkflowError

from curse_of_memory.pipeline import config as settings_lib
from curse_of_memory.pipeline import validation
from curse_of_memory.rnn.models import PARAMETERIZATIONS
from curse_of_memory.pipeline.sources import script_sources
from curse_of_memory.rnn.training import segment_ends
from curse_of_memory.com.training_curves import OPTIMIZERS

SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
try:  # the schema and every check, on the config with its scale preset merged
    SETTINGS = validation.resolve(config, validation.load_schema(SCHEMA))
except settings_lib.ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}")

ENV = "../envs/curse_of_memory.yaml"  # the rules' pinned environment (--sdm conda)
FIGURES = SETTINGS.get("figures", {})


def script_code(script):
    """The package files ``workflow/scripts/<script>`` imports, directly or through the package
    (sources.script_sources): editing one reruns the rule.

    Paths relative to the working directory: a finished project copied or moved whole (cp -a,
    mv) keeps its inputs' names, so Snakemake does not rerun it.
    """
    package = os.path.relpath(os.path.join(SRC, "curse_of_memory"))
    path = os.path.join(workflow.basedir, "workflow", "scripts", script)
    return [str(file) for file in script_sources(path, package)]


def settings(experiment):
    return settings_lib.experiment_settings(SETTINGS, experiment)


def widths(experiment):
    return settings(experiment)["student"]["widths"]


def checkpoint_before(wildcards, epoch):
    """The checkpoint a training job resumes from: that of the job ending before ``epoch``
    (None: the last job); none for the first job."""
    ends = segment_ends(settings_lib.train_config(settings(wildcards.experiment)))
    if epoch is not None and epoch not in ends[:-1]:
        raise WorkflowError(
            f"no training job of {wildcards.experiment} ends at epoch {epoch}; "
            f"checkpoints are written after epochs {ends[:-1]} (training.epochs_per_job)"
        )
    position = ends.index(epoch) if epoch is not None else len(ends) - 1
    if position == 0:
        return []
    student = "results/students/{experiment}/{teacher}/m{width}".format(**wildcards)
    return f"{student}/upto{ends[position - 1]}.safetensors"


def smaller_width(experiment, width):
    """The next smaller width of ``experiment`` (None for the smallest)."""
    ordered = [int(m) for m in widths(experiment)]
    position = ordered.index(int(width))
    return ordered[position - 1] if position else None


def builds_on_smaller(experiment):
    """Does a student depend on the next smaller width's? With student.warm_start (it starts
    from that student) or student.attempts > 1 (restarts aim below its validation loss)."""
    training = settings_lib.train_config(settings(experiment))
    return training.warm_start or restarts(experiment)


def smaller_result(wildcards, result, needed):
    """The next smaller width's ``result`` file when ``needed`` (else none)."""
    width = smaller_width(wildcards.experiment, wildcards.width)
    if not needed or width is None:
        return []
    return RESULT_PATHS[result].format(
        experiment=wildcards.experiment, teacher=wildcards.teacher, width=width
    )


def previous_student(wildcards):
    """With student.warm_start, the trained student of the next smaller width."""
    training = settings_lib.train_config(settings(wildcards.experiment))
    return smaller_result(wildcards, "student", training.warm_start)


def previous_metrics(wildcards):
    """With student.attempts > 1, the next smaller width's metrics (restarts aim below its
    validation loss divided by stability.min_improvement)."""
    return smaller_result(wildcards, "student_metrics", restarts(wildcards.experiment))


def restarts(experiment):
    training = settings_lib.train_config(settings(experiment))
    return training.fit == "gradient" and training.attempts > 1


def restart_factor(experiment):
    """The factor a width must beat the next smaller one by (restarts only; else None)."""
    if not restarts(experiment):
        return None
    return settings_lib.stability_config(settings(experiment)).min_improvement


def margin_reachable(experiment):
    """Can training drive the stability margin to 0? Not when the parameterization keeps lam > 0."""
    return not PARAMETERIZATIONS[settings(experiment)["student"]["parameterization"]].stable


def horizon(experiment):
    """The training window T dt of an experiment's inputs."""
    inputs = settings(experiment)["inputs"]
    return inputs["length"] * inputs["dt"]


def exact_memory(experiment):
    """Is the target's memory known exactly? For a linear functional it is |rho| on the grid."""
    return settings(experiment)["teacher"]["kind"] == "linear_functional"


def figures_of_kind(kind):
    return [figure for figure, spec in FIGURES.items() if spec["kind"] == kind]


def one_of(names):
    """A wildcard regex matching exactly ``names`` (none: nothing)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


FIGURE_LOG = "results/logs/figure/{figure}.log"
FIGURE_BENCHMARK = "results/benchmarks/rules/figure/{figure}.tsv"


def figure_outputs(panel=None):
    """The files of every figure: the PNG (in the HTML report), the PDF, the numbers behind
    it (tidy CSV) and its claims; ``panel`` labels the PNG when a figure has several."""
    labels = {"figure": "{figure}"} | ({"panel": panel} if panel else {})
    return {
        "png": report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels=labels,
        ),
        "pdf": "results/figures/{figure}.pdf",
        "csv": "results/figures/{figure}.csv",
        "claims": "results/claims/{figure}.csv",
    }


def figure_constraint(kind):
    """A wildcard regex matching exactly the figure IDs of one kind."""
    return one_of(figures_of_kind(kind))


def flow_runs(figure, table):
    """The per-run tables (curve or summary) of a com_flow figure, omega-major."""
    spec = FIGURES[figure]
    return [
        f"results/com/{figure}/runs/omega{index}/r{repeat}/{table}.csv"
        for index in range(len(spec["omegas"]))
        for repeat in range(spec["repeats"])
    ]


PAPERS = {
    "IAT": "IAT (Wang, Li & Li, Inverse Approximation Theory for Nonlinear RNNs, ICLR 2024)",
    "COM": "COM (Li, Han, E & Li, On the Curse of Memory in RNNs, ICLR 2021)",
}


def figure_caption(figure):
    """What a figure shows and which paper figure it reproduces (the report's caption)."""
    spec = FIGURES[figure]
    paper, _, number = figure.partition("-")
    source = f"Figure {number} of {PAPERS[paper]}" if paper in PAPERS else "a user-defined figure"
    return f"{spec.get('title', figure)}. Reproduces {source}. {spec.get('caption', '')}".strip()


def all_figures():
    return expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=("png", "pdf", "csv"))


def teachers(experiment):
    return settings_lib.teacher_ids(settings(experiment))


def teacher_params(experiment, teacher):
    """What one teacher file depends on (not the other teachers nor the students)."""
    s = settings(experiment)
    return {
        "teacher": settings_lib.teacher_spec(s, teacher),
        "inputs": s["inputs"],
        "sizes": s["data"],
        "memory": s["memory"],
    }


def student_params(experiment, width):
    return asdict(settings_lib.student_spec(settings(experiment), int(width)))


def training_params(experiment):
    return asdict(settings_lib.train_config(settings(experiment)))


def loss_params(experiment):
    training = settings(experiment)["training"]
    return {key: training[key] for key in ("loss", "weight_power")}


def perturbation_params(experiment):
    return asdict(settings_lib.perturbation_config(settings(experiment)))


def job_key(wildcards):
    """The identifiers that seed a job's random draws."""
    return [
        wildcards.get(name)
        for name in ("experiment", "teacher", "width")
        if name in wildcards.keys()
    ]


def figure_experiment(wildcards):
    return FIGURES[wildcards.figure]["experiment"]


def figure_teacher(wildcards):
    return FIGURES[wildcards.figure].get("teacher", "t0")


# Memory-function and training-dynamics figures (workflow/rules/memory.smk).


def memory_tables():
    """Table 1 (from the digits runs) when the config defines them."""
    if "digits" not in SETTINGS:
        return []
    return expand("results/tables/IAT-table1.{ext}", ext=("csv", "md"))


def sentiment_models():
    return list(SETTINGS.get("sentiment", {}).get("models", {}))


def digits_runs(pattern):
    """``pattern`` formatted for every parameterization and repeat of the digits runs."""
    digits = SETTINGS["digits"]
    return expand(
        pattern,
        parameterization=digits["parameterizations"],
        repeat=range(digits["repeats"]),
    )
