"""COM-2/3: the runs of every omega and repeat in one curve table and one summary table."""

import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
identities = snakemake.params.identities
tables = {"curves": snakemake.input.curves, "times": snakemake.input.summaries}
for output, paths in tables.items():
    frame = pd.concat([io.read_csv(path, identities=identities) for path in paths])
    io.write_csv(snakemake.output[output], frame, identities)
log(f"{len(snakemake.input.summaries)} runs gathered")
