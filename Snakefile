"""Curse of memory in recurrent networks: the figures of IAT (Wang, Li & Li, ICLR 2024) and COM
(Li, Han, E & Li, ICLR 2021) from one command.

Stages: teachers -> students (one job per width) -> perturbation -> filtering (stability
verdicts) -> figures and the claims table.
"""

import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The package ships with the workflow: the Snakefile and every job import this copy of it.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
_inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ.update(PYTHONPATH=os.pathsep.join([SRC, *_inherited]))

from curse_of_memory.pipeline import validation

# The config files, read by the workflow's own loader before Snakemake's `configfile:` loader and
# its MD5 of the config see them: duplicate keys and alias bombs fail here, naming the file.
# The config is the workflow's merge of them (a kernel spec of another family replaces the old
# one whole); validation.resolve (common.smk) checks it with the scale preset merged.
_CONFIG_FILES = [
    *(
        []
        if workflow.config_settings.replace_workflow_config or not os.path.exists("config.yaml")
        else ["config.yaml"]
    ),
    *map(str, workflow.config_settings.configfiles),
]
try:
    _CONFIG = validation.load_config(_CONFIG_FILES, workflow.config_settings.config)
except validation.ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}")


configfile: "config.yaml"


config.clear()
config.update(_CONFIG)


report: "workflow/report/workflow.rst"


wildcard_constraints:
    experiment="[A-Za-z0-9_.-]+",
    teacher="t[0-9]+",
    width="[0-9]+",
    epoch="[0-9]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/results.smk"
include: "workflow/rules/teachers.smk"
include: "workflow/rules/students.smk"
include: "workflow/rules/perturbation.smk"
include: "workflow/rules/stability.smk"
include: "workflow/rules/iat_figures.smk"
include: "workflow/rules/memory.smk"
include: "workflow/rules/sentiment.smk"
include: "workflow/rules/digits.smk"
include: "workflow/rules/com.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_figures(),
        regenerable_results(),
        "results/claims.csv",
        "results/config_used.yaml",
        "results/runtimes.csv",
        memory_tables(),
