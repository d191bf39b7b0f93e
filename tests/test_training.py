import math

import numpy as np
import pytest
import torch

from curse_of_memory.rnn.models import StudentRNN, StudentSpec
from curse_of_memory.rnn.training import (
    TrainConfig,
    Trainer,
    evaluate,
    restart,
    segment_ends,
    time_weights,
    train,
    weighted_mse,
)
from curse_of_memory.shared.seeding import torch_generator
from curse_of_memory.targets.datasets import InputSpec, LinearFunctional, make_splits


def test_time_weights_sum_to_length_and_grow_quadratically():
    w = time_weights(100, 2.0)
    assert float(w.sum()) == pytest.approx(100.0)
    assert float(w[9] / w[4]) == pytest.approx((10 / 5) ** 2)


def test_weighted_mse_scales_the_residual():
    pred, target = torch.ones(2, 3, 1), torch.zeros(2, 3, 1)
    w = torch.tensor([1.0, 2.0, 3.0])
    assert float(weighted_mse(pred, target, w)) == pytest.approx((1 + 4 + 9) / 3)


def small_problem(kernel):
    teacher = LinearFunctional(kernel)
    sizes = {"train": 256, "valid": 64, "test": 64}
    return make_splits(teacher, sizes, InputSpec(length=len(kernel)), torch_generator(0, "data"))


def test_training_fits_an_exponential_kernel():
    data = small_problem(0.8 ** np.arange(30.0))
    model = StudentRNN(StudentSpec(width=2), torch_generator(0, "init"))
    weights = time_weights(30, 2.0)
    before = evaluate(model, data["valid/x"], data["valid/y"], weights)
    config = TrainConfig(max_epochs=150, batch_size=64, log_every=1000)
    result = train(model, data, config, torch_generator(0, "train"), log=lambda _: None)
    after = evaluate(model, data["valid/x"], data["valid/y"], weights)
    assert after < 1e-3 * before
    assert result.best_valid == pytest.approx(after, rel=1e-9)
    assert result.stop_reason in ("threshold", "max_epochs")


def test_training_is_reproducible_from_seeds():
    data = small_problem(0.8 ** np.arange(20.0))
    runs = []
    for _ in range(2):
        model = StudentRNN(StudentSpec(width=3, activation="tanh"), torch_generator(1, "init"))
        train(
            model,
            data,
            TrainConfig(max_epochs=3, batch_size=64),
            torch_generator(1, "t"),
            log=lambda _: None,
        )
        runs.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(runs[0], runs[1])


def test_divergence_is_recorded_with_its_step():
    data = small_problem(np.ones(40))
    spec = StudentSpec(width=4, activation="relu", eigen_init=(0.01, 0.02))
    model = StudentRNN(spec, torch_generator(2, "init"))
    with torch.no_grad():
        model.c.mul_(1e200)
    messages = []
    result = train(
        model,
        data,
        TrainConfig(max_epochs=5, batch_size=64),
        torch_generator(2),
        log=messages.append,
    )
    assert result.stop_reason == "diverged"
    assert result.diverged_step == 1
    assert any("not finite" in message for message in messages)
    assert math.isinf(result.best_valid)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_training_split_into_jobs_equals_one_run(activation, tmp_path):
    data = small_problem((1.0 + np.arange(20.0)) ** -1.5)
    spec = StudentSpec(width=3, structure="full", activation=activation)
    config = TrainConfig(max_epochs=7, batch_size=64, lr=0.3, plateau_patience=0, epochs_per_job=3)
    quiet = lambda _: None  # noqa: E731
    whole = StudentRNN(spec, torch_generator(0, "init"))
    expected = train(whole, data, config, torch_generator(0, "train"), log=quiet)
    checkpoint = None
    for end in segment_ends(config):  # each job: a fresh process would rebuild exactly this
        model = StudentRNN(spec, torch_generator(0, "init"))
        trainer = Trainer(model, data, config, torch_generator(0, "train"))
        if checkpoint:
            trainer.load(checkpoint)
        trainer.run(end, quiet)
        checkpoint = tmp_path / f"upto{end}.safetensors"
        trainer.save(checkpoint)
    result = trainer.finish()
    assert segment_ends(config) == [3, 6, 7]
    assert result.history == expected.history and result.steps == expected.steps
    assert any(row["lr"] < config.lr for row in result.history)  # the scheduler state carried over
    for name, value in whole.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_training_stops_when_the_best_validation_loss_stalls():
    """The rule best_e >= (1 - tolerance) best_{e - window} on a constructed history."""
    data = small_problem(np.ones(40))
    model = StudentRNN(StudentSpec(width=2), torch_generator(3, "init"))
    trainer = Trainer(
        model, data, TrainConfig(converge_window=3, converge_tolerance=0.01), torch_generator(3)
    )
    for valid in (1.0, 0.5, 0.499, 0.498, 0.497):
        trainer.result.history.append({"valid_loss": valid})
        trainer.result.best_valid = min(trainer.result.best_valid, valid)
    assert trainer.stalled()  # 0.497 vs 0.5 three epochs before: 0.6% < 1%
    trainer.result.history[-1]["valid_loss"] = trainer.result.best_valid = 0.49
    assert not trainer.stalled()  # 2% better


def test_a_converged_run_says_so_and_a_cut_one_does_not():
    data = small_problem(0.5 ** np.arange(40.0))
    runs = {}
    for window, epochs in ((5, 400), (0, 3)):
        model = StudentRNN(StudentSpec(width=2), torch_generator(4, "init"))
        config = TrainConfig(max_epochs=epochs, batch_size=64, converge_window=window)
        runs[window] = train(model, data, config, torch_generator(4), log=lambda _: None)
    assert runs[5].converged and runs[5].stop_reason in ("converged", "threshold")
    assert runs[5].epochs < 400
    assert not runs[0].converged and runs[0].stop_reason == "max_epochs"


def test_a_warm_start_never_ends_worse_than_where_it_started():
    """keep_start makes the starting weights the best so far: with a learning rate large enough
    to diverge, training ends on the starting weights and their validation loss."""
    data = small_problem(0.7 ** np.arange(30.0))
    model = StudentRNN(StudentSpec(width=2), torch_generator(5, "init"))
    train(model, data, TrainConfig(max_epochs=100, batch_size=64), torch_generator(5), lambda _: 0)
    start = evaluate(model, data["valid/x"], data["valid/y"], time_weights(30, 2.0))
    wide = model.widened(StudentSpec(width=4), torch_generator(5, "wide"))
    trainer = Trainer(wide, data, TrainConfig(max_epochs=5, lr=10.0), torch_generator(6))
    trainer.keep_start()
    trainer.run(5, log=lambda _: None)
    trainer.finish()
    assert trainer.result.best_valid == pytest.approx(start, rel=1e-12)
    after = evaluate(wide, data["valid/x"], data["valid/y"], time_weights(30, 2.0))
    assert after == pytest.approx(start, rel=1e-9)


def restart_run(first_epochs, target, attempts=3):
    """restart() on width-2 linear students of a fixed problem: attempt k trains from the seed
    (7, k), so each attempt is also trainable on its own (the oracle)."""
    data = small_problem(0.6 ** np.arange(30.0))

    def fresh(attempt, epochs=20):
        config = TrainConfig(max_epochs=epochs, batch_size=64, converge_window=3)
        model = StudentRNN(StudentSpec(width=2), torch_generator(7, attempt))
        return Trainer(model, data, config, torch_generator(7, "order", attempt))

    first = fresh(0, first_epochs)
    first.run(first_epochs, log=lambda _: None)
    first.finish()
    return restart(first, fresh, attempts, target, log=lambda _: None), fresh


def test_restarts_keep_the_lowest_validation_loss_of_the_attempts():
    best, fresh = restart_run(20, target=0.0)  # unreachable: every attempt runs
    records = best.result.attempts
    assert [r["attempt"] for r in records] == [0, 1, 2] and best.result.target_valid == 0.0
    alone = []
    for attempt in range(3):
        trainer = fresh(attempt)
        trainer.run(20, log=lambda _: None)
        alone.append(trainer.result.best_valid)
    assert [r["valid_loss"] for r in records] == pytest.approx(alone, rel=1e-12)
    assert best.result.best_valid == pytest.approx(min(alone), rel=1e-12)
    valid = evaluate(best.model, best.data["valid/x"], best.data["valid/y"], best.weights)
    assert valid == pytest.approx(min(alone), rel=1e-6)  # the kept weights are the best's


def test_no_restart_below_the_target_or_after_a_cut_by_max_epochs():
    reached, _ = restart_run(20, target=math.inf)
    assert len(reached.result.attempts) == 1
    cut, _ = restart_run(1, target=0.0)  # one epoch: cut while improving, not stalled
    assert cut.result.stop_reason == "max_epochs" and len(cut.result.attempts) == 1
