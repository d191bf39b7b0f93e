"""Figure stage: repetition memory query of a trained sentiment model (IAT-5a,b, IAT-6)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from curse_of_memory.memory import decay as memory
from curse_of_memory.memory import fixed_point, sentiment
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

repeats = params.spec.get("repeats", params.query["repeats"])
fit = params.fit
settings = (fit["tail_start"], 0.0, fit["min_decay_factor"],
            fit.get("min_evidence", memory.MIN_EVIDENCE))  # fmt: skip
recurrent = isinstance(model, sentiment.BiLSTMClassifier)
scores, rows, fits, variation_fits, variations, rates = {}, [], {}, {}, {}, {}
for word in params.query["words"]:
    scores[word] = sentiment.repetition_scores(model, vocabulary.index(word), repeats)
    step = np.abs(np.diff(scores[word]))
    n, resolved_step = memory.resolved(np.arange(1, repeats), step, fit["floor"])
    variation = memory.octave_variation(resolved_step)
    variations[word] = variation
    fits[word] = memory.classify_decay(n, resolved_step, *settings)
    variation_fits[word] = memory.classify_decay(n[: len(variation)], variation, *settings)
    if recurrent:  # exact as n -> infinity: the fixed points of the repeated word's cell maps
        embedding = model.embed.weight[vocabulary.index(word)]
        rates[word] = fixed_point.asymptotic_rate(fixed_point.fixed_points(model.lstm, embedding))
    rows += [
        {"figure": figure, "model": kind, "word": word, "repeats": k + 1, "score": s,
         "memory": step[k] if k < len(step) else np.nan,
         "octave_variation": variation[k] if k < len(variation) else np.nan}
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
for word in params.query["words"]:
    if word not in polar:
        continue
    subject = f'{kind}, word "{word}"'
    if recurrent and params.spec["expect"] == "exponential":
        rows_claims.append(
            fixed_point.linearised_decay_claim(
                figure, subject, rates[word], fits[word], variation_fits[word], repeats
            )
        )
    else:
        rows_claims.append(
            memory.decay_claim(
                figure, subject, fits[word], params.spec["expect"], variation_fits[word]
            )
        )

fig, (left, right, octave) = plt.subplots(1, 3, figsize=(14, 4))
memory_plots.repetition_panels(left, right, scores, fit["floor"], rates)
memory_plots.variation_panel(octave, variations)
labels = ", ".join(f"{w}: {memory.joint_label(fits[w], variation_fits[w])}" for w in fits)
if recurrent:
    labels += "\nasymptotic rate (fixed points): " + ", ".join(
        f"{w} >= {r:.3g}" for w, r in rates.items()
    )
fig.suptitle(
    f"{figure}: {params.spec.get('title', kind)}\n"
    f"test accuracy {accuracy:.3f}; tail fits of M and V: {labels}",
    fontsize=9,
)
fig.subplots_adjust(top=0.82)
plotting.save_figure(fig, snakemake.output.png, snakemake.output.pdf)
io.write_csv(snakemake.output.csv, pd.DataFrame(rows))
io.write_csv(snakemake.output.claims, pd.DataFrame(rows_claims, columns=claims.COLUMNS))
log(f"{figure}: {labels}")
