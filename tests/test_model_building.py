"""No silent wrong answers while building models, and error messages that name what
the user passed (issue 17, sections 2 and 3)."""
import warnings

import numpy as np
import pytest

import rnnc


def _bidi_model(**last):
    return rnnc.Sequential(rnnc.LSTM(3, 4, batch_first=True, bidirectional=True, seed=0),
                           rnnc.Dropout(0.0), rnnc.LastStep(**last))


def test_laststep_after_a_bidirectional_layer_reads_the_reverse_half_at_step_0():
    x = np.random.default_rng(0).standard_normal((2, 6, 3)).astype(np.float32)
    m = _bidi_model()
    out, _ = m[0](x)
    np.testing.assert_array_equal(m(x), np.concatenate([out[:, -1, :4], out[:, 0, 4:]], axis=1))
    np.testing.assert_array_equal(m(x), _bidi_model(bidirectional=True)(x))
    lengths = np.array([6, 3])
    out, _ = m[0](x, lengths=lengths)
    got = m(x, lengths=lengths)
    np.testing.assert_array_equal(got[1, :4], out[1, 2, :4])
    np.testing.assert_array_equal(got[1, 4:], out[1, 0, 4:])
    with pytest.raises(ValueError, match="bidirectional=False but the recurrent layer before "
                                         "it is bidirectional"):
        _bidi_model(bidirectional=False)
    # a Linear in between mixes the halves: nothing is inferred; alone: not bidirectional
    mixed = rnnc.Sequential(rnnc.LSTM(3, 4, bidirectional=True), rnnc.Linear(8, 8), rnnc.LastStep())
    assert not mixed[2].bidirectional and not rnnc.LastStep().bidirectional
    # rebuilt from its config it infers the same
    assert rnnc.Sequential.from_config(_bidi_model().get_config())[2].bidirectional


def test_dropout_on_a_single_layer_warns_like_torch():
    for cls in (rnnc.RNN, rnnc.LSTM, rnnc.GRU):
        with pytest.warns(UserWarning, match=r"dropout=0.3 has no effect with num_layers=1"):
            cls(3, 4, dropout=0.3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cls(3, 4, num_layers=2, dropout=0.3)
            cls(3, 4)


def test_wrong_feature_count_blames_the_input_and_names_the_child():
    with pytest.raises(ValueError, match=r"^LSTM\(4, 8\): input has 6 features \(the last axis "
                                         r"of shape \(3, 5, 6\)\) where the layer's input_size is 4"):
        rnnc.LSTM(4, 8)(np.zeros((3, 5, 6), np.float32))
    seq = rnnc.Sequential(rnnc.Linear(6, 5), rnnc.Tanh(), rnnc.LSTM(4, 8))
    with pytest.raises(ValueError, match=r"^Sequential\[2\] LSTM\(4, 8\): input has 5 features"):
        seq(np.zeros((3, 5, 6), np.float32))


def test_backward_reports_shapes_in_the_callers_layout():
    m = rnnc.LSTM(4, 8, batch_first=True)
    m(np.zeros((3, 6, 4), np.float32))
    with pytest.raises(ValueError, match=r"d_out must have shape \(B, T, D\*R\) = \(3, 6, 8\) "
                                         r"like the forward output, got \(6, 3, 8\)"):
        m.backward(np.zeros((6, 3, 8), np.float32))
    m(np.zeros((3, 6, 4), np.float32))
    m.backward(np.zeros((3, 6, 8), np.float32))     # the shape it asks for works


@pytest.mark.parametrize("bad", [np.int64, np.float16, np.int32])
def test_dtype_advice_can_be_followed(bad):
    m = rnnc.GRU(3, 4)
    x = np.zeros((5, 2, 3), bad)
    with pytest.raises(TypeError, match=r"cast the input with x.astype\(np.float32\)") as info:
        m(x)
    assert ".to(" not in str(info.value)
    m(x.astype(np.float32))                          # the advice works
    with pytest.raises(TypeError, match=r"x.astype\(np.float32\) or the layer with .double\(\)"):
        m(x.astype(np.float64))
    with pytest.raises(TypeError, match=r"x.astype\(np.float32\)"):
        rnnc.Linear(3, 2)(x)


def test_nan_in_padding_is_ignored_and_a_valid_nan_is_located():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    lengths = np.array([6, 4, 6])
    m = rnnc.Sequential(rnnc.LSTM(4, 5, batch_first=True, seed=1), rnnc.MeanPool())
    clean = m(x, lengths=lengths)
    dirty = x.copy()
    dirty[1, 4:, :] = np.nan                          # padding of sample 1
    dirty[1, 5, 0] = np.inf
    np.testing.assert_array_equal(m(dirty, lengths=lengths), clean)
    m.backward(np.ones_like(clean))
    assert all(np.isfinite(p.grad).all() for p in m.parameters())
    dirty[2, 3, 1] = np.nan                           # a valid step of sample 2
    with pytest.raises(ValueError, match=r"input contains NaN or inf, first at index \(2, 3, 1\) "
                                         r"\(batch 2, step 3\)"):
        m(dirty, lengths=lengths)
    tm = rnnc.GRU(4, 5)                               # time-major, no lengths: still located
    with pytest.raises(ValueError, match=r"first at index \(3, 2, 1\) \(batch 2, step 3\)"):
        tm(np.ascontiguousarray(dirty.transpose(1, 0, 2)))
