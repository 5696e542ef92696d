"""Weight initialisers (in place, on NumPy arrays, with an explicit Generator)."""
from __future__ import annotations

import math

import numpy as np


def uniform_(a: np.ndarray, bound: float, rng: np.random.Generator) -> np.ndarray:
    """U(-bound, bound), torch's default for recurrent layers with bound = 1/sqrt(H)."""
    a[...] = rng.uniform(-bound, bound, a.shape)
    return a


def xavier_uniform_(a: np.ndarray, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """Glorot/Xavier uniform for a 2-D (fan_out, fan_in) weight."""
    fan_out, fan_in = a.shape
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(a, bound, rng)


def orthogonal_(a: np.ndarray, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one
    (Saxe et al. 2014), sign-corrected so the distribution is uniform."""
    rows, cols = a.shape
    flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique
    if rows < cols:
        q = q.T
    a[...] = gain * q[:rows, :cols]
    return a
