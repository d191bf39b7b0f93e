"""Figure stage: repetition memory query of a trained sentiment model (IAT-5a,b, IAT-6)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.memory import decay as memory
from curse_of_memory.memory import sentiment
from curse_of_memory.pipeline import jobs
from curse_of_memory.plots import memory_plots, plotting
from curse_of_memory.shared import claims, io

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
figure, kind = params.figure, params.spec["model"]
metrics = io.read_json(snakemake.input.metrics, params.identities)
vocabulary = metrics["vocabulary"]
spec = sentiment.SentimentModelSpec(kind, len(vocabulary), **params.model)
model = sentiment.build_model(spec, 0)
model.load_state_dict(io.load_tensors(snakemake.input.model, params.identities))

repeats, fit = params.query["repeats"], params.fit
scores, rows, fits = {}, [], {}
for word in params.query["words"]:
    scores[word] = sentiment.repetition_scores(model, vocabulary.index(word), repeats)
    n = np.arange(1, repeats)
    step = np.abs(np.diff(scores[word]))
    fits[word] = memory.classify_decay(
        *memory.resolved(n, step, fit["floor"]), fit["tail_start"], 0.0, fit["min_decay_factor"],
        fit.get("min_evidence", memory.MIN_EVIDENCE),
    )  # fmt: skip
    rows += [
        {"figure": figure, "model": kind, "word": word, "repeats": k + 1, "score": s,
         "memory": step[k] if k < len(step) else np.nan}
        for k, s in enumerate(scores[word])
    ]  # fmt: skip

accuracy = metrics["test"]["accuracy"]
rows_claims = [
    claims.claim(
        figure,
        f"{kind} learned the synthetic labelling rule (precondition): test accuracy",
        accuracy,
        f">= {params.min_accuracy:g}",
        accuracy >= params.min_accuracy,
    )
]
polar = set(params.corpus["positive"]) | set(params.corpus["negative"])
rows_claims += [
    memory.decay_claim(figure, f'{kind}, word "{word}"', fits[word], params.spec["expect"])
    for word in params.query["words"]
    if word in polar
]

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
memory_plots.repetition_panels(left, right, scores, fit["floor"])
labels = ", ".join(f"{w}: {f.label}" for w, f in fits.items())
fig.suptitle(
    f"{figure}: {params.spec.get('title', kind)}\n"
    f"test accuracy {accuracy:.3f}; tail fits: {labels}",
    fontsize=9,
)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))
io.write_csv(snakemake.output.claims, pd.DataFrame(rows_claims, columns=claims.COLUMNS))
log(f"{figure}: {labels}")
