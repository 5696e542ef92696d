"""Truncated BPTT: stream batching, carried and detached state, per-sample resets, and
the gradient of a chunk equal to full BPTT over that chunk from the carried state."""
import numpy as np
import pytest

from rnnc.layers import Embedding, Linear, Sequential
from rnnc.losses import CrossEntropyLoss
from rnnc.module import Module, Parameter
from rnnc.optim import Adam
from rnnc.tbptt import TBPTT, detach_state, reset_state, stream_batches, tbptt_batches


class TinyRNN(Module):
    """A NumPy Elman RNN with the recurrent-layer protocol (h0/h_n shaped (1, B, H)), so
    TBPTT is tested independently of the C core."""

    is_recurrent = True

    def __init__(self, I, H, batch_first=True, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.batch_first = batch_first
        self.weight_ih_l0 = Parameter(rng.uniform(-0.6, 0.6, (H, I)))
        self.weight_hh_l0 = Parameter(rng.uniform(-0.6, 0.6, (H, H)))
        self.H = H

    def forward(self, x, h0=None):
        xt = x.transpose(1, 0, 2) if self.batch_first else x
        h = np.zeros((xt.shape[1], self.H)) if h0 is None else h0[0]
        hs = [h]
        for t in range(xt.shape[0]):
            h = np.tanh(xt[t] @ self.weight_ih_l0.data.T + h @ self.weight_hh_l0.data.T)
            hs.append(h)
        self._cache = (xt, hs)
        out = np.stack(hs[1:])
        return (out.transpose(1, 0, 2) if self.batch_first else out), h[None]

    def backward(self, d_out, d_h_n=None):
        xt, hs = self._cache
        d_out = d_out.transpose(1, 0, 2) if self.batch_first else d_out
        dh = np.zeros_like(hs[0]) if d_h_n is None else d_h_n[0].copy()
        dx = np.zeros_like(xt)
        for t in reversed(range(xt.shape[0])):
            da = (dh + d_out[t]) * (1 - hs[t + 1] ** 2)  # backprop through tanh
            self.weight_ih_l0.grad += da.T @ xt[t]
            self.weight_hh_l0.grad += da.T @ hs[t]
            dx[t] = da @ self.weight_ih_l0.data
            dh = da @ self.weight_hh_l0.data
        return (dx.transpose(1, 0, 2) if self.batch_first else dx), dh[None]


class Recorder:
    """An optimizer that records the gradients and leaves the weights alone."""

    def __init__(self, params):
        self.params = list(params)
        self.grads = []

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        self.grads.append([p.grad.copy() for p in self.params])


def char_model(V=5, E=4, H=6, recurrent=None):
    rec = recurrent or TinyRNN(E, H, seed=1)
    return Sequential(Embedding(V, E, dtype=np.float64, seed=0), rec,
                      Linear(H, V, dtype=np.float64, seed=2))


def real(cell, E, H, num_layers=1):
    """A C-core recurrent layer (rnnc.recurrent) in float64."""
    import rnnc.recurrent as R
    return getattr(R, cell)(E, H, num_layers=num_layers, batch_first=True, dtype=np.float64, seed=1)


def flat(state):
    """The arrays of a nested state, in order."""
    if state is None:
        return []
    if isinstance(state, np.ndarray):
        return [state]
    return [a for s in state for a in flat(s)]


# -- batching ---------------------------------------------------------------------------
def test_stream_batches_layout_and_continuity():
    data = np.arange(103)
    chunks = list(stream_batches(data, batch_size=4, k=7))
    steps = 102 // 4  # 25 per stream (next-step targets need one extra element)
    assert [x.shape for x, _ in chunks] == [(4, 7)] * 3 + [(4, 4)]
    xs = np.concatenate([x for x, _ in chunks], axis=1)
    ys = np.concatenate([y for _, y in chunks], axis=1)
    np.testing.assert_array_equal(xs, np.arange(100).reshape(4, steps))  # stream b is one slice
    np.testing.assert_array_equal(ys, xs + 1)                          # next-step targets
    tm = list(stream_batches(data, batch_size=4, k=7, batch_first=False))
    np.testing.assert_array_equal(tm[1][0], chunks[1][0].T)
    assert tbptt_batches is stream_batches


def test_stream_batches_features_and_explicit_targets():
    data = np.random.default_rng(0).standard_normal((50, 3))
    targets = np.arange(50)
    (x, y), = list(stream_batches(data, batch_size=5, k=10, targets=targets))
    assert x.shape == (5, 10, 3) and y.shape == (5, 10)
    np.testing.assert_array_equal(x[2, 4], data[24])
    assert y[2, 4] == 24
    with pytest.raises(ValueError, match="too short"):
        list(stream_batches(np.arange(3), batch_size=4, k=2))
    with pytest.raises(ValueError, match="k must be"):
        list(stream_batches(np.arange(30), batch_size=2, k=0))
    with pytest.raises(ValueError, match="targets has 4 steps"):
        list(stream_batches(np.arange(30), batch_size=2, k=3, targets=np.arange(4)))


def test_state_helpers():
    h = np.ones((2, 3, 4))
    c = np.full((2, 3, 4), 2.0)
    state = [None, (h, c), None]
    r = reset_state(state, np.array([False, True, False]))
    assert r[0] is None and r[2] is None
    assert np.all(r[1][0][:, 1] == 0) and np.all(r[1][1][:, 1] == 0)
    assert np.all(r[1][0][:, 0] == 1) and np.all(r[1][1][:, 2] == 2)
    assert np.all(h == 1)  # the input is not modified
    d = detach_state(state)
    assert d[1][0] is not h and np.array_equal(d[1][0], h) and isinstance(d[1], tuple)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        reset_state(h, np.array([True, False]))
    with pytest.raises(ValueError, match="bool"):
        reset_state(h, np.array([1, 0, 1]))


# -- the truncation ---------------------------------------------------------------------
def _chunk_grads_equal_full_bptt_from_carried_state(model):
    rng = np.random.default_rng(4)
    data = rng.integers(0, 5, 4 * 12 + 1)
    (x1, y1), (x2, y2) = list(stream_batches(data, batch_size=4, k=6))
    rec = Recorder(model.parameters())
    trainer = TBPTT(model, CrossEntropyLoss(), rec)
    trainer.train_chunk(x1, y1)
    carried = trainer.state
    # the carried state is the final state of chunk 1 run from zeros
    _, fresh = model(x1, return_state=True)
    for a, b in zip(flat(carried), flat(fresh)):
        np.testing.assert_allclose(a, b, atol=1e-12)
    trainer.train_chunk(x2, y2)
    tbptt_grads = rec.grads[1]

    # full BPTT over chunk 2 alone, with the carried state as its initial state
    loss_fn = CrossEntropyLoss()
    model.zero_grad()
    out = model(x2, state=detach_state(carried))
    loss_fn(out, y2)
    model.backward(loss_fn.backward())
    for (name, p), g in zip(model.named_parameters(), tbptt_grads):
        np.testing.assert_allclose(g, p.grad, atol=1e-12, err_msg=name)

    # ... which differs from backpropagating chunk 2's loss through chunk 1 as well
    model.zero_grad()
    out12 = model(np.concatenate([x1, x2], axis=1))
    d = np.zeros_like(out12)
    loss_fn(out12[:, 6:], y2)
    d[:, 6:] = loss_fn.backward()
    model.backward(d)
    w_hh = [n for n, _ in model.named_parameters()].index("1.weight_hh_l0")
    assert np.abs(model.parameters()[w_hh].grad - tbptt_grads[w_hh]).max() > 1e-6


def test_chunk_gradient_equals_bptt_from_carried_state():
    _chunk_grads_equal_full_bptt_from_carried_state(char_model())


@pytest.mark.parametrize("cell,num_layers", [("LSTM", 1), ("LSTM", 2), ("GRU", 1)])
def test_chunk_gradient_equals_bptt_from_carried_state_c_core(cell, num_layers):
    _chunk_grads_equal_full_bptt_from_carried_state(char_model(recurrent=real(cell, 4, 6, num_layers)))


def test_per_sample_reset_two_layer_lstm():
    model = char_model(recurrent=real("LSTM", 4, 6, num_layers=2))
    data = np.random.default_rng(6).integers(0, 5, 3 * 10 + 1)
    (x1, y1), (x2, y2) = list(stream_batches(data, batch_size=3, k=5))
    trainer = TBPTT(model, CrossEntropyLoss(), Recorder(model.parameters()))
    trainer.train_chunk(x1, y1)
    carried_h, carried_c = trainer.state[1]
    trainer.train_chunk(x2, y2, reset=np.array([True, False, False]))
    h, c = trainer.state[1]
    h_zero, c_zero = model(x2[0:1], return_state=True)[1][1]
    h_car, c_car = model(x2[1:3], state=[None, (carried_h[:, 1:], carried_c[:, 1:]), None],
                         return_state=True)[1][1]
    np.testing.assert_allclose(h[:, :1], h_zero, atol=1e-12)
    np.testing.assert_allclose(c[:, :1], c_zero, atol=1e-12)
    np.testing.assert_allclose(h[:, 1:], h_car, atol=1e-12)
    np.testing.assert_allclose(c[:, 1:], c_car, atol=1e-12)


def test_per_sample_reset():
    model = char_model()
    rng = np.random.default_rng(5)
    data = rng.integers(0, 5, 3 * 10 + 1)
    (x1, y1), (x2, y2) = list(stream_batches(data, batch_size=3, k=5))
    trainer = TBPTT(model, CrossEntropyLoss(), Recorder(model.parameters()))
    trainer.eval_chunk(x1, y1)
    carried = trainer.state
    mask = np.array([False, True, False])
    trainer.eval_chunk(x2, y2, reset=mask)
    after = trainer.state[1]
    from_zero = model(x2[1:2], return_state=True)[1][1]         # sample 1 restarted
    from_carried = model(x2[0:1], state=[None, carried[1][:, 0:1], None], return_state=True)[1][1]
    np.testing.assert_allclose(after[:, 1:2], from_zero, atol=1e-12)
    np.testing.assert_allclose(after[:, 0:1], from_carried, atol=1e-12)
    trainer.reset()
    assert trainer.state is None


def test_fit_learns_a_sequence_that_needs_memory():
    """'aab' repeated: after an 'a' the next symbol depends on the one before it."""
    data = np.tile(np.array([0, 0, 1]), 200)
    model = char_model(V=2, E=3, H=8)
    trainer = TBPTT(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.05), clip_grad_norm=5.0)
    h = trainer.fit(data, batch_size=4, k=10, epochs=6, val_data=data[:121], progress=False)
    assert h["loss"][-1] < 0.3 * h["loss"][0]
    assert h["val_loss"][-1] < 0.1
    state_before = trainer.state
    trainer.evaluate(data, batch_size=2, k=8)
    assert trainer.state is state_before  # evaluate leaves the carried state alone


def test_fit_with_lstm():
    data = np.tile(np.array([0, 0, 1]), 200)
    model = char_model(V=2, E=3, H=8, recurrent=real("LSTM", 3, 8))
    trainer = TBPTT(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.05), clip_grad_norm=5.0)
    h = trainer.fit(data, batch_size=4, k=10, epochs=6, progress=False)
    assert h["loss"][-1] < 0.3 * h["loss"][0]


def test_bare_recurrent_layer_and_bad_args():
    rnn = TinyRNN(3, 4, seed=0)
    trainer = TBPTT(rnn, None)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out, h = rnn(x)
    with pytest.raises(RuntimeError, match="optimizer"):
        trainer.train_chunk(x, None)
    with pytest.raises(TypeError, match="rnnc module"):
        TBPTT(lambda x: x, CrossEntropyLoss())
    with pytest.raises(ValueError, match="clip_grad_norm"):
        TBPTT(rnn, CrossEntropyLoss(), clip_grad_norm=-1)
