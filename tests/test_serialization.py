"""rnnc.save / rnnc.load of whole models (fresh process, bit-identical outputs), the
registration decorator, and save_weights / load_weights in safetensors with torch."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rnnc
from rnnc.checkpoint import CheckpointError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

USER_MODULE = '''
import numpy as np
import rnnc


@rnnc.register_module
class Forecaster(rnnc.Module):
    """A user model: a GRU over the series and a linear head on its last step."""

    def __init__(self, features, width, scale=1.0):
        super().__init__()
        self.features, self.width, self.scale = features, width, scale
        self.rnn = rnnc.GRU(features, width, batch_first=True, dtype=np.float64, seed=1)
        self.head = rnnc.Linear(width, 1, dtype=np.float64, seed=2)

    def get_config(self):
        return dict(features=self.features, width=self.width, scale=self.scale)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.scale * self.head(out[:, -1])


@rnnc.register_module(name="demo.Wrapper")
class Wrapper(rnnc.Module):
    """Takes a module as an argument (stored as a nested node)."""

    def __init__(self, inner, loss=None):
        super().__init__()
        self.inner, self.loss = inner, loss

    def get_config(self):
        return dict(inner=self.inner, loss=self.loss)

    def forward(self, x):
        return self.inner(x)
'''


def _models():
    """(name, model, input) for every kind of built-in layer."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, (3, 7))
    x = rng.standard_normal((7, 3, 5)).astype(np.float32)
    xb = np.ascontiguousarray(x.transpose(1, 0, 2))
    x64 = x.astype(np.float64)
    frozen = rnnc.Sequential(rnnc.LSTM(5, 6, seed=3), rnnc.MaxPool(), rnnc.Linear(6, 2, seed=4))
    frozen[0].weight_ih_l0.requires_grad = False
    models = [
        ("classifier", rnnc.Sequential(
            rnnc.Embedding(20, 5, padding_idx=0, seed=1),
            rnnc.LSTM(5, 8, num_layers=2, batch_first=True, bidirectional=True, proj_size=3,
                      dropout=0.1, seed=2),
            rnnc.LastStep(), rnnc.Dropout(0.2), rnnc.Linear(6, 3, seed=3)), ids),
        ("gru_ln", rnnc.Sequential(rnnc.GRU(5, 7, layer_norm=True, seed=5), rnnc.MeanPool(),
                                   rnnc.Tanh(), rnnc.Linear(7, 2, bias=False, seed=6)), x),
        ("rnn_relu", rnnc.RNN(5, 4, num_layers=2, nonlinearity="relu", batch_first=True,
                              bidirectional=True, seed=7), xb),
        ("lstm_ln_f64", rnnc.LSTM(5, 4, layer_norm=True, dtype=np.float64, seed=8), x64),
        ("cells", rnnc.Sequential(rnnc.LSTMCell(5, 4, seed=9)), x[0]),
        ("gru_cell", rnnc.GRUCell(5, 3, seed=10), x[0]),
        ("rnn_cell", rnnc.RNNCell(5, 3, nonlinearity="relu", seed=11), x[0]),
        ("layernorm", rnnc.Sequential(rnnc.LayerNorm(5, eps=1e-3), rnnc.ReLU(), rnnc.Sigmoid()), x),
        ("frozen", frozen, x),
        ("doubled", rnnc.Sequential(rnnc.GRU(5, 3, seed=12), rnnc.LastStep()).double(), x64),
    ]
    for _, m, _ in models:
        for p in m.parameters():   # make the weights not exactly their init
            p.data += 0.01
        m.eval()
    return models


def _out(m, x):
    out = m(x)
    return out[0] if isinstance(out, tuple) else out


LOADER = textwrap.dedent('''
    import sys
    import numpy as np
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import rnnc
    d = sys.argv[3]
    inputs = np.load(d + "/inputs.npz")
    outs = {}
    for name in inputs.files:
        if name.startswith("user"):
            import mymodels   # the user's module registers its classes
        m = rnnc.load(f"{d}/{name}.rnnc")
        out = m(inputs[name])
        outs[name] = out[0] if isinstance(out, tuple) else out
        outs[name + "__frozen"] = np.array([not p.requires_grad for p in m.parameters()])
        outs[name + "__training"] = np.array([mm.training for mm in m.modules()])
        outs[name + "__dtype"] = np.array(str(m.dtype))
    np.savez(d + "/outputs.npz", **outs)
''')


def test_every_builtin_and_user_model_loads_bit_identical_in_a_fresh_process(tmp_path):
    (tmp_path / "mymodels.py").write_text(USER_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import mymodels
    finally:
        sys.path.remove(str(tmp_path))
    models = _models()
    rng = np.random.default_rng(1)
    user_x = rng.standard_normal((2, 6, 3))
    user = mymodels.Forecaster(3, 4, scale=2.5)
    wrapped = mymodels.Wrapper(rnnc.Sequential(rnnc.LSTM(5, 3, seed=1), rnnc.LastStep()),
                               loss=rnnc.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5]),
                                                          label_smoothing=0.1))
    models += [("user_forecaster", user.eval(), user_x), ("user_wrapper", wrapped, _models()[1][2])]
    wrapped.inner[0].train()     # a mixed train/eval model keeps its modes
    inputs, expect = {}, {}
    for name, m, x in models:
        rnnc.save(m, tmp_path / f"{name}.rnnc")
        inputs[name] = x
        expect[name] = _out(m, x)
    np.savez(tmp_path / "inputs.npz", **inputs)
    subprocess.run([sys.executable, "-c", LOADER, ROOT, str(tmp_path), str(tmp_path)],
                   check=True, timeout=300)
    got = np.load(tmp_path / "outputs.npz")
    for name, m, x in models:
        np.testing.assert_array_equal(got[name], expect[name], err_msg=name)   # bit for bit
        assert got[name].dtype == expect[name].dtype, name
        assert list(got[name + "__frozen"]) == [not p.requires_grad for p in m.parameters()], name
        assert list(got[name + "__training"]) == [mm.training for mm in m.modules()], name
        assert str(got[name + "__dtype"]) == str(m.dtype)
    # in this process too: the same classes and configuration come back
    back = rnnc.load(tmp_path / "user_wrapper.rnnc")
    assert isinstance(back, mymodels.Wrapper) and back.loss.label_smoothing == 0.1
    np.testing.assert_array_equal(back.loss.weight, [1.0, 2.0, 0.5])
    assert repr(back) == repr(wrapped)
    assert repr(rnnc.load(tmp_path / "classifier.rnnc")) == repr(models[0][1])


def test_losses_save_alone(tmp_path):
    loss = rnnc.BCEWithLogitsLoss(pos_weight=np.array([2.0, 1.0]), reduction="sum")
    rnnc.save(loss, tmp_path / "loss.rnnc")
    back = rnnc.load(tmp_path / "loss.rnnc")
    assert isinstance(back, rnnc.BCEWithLogitsLoss) and back.reduction == "sum"
    np.testing.assert_array_equal(back.pos_weight, [2.0, 1.0])
    assert isinstance(rnnc.load(_save(rnnc.MSELoss("none"), tmp_path)), rnnc.MSELoss)


def _save(obj, tmp_path, name="x.rnnc"):
    return rnnc.save(obj, tmp_path / name)


def test_corrupt_foreign_and_weights_only_files_are_checkpoint_errors(tmp_path):
    path = _save(rnnc.Sequential(rnnc.LSTM(3, 4), rnnc.LastStep()), tmp_path)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0x40
    (tmp_path / "bad.rnnc").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        rnnc.load(tmp_path / "bad.rnnc")
    (tmp_path / "foreign.rnnc").write_text("hello")
    with pytest.raises(CheckpointError, match="not an rnnc checkpoint"):
        rnnc.load(tmp_path / "foreign.rnnc")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(CheckpointError, match="not an rnnc checkpoint"):
        rnnc.load(tmp_path / "plain.npz")
    rnnc.LSTM(3, 4).save(tmp_path / "weights.ckpt")
    with pytest.raises(CheckpointError, match="weights only, not a saved model"):
        rnnc.load(tmp_path / "weights.ckpt")


def test_unregistered_classes_are_refused_clearly(tmp_path):
    class Mine(rnnc.Module):
        def __init__(self, n):
            super().__init__()
            self.lin = rnnc.Linear(n, n)

    with pytest.raises(TypeError, match="not registered; decorate its class with "
                                        "@rnnc.register_module"):
        rnnc.save(Mine(2), tmp_path / "m.rnnc")
    rnnc.register_module(Mine, name="test.Mine")
    with pytest.raises(TypeError, match=r"Mine has no get_config\(\).*\(n\)"):
        rnnc.save(Mine(2), tmp_path / "m.rnnc")
    Mine.get_config = lambda self: {"n": self.lin.in_features}
    rnnc.save(Mine(2), tmp_path / "m.rnnc")
    from rnnc import serialization
    del serialization._REGISTRY["test.Mine"]
    with pytest.raises(CheckpointError, match="'test.Mine', which is not a registered class"):
        rnnc.load(tmp_path / "m.rnnc")
    assert isinstance(rnnc.load(tmp_path / "m.rnnc", custom_objects={"test.Mine": Mine}), Mine)


# ---------------------------------------------------------------- safetensors + torch

def _torch_pair(torch, kind, dtype):
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    if kind == "LSTM":
        kw["proj_size"] = 3
    ours = getattr(rnnc, kind)(4, 5, dtype=dtype, seed=0, **kw)
    theirs = getattr(torch.nn, kind)(4, 5, **kw)
    if dtype == np.float64:
        theirs = theirs.double()
    return ours, theirs


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_safetensors_round_trip_with_torch(tmp_path, kind, dtype):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    ours, theirs = _torch_pair(torch, kind, dtype)
    x = np.random.default_rng(0).standard_normal((2, 6, 4)).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    # rnnc -> torch
    path = ours.save_weights(tmp_path / "w.safetensors")
    theirs.load_state_dict(st.load_file(path))
    with torch.no_grad():
        t_out = theirs(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(ours(x)[0], t_out, **tol)
    # torch -> rnnc
    for p in theirs.parameters():
        torch.nn.init.uniform_(p, -0.3, 0.3)
    st.save_file(theirs.state_dict(), str(tmp_path / "t.safetensors"))
    fresh, _ = _torch_pair(torch, kind, dtype)
    assert fresh.load_weights(tmp_path / "t.safetensors") is fresh
    with torch.no_grad():
        t_out = theirs(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(fresh(x)[0], t_out, **tol)
    # and without a file: rnnc.to_torch
    ours2, theirs2 = _torch_pair(torch, kind, dtype)
    theirs2.load_state_dict(rnnc.to_torch(ours2.state_dict()))
    with torch.no_grad():
        np.testing.assert_allclose(ours2(x)[0], theirs2(torch.from_numpy(x))[0].numpy(), **tol)


def test_safetensors_errors_and_checkpoint_paths(tmp_path):
    pytest.importorskip("safetensors")
    m = rnnc.GRU(3, 2)
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        m.load_weights(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError):
        m.load_weights(tmp_path / "missing.safetensors")
    rnnc.GRU(3, 4).save_weights(tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="must have shape"):
        m.load_weights(tmp_path / "other.safetensors")
    # any other suffix: an rnnc checkpoint of the weights
    src = rnnc.GRU(3, 2, seed=5)
    src.save_weights(tmp_path / "w.ckpt")
    m.load_weights(tmp_path / "w.ckpt")
    for a, b in zip(m.parameters(), src.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert (os.stat(tmp_path / "other.safetensors").st_mode & 0o777) == \
        (os.stat(tmp_path / "w.ckpt").st_mode & 0o777)
