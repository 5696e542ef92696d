"""Pad variable-length sequences into one array, and cut them back out.

    padded, lengths = pad_sequences([[5, 2, 9], [7]])          # (B=2, T=3), lengths [3, 1]
    padded, lengths = pad_sequences(list_of_TxI_arrays, batch_first=False)  # (T, B, I)
    seqs = unpad(padded, lengths)                              # list of (L_b, ...) arrays

Valid steps always come first and padding after them, which is what the recurrent
layers' `lengths` argument expects (no sorting, no packing).
"""
import numbers

import numpy as np

_TRUNCATING = ("post", "pre")


def _check_int(name, value, func, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{func}: {name} must be an int{' or None' if allow_none else ''}, "
                        f"got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{func}: {name} must be >= 0, got {value}")
    return int(value)


def pad_sequences(sequences, batch_first=True, padding_value=0, max_len=None, dtype=None,
                  truncating="post"):
    """Stack sequences of different lengths into one zero-padded array.

    Parameters
    ----------
    sequences : list of array_like
        B sequences, each ``(L_b,)`` or ``(L_b, *F)`` with the same trailing shape F.
    batch_first : bool, default True
        True: padded is ``(B, T, *F)``; False: ``(T, B, *F)`` (time-major).
    padding_value : scalar, default 0
        The value written into the padded steps.
    max_len : int, optional
        T; None: the longest ``L_b``.  Longer sequences are truncated to it.
    dtype : dtype, optional
        The result's dtype; None: the common dtype of the sequences (int64 for Python
        ints, float64 for Python floats).
    truncating : {"post", "pre"}, default "post"
        "post" keeps the first `max_len` steps, "pre" keeps the last ones.

    Returns
    -------
    padded : ndarray
        ``(B, T, *F)``, or ``(T, B, *F)`` with ``batch_first=False``.
    lengths : ndarray of int64, shape (B,)
        ``min(L_b, T)``.

    Raises
    ------
    ValueError
        An empty list, sequences whose trailing shapes differ, a bad `max_len` or
        `truncating`.

    Examples
    --------
    >>> padded, lengths = rnnc.pad_sequences([[1, 2, 3], [4], [5, 6]])
    >>> padded
    array([[1, 2, 3],
           [4, 0, 0],
           [5, 6, 0]])
    >>> lengths
    array([3, 1, 2])
    >>> [s.tolist() for s in rnnc.unpad(padded, lengths)]
    [[1, 2, 3], [4], [5, 6]]
    """
    func = "pad_sequences"
    if isinstance(sequences, np.ndarray):
        if sequences.dtype == object:
            sequences = list(sequences)
        else:
            if sequences.ndim == 0:
                raise ValueError(f"{func}: sequences must be a list of sequences, got a 0-d array")
            sequences = list(sequences)  # a rectangular array: each row is one sequence
    elif isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise TypeError(f"{func}: sequences must be a list of array-likes, got {type(sequences).__name__}")
    sequences = list(sequences)
    if len(sequences) == 0:
        raise ValueError(f"{func}: sequences is empty (need at least one sequence)")
    max_len = _check_int("max_len", max_len, func)
    if truncating not in _TRUNCATING:
        raise ValueError(f"{func}: truncating must be one of {_TRUNCATING}, got {truncating!r}")
    if dtype is not None:
        dtype = np.dtype(dtype)

    arrays, voters = _as_sequence_arrays(sequences, dtype, func)
    feature_shape = arrays[0].shape[1:]
    for b, arr in enumerate(arrays):
        if arr.shape[1:] != feature_shape:
            raise ValueError(f"{func}: sequences[{b}] has feature shape {arr.shape[1:]}, but sequences[0] has "
                             f"{feature_shape} (all sequences must be (L_b, *F) with the same F)")
    if dtype is None:
        dtype = np.result_type(*voters) if voters else np.dtype(np.int64)

    raw_lengths = np.array([arr.shape[0] for arr in arrays], dtype=np.int64)
    T = int(raw_lengths.max()) if max_len is None else max_len
    lengths = np.minimum(raw_lengths, T)
    B = len(arrays)
    padded = np.full((B, T) + feature_shape, padding_value, dtype=dtype)  # (B, T, *F)
    for b, arr in enumerate(arrays):
        L = int(lengths[b])
        if L == 0:
            continue
        padded[b, :L] = arr[:L] if truncating == "post" else arr[arr.shape[0] - L:]
    if not batch_first:
        padded = np.ascontiguousarray(np.swapaxes(padded, 0, 1))  # (T, B, *F)
    return padded, lengths


def _as_sequence_arrays(sequences, dtype, func):
    """Each sequence as an array (of `dtype` when given) -> (arrays, voters): the
    arrays whose dtype decides the result's (an empty Python list has no dtype of its
    own, NumPy says float64, so it does not vote)."""
    arrays, voters = [], []
    for b, seq in enumerate(sequences):
        if isinstance(seq, (str, bytes)):
            raise TypeError(f"{func}: sequences[{b}] is a {type(seq).__name__}; encode it to ids first "
                            "(e.g. Vocab.encode)")
        try:
            arr = np.asarray(seq) if dtype is None else np.asarray(seq, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{func}: sequences[{b}] is not a rectangular array ({exc})") from None
        if arr.dtype == object:
            raise ValueError(f"{func}: sequences[{b}] is ragged or not numeric (object array)")
        if arr.ndim == 0:
            raise ValueError(f"{func}: sequences[{b}] is a scalar; every sequence needs a time axis "
                             "(shape (L,) or (L, *F))")
        arrays.append(arr)
        # an empty Python list has no dtype of its own (NumPy says float64): it does not vote
        if not (arr.size == 0 and isinstance(seq, (list, tuple))):
            voters.append(arr)
    return arrays, voters


def unpad(padded, lengths, batch_first=True):
    """Cut each sequence's valid steps out of a padded array (the inverse of pad_sequences).

    Parameters
    ----------
    padded : ndarray
        ``(B, T, *F)`` if `batch_first`, else ``(T, B, *F)``.
    lengths : array_like of int, shape (B,)
        Values in ``[0, T]``.
    batch_first : bool, default True

    Returns
    -------
    list of ndarray
        B arrays, the b-th of shape ``(lengths[b], *F)`` (views into `padded`).

    Raises
    ------
    ValueError
        `lengths` of the wrong size or outside ``[0, T]``.
    """
    func = "unpad"
    padded = np.asarray(padded)
    if padded.ndim < 2:
        raise ValueError(f"{func}: padded must have at least 2 dimensions "
                         f"({'(B, T, ...)' if batch_first else '(T, B, ...)'}), got shape {padded.shape}")
    lengths_arr = np.asarray(lengths)
    if lengths_arr.ndim != 1:
        raise ValueError(f"{func}: lengths must be 1-D (B,), got shape {lengths_arr.shape}")
    if lengths_arr.size and not np.issubdtype(lengths_arr.dtype, np.integer):
        raise TypeError(f"{func}: lengths must be integers, got dtype {lengths_arr.dtype}")
    B, T = (padded.shape[0], padded.shape[1]) if batch_first else (padded.shape[1], padded.shape[0])
    if lengths_arr.shape[0] != B:
        raise ValueError(f"{func}: lengths has {lengths_arr.shape[0]} entries but padded holds B={B} sequences")
    if B and lengths_arr.min() < 0:
        raise ValueError(f"{func}: lengths must be >= 0, got {int(lengths_arr.min())}")
    if B and lengths_arr.max() > T:
        raise ValueError(f"{func}: lengths must be <= T={T}, got {int(lengths_arr.max())}")
    if batch_first:
        return [padded[b, :L] for b, L in enumerate(lengths_arr.tolist())]
    return [padded[:L, b] for b, L in enumerate(lengths_arr.tolist())]
