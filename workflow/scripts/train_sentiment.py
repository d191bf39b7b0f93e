"""Sentiment stage: train one classifier on the seeded synthetic sentiment corpus."""

import json

from curse_of_memory.memory import classification, sentiment
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io, seeding

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
settings = params.sentiment
kind = snakemake.wildcards.model
corpus_spec = sentiment.CorpusSpec(
    **{k: tuple(v) if isinstance(v, list) else v for k, v in settings["corpus"].items()}
)
corpus = sentiment.make_corpus(
    corpus_spec, settings["sizes"], seeding.numpy_generator(params.seed, "sentiment", "corpus")
)
splits = {name: classification.Split(data[:2], data[2]) for name, data in corpus.items()}
spec = sentiment.SentimentModelSpec(kind, len(corpus_spec.vocabulary), **settings["model"])
model = sentiment.build_model(spec, seeding.derive_seed(params.seed, "sentiment", "init", kind))
config = classification.ClassifierTraining(
    **settings["training"],
    eval_every=-(-len(splits["train"]) // settings["training"]["batch_size"]),
)
log(f"training {spec} for {config.epochs} epochs on {len(splits['train'])} reviews")
curves = {name: splits[name] for name in ("train", "valid")}
history = classification.train_classifier(
    model, curves, config, seeding.torch_generator(params.seed, "sentiment", "batches", kind), log
)
loss, accuracy = classification.evaluate(model, splits["test"])
io.save_tensors(
    snakemake.output.model,
    model.state_dict(),
    {"spec": json.dumps(vars(spec))},
    params.identities,
)
io.write_json(
    snakemake.output.metrics,
    {
        "model": kind,
        "vocabulary": list(corpus_spec.vocabulary),
        "positive_fraction": float(corpus["train"][2].float().mean()),
        "history": history,
        "test": {"loss": loss, "accuracy": accuracy},
    },
    params.identities,
)
log(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
