"""Curse of memory in recurrent networks: every figure of SPEC.md from one command.

Stages: teachers -> students (one job per width) -> perturbation -> filtering (stability
verdicts) -> figures and the claims table.
"""

import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The package ships with the workflow: the Snakefile and every job import this copy of it.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
_inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ.update(PYTHONPATH=os.pathsep.join([SRC, *_inherited]))


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


wildcard_constraints:
    experiment="[A-Za-z0-9_.-]+",
    teacher="t[0-9]+",
    width="[0-9]+",
    epoch="[0-9]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/teachers.smk"
include: "workflow/rules/students.smk"
include: "workflow/rules/perturbation.smk"
include: "workflow/rules/filtering.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/memory.smk"
include: "workflow/rules/com.smk"


rule all:
    default_target: True
    input:
        all_figures(),
        "results/claims.csv",
        "results/config_used.yaml",
        "results/runtimes.csv",
        memory_tables(),
