import numpy as np
import torch
from sklearn.datasets import load_digits

from curse_of_memory.memory import sequential_digits
from curse_of_memory.shared import seeding


def test_loader_gives_64_step_sequences_with_the_right_labels():
    x, labels = sequential_digits.load_sequences()
    digits = load_digits()
    assert x.shape == (1797, 64, 1) and labels.shape == (1797,)
    # step k of image i is pixel (k // 8, k % 8) of the 8x8 image, scaled to [0, 1]
    for i in (0, 5, 1796):
        for k in (0, 9, 63):
            assert float(x[i, k, 0]) == digits.images[i][k // 8, k % 8] / 16.0
    assert torch.equal(labels, torch.as_tensor(digits.target))
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0


def test_splits_partition_the_samples():
    parts = sequential_digits.split_indices(
        1797, {"train": 0.6, "valid": 0.2, "test": 0.2}, np.random.default_rng(0)
    )
    assert [len(p) for p in parts.values()] == [1078, 359, 360]
    assert sorted(torch.cat(list(parts.values())).tolist()) == list(range(1797))


def test_parameterizations_start_from_identical_effective_weights():
    weights = {}
    for name in ("direct", "exp", "softplus", "inverse"):
        spec = sequential_digits.classifier_spec(8, name, eigen_init=(0.5, 1.5))
        model = sequential_digits.DigitsClassifier(
            spec, seeding.torch_generator(0, "init"), torch.float64
        )
        weights[name] = sequential_digits.effective_initial_weights(model)
        assert model(torch.zeros(3, 64, 1, dtype=torch.float64)).shape == (3, 10)
    for tensors in weights.values():
        for key, value in tensors.items():
            torch.testing.assert_close(value, weights["direct"][key], rtol=1e-12, atol=1e-12)


def test_table_is_mean_and_standard_error():
    runs = {"direct": [{"loss": 1.0, "accuracy": 0.5}, {"loss": 3.0, "accuracy": 0.7}]}
    row = sequential_digits.test_table(runs).iloc[0]
    assert row.test_loss == 2.0 and row.test_loss_se == np.sqrt(2.0) / np.sqrt(2)
    assert "| direct | 2.0000 ± 1.0000 | 0.6000 ± 0.1000 | 2 |" in sequential_digits.markdown_table(
        sequential_digits.test_table(runs)
    )
