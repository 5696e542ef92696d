"""fit / evaluate / predict, early stopping and checkpoints on tiny synthetic problems."""
import numpy as np
import pytest

from rnnc import checkpoint
from rnnc.layers import Dropout, Embedding, LastStep, Linear, MaxPool, Sequential, Tanh
from rnnc.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from rnnc.optim import SGD, Adam
from rnnc.training import Callback, EarlyStopping, History, evaluate, fit, predict


def blobs(n=240, seed=0):
    """Two Gaussian blobs in 4-D, labels 0/1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, 4)) * 0.7 + np.where(y[:, None] == 1, 1.0, -1.0)
    return X.astype(np.float32), y


def mlp(seed=0, dropout=0.0):
    mods = [Linear(4, 8, seed=seed), Tanh()]
    if dropout:
        mods.append(Dropout(dropout, seed=seed))
    return Sequential(*mods, Linear(8, 2, seed=seed + 1))


def contains_three(n=300, seed=0, V=8):
    """Variable-length id sequences; the label says whether id 3 occurs."""
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(1, V, rng.integers(1, 9)) for _ in range(n)]
    return seqs, np.array([int(3 in s) for s in seqs])


def test_fit_converges_on_blobs():
    X, y = blobs()
    m = mlp()
    h = fit(m, (X[:200], y[:200]), CrossEntropyLoss(), Adam(m.parameters(), lr=0.05),
            epochs=8, batch_size=16, val_data=(X[200:], y[200:]), progress=False)
    assert isinstance(h, History) and h.epoch == list(range(8))
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_accuracy"][-1] > 0.9
    res = evaluate(m, (X[200:], y[200:]), CrossEntropyLoss())
    assert res["loss"] == pytest.approx(h["val_loss"][-1]) and res["accuracy"] > 0.9
    assert predict(m, X[:10], batch_size=3).shape == (10, 2)


def test_fit_variable_length_sequences():
    seqs, y = contains_three()
    m = Sequential(Embedding(8, 8, padding_idx=0, seed=0), MaxPool(batch_first=True), Linear(8, 2, seed=1))
    h = fit(m, (seqs[:240], y[:240]), CrossEntropyLoss(), Adam(m.parameters(), lr=0.05),
            epochs=6, batch_size=32, val_data=(seqs[240:], list(y[240:])), clip_grad_norm=1.0,
            progress=False)
    assert h["val_accuracy"][-1] > 0.95
    assert predict(m, seqs[:5]).shape == (5, 2)


def test_padded_array_with_lengths_triple():
    seqs, y = contains_three(n=200, seed=1)
    from rnnc.padding import pad_sequences
    X, lengths = pad_sequences(seqs)
    m = Sequential(Embedding(8, 8, seed=0), MaxPool(batch_first=True), Linear(8, 2, seed=1))
    h = fit(m, (X, y, lengths), CrossEntropyLoss(), Adam(m.parameters(), lr=0.05),
            epochs=5, batch_size=20, progress=False)
    assert h["accuracy"][-1] > 0.95
    out_len = predict(m, X, lengths=lengths)  # padded steps masked by lengths ...
    out_list = predict(m, seqs)               # ... as when padding per batch
    np.testing.assert_allclose(out_len, out_list, rtol=1e-6)


def test_per_step_targets_padded_with_ignore_index():
    """Tagging: each token's tag is its id's parity; targets are variable-length lists."""
    rng = np.random.default_rng(2)
    seqs = [rng.integers(1, 10, rng.integers(1, 7)) for _ in range(200)]
    tags = [s % 2 for s in seqs]
    m = Sequential(Embedding(10, 6, padding_idx=0, seed=0), Linear(6, 2, seed=1))
    h = fit(m, (seqs, tags), CrossEntropyLoss(), Adam(m.parameters(), lr=0.1),
            epochs=5, batch_size=25, progress=False)
    assert h["accuracy"][-1] > 0.98  # padded steps (target -100) are not counted


def test_seeded_runs_repeat_and_seeds_differ():
    X, y = blobs(n=64)
    runs = []
    for seed in (0, 0, 1):
        m = mlp(seed=3, dropout=0.2)
        runs.append(fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=3,
                        batch_size=8, seed=seed, progress=False)["loss"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_mode_switching_and_restoration():
    X, y = blobs(n=32)
    m = mlp(dropout=0.5)
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs, model):
            seen.append(model.training)

    m.eval()
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=2, batch_size=8,
        val_data=(X, y), callbacks=[Spy()], progress=False)
    assert m.training is False  # fit puts back the mode it found
    assert seen == [True, True]  # trained in train mode (evaluation restores it each epoch)
    # evaluation runs in eval mode: dropout off, so two evaluations agree exactly
    a = evaluate(m, (X, y), CrossEntropyLoss())
    b = evaluate(m, (X, y), CrossEntropyLoss())
    assert a == b


class GradientAscent:
    """An 'optimizer' that makes the model worse every step (for early-stopping tests)."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        for p in self.params:
            p.data += self.lr * p.grad

    def state_dict(self):
        return {"lr": self.lr}


def test_early_stopping_restores_best_and_checkpoints(tmp_path):
    X, y = blobs(n=64)
    m = mlp()
    es = EarlyStopping(monitor="val_loss", patience=1)
    path = tmp_path / "best.ckpt"
    h = fit(m, (X, y), CrossEntropyLoss(), GradientAscent(m.parameters(), 0.05), epochs=10,
            batch_size=16, val_data=(X, y), early_stopping=es, checkpoint_path=path, progress=False)
    assert len(h.epoch) == 3  # epoch 0 is best; 1 waits; 2 exceeds patience
    assert h.stopped_epoch == 2 and h.stop_reason == "early stopping"
    assert h["val_loss"][0] < h["val_loss"][1] < h["val_loss"][2]
    assert es.best_epoch == 0
    # the model holds the best epoch's weights again
    assert evaluate(m, (X, y), CrossEntropyLoss())["loss"] == pytest.approx(h["val_loss"][0], rel=1e-6)
    ck = checkpoint.load(path)
    assert ck["extra"]["epoch"] == 0 and ck["extra"]["monitor"] == "val_loss"
    assert ck["optimizer"] == {"lr": 0.05}
    m2 = mlp(seed=7)
    checkpoint.load_into(path, m2)
    for p, q in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_early_stopping_accuracy_mode_and_min_delta():
    es = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.05)
    assert es.mode == "max"

    class Dummy:
        def state_dict(self):
            return {}

    es.on_train_begin(Dummy(), None)
    assert es.on_epoch_end(0, {"val_accuracy": 0.5}, Dummy()) is False
    assert es.on_epoch_end(1, {"val_accuracy": 0.54}, Dummy()) is True  # not better by 0.05
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="down")


def test_monitor_must_exist():
    X, y = blobs(n=16)
    m = mlp()
    with pytest.raises(ValueError, match="val_loss.*pass val_data"):
        fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=1,
            early_stopping=EarlyStopping(), progress=False)


def test_non_finite_loss_stops_with_warning():
    X, y = blobs(n=32)
    m = mlp()

    class Poison(GradientAscent):
        def step(self):
            for p in self.params:
                p.data[...] = np.nan

    with pytest.warns(RuntimeWarning, match="loss became nan"):
        h = fit(m, (X, y), CrossEntropyLoss(), Poison(m.parameters(), 0.0), epochs=3,
                batch_size=8, progress=False)
    assert h.stop_reason == "non-finite loss" and h.stopped_epoch == 0


def test_progress_bar_shows_loss(capsys):
    X, y = blobs(n=32)
    m = mlp()
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=2, batch_size=8)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "loss=" in err
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=1, progress=False)
    assert capsys.readouterr().err == ""


def test_custom_metric_binary_and_regression():
    X, y = blobs(n=80)
    m = Sequential(Linear(4, 1, seed=0))
    mae = lambda out, t: float(np.abs(out - t).mean())
    h = fit(m, (X, y[:, None].astype(np.float32)), BCEWithLogitsLoss(), Adam(m.parameters(), lr=0.1),
            epochs=5, batch_size=16, metrics=("accuracy", mae), progress=False)
    assert list(h.history) == ["loss", "accuracy", "<lambda>"]
    assert h["accuracy"][-1] > 0.9
    r = Sequential(Linear(4, 1, seed=0))
    target = (X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32))[:, None]
    h = fit(r, (X, target), MSELoss(), Adam(r.parameters(), lr=0.05), epochs=20, batch_size=16,
            metrics=(), progress=False)
    assert list(h.history) == ["loss"] and h["loss"][-1] < 0.05 * h["loss"][0]


def test_custom_collate():
    X, y = blobs(n=40)
    calls = []

    def collate(xs, ys):
        calls.append(len(xs))
        return xs * 2.0, ys, None

    m = mlp()
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=1, batch_size=16,
        collate=collate, progress=False)
    assert calls == [16, 16, 8]


def test_bad_arguments():
    X, y = blobs(n=10)
    m = mlp()
    opt = SGD(m.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        fit(m, (X, y[:9]), CrossEntropyLoss(), opt, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(m, (X, y), CrossEntropyLoss(), opt, epochs=0)
    with pytest.raises(TypeError, match=r"tuple \(X, y\)"):
        fit(m, X, CrossEntropyLoss(), opt)
    with pytest.raises(TypeError, match="optimizer"):
        fit(m, (X, y), CrossEntropyLoss(), object())
    with pytest.raises(ValueError, match="unknown metric"):
        fit(m, (X, y), CrossEntropyLoss(), opt, metrics=("f1",), progress=False)
    with pytest.raises(TypeError, match="takes no 'lengths'"):
        fit(Linear(4, 2), ([np.zeros((2, 4), np.float32)] * 10, y), CrossEntropyLoss(), opt,
            progress=False)


def test_lstm_classifier_learns():
    """Embedding -> LSTM -> LastStep -> Linear on variable-length data (needs the C core)."""
    from rnnc.recurrent import LSTM

    seqs, y = contains_three(n=320, seed=3)
    m = Sequential(Embedding(8, 8, padding_idx=0, seed=0), LSTM(8, 16, batch_first=True, seed=1),
                   LastStep(), Linear(16, 2, seed=2))
    h = fit(m, (seqs[:256], y[:256]), CrossEntropyLoss(), Adam(m.parameters(), lr=0.02),
            epochs=12, batch_size=32, val_data=(seqs[256:], y[256:]), clip_grad_norm=1.0,
            progress=False)
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_accuracy"][-1] > 0.85



def test_default_metrics_follow_the_loss():
    X, y = blobs(n=64)
    target = (X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32))[:, None]
    r = Sequential(Linear(4, 1, seed=0))
    h = fit(r, (X, target), MSELoss(), Adam(r.parameters(), lr=0.05), epochs=2, batch_size=16,
            val_data=(X[:16], target[:16]), progress=False)
    assert list(h.history) == ["loss", "val_loss"]           # no accuracy for regression
    assert list(evaluate(r, (X, target), MSELoss())) == ["loss"]
    m = mlp()
    h = fit(m, (X, y), CrossEntropyLoss(), Adam(m.parameters(), lr=0.05), epochs=1, progress=False)
    assert list(h.history) == ["loss", "accuracy"]
    b = Sequential(Linear(4, 1, seed=0))
    h = fit(b, (X, y[:, None].astype(np.float32)), BCEWithLogitsLoss(), Adam(b.parameters()),
            epochs=1, progress=False)
    assert list(h.history) == ["loss", "accuracy"]

    class Hinge(MSELoss):
        classification = True                                 # a user's loss says what it is
    h = fit(b, (X, y[:, None].astype(np.float32)), Hinge(), Adam(b.parameters()), epochs=1,
            progress=False)
    assert list(h.history) == ["loss", "accuracy"]


def test_validation_split_holds_out_the_last_samples():
    X, y = blobs(n=100)
    runs = []
    for kw in ({"validation_split": 0.25}, {"val_data": (X[75:], y[75:])}):
        m = mlp()
        n = 75 if "val_data" in kw else 100
        h = fit(m, (X[:n], y[:n]), CrossEntropyLoss(), Adam(m.parameters(), lr=0.05), epochs=2,
                batch_size=16, progress=False, **kw)
        runs.append((h.history, h.params["samples"]))
    assert runs[0] == runs[1] and runs[0][1] == 75
    seqs, labels = contains_three(n=40)                       # lists of sequences too
    m = Sequential(Embedding(8, 4, seed=0), LSTM_layer(), LastStep(), Linear(6, 2, seed=1))
    h = fit(m, (seqs, labels), CrossEntropyLoss(), Adam(m.parameters()), validation_split=0.1,
            epochs=1, progress=False)
    assert h.params["samples"] == 36 and "val_accuracy" in h.history
    m = mlp()
    with pytest.raises(ValueError, match="validation_split must be a fraction"):
        fit(m, (X, y), CrossEntropyLoss(), Adam(m.parameters()), validation_split=1.0, progress=False)
    with pytest.raises(ValueError, match="not both"):
        fit(m, (X, y), CrossEntropyLoss(), Adam(m.parameters()), validation_split=0.2,
            val_data=(X, y), progress=False)
    with pytest.raises(ValueError, match="leaves 2 for training and 0"):
        fit(m, (X[:2], y[:2]), CrossEntropyLoss(), Adam(m.parameters()), validation_split=0.01,
            progress=False)


def LSTM_layer():
    from rnnc.recurrent import LSTM
    return LSTM(4, 6, batch_first=True, seed=2)


def test_verbose_levels(capsys):
    X, y = blobs(n=48)
    m = mlp()
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=2, verbose=2,
        val_data=(X, y))
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ") and "val_accuracy: " in lines[1]
    assert out.err == ""                                      # no bar with verbose=2
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=1, verbose=0)
    assert capsys.readouterr() == ("", "")
    fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), epochs=1, verbose=1,
        progress=False)                                       # an explicit verbose wins
    assert "Epoch 1/1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="verbose must be 0"):
        fit(m, (X, y), CrossEntropyLoss(), SGD(m.parameters(), lr=0.1), verbose=3)
