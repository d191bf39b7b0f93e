"""COM-1 (c): tanh RNN trained on two-scale Lorenz-96 data (forcing -> resolved variables)."""

import numpy as np
import pandas as pd
import torch

from curse_of_memory.com import lorenz96, plateaus, training_curves
from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import models
from curse_of_memory.shared import io, seeding

log = jobs.start_job(snakemake.log[0], snakemake.threads)
spec, seed, figure = snakemake.params.spec, snakemake.params.seed, snakemake.params.figure
system = lorenz96.Lorenz96(**spec["system"])
inputs, outputs = lorenz96.forcing_dataset(
    system,
    spec["samples"],
    spec["length"],
    spec["dt"],
    spec["substeps"],
    spec["spinup"],
    seeding.numpy_generator(seed, figure, "lorenz96_data"),
)
if not np.all(np.isfinite(outputs)):
    raise RuntimeError("Lorenz-96 simulation diverged: reduce lorenz96.dt")
log(f"simulated {inputs.shape} sequences; X mean {outputs.mean():.3f}, std {outputs.std():.3f}")
x = torch.from_numpy(inputs)
y = torch.from_numpy((outputs - outputs.mean()) / outputs.std())
student = spec["student"]
spec_rnn = models.StudentSpec(input_dim=system.slow, output_dim=system.slow, **student)
model = models.StudentRNN(spec_rnn, seeding.torch_generator(seed, figure, "lorenz96_init"))
config = training_curves.CurveConfig(spec["optimizer"], spec["lr"], spec["iterations"], 250)
losses = training_curves.training_curve(model, x, y, config, log=log)
keep = plateaus.log_indices(len(losses), snakemake.params.points_per_decade)
frame = pd.DataFrame({"case": "lorenz96", "iteration": keep, "loss": losses[keep]})
io.write_csv(snakemake.output[0], frame, snakemake.params.identities)
