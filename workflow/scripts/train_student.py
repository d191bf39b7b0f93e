"""Student stage: train one student of one width on one teacher's data."""

import json
from dataclasses import asdict

import torch

from curse_of_memory import io, jobs, models, seeding, training

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
spec = models.StudentSpec(**params.student)
config = training.TrainConfig(**params.training)
dtype = jobs.torch_dtype(config.dtype)
data = {name: value.to(dtype) for name, value in io.load_tensors(snakemake.input.data).items()}
generator = seeding.torch_generator(params.seed, "student", *params.key)
model = models.StudentRNN(spec, generator, dtype)
log(f"training {spec} on {params.key} for at most {config.max_epochs} epochs")
result = training.train(model, data, config, generator, log)
evaluation = jobs.torch_dtype(params.dtype)
model = model.to(evaluation)
data = {name: value.to(evaluation) for name, value in data.items()}
weights = training.loss_weights(config, data["test/x"].shape[1], evaluation)
losses = {
    split: training.evaluate(model, data[f"{split}/x"], data[f"{split}/y"], weights)
    for split in ("train", "valid", "test")
}
zero_loss = float(training.weighted_mse(torch.zeros_like(data["test/y"]), data["test/y"], weights))
eigenvalues = model.eigenvalues()
metrics = {
    "spec": asdict(spec),
    "losses": losses,
    "zero_loss": zero_loss,
    "stability_margin": model.stability_margin(),
    "dead_modes": model.dead_modes(),
    "eigenvalues": eigenvalues.tolist(),
    "epochs": result.epochs,
    "steps": result.steps,
    "stop_reason": result.stop_reason,
    "diverged_step": result.diverged_step,
    "history": result.history,
}
io.save_tensors(snakemake.output.model, model.raw(), {"spec": json.dumps(asdict(spec))})
io.write_json(snakemake.output.metrics, metrics)
log(
    f"test loss {losses['test']:.3e}, margin {metrics['stability_margin']:.4g}, "
    f"dead modes {metrics['dead_modes']}, stopped by {result.stop_reason}"
)
