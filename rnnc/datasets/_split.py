"""Deterministic, seeded train / validation / test splits."""
import numbers

import numpy as np


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"split_indices: {name} must be a float, got {type(value).__name__}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"split_indices: {name} must be in [0, 1), got {value}")
    return float(value)


def split_indices(n, val_fraction=0.1, test_fraction=0.1, seed=0, stratify=None, groups=None):
    """Split range(n) into (train, val, test) index arrays, each sorted ascending.

    The same (n, fractions, seed, stratify, groups) always gives the same split.
    stratify  labels (n,): every class is split with the same fractions, so all ::

              three parts keep the class balance.

    groups    one hashable per item (e.g. the movie a review is about): a group lies ::

              wholly in one part, so nothing about it leaks from train into test.
              Parts then hold about (not exactly) the requested fractions.

    """
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"split_indices: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"split_indices: n must be >= 1, got {n}")
    n = int(n)
    val_fraction = _check_fraction("val_fraction", val_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"split_indices: val_fraction + test_fraction must be < 1, "
                         f"got {val_fraction} + {test_fraction}")
    if stratify is not None and groups is not None:
        raise ValueError("split_indices: give stratify or groups, not both")
    rng = np.random.default_rng(seed)

    if groups is not None:
        groups = list(groups)
        if len(groups) != n:
            raise ValueError(f"split_indices: groups has {len(groups)} entries, expected n={n}")
        first_seen = {}
        for i, g in enumerate(groups):
            first_seen.setdefault(g, len(first_seen))
        group_id = np.fromiter((first_seen[g] for g in groups), dtype=np.int64, count=n)  # (n,)
        sizes = np.bincount(group_id, minlength=len(first_seen))
        order = rng.permutation(len(first_seen))
        part_of_group = np.zeros(len(first_seen), dtype=np.int64)  # 0 train, 1 val, 2 test
        n_test, n_val = round(test_fraction * n), round(val_fraction * n)
        filled_test = filled_val = 0
        for g in order:  # whole groups go to test, then val, until each has its share
            if filled_test < n_test:
                part_of_group[g] = 2
                filled_test += sizes[g]
            elif filled_val < n_val:
                part_of_group[g] = 1
                filled_val += sizes[g]
        part = part_of_group[group_id]
        return tuple(np.flatnonzero(part == k) for k in (0, 1, 2))

    if stratify is None:
        classes = [np.arange(n)]
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(f"split_indices: stratify must have shape ({n},), got {labels.shape}")
        classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    train, val, test = [], [], []
    for members in classes:  # each class split with the same fractions
        members = members[rng.permutation(members.size)]
        k_test = round(test_fraction * members.size)
        k_val = round(val_fraction * members.size)
        test.append(members[:k_test])
        val.append(members[k_test:k_test + k_val])
        train.append(members[k_test + k_val:])
    return tuple(np.sort(np.concatenate(part)).astype(np.int64) for part in (train, val, test))
