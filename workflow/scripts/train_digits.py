"""Digits stage: train the sequential-digits classifier under one parameterization."""

from curse_of_memory.memory import classification, sequential_digits
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io, seeding

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params.digits
seed, parameterization = snakemake.params.seed, snakemake.wildcards.parameterization
repeat = int(snakemake.wildcards.repeat)
dtype = jobs.torch_dtype(params["dtype"])

x, labels = sequential_digits.load_sequences(dtype)
parts = sequential_digits.split_indices(
    len(labels), params["splits"], seeding.numpy_generator(seed, "digits", "split")
)
x = sequential_digits.standardize(x, parts["train"])
splits = {name: classification.Split((x[i],), labels[i]) for name, i in parts.items()}

# The initial weights depend on the repeat only: every parameterization starts from them.
spec = sequential_digits.classifier_spec(parameterization=parameterization, **params["model"])
model = sequential_digits.DigitsClassifier(
    spec, seeding.torch_generator(seed, "digits", "init", repeat), dtype
)
initial = sequential_digits.effective_initial_weights(model)
config = classification.ClassifierTraining(**params["training"])
log(f"training {spec} for {config.epochs} epochs on {len(splits['train'])} sequences")
curves = {name: splits[name] for name in ("train", "valid")}
history = classification.train_classifier(
    model, curves, config, seeding.torch_generator(seed, "digits", "batches", repeat), log
)
model.rnn.project_()
loss, accuracy = classification.evaluate(model, splits["test"])
tensors = dict(model.rnn.raw()) | {f"initial.{k}": v for k, v in initial.items()}
identities = snakemake.params.identities
io.save_tensors(snakemake.output.model, tensors, {"parameterization": parameterization}, identities)
io.write_json(
    snakemake.output.metrics,
    {
        "parameterization": parameterization,
        "repeat": repeat,
        "history": history,
        "test": {"loss": loss, "accuracy": accuracy},
        "stability_margin": model.rnn.stability_margin(),
        "dead_modes": model.rnn.dead_modes(),
    },
    identities,
)
log(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
