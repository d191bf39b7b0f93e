import numpy as np
import pytest
import torch

from curse_of_memory.memory import classification, sentiment

SPEC = sentiment.CorpusSpec()


@pytest.mark.parametrize(
    ("words", "label"),
    [
        (["good", "the", "ha"], 1),  # +1, laugh after praise +1
        (["bad", "ha", "good"], 0),  # -1, sarcasm -1, +1
        (["ha", "good"], 1),  # laugh with no sentiment before it counts 0
        (["good", "bad", "ha"], 0),  # +1 -1, the laugh follows criticism: -1
        (["good", "bad", "movie"], None),  # a tie is redrawn
    ],
)
def test_labelling_rule(words, label):
    assert sentiment.review_label(words, SPEC) == label


def test_corpus_is_reproducible_from_its_seed():
    sizes = {"train": 50, "test": 20}
    first = sentiment.make_corpus(SPEC, sizes, np.random.default_rng(3))
    second = sentiment.make_corpus(SPEC, sizes, np.random.default_rng(3))
    other = sentiment.make_corpus(SPEC, sizes, np.random.default_rng(4))
    for split in sizes:
        for a, b in zip(first[split], second[split]):
            assert torch.equal(a, b)
    assert not torch.equal(first["train"][0], other["train"][0])
    tokens, lengths, labels = first["train"]
    assert tokens.shape[0] == 50 and lengths.min() >= SPEC.min_length
    assert lengths.max() <= SPEC.max_length and set(labels.tolist()) <= {0, 1}
    words = [[SPEC.vocabulary[t] for t in row[:n]] for row, n in zip(tokens.tolist(), lengths)]
    assert [sentiment.review_label(w, SPEC) for w in words] == labels.tolist()
    assert all(row[n:].eq(0).all() for row, n in zip(tokens, lengths))


@pytest.mark.parametrize("kind", sentiment.MODEL_KINDS)
def test_scores_do_not_depend_on_padding(kind):
    spec = sentiment.SentimentModelSpec(kind, len(SPEC.vocabulary), embedding=8, hidden=8,
                                        layers=2 if kind == "stacked_bilstm" else 1)  # fmt: skip
    model = sentiment.build_model(spec, 0).double()
    tokens, lengths, _ = sentiment.make_corpus(SPEC, {"x": 6}, np.random.default_rng(0))["x"]
    batch = model(tokens, lengths)
    alone = torch.cat(
        [model(tokens[i : i + 1, : lengths[i]], lengths[i : i + 1]) for i in range(6)]
    )
    torch.testing.assert_close(batch, alone)
    scores = sentiment.repetition_scores(model, SPEC.vocabulary.index("good"), 12)
    with torch.no_grad():
        single = model(torch.full((1, 5), SPEC.vocabulary.index("good")), torch.tensor([5]))
    single = torch.softmax(single, 1)
    assert scores.shape == (12,) and scores[4] == pytest.approx(float(single[0, 1]))
    chunked = sentiment.repetition_scores(model, SPEC.vocabulary.index("good"), 12, chunk=5)
    np.testing.assert_allclose(chunked, scores, rtol=0, atol=1e-14)


def test_classifier_training_learns_a_separable_problem(generator):
    x = torch.randn(200, 2, generator=generator)
    labels = (x[:, 0] > 0).long()
    model = torch.nn.Linear(2, 2).double()
    split = classification.Split((x,), labels)
    history = classification.train_classifier(
        model,
        {"train": split},
        classification.ClassifierTraining(lr=0.05, epochs=20, eval_every=50),
        torch.Generator().manual_seed(0),
        log=lambda message: None,
    )
    assert history[0]["step"] == 0 and history[-1]["step"] == 80
    assert history[-1]["train_accuracy"] > 0.95
