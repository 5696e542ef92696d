"""pad_sequences / unpad: shapes, dtypes, truncation, round trips and input validation."""
import numpy as np
import pytest

from rnnc.padding import pad_sequences, unpad


def test_pad_int_lists_batch_first():
    padded, lengths = pad_sequences([[5, 2, 9], [7], []])
    np.testing.assert_array_equal(padded, [[5, 2, 9], [7, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    assert padded.dtype == np.int64 and lengths.dtype == np.int64


def test_pad_time_major_with_features_and_padding_value():
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((L, 3)).astype(np.float32) for L in (4, 1, 2)]
    padded, lengths = pad_sequences(seqs, batch_first=False, padding_value=-1.0)
    assert padded.shape == (4, 3, 3) and padded.dtype == np.float32  # (T, B, F)
    assert padded.flags.c_contiguous
    np.testing.assert_array_equal(lengths, [4, 1, 2])
    np.testing.assert_array_equal(padded[:2, 2], seqs[2])
    assert np.all(padded[1:, 1] == -1.0)


@pytest.mark.parametrize("batch_first", [True, False])
def test_round_trip(batch_first):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((L, 2, 3)) for L in (3, 0, 7, 1)]
    padded, lengths = pad_sequences(seqs, batch_first=batch_first)
    back = unpad(padded, lengths, batch_first=batch_first)
    assert len(back) == len(seqs)
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(a, b)


def test_max_len_truncates_post_and_pre():
    seqs = [[1, 2, 3, 4], [5]]
    padded, lengths = pad_sequences(seqs, max_len=2)
    np.testing.assert_array_equal(padded, [[1, 2], [5, 0]])
    np.testing.assert_array_equal(lengths, [2, 1])
    padded, _ = pad_sequences(seqs, max_len=2, truncating="pre")
    np.testing.assert_array_equal(padded, [[3, 4], [5, 0]])
    padded, lengths = pad_sequences(seqs, max_len=6)  # longer than every sequence: pads to 6
    assert padded.shape == (2, 6)
    np.testing.assert_array_equal(lengths, [4, 1])


def test_dtype_rules():
    padded, _ = pad_sequences([np.array([1, 2], np.int32), np.array([3], np.int32)])
    assert padded.dtype == np.int32
    padded, _ = pad_sequences([np.array([1.5], np.float32), []])  # an empty list does not vote
    assert padded.dtype == np.float32
    padded, _ = pad_sequences([[1, 2], [3]], dtype=np.float64)
    assert padded.dtype == np.float64
    padded, _ = pad_sequences(np.arange(6).reshape(2, 3))  # a rectangular array: rows are sequences
    np.testing.assert_array_equal(padded, np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("bad, exc, words", [
    ([], ValueError, "empty"),
    ([[1, 2], [[1], [2]]], ValueError, "feature shape"),
    ([1, 2], ValueError, "scalar"),
    ("abc", TypeError, "list"),
    (["ab", "c"], TypeError, "encode"),
    ([[1, [2, 3]]], ValueError, "sequences[0]"),
    (42, TypeError, "list"),
])
def test_pad_rejects_bad_input(bad, exc, words):
    with pytest.raises(exc, match="pad_sequences") as info:
        pad_sequences(bad)
    assert words in str(info.value)


def test_pad_rejects_bad_options():
    with pytest.raises(ValueError, match="max_len must be >= 0"):
        pad_sequences([[1]], max_len=-1)
    with pytest.raises(TypeError, match="max_len must be an int"):
        pad_sequences([[1]], max_len=2.5)
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences([[1]], truncating="middle")


def test_unpad_rejects_bad_lengths():
    padded = np.zeros((2, 3))
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        unpad(padded, [1, -1])
    with pytest.raises(ValueError, match="<= T=3"):
        unpad(padded, [1, 4])
    with pytest.raises(ValueError, match="2 sequences"):
        unpad(padded, [1, 2, 3])
    with pytest.raises(TypeError, match="integers"):
        unpad(padded, [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        unpad(padded, [[1, 2]])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        unpad(np.zeros(3), [1])
    # time-major: B is axis 1
    assert [a.shape for a in unpad(np.zeros((3, 2, 4)), [3, 0], batch_first=False)] == [(3, 4), (0, 4)]
