"""Gradient norms and clipping: C kernels vs the NumPy twin and torch.nn.utils."""
import math

import numpy as np
import pytest

from rnnc import _C, reference
from rnnc.clip import clip_grad_norm_, clip_grad_value_, grad_norms, total_grad_norm
from rnnc.module import Module, Parameter

NORMS = [1.0, 2.0, 3.0, math.inf]
SIZES = [(), (1,), (7,), (3, 5), (17, 9), (1000,), (0,)]


def _grads(rng, dtype, scale=1.0, sizes=SIZES):
    return [np.array(rng.standard_normal(s) * scale, dtype=dtype) for s in sizes]


# ------------------------------------------------------------------ kernels

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, math.inf])
def test_grad_norms_match_twin(dtype, p):
    rng = np.random.default_rng(0)
    grads = _grads(rng, dtype)
    total, per = _C.grad_norms(grads, p)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(total, reference.grad_norm(grads, p), rtol=rtol)
    for g, n in zip(grads, per):
        np.testing.assert_allclose(n, reference.grad_norm([g], p), rtol=rtol, atol=0)
    assert _C.grad_norms([], p) == (0.0, [])


def test_float32_norm_accumulates_in_double():
    g = np.full(1 << 20, 1e-3, np.float32) + np.float32(1.0)
    expected = math.sqrt(g.size) * float(np.float32(1.001))
    assert abs(_C.grad_norms([g])[0] - expected) / expected < 1e-7
    big = np.full(4, 3e38, np.float32)     # squares overflow float32 but not double
    assert math.isfinite(_C.grad_norms([big])[0])


def test_non_contiguous_arrays_are_read_for_norms():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 8))
    assert _C.grad_norms([a.T, a[::2]])[0] == pytest.approx(reference.grad_norm([a, a[::2]]), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scale_and_clamp_in_place(dtype):
    rng = np.random.default_rng(2)
    grads = _grads(rng, dtype, scale=3.0)
    before = [g.copy() for g in grads]
    _C.scale_arrays(grads, 0.25)
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, b * dtype(0.25))
    _C.clamp_arrays(grads, 0.3)
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, np.clip(b * dtype(0.25), -dtype(0.3), dtype(0.3)))


# ----------------------------------------------------------- clip_grad_norm_

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", NORMS)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])       # clipped, and left alone
def test_clip_grad_norm_matches_twin(dtype, p, max_norm):
    rng = np.random.default_rng(3)
    params = [Parameter(np.zeros(s, dtype)) for s in SIZES]
    for prm, g in zip(params, _grads(rng, dtype)):
        prm.grad[...] = g
    twin = [prm.grad.astype(np.float64) for prm in params]
    norm = clip_grad_norm_(params, max_norm, norm_type=p)
    ref_norm = reference.clip_grad_norm(twin, max_norm, norm_type=p)
    assert isinstance(norm, float)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert norm == pytest.approx(ref_norm, rel=rtol)
    for prm, t in zip(params, twin):
        np.testing.assert_allclose(prm.grad, t, rtol=rtol, atol=1e-7 if dtype == np.float32 else 0)
    if max_norm == 0.5:
        assert total_grad_norm(params, p) == pytest.approx(max_norm, rel=1e-5)


def test_accepts_parameter_array_module_generator_and_mixed_dtypes():
    rng = np.random.default_rng(4)
    a = rng.standard_normal(10)
    assert clip_grad_norm_(a, 1e9) == pytest.approx(np.linalg.norm(a), rel=1e-12)   # one array
    prm = Parameter(np.zeros(3))
    prm.grad[...] = [3.0, 4.0, 0.0]
    assert clip_grad_norm_(prm, 1.0) == pytest.approx(5.0)                          # one Parameter
    np.testing.assert_allclose(prm.grad, [0.6, 0.8, 0.0], rtol=1e-6)

    class Two(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones((2, 2), np.float32))
            self.b = Parameter(np.ones(2))          # float64: grouped by dtype
    m = Two()
    m.w.grad[...] = 1.0
    m.b.grad[...] = 1.0
    assert clip_grad_norm_(m, 1e9) == pytest.approx(math.sqrt(6.0), rel=1e-12)
    assert clip_grad_norm_((q for q in m.parameters()), 1e9, norm_type="inf") == 1.0
    norm = clip_grad_norm_(m.parameters(), 1.0)
    assert total_grad_norm(m.parameters()) == pytest.approx(1.0, rel=1e-5)
    assert norm == pytest.approx(math.sqrt(6.0))
    # tied parameters count once and are scaled once
    prm.grad[...] = [3.0, 4.0, 0.0]
    assert clip_grad_norm_([prm, prm], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(prm.grad, [0.6, 0.8, 0.0], rtol=1e-6)
    # a Parameter whose grad was removed is skipped
    prm.grad = None
    assert clip_grad_norm_([prm], 1.0) == 0.0
    assert clip_grad_norm_([], 1.0) == 0.0


def test_nan_and_inf_behaviour():
    # NaN in a gradient: the norm is NaN; clipping scales by NaN so every gradient is NaN
    g = [np.array([1.0, np.nan]), np.array([2.0, 3.0])]
    assert math.isnan(clip_grad_norm_(g, 1.0))
    assert all(np.isnan(a).all() for a in g)
    # inf: the norm is inf; the factor is 0, so finite entries -> 0 and inf -> NaN
    g = [np.array([1.0, np.inf]), np.array([2.0, -3.0])]
    assert clip_grad_norm_(g, 1.0) == math.inf
    np.testing.assert_array_equal(g[1], [0.0, -0.0])
    assert g[0][0] == 0 and np.isnan(g[0][1])
    for p in NORMS:
        assert math.isnan(total_grad_norm([np.array([np.inf, np.nan])], p))
        assert total_grad_norm([np.array([np.inf, 1.0], np.float32)], p) == math.inf
    # error_if_nonfinite: RuntimeError and nothing changes
    for bad in (np.nan, np.inf):
        g = [np.array([1.0, bad]), np.array([20.0, 30.0])]
        before = [a.copy() for a in g]
        with pytest.raises(RuntimeError, match="non-finite"):
            clip_grad_norm_(g, 1.0, error_if_nonfinite=True)
        for a, b in zip(g, before):
            np.testing.assert_array_equal(a, b)
    # clip_grad_value_: +-inf clamp, NaN stays
    g = np.array([np.inf, -np.inf, np.nan, 0.5])
    clip_grad_value_(g, 1.0)
    np.testing.assert_array_equal(g, [1.0, -1.0, np.nan, 0.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value(dtype):
    rng = np.random.default_rng(5)
    grads = _grads(rng, dtype, scale=2.0)
    twin = [g.copy() for g in grads]
    clip_grad_value_(grads, 0.7)
    reference.clip_grad_value(twin, dtype(0.7))
    for g, t in zip(grads, twin):
        np.testing.assert_array_equal(g, t)


def test_grad_norms_for_plotting():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(np.zeros((2, 2)))
            self.bias = Parameter(np.zeros(2, np.float32))
    net = Net()
    net.weight.grad[...] = [[3.0, 0.0], [0.0, 4.0]]
    net.bias.grad[...] = [np.nan, 1.0]
    norms = grad_norms(net)
    assert list(norms) == ["weight", "bias"]
    assert norms["weight"] == pytest.approx(5.0) and math.isnan(norms["bias"])
    assert grad_norms(net.named_parameters(), norm_type=1)["weight"] == pytest.approx(7.0)
    assert grad_norms({"w": net.weight}, math.inf) == {"w": 4.0}
    listed = grad_norms(net.parameters())
    assert isinstance(listed, list) and listed[0] == pytest.approx(5.0)
    assert grad_norms([np.array([1.0, 1.0])]) == [pytest.approx(math.sqrt(2))]
    assert grad_norms(Module()) == {}


def test_bad_arguments():
    g = [np.ones(3)]
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(g, 1.0, norm_type=0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm_(g, 1.0, norm_type=-2)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_(g, -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_(g, -0.1)
    with pytest.raises(TypeError, match="Parameters or numpy arrays"):
        clip_grad_norm_([[1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match="iterable"):
        clip_grad_norm_(3.0, 1.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        clip_grad_norm_([np.ones(3, np.int64)], 1.0)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        clip_grad_norm_([frozen * 10, frozen], 1.0)
    with pytest.raises(ValueError, match="contiguous"):
        clip_grad_value_([np.ones(6)[::2]], 0.5)
    # nothing was half-done: the writeable array is left as it was when a later one fails
    ok = np.full(3, 10.0)
    with pytest.raises(ValueError):
        clip_grad_norm_([ok, frozen], 1.0)
    np.testing.assert_array_equal(ok, 10.0)
    # the binding names the function and the element
    with pytest.raises(TypeError, match=r"grad_norms\(\): argument 'arrays\[1\]'.*float64"):
        _C.grad_norms([np.ones(2), np.ones(2, np.float32)])
    with pytest.raises(TypeError, match="single ndarray"):
        _C.scale_arrays(np.ones(3), 2.0)
    with pytest.raises(TypeError, match="list or tuple"):
        _C.clamp_arrays(5, 1.0)
    with pytest.raises(ValueError, match="clip"):
        _C.clamp_arrays([np.ones(2)], math.nan)
    with pytest.raises(ValueError, match="norm_type"):
        _C.grad_norms([np.ones(2)], math.nan)


# ------------------------------------------------------------------ torch parity

def _torch_params(torch, arrays):
    params = []
    for a in arrays:
        t = torch.zeros(a.shape, dtype=torch.float32 if a.dtype == np.float32 else torch.float64,
                        requires_grad=True)
        t.grad = torch.from_numpy(a.copy())
        params.append(t)
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", NORMS)
@pytest.mark.parametrize("max_norm", [0.3, 1e6])
def test_clip_grad_norm_matches_torch(dtype, p, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    grads = _grads(rng, dtype, sizes=[(4, 6), (6,), (3, 3, 2)])
    tparams = _torch_params(torch, grads)
    norm = clip_grad_norm_(grads, max_norm, norm_type=p)
    tnorm = float(torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=p))
    diff_norm = abs(norm - tnorm) / tnorm
    diff_grad = max(np.abs(g - t.grad.numpy()).max() for g, t in zip(grads, tparams))
    print(f"clip_grad_norm_ vs torch {np.dtype(dtype).name} p={p} max_norm={max_norm}: "
          f"norm rel {diff_norm:.2e}, grads {diff_grad:.2e}")
    assert diff_norm < 1e-6
    assert diff_grad < 1e-6


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_matches_torch(bad):
    torch = pytest.importorskip("torch")
    grads = [np.array([1.0, bad, -2.0]), np.array([0.5, 4.0])]
    tparams = _torch_params(torch, grads)
    norm = clip_grad_norm_(grads, 1.0)
    tnorm = float(torch.nn.utils.clip_grad_norm_(tparams, 1.0))
    assert (math.isnan(norm) and math.isnan(tnorm)) or norm == tnorm
    for g, t in zip(grads, tparams):
        np.testing.assert_array_equal(g, t.grad.numpy())      # NaN positions equal too
    tparams = _torch_params(torch, [np.array([bad])])
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(tparams, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        clip_grad_norm_([np.array([bad])], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    grads = _grads(rng, dtype, scale=2.0, sizes=[(5, 4), (7,)])
    grads[0][0, 0] = np.inf
    grads[1][3] = np.nan
    tparams = _torch_params(torch, grads)
    clip_grad_value_(grads, 0.5)
    torch.nn.utils.clip_grad_value_(tparams, 0.5)
    for g, t in zip(grads, tparams):
        np.testing.assert_array_equal(g, t.grad.numpy())
