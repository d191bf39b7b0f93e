"""Filtering stage: the decision for every teacher of one experiment, as one table."""

import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io
from curse_of_memory.stability import filtering

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
rows = []
for teacher, stability_path, info_path in zip(
    params.teachers, snakemake.input.stability, snakemake.input.info
):
    analysis = io.read_json(stability_path, params.identities)
    info = io.read_json(info_path, params.identities)
    status, reason = filtering.teacher_status(analysis)
    rows.append(
        filtering.filter_row(teacher, info["teacher"], info["memory"], analysis, status, reason)
    )
    log(f"{teacher}: {status} ({reason})")
io.write_csv(snakemake.output[0], pd.DataFrame(rows), params.identities)
