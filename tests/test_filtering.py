import math

import numpy as np

from curse_of_memory.stability.filtering import filter_claims, filter_row, teacher_status
from curse_of_memory.stability.verdict import StabilityConfig, analyse

BETAS = np.concatenate([[0.0], 1e-3 * 2 ** np.arange(12)])
WIDTHS = [2, 4, 8, 16]


def analysis_of(blowup_of, error_of, margin_of, estimated_memory=None):
    """Students whose E_m(beta) is flat at E_m(0) until it diverges at beta = blowup_of(m)."""
    losses = {}
    for m in WIDTHS:
        rows = [np.array([error_of(m)])]
        for beta in BETAS[1:]:
            value = math.inf if beta >= blowup_of(m) else error_of(m) * (1 + beta)
            rows.append(np.full(6, value))
        losses[m] = rows
    margins = {m: margin_of(m) for m in WIDTHS}
    config = StabilityConfig(bootstrap=20)
    return analyse(
        BETAS,
        losses,
        margins,
        config,
        np.random.default_rng(0),
        zero_loss=1.0,
        estimated_memory=estimated_memory,
    )


def test_stable_improving_teacher_is_kept():
    result = analysis_of(lambda m: 0.2, lambda m: 1.0 / m, lambda m: 0.1).to_dict()
    assert result["verdict"] == "stable"
    assert teacher_status(result)[0] == "kept"


def test_teacher_whose_blowups_move_left_is_rejected():
    result = analysis_of(lambda m: 0.5 / m, lambda m: 1.0 / m, lambda m: 0.5 / m).to_dict()
    assert result["verdict"] == "unstable", result["reason"]
    status, reason = teacher_status(result)
    assert status == "rejected" and "move left" in reason


def test_stable_students_of_a_slow_estimated_memory_are_a_conflict_left_undetermined():
    """The students that keep a teacher above, but its memory estimated polynomial: by the
    theorem one measurement is wrong, so the teacher is neither kept nor dropped, and the
    conflict is recorded for the filter's claim."""
    for memory, conflict, verdict in [
        ("exponential", False, "stable"),
        ("undetermined", False, "stable"),
        ("polynomial", True, "undetermined"),
        ("non-decaying", True, "undetermined"),
    ]:
        result = analysis_of(lambda m: 0.2, lambda m: 1.0 / m, lambda m: 0.1, memory).to_dict()
        assert (result["memory_conflict"], result["verdict"]) == (conflict, verdict), memory
    moving_left = analysis_of(lambda m: 0.5 / m, lambda m: 1.0 / m, lambda m: 0.5 / m, "polynomial")
    assert moving_left.verdict == "unstable" and not moving_left.memory_conflict


def test_stalled_students_leave_their_teacher_undetermined_not_rejected():
    """Students at 0.04 of the zero predictor's loss at every width, with crossings and margin
    that would read as unstable: no evidence either way (issue: IAT-3's t0 was rejected)."""
    result = analysis_of(lambda m: 0.5 / m, lambda m: 0.04 * (1 + 0.01 * m), lambda m: 0.5 / m)
    result = result.to_dict()
    assert result["evidence"] == "none" and result["verdict"] == "undetermined"
    status, reason = teacher_status(result)
    assert status == "undetermined" and "to resolve" in reason


def test_undetermined_is_listed_as_such():
    result = analysis_of(lambda m: 0.5 / m, lambda m: 1.0 / m, lambda m: 0.1).to_dict()
    assert result["verdict"] == "undetermined"
    assert teacher_status(result)[0] == "undetermined"


def test_filter_row_has_one_column_per_width_and_pair():
    result = analysis_of(lambda m: 0.2, lambda m: 1.0 / m, lambda m: 0.1).to_dict()
    memory = {
        "heaviside": {
            "decay": {"label": "exponential", "exponential_rate": 0.3, "polynomial_power": 2.0}
        }
    }
    row = filter_row("t3", {"gain": 0.9}, memory, result, "kept", "ok")
    assert row["teacher"] == "t3" and row["gain"] == 0.9 and row["memory_decay"] == "exponential"
    assert {f"E0_m{m}" for m in WIDTHS} <= set(row)
    assert {"crossing_m2_m4", "crossing_m8_m16_high", "margin_m16"} <= set(row)


def test_filter_claims_count_undetermined_memory_as_neither_kind():
    rows = [
        {"status": "kept", "memory_decay": "exponential"},
        {"status": "rejected", "memory_decay": "polynomial"},
        {"status": "undetermined", "memory_decay": "non-decaying"},
        {"status": "rejected", "memory_decay": "undetermined"},  # not evidence of slow memory
    ]
    rows = [{**row, "memory_conflict": False} for row in rows]
    verdicts = {row["claim"]: (row["value"], row["verdict"]) for row in filter_claims("F", rows)}
    assert verdicts["every kept teacher has exponentially decaying memory"] == ("1/1", "pass")
    slow = "slow-memory (polynomial or non-decaying) teachers rejected by the filter"
    assert verdicts[slow] == ("1/2", "pass")
    kept_slow = [{"status": "kept", "memory_decay": "polynomial", "memory_conflict": False}]
    verdicts = {row["claim"]: row["verdict"] for row in filter_claims("F", kept_slow)}
    assert verdicts["every kept teacher has exponentially decaying memory"] == "fail"
    assert verdicts["no slow-memory (polynomial or non-decaying) teacher is kept"] == "fail"


def test_a_conflict_fails_its_claim_though_the_teacher_is_not_kept():
    rows = [
        {"status": "kept", "memory_decay": "exponential", "memory_conflict": False},
        {"status": "undetermined", "memory_decay": "non-decaying", "memory_conflict": True},
        {"status": "rejected", "memory_decay": "polynomial", "memory_conflict": False},
    ]
    claims = filter_claims("F", rows)
    failing = [(row["value"], row["claim"][:43]) for row in claims if row["verdict"] == "fail"]
    assert failing == [("1/3", "no teacher's students read stable while its")]
