"""Write the resolved configuration of this run (scale preset merged, defaults included)."""

import yaml

from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io

jobs.start_job(snakemake.log[0], snakemake.threads)
text = yaml.safe_dump(dict(snakemake.params.settings), sort_keys=False)
io.atomic_write(snakemake.output[0], lambda tmp: tmp.write_text(text))
