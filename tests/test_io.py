import os
import pickle

import pytest
import torch

from curse_of_memory.shared.io import (
    CorruptResultError,
    atomic_write,
    load_tensors,
    read_csv,
    read_json,
    save_tensors,
    write_json,
)


def test_tensors_round_trip(tmp_path):
    path = tmp_path / "model.safetensors"
    save_tensors(path, {"w": torch.arange(3.0)}, {"spec": "{}"})
    assert torch.equal(load_tensors(path)["w"], torch.arange(3.0))


def test_truncated_weights_name_the_file_and_the_fix(tmp_path):
    path = tmp_path / "model.safetensors"
    save_tensors(path, {"w": torch.randn(100)})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CorruptResultError, match=f"{path}.*Delete this file"):
        load_tensors(path)


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_pickle_in_place_of_weights_is_refused_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"w": Exploit()}))
    with pytest.raises(CorruptResultError):
        load_tensors(path)
    assert not (tmp_path / "pwned").exists()


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.json"

    def broken(temporary):
        temporary.write_text("partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_json_and_csv_name_the_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json")
    with pytest.raises(CorruptResultError, match="metrics.json"):
        read_json(bad)
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    with pytest.raises(CorruptResultError, match="missing columns"):
        read_csv(table, ("a", "loss"))
    write_json(tmp_path / "ok.json", {"x": [1, 2]})
    assert read_json(tmp_path / "ok.json") == {"x": [1, 2]}


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_results_get_the_mode_of_any_new_file(tmp_path, umask):
    """Weights (safetensors writes 0600) and JSON alike: 0666 minus the umask."""
    previous = os.umask(umask)
    try:
        save_tensors(tmp_path / "model.safetensors", {"w": torch.zeros(2)})
        write_json(tmp_path / "metrics.json", {"x": 1})
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    for name in ("model.safetensors", "metrics.json", "plain.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == expected, name
