"""Collect every figure's claims into results/claims.csv."""

import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
frames = [io.read_csv(path, claims.COLUMNS) for path in snakemake.input.claims]
table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=claims.COLUMNS)
io.write_csv(snakemake.output[0], table)
failed = int((table["verdict"] != "pass").sum())
log(f"{len(table)} claims, {failed} fail")
