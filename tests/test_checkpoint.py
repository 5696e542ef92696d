"""Checkpoints: round trip, atomic writes, and clear errors for damaged or foreign files."""
import os

import numpy as np
import pytest

from rnnc import checkpoint
from rnnc.checkpoint import CheckpointError
from rnnc.layers import Embedding, Linear, MeanPool, Sequential
from rnnc.optim import Adam


def make_model(seed=0, dtype=np.float32):
    return Sequential(Embedding(12, 4, padding_idx=0, seed=seed, dtype=dtype),
                      MeanPool(batch_first=True), Linear(4, 3, seed=seed + 1, dtype=dtype))


def trained(tmp_path):
    m = make_model()
    opt = Adam(m.parameters(), lr=0.01)
    for p in m.parameters():
        p.grad[...] = 0.5
    opt.step()
    return m, opt


def test_round_trip_model_optimizer_extra(tmp_path):
    m, opt = trained(tmp_path)
    path = tmp_path / "model.ckpt"
    extra = {"epoch": 7, "history": {"loss": [1.5, 0.5]}, "vocab": ["<pad>", "<unk>", "a"],
             "stats": np.arange(6.0).reshape(2, 3), "pair": (1, "x"), 3: None,
             "scalar": np.float32(2.5), "nan": float("nan")}
    assert checkpoint.save(path, m, opt, extra=extra) == str(path)
    assert os.listdir(tmp_path) == ["model.ckpt"]  # no suffix added, no temp file left
    ck = checkpoint.load(path)
    assert ck["format"] == "rnnc-checkpoint" and ck["version"] == 1
    assert list(ck["model"]) == ["0.weight", "2.weight", "2.bias"]
    for (k, v), p in zip(ck["model"].items(), m.parameters()):
        assert v.dtype == p.data.dtype
        np.testing.assert_array_equal(v, p.data)
    e = ck["extra"]
    assert e["epoch"] == 7 and e["history"]["loss"] == [1.5, 0.5] and e["pair"] == (1, "x")
    assert e[3] is None and np.isnan(e["nan"]) and e["vocab"][2] == "a"
    np.testing.assert_array_equal(e["stats"], extra["stats"])
    assert e["scalar"] == np.float32(2.5) and e["scalar"].dtype == np.float32

    m2 = make_model(seed=5)
    opt2 = Adam(m2.parameters(), lr=0.5)
    checkpoint.load_into(path, m2, opt2)
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert opt2.param_groups[0]["lr"] == 0.01
    sd, sd2 = opt.state_dict(), opt2.state_dict()
    assert sd2["state"].keys() == sd["state"].keys()
    for i in sd["state"]:
        assert sd2["state"][i]["step"] == sd["state"][i]["step"]
        np.testing.assert_array_equal(sd2["state"][i]["exp_avg"], sd["state"][i]["exp_avg"])
    # the same next step after loading
    for mm, oo in ((m, opt), (m2, opt2)):
        for p in mm.parameters():
            p.grad[...] = 0.25
        oo.step()
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_model_only_and_state_dict_input(tmp_path):
    m = make_model(dtype=np.float64)
    checkpoint.save(tmp_path / "a", m.state_dict(), compress=True)
    ck = checkpoint.load(tmp_path / "a")
    assert ck["optimizer"] is None and ck["extra"] is None
    m2 = make_model(seed=9, dtype=np.float64)
    checkpoint.load_into(tmp_path / "a", m2)
    np.testing.assert_array_equal(m2[2].weight.data, m[2].weight.data)
    with pytest.raises(ValueError, match="no optimizer state"):
        checkpoint.load_into(tmp_path / "a", m2, Adam(m2.parameters()))
    wrong = Sequential(Linear(4, 3))
    with pytest.raises(KeyError, match="missing keys"):
        checkpoint.load_into(tmp_path / "a", wrong)


def test_overwrite_is_atomic_and_temp_removed_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.ckpt"
    m = make_model()
    checkpoint.save(path, m, extra={"version": "old"})
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(checkpoint.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        checkpoint.save(path, m, extra={"version": "new"})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.ckpt"]       # the temporary file is gone
    assert path.read_bytes() == before               # the old checkpoint is untouched
    assert checkpoint.load(path)["extra"]["version"] == "old"

    # a failure while writing the archive also leaves no temporary file
    def broken_write(*a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(checkpoint, "_write_npz", broken_write)
    with pytest.raises(RuntimeError, match="interrupted"):
        checkpoint.save(path, m)
    assert os.listdir(tmp_path) == ["m.ckpt"]


def test_unsaveable_content_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match=r"extra\['f'\] is a function"):
        checkpoint.save(tmp_path / "x", make_model(), extra={"f": lambda: 0})
    with pytest.raises(TypeError, match="dtype object"):
        checkpoint.save(tmp_path / "x", extra={"a": np.array([{}, 1], dtype=object)})
    assert os.listdir(tmp_path) == []


def test_truncated_file(tmp_path):
    path = tmp_path / "m.ckpt"
    checkpoint.save(path, make_model())
    data = path.read_bytes()
    for cut in (0, 3, 10, len(data) // 3, len(data) // 2, len(data) - 40, len(data) - 1):
        bad = tmp_path / f"cut{cut}"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="corrupt|truncated|not an rnnc"):
            checkpoint.load(bad)


def test_bit_flips_anywhere_are_detected(tmp_path):
    path = tmp_path / "m.ckpt"
    checkpoint.save(path, make_model(), extra={"epoch": 1})
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    positions = sorted(set(rng.integers(0, len(data), 60).tolist()) | {5, len(data) // 2, len(data) - 3})
    bad = tmp_path / "bad"
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        bad.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError, match="corrupt|truncated|not an rnnc"):
            checkpoint.load(bad)


def test_foreign_files(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(CheckpointError, match="not an rnnc checkpoint"):
        checkpoint.load(txt)
    npz = tmp_path / "plain.npz"
    np.savez(npz, w=np.ones(3))
    with pytest.raises(CheckpointError, match="not an rnnc checkpoint.*plain np.savez"):
        checkpoint.load(npz)
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "missing.ckpt")


def test_newer_version_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "FORMAT_VERSION", 99)
    checkpoint.save(tmp_path / "v99", make_model())
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="version 99.*upgrade"):
        checkpoint.load(tmp_path / "v99")


def test_loads_with_numpy_and_no_pickle(tmp_path):
    """The file is a plain .npz: readable with np.load(allow_pickle=False) for inspection."""
    checkpoint.save(tmp_path / "m", make_model())
    with np.load(tmp_path / "m", allow_pickle=False) as z:
        assert "__header__" in z.files and "a0" in z.files


def test_module_save_and_load_methods(tmp_path):
    m, opt = trained(tmp_path)
    m.save(tmp_path / "m.ckpt", optimizer=opt, extra={"note": "hi"})
    m2 = make_model(seed=3)
    assert m2.load(tmp_path / "m.ckpt") is m2
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert checkpoint.load(tmp_path / "m.ckpt")["extra"] == {"note": "hi"}
