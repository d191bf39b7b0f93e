"""Perturbation stage: test losses of R perturbed copies of one student at every beta."""

import json

from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import models, training
from curse_of_memory.shared import io, seeding
from curse_of_memory.stability import curves, perturbation
from curse_of_memory.targets import datasets

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
dtype = jobs.torch_dtype(params.dtype)
metrics = io.read_json(snakemake.input.metrics, params.identities)
spec = models.StudentSpec.from_json(json.dumps(metrics["spec"]))
model = io.load_tensors(snakemake.input.model, params.identities)
raw = {name: value.to(dtype) for name, value in model.items()}
data = io.load_tensors(snakemake.input.data, params.identities)
config = perturbation.PerturbationConfig(**params.perturbation)
x, y = (part.to(dtype) for part in datasets.held_out_samples(data, config.samples))
weights = training.loss_weights(training.TrainConfig(**params.loss), x.shape[1], dtype)
generator = seeding.torch_generator(params.seed, "perturbation", *params.key)
log(f"perturbing {spec} ({params.key}): {len(config.betas)} betas x {config.draws} draws")
directions = perturbation.draw_directions(raw, config.draws, generator)
losses = perturbation.perturbation_losses(spec, raw, x, y, weights, config, directions)
io.write_csv(snakemake.output[0], curves.losses_table(config.betas, losses), params.identities)
curve = curves.perturbation_curve(losses)
log(f"E(0) = {curve[0]:.3e}, E(beta_max) = {curve[-1]:.3e}")
