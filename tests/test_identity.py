"""Identity records: every result file says what it is, and a checked read refuses (and deletes)
a file that is another result, carries no record, or cannot be read."""

import subprocess
import sys

import pandas as pd
import pytest
import torch

from curse_of_memory.shared import identity, io


def student(width: int, lr: float = 0.01) -> dict:
    settings = {"student": {"width": width}, "training": {"lr": lr}, "seed": 7}
    names = {"experiment": "e", "teacher": "t0", "width": width, "activation": "tanh"}
    return identity.record("student", settings, **names)


def test_the_config_hash_is_canonical_and_sees_every_setting():
    a = {"training": {"lr": 0.01, "epochs": 5}, "widths": (1, 2)}
    b = {"widths": [1, 2], "training": {"epochs": 5, "lr": 0.01}}
    assert identity.config_hash(a) == identity.config_hash(b)
    assert len(identity.config_hash(a)) == 16
    assert identity.config_hash(a) != identity.config_hash({**a, "widths": [1, 3]})
    assert student(2)["config"] != student(2, lr=0.02)["config"]


def test_a_mismatch_names_what_differs_first_then_both_records():
    reason = identity.mismatch(student(1), student(2))
    assert reason.startswith("it holds another result: width 1, expected 2; config ")
    assert "found: result student, experiment e, teacher t0, width 1, activation tanh" in reason
    assert identity.mismatch(student(2), student(2)) is None
    assert "no identity record" in identity.mismatch(None, student(2))


WRITERS = {
    "model.safetensors": (
        lambda path, ids: io.save_tensors(path, {"w": torch.arange(3.0)}, {"spec": "{}"}, ids),
        lambda path, ids: io.load_tensors(path, ids),
    ),
    "metrics.json": (
        lambda path, ids: io.write_json(path, {"loss": float("inf")}, ids),
        lambda path, ids: io.read_json(path, ids),
    ),
    "m2.csv": (
        lambda path, ids: io.write_csv(path, pd.DataFrame({"beta": [0.1], "loss": [2.0]}), ids),
        lambda path, ids: io.read_csv(path, ("beta", "loss"), ids),
    ),
}


@pytest.mark.parametrize("name", WRITERS)
def test_a_result_reads_back_when_it_is_the_one_expected(tmp_path, name):
    write, read = WRITERS[name]
    path = tmp_path / name
    write(path, {str(path): student(2)})
    value = read(path, {str(path): student(2)})
    if name.endswith(".json"):
        assert value == {"loss": float("inf")}  # the record is checked and removed
    elif name.endswith(".csv"):
        assert list(value.columns) == ["beta", "loss"] and value["loss"].tolist() == [2.0]
        assert list(io.read_csv(path).columns) == ["beta", "loss"]  # unchecked reads skip it
    else:
        assert torch.equal(value["w"], torch.arange(3.0))
        assert io.load_metadata(path)["spec"] == "{}"


@pytest.mark.parametrize("name", WRITERS)
def test_another_result_is_refused_and_deleted(tmp_path, name):
    write, read = WRITERS[name]
    path = tmp_path / name
    write(path, {str(path): student(1)})
    with pytest.raises(io.ForeignResultError) as error:
        read(path, {str(path): student(2)})
    message = str(error.value)
    assert message.startswith(f"{path}: it holds another result: width 1, expected 2")
    assert "rerun the same snakemake command" in message
    assert not path.exists()


@pytest.mark.parametrize("name", WRITERS)
def test_a_file_without_a_record_is_refused_and_deleted(tmp_path, name):
    write, read = WRITERS[name]
    path = tmp_path / name
    write(path, None)
    with pytest.raises(io.ForeignResultError, match="carries no identity record"):
        read(path, {str(path): student(2)})
    assert not path.exists()


@pytest.mark.parametrize("name", WRITERS)
def test_a_corrupt_result_is_refused_and_deleted_by_a_checked_read_only(tmp_path, name):
    write, read = WRITERS[name]
    path = tmp_path / name
    write(path, {str(path): student(2)})
    path.write_bytes(b"\x00garbage" if name.endswith("tensors") else b"")
    with pytest.raises(io.CorruptResultError, match="Delete this file"):
        read(path, None)
    assert path.exists()  # an unchecked read leaves it: it may not be a workflow result
    with pytest.raises(io.CorruptResultError, match="has been deleted: rerun the same snakemake"):
        read(path, {str(path): student(2)})
    assert not path.exists()


def test_a_read_with_no_record_for_its_path_is_a_programming_error(tmp_path):
    path = tmp_path / "metrics.json"
    io.write_json(path, {"x": 1})
    with pytest.raises(ValueError, match="no identity record in this rule's identities"):
        io.read_json(path, {"elsewhere.json": student(1)})
    assert path.exists()


WRITE = """
import sys, torch
from curse_of_memory.shared import io
path = sys.argv[1]
io.save_tensors(path, {"w": torch.arange(3.0)}, {"spec": "{}", "trainer": "{}"}, {path: {"a": 1}})
"""


def test_equal_weights_give_equal_bytes_in_every_process(tmp_path):
    """safetensors writes its metadata map in a random order per process; io sorts it."""
    paths = [tmp_path / f"run{i}.safetensors" for i in range(3)]
    for path in paths:
        subprocess.run([sys.executable, "-c", WRITE, str(path)], check=True)
    assert len({path.read_bytes() for path in paths}) == 1
    assert io.load_metadata(paths[0])["trainer"] == "{}"


def test_a_table_cut_at_a_line_end_is_refused(tmp_path):
    """Half a table parses as fewer rows; the digest on its first line shows the cut."""
    path = tmp_path / "m2.csv"
    io.write_csv(path, pd.DataFrame({"beta": [0.1, 0.2, 0.4]}), {str(path): student(2)})
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    assert len(io.read_csv(path)) == 2  # what an unchecked reader would take
    with pytest.raises(io.CorruptResultError, match="does not match the sha256 on its first"):
        io.read_csv(path, identities={str(path): student(2)})
