"""Habits of torch and Keras users (issue 17, section 6): .double()/.float(), summary(),
requires_grad freezing, array-likes and ragged lists as input, state dicts into torch."""
import warnings

import numpy as np
import pytest

import rnnc


def test_double_and_float_cast_in_place():
    m = rnnc.Sequential(rnnc.LSTM(3, 4), rnnc.LastStep(), rnnc.Linear(4, 2))
    assert m.double() is m and m.dtype == np.float64
    assert all(p.data.dtype == np.float64 and p.grad.dtype == np.float64 for p in m.parameters())
    assert m(np.zeros((5, 2, 3))).dtype == np.float64
    assert m.float().dtype == np.float32
    torch = pytest.importorskip("torch")
    assert m.to(torch.float64).dtype == np.float64


def test_summary_prints_a_keras_like_table():
    m = rnnc.Sequential(rnnc.Embedding(50, 8), rnnc.GRU(8, 16, batch_first=True),
                        rnnc.MeanPool(), rnnc.Linear(16, 3))
    m[3].bias.requires_grad = False
    lines = []
    text = m.summary(input_shape=(4, 9), print_fn=lines.append)
    assert lines == [text]
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "1 (GRU)" in text and "(None, 9, 16)" in text and "(None, 3)" in text
    assert "1,248" in text                       # the GRU: 3*16*(8+16) + 2*3*16
    assert f"Total params: {m.num_parameters():,}" in text
    assert "Non-trainable params: 3" in text
    assert m.training                            # the traced call left the mode alone
    assert "Output Shape" in rnnc.LSTM(2, 3).summary(print_fn=None)


def test_requires_grad_false_freezes_a_parameter():
    rng = np.random.default_rng(0)
    m = rnnc.Sequential(rnnc.LSTM(3, 4, batch_first=True), rnnc.LastStep(), rnnc.LayerNorm(4),
                        rnnc.Linear(4, 2))
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    frozen = [m[0].weight_hh_l0, m[2].weight, m[3].bias]
    for p in frozen:
        p.requires_grad = False
    before = [p.data.copy() for p in m.parameters()]
    opt = rnnc.optim.Adam(m.parameters(), lr=0.1)
    out = m(x)
    m.backward(np.ones_like(out))
    for p in frozen:
        assert not p.grad.any()                  # backward skipped it
    live = [p for p in m.parameters() if p.requires_grad]
    assert all(p.grad.any() for p in live)
    opt.step()
    for p, b in zip(m.parameters(), before):
        assert np.array_equal(p.data, b) == (not p.requires_grad)
    emb = rnnc.Embedding(5, 2).requires_grad_(False)
    emb(np.array([1, 2]))
    emb.backward(np.ones((2, 2), np.float32))
    assert not emb.weight.grad.any() and "requires_grad=False" in repr(emb.weight)


def test_array_likes_and_ragged_lists():
    torch = pytest.importorskip("torch")
    m = rnnc.GRU(3, 4, batch_first=True)
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    want = m(x)[0]
    np.testing.assert_array_equal(m(torch.from_numpy(x))[0], want)     # a CPU torch tensor
    np.testing.assert_array_equal(m(x.tolist())[0], want)              # a list, to float32

    class HasArray:
        def __array__(self, dtype=None, copy=None):
            return x
    np.testing.assert_array_equal(m(HasArray())[0], want)
    with pytest.raises(TypeError, match="requires grad; pass x.detach"):
        m(torch.from_numpy(x).requires_grad_())
    with pytest.raises(ValueError, match=r"GRU: input is a ragged list .* rnnc.pad_sequences"):
        m([[[0.0, 1.0, 2.0]] * 5, [[0.0, 1.0, 2.0]] * 4])
    emb = rnnc.Embedding(10, 2)
    np.testing.assert_array_equal(emb(torch.tensor([[1, 2]])), emb(np.array([[1, 2]])))
    with pytest.raises(ValueError, match="Embedding: input is a ragged list"):
        emb([[1, 2, 3], [4]])


def test_state_dict_into_torch_with_to_torch():
    torch = pytest.importorskip("torch")
    ours = rnnc.LSTM(3, 4, num_layers=2)
    theirs = torch.nn.LSTM(3, 4, num_layers=2)
    theirs.load_state_dict(rnnc.to_torch(ours.state_dict()))
    x = np.random.default_rng(2).standard_normal((5, 2, 3)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ours(x)[0], theirs(torch.from_numpy(x))[0].numpy(),
                                   rtol=1e-5, atol=1e-6)
