"""A seeded synthetic sentiment corpus, three classifiers for it, and the repetition memory query.

The corpus is the offline substitute for IMDB (IAT Figures 5 and 6). A review is a sequence of
words; each word is, with the probabilities of :class:`CorpusSpec`, a positive word (value +1),
a negative word (-1), an ambiguous word (a laugh such as "ha") or filler (0). The ambiguous word
takes the sign of the nearest sentiment word before it (joy after praise, sarcasm after
criticism), 0 if there is none. The label is 1 (positive) if the sum of the values is > 0 and
0 if it is < 0; reviews with sum 0 are redrawn.

Models map (tokens (B, L), lengths (B,)) to two logits: a BiLSTM (final states of both
directions), a stacked BiLSTM, and a transformer encoder (sinusoidal positions, masked mean
pooling). The score of a review is s = softmax(logits)_1, and the memory query of a word w is
s(n) = score of w repeated n times, M(n) = |s(n+1) - s(n)|, n = 1..N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from ..shared.encodings import sinusoidal_positions

PAD = "<pad>"
MODEL_KINDS = ("bilstm", "stacked_bilstm", "transformer")


@dataclass(frozen=True)
class CorpusSpec:
    """Word lists, review lengths and the probability of each word class."""

    positive: tuple[str, ...] = ("good", "great", "fun", "excellent", "lovely", "superb")
    negative: tuple[str, ...] = ("bad", "awful", "boring", "dull", "poor", "terrible")
    ambiguous: tuple[str, ...] = ("ha",)
    filler: tuple[str, ...] = (
        "the", "movie", "film", "was", "is", "a", "and", "plot", "actor", "it", "this", "story",
    )  # fmt: skip
    min_length: int = 8
    max_length: int = 32
    sentiment_rate: float = 0.2  # probability that a word is positive or negative
    ambiguous_rate: float = 0.1  # probability that a word is ambiguous

    @property
    def vocabulary(self) -> tuple[str, ...]:
        return (PAD, *self.positive, *self.negative, *self.ambiguous, *self.filler)


def review_label(words: list[str], spec: CorpusSpec) -> int | None:
    """1 if the sum of word values is > 0, 0 if < 0, None if it is 0 (module docstring rule)."""
    total, last = 0, 0
    for word in words:
        if word in spec.positive:
            last = 1
            total += 1
        elif word in spec.negative:
            last = -1
            total -= 1
        elif word in spec.ambiguous:
            total += last
    return None if total == 0 else int(total > 0)


def generate_reviews(
    spec: CorpusSpec, count: int, rng: np.random.Generator
) -> tuple[list[list[str]], list[int]]:
    """``count`` reviews and their labels; a review whose value sum is 0 is redrawn."""
    classes = (spec.positive + spec.negative, spec.ambiguous, spec.filler)
    rates = (spec.sentiment_rate, spec.ambiguous_rate)
    probabilities = np.array([*rates, 1.0 - sum(rates)])
    reviews, labels = [], []
    while len(reviews) < count:
        length = int(rng.integers(spec.min_length, spec.max_length + 1))
        kinds = rng.choice(3, size=length, p=probabilities)
        words = [classes[k][int(rng.integers(len(classes[k])))] for k in kinds]
        label = review_label(words, spec)
        if label is not None:
            reviews.append(words)
            labels.append(label)
    return reviews, labels


def encode(
    reviews: list[list[str]], vocabulary: tuple[str, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (B, max length) right-padded with 0, lengths (B,))."""
    index = {word: i for i, word in enumerate(vocabulary)}
    lengths = torch.tensor([len(r) for r in reviews])
    tokens = torch.zeros(len(reviews), int(lengths.max()), dtype=torch.long)
    for row, review in enumerate(reviews):
        tokens[row, : len(review)] = torch.tensor([index[w] for w in review])
    return tokens, lengths


def make_corpus(
    spec: CorpusSpec, sizes: dict[str, int], rng: np.random.Generator
) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """split -> (tokens, lengths, labels) for every split of ``sizes``, drawn in order."""
    corpus = {}
    for split, count in sizes.items():
        reviews, labels = generate_reviews(spec, count, rng)
        tokens, lengths = encode(reviews, spec.vocabulary)
        corpus[split] = (tokens, lengths, torch.tensor(labels))
    return corpus


@dataclass(frozen=True)
class SentimentModelSpec:
    """Architecture: kind, vocabulary size, embedding and hidden sizes, layers, heads."""

    kind: str
    vocabulary: int
    embedding: int = 16
    hidden: int = 32
    layers: int = 1
    heads: int = 2

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model: unknown kind {self.kind!r}; known: {', '.join(MODEL_KINDS)}")


class BiLSTMClassifier(torch.nn.Module):
    """logits = Linear([h_fwd(L); h_bwd(1)]) of the last layer of a (stacked) BiLSTM."""

    def __init__(self, spec: SentimentModelSpec):
        super().__init__()
        self.embed = torch.nn.Embedding(spec.vocabulary, spec.embedding, padding_idx=0)
        self.lstm = torch.nn.LSTM(
            spec.embedding, spec.hidden, spec.layers, batch_first=True, bidirectional=True
        )
        self.head = torch.nn.Linear(2 * spec.hidden, 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(
            self.embed(tokens), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (final, _) = self.lstm(packed)
        return self.head(torch.cat([final[-2], final[-1]], dim=1))


class TransformerClassifier(torch.nn.Module):
    """logits = Linear(masked mean over positions of Encoder(E(tokens) sqrt(d) + P))."""

    def __init__(self, spec: SentimentModelSpec):
        super().__init__()
        self.width = spec.embedding
        self.embed = torch.nn.Embedding(spec.vocabulary, spec.embedding, padding_idx=0)
        layer = torch.nn.TransformerEncoderLayer(
            spec.embedding, spec.heads, spec.hidden, dropout=0.0, batch_first=True
        )
        self.encoder = torch.nn.TransformerEncoder(layer, spec.layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(spec.embedding, 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) * math.sqrt(self.width)
        x = x + sinusoidal_positions(tokens.shape[1], self.width, x.dtype)
        padding = torch.arange(tokens.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)
        states = self.encoder(x, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).to(states.dtype)
        return self.head((states * keep).sum(1) / keep.sum(1))


def build_model(spec: SentimentModelSpec, seed: int) -> torch.nn.Module:
    """The classifier of ``spec``, initialised from the global generator forked and seeded."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        if spec.kind == "transformer":
            return TransformerClassifier(spec)
        return BiLSTMClassifier(spec)


@torch.no_grad()
def repetition_scores(
    model: torch.nn.Module,
    token: int,
    repeats: int,
    dtype: torch.dtype = torch.float64,
    chunk: int = 16,
) -> np.ndarray:
    """s(n) = softmax(model(token repeated n times))_1 for n = 1..repeats (model cast to dtype).

    Lengths run in batches of ``chunk`` (attention holds batch x length^2 scores); masked
    padding makes every score independent of its batch.
    """
    model = model.to(dtype)
    scores = []
    for first in range(1, repeats + 1, chunk):
        lengths = torch.arange(first, min(first + chunk, repeats + 1))
        inside = torch.arange(int(lengths[-1])).unsqueeze(0) < lengths.unsqueeze(1)
        tokens = torch.where(inside, token, 0)
        scores.append(torch.softmax(model(tokens, lengths), dim=1)[:, 1])
    return torch.cat(scores).double().numpy()
