"""Per-stage wall time and peak memory from the jobs' benchmark files."""

from pathlib import Path

import pandas as pd

from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
root = Path(snakemake.params.benchmarks)
rows = []
for path in sorted(root.rglob("*.tsv")):
    table = pd.read_csv(path, sep="\t")
    rows.append(
        {
            "stage": Path(path.relative_to(root).parts[0]).stem,
            "job": str(path.relative_to(root)),
            "seconds": float(table["s"].iloc[-1]),
            "max_rss_mb": float(table["max_rss"].iloc[-1]),
        }
    )
jobs_table = pd.DataFrame(rows, columns=["stage", "job", "seconds", "max_rss_mb"])
summary = (
    jobs_table.groupby("stage", sort=True)
    .agg(
        jobs=("job", "size"),
        total_s=("seconds", "sum"),
        max_s=("seconds", "max"),
        max_rss_mb=("max_rss_mb", "max"),
    )
    .reset_index()
)
io.write_csv(snakemake.output[0], summary)
log(f"{len(jobs_table)} jobs, {summary['total_s'].sum():.0f} s in total")
