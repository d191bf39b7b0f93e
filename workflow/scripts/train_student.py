"""Student stage: train one student of one width on one teacher's data.

Rule train_segment trains up to ``until_epoch`` and writes a checkpoint; rule train_student
trains to the end (resuming the last checkpoint, if training is split) and writes the student.
"""

import json
from dataclasses import asdict

import torch

from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import least_squares, models, training
from curse_of_memory.shared import io, seeding


def write_student(model, data, config, result, evaluation, log):
    """Evaluate the trained student in the workflow's precision; write weights and metrics."""
    model = model.to(evaluation)
    data = {name: value.to(evaluation) for name, value in data.items()}
    weights = training.loss_weights(config, data["test/x"].shape[1], evaluation)
    losses = {
        split: training.evaluate(model, data[f"{split}/x"], data[f"{split}/y"], weights)
        for split in ("train", "valid", "test")
    }
    target = data["test/y"]
    metrics = {
        "spec": asdict(model.spec),
        "losses": losses,
        "zero_loss": float(training.weighted_mse(torch.zeros_like(target), target, weights)),
        "stability_margin": model.stability_margin(),
        "dead_modes": model.dead_modes(),
        "eigenvalues": model.eigenvalues().tolist(),
        "epochs": result.epochs,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "diverged_step": result.diverged_step,
        "converged": result.converged,
        "fit": result.fit,
        "attempts": result.attempts,
        "target_valid": result.target_valid,
        "history": result.history,
    }
    spec_text = json.dumps(asdict(model.spec))
    io.save_tensors(snakemake.output.model, model.raw(), {"spec": spec_text}, params.identities)
    io.write_json(snakemake.output.metrics, metrics, params.identities)
    log(
        f"test loss {losses['test']:.3e}, margin {metrics['stability_margin']:.4g}, "
        f"dead modes {metrics['dead_modes']}, stopped by {result.stop_reason}"
    )
    state = "converged" if result.converged else "NOT converged"
    if len(result.attempts) > 1:
        state += f", best of {len(result.attempts)} attempts"
    log.summary(
        f"{'/'.join(map(str, snakemake.params.key))}: test loss "
        f"{losses['test'] / metrics['zero_loss']:.2e} x zero predictor's, {state} "
        f"({result.stop_reason}, {result.steps} steps)"
    )


def best_attempt(trainer, log):
    """Restarts (training.restart): aim below the previous width's validation loss divided by
    stability.min_improvement; the attempts go in the result's record."""
    previous = io.read_json(snakemake.input.previous_metrics, params.identities)
    target = previous["losses"]["valid"] / params.restart_factor

    def fresh(attempt):
        generator = seeding.torch_generator(params.seed, "student", *params.key, "attempt", attempt)
        return training.Trainer(models.StudentRNN(spec, generator, dtype), data, config, generator)

    best = training.restart(trainer, fresh, config.attempts, target, log)
    return best, best.result


log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
spec = models.StudentSpec(**params.student)
config = training.TrainConfig(**params.training)
dtype = jobs.torch_dtype(config.dtype)
teacher_data = io.load_tensors(snakemake.input.data, params.identities)
data = {name: value.to(dtype) for name, value in teacher_data.items()}
generator = seeding.torch_generator(params.seed, "student", *params.key)
if snakemake.input.previous and not snakemake.input.resume:
    smaller_meta = io.load_metadata(snakemake.input.previous, params.identities)
    smaller_spec = models.StudentSpec.from_json(smaller_meta["spec"])
    raw = io.load_tensors(snakemake.input.previous, params.identities)
    smaller = models.StudentRNN.from_raw(smaller_spec, raw).to(dtype)
    log(f"warm start: the width-{smaller_spec.width} student, widened to {spec.width}")
    trainer = training.Trainer(smaller.widened(spec, generator), data, config, generator)
    trainer.keep_start()
else:
    trainer = training.Trainer(models.StudentRNN(spec, generator, dtype), data, config, generator)
if config.fit == "least_squares":
    log(f"least-squares fit of {spec} on {params.key}")
    result = least_squares.fit_result(trainer.model, data, trainer.weights, log)
else:
    if snakemake.input.resume:
        trainer.load(snakemake.input.resume, params.identities)
        log(f"resumed from {snakemake.input.resume} after epoch {trainer.result.epochs}")
    until = params.until_epoch or config.max_epochs
    log(f"training {spec} on {params.key} up to epoch {until} of {config.max_epochs}")
    trainer.run(until, log)
    result = None if params.until_epoch else trainer.finish()
    if result is not None and snakemake.input.previous_metrics:
        trainer, result = best_attempt(trainer, log)
if result is None:
    trainer.save(snakemake.output[0], params.identities)
    log(f"checkpoint after epoch {trainer.result.epochs}")
else:
    write_student(trainer.model, data, config, result, jobs.torch_dtype(params.dtype), log)
