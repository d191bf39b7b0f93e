"""Table stage: Table 1, test loss and accuracy per parameterization (mean, standard error)."""

from curse_of_memory.memory import sequential_digits
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
tests = {}
for path in snakemake.input.metrics:
    run = io.read_json(path, snakemake.params.identities)
    tests.setdefault(run["parameterization"], []).append(run["test"])
table = sequential_digits.test_table(tests)
io.write_csv(snakemake.output.csv, table)
text = sequential_digits.markdown_table(table)
io.atomic_write(snakemake.output.md, lambda tmp: tmp.write_text(text))
log(text)
