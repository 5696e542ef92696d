"""Layer norm: C kernel vs finite differences, vs the NumPy twin, vs torch.nn.LayerNorm."""
import numpy as np
import pytest

from rnnc import _C, reference, testing
from rnnc.module import Module, Parameter
from rnnc.normalization import LayerNorm, layer_norm, layer_norm_backward

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _rand(rng, shape, dtype, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


def _affine(rng, C, dtype, weight, bias):
    w = _rand(rng, C, dtype) if weight else None
    b = _rand(rng, C, dtype) if bias else None
    return w, b


# ------------------------------------------------------------ finite differences

class FunctionalLayerNorm(Module):
    """layer_norm / layer_norm_backward (fresh gradient arrays) as a Module, so that
    rnnc.testing.gradcheck does the finite differences."""

    def __init__(self, w, b):
        super().__init__()
        self.register_parameter("weight", None if w is None else Parameter(w))
        self.register_parameter("bias", None if b is None else Parameter(b))

    def forward(self, x):
        out, self.saved = layer_norm(x, None if self.weight is None else self.weight.data,
                                     None if self.bias is None else self.bias.data)
        return out

    def backward(self, d_out):
        dx, dw, db = layer_norm_backward(self.saved, d_out)
        for p, g in ((self.weight, dw), (self.bias, db)):
            assert (g is None) == (p is None)  # a gradient exactly for the parameters given
            if p is not None:
                p.grad += g
        return dx


@pytest.mark.parametrize("weight,bias", [(True, True), (False, False), (True, False)])
def test_backward_matches_finite_differences(weight, bias):
    rng = np.random.default_rng(0)
    x = _rand(rng, (2, 3, 5), np.float64, scale=2.0, shift=0.5)
    w, b = _affine(rng, 5, np.float64, weight, bias)
    m = FunctionalLayerNorm(w, b)
    assert [n for n, _ in m.named_parameters()] == ["weight"] * weight + ["bias"] * bias
    # every entry of dx, dweight, dbias: |analytic - numerical| <= 1e-8 + 1e-6 |numerical|
    assert testing.gradcheck(m, x, eps=1e-6, atol=1e-8, rtol=1e-6)


# --------------------------------------------------------------- vs NumPy twin

SHAPES = [(1, 1), (1, 7), (4, 8), (3, 9), (5, 16), (2, 33), (7, 100), (3, 1031)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N,C", SHAPES)
def test_kernel_matches_twin(dtype, N, C):
    rng = np.random.default_rng(N * 1000 + C)
    x = _rand(rng, (N, C), dtype, scale=3.0, shift=1.0)
    w, b = _affine(rng, C, dtype, True, True)
    dy = _rand(rng, (N, C), dtype)
    out, mean, rstd = _C.layernorm_forward(x, w, b, 1e-5)
    ref_out, cache = reference.layernorm_forward(x, w, b, 1e-5)
    tol = TOL[dtype]
    np.testing.assert_allclose(out, ref_out, **tol)
    np.testing.assert_allclose(mean, cache["mean"], **tol)
    np.testing.assert_allclose(rstd, cache["rstd"], **tol)
    dw, db = np.zeros(C, dtype), np.zeros(C, dtype)
    dx = _C.layernorm_backward(dy, x, w, mean, rstd, dw, db)
    rdx, rdw, rdb = reference.layernorm_backward(cache, dy)
    # float32 sums over rows / the backward combination lose a little more
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else tol
    np.testing.assert_allclose(dx, rdx, **tol)
    np.testing.assert_allclose(dw, rdw, **tol)
    np.testing.assert_allclose(db, rdb, **tol)
    assert out.dtype == dx.dtype == mean.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_without_affine_and_inference(dtype):
    rng = np.random.default_rng(1)
    x = _rand(rng, (6, 10), dtype)
    out, mean, rstd = _C.layernorm_forward(x, None, None, 1e-5, save=False)
    assert mean is None and rstd is None
    np.testing.assert_allclose(out, reference.layernorm_forward(x)[0], **TOL[dtype])
    # bias only
    b = _rand(rng, 10, dtype)
    out, mean, rstd = _C.layernorm_forward(x, None, b)
    np.testing.assert_allclose(out, reference.layernorm_forward(x, None, b)[0], **TOL[dtype])


@pytest.mark.parametrize("order", ["transposed", "fortran", "strided"])
def test_non_contiguous_inputs(order):
    rng = np.random.default_rng(2)
    base = _rand(rng, (12, 10), np.float64)
    x = {"transposed": base.T, "fortran": np.asfortranarray(base),
         "strided": base[::2, ::1]}[order]
    w = _rand(rng, 2 * x.shape[-1], np.float64)[::2]    # strided weight
    out, saved = layer_norm(x, w, None)
    ref, cache = reference.layernorm_forward(np.array(x), np.array(w))
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dy = np.asfortranarray(_rand(rng, x.shape, np.float64))
    dx, dw, _ = layer_norm_backward(saved, dy)
    rdx, rdw, _ = reference.layernorm_backward(cache, dy)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, rdw, rtol=1e-12, atol=1e-12)


def test_constant_rows_and_empty():
    x = np.full((3, 4), 2.5)
    out, saved = layer_norm(x, None, np.arange(4.0))
    np.testing.assert_array_equal(out, np.tile(np.arange(4.0), (3, 1)))   # xhat = 0
    assert np.all(np.isfinite(layer_norm_backward(saved, np.ones_like(x))[0]))
    out, saved = layer_norm(np.zeros((0, 5)))
    assert out.shape == (0, 5)
    assert layer_norm_backward(saved, np.zeros((0, 5)))[0].shape == (0, 5)


def test_large_offset_float32_is_stable():
    # mean/var accumulate in double: a large common offset does not destroy the result
    rng = np.random.default_rng(3)
    x64 = rng.standard_normal((4, 4096)) + 1e4
    out32, _ = layer_norm(x64.astype(np.float32))
    ref, _ = reference.layernorm_forward(x64.astype(np.float32).astype(np.float64))
    assert np.abs(out32 - ref).max() < 2e-3


def test_backward_adds_into_gradients():
    rng = np.random.default_rng(4)
    ln = LayerNorm(6, dtype=np.float64)
    x = _rand(rng, (3, 6), np.float64)
    dy = _rand(rng, (3, 6), np.float64)
    ln(x)
    ln.backward(dy)
    w1, b1 = ln.weight.grad.copy(), ln.bias.grad.copy()
    ln.backward(dy)
    np.testing.assert_allclose(ln.weight.grad, 2 * w1, rtol=1e-14)
    np.testing.assert_allclose(ln.bias.grad, 2 * b1, rtol=1e-14)
    ln.zero_grad()
    assert not ln.weight.grad.any()


# ------------------------------------------------------------------- module

def test_module_parameters_and_modes():
    ln = LayerNorm((3, 4))
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert ln.weight.shape == (3, 4) and ln.weight.dtype == np.float32
    assert np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0)
    assert "(3, 4)" in repr(ln)
    assert LayerNorm(5, elementwise_affine=False).parameters() == []
    nb = LayerNorm(5, bias=False)
    assert [n for n, _ in nb.named_parameters()] == ["weight"] and "bias=False" in repr(nb)
    ln.eval()
    ln(np.ones((2, 3, 4), np.float32))
    with pytest.raises(RuntimeError, match="training"):
        ln.backward(np.ones((2, 3, 4), np.float32))
    ln.train().to(np.float64)
    assert ln.weight.dtype == np.float64
    assert ln(np.ones((3, 4))).dtype == np.float64


def test_bad_arguments():
    ln = LayerNorm(4)
    with pytest.raises(TypeError, match="dtype"):
        ln(np.ones((2, 4)))                                  # float64 into a float32 layer
    with pytest.raises(ValueError, match="shape"):
        ln(np.ones((2, 5), np.float32))
    with pytest.raises(TypeError, match="ndarray"):
        layer_norm([1.0, 2.0])
    with pytest.raises(TypeError, match="dtype"):
        layer_norm(np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match="weight"):
        layer_norm(np.ones((2, 3)), np.ones(4), normalized_shape=3)
    with pytest.raises(TypeError, match="weight"):
        layer_norm(np.ones((2, 3)), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="eps"):
        layer_norm(np.ones((2, 3)), eps=-1.0)
    with pytest.raises(ValueError, match="normalized_shape"):
        LayerNorm(0)
    with pytest.raises(TypeError, match="normalized_shape"):
        LayerNorm("4")
    ln(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="d_out"):
        ln.backward(np.ones((3, 4), np.float32))
    with pytest.raises(TypeError, match="d_out"):
        ln.backward(np.ones((2, 4)))
    # the binding names function and argument
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"layernorm_forward\(\): argument 'weight'"):
        _C.layernorm_forward(x, np.ones(4))
    with pytest.raises(TypeError, match=r"layernorm_forward\(\): argument 'bias'.*float64"):
        _C.layernorm_forward(x, None, np.ones(3, np.float32))
    _, mean, rstd = _C.layernorm_forward(x)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="'dweight'.*writeable"):
        _C.layernorm_backward(x, x, None, mean, rstd, frozen)
    with pytest.raises(ValueError, match="'dbias'.*contiguous"):
        _C.layernorm_backward(x, x, None, mean, rstd, None, np.zeros(6)[::2])
    with pytest.raises(ValueError, match="'mean'"):
        _C.layernorm_backward(x, x, None, mean[:1], rstd)


# ------------------------------------------------------------------- torch parity

@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("shape,normalized", [((4, 7, 16), 16), ((3, 5, 2, 6), (2, 6)),
                                              ((9, 3), 3)])
def test_matches_torch(dtype, tol, shape, normalized):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    ln = LayerNorm(normalized, dtype=dtype)
    ln.weight.data[...] = _rand(rng, ln.weight.shape, dtype)
    ln.bias.data[...] = _rand(rng, ln.bias.shape, dtype)
    tln = torch.nn.LayerNorm(normalized, dtype=torch.float32 if dtype == np.float32 else torch.float64)
    tln.load_state_dict({k: torch.from_numpy(v) for k, v in ln.state_dict().items()})
    x = _rand(rng, shape, dtype, scale=2.0, shift=0.3)
    dy = _rand(rng, shape, dtype)
    out = ln(x)
    dx = ln.backward(dy)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tout = tln(tx)
    tout.backward(torch.from_numpy(dy))
    diffs = {
        "out": np.abs(out - tout.detach().numpy()).max(),
        "dx": np.abs(dx - tx.grad.numpy()).max(),
        "dweight": np.abs(ln.weight.grad - tln.weight.grad.numpy()).max(),
        "dbias": np.abs(ln.bias.grad - tln.bias.grad.numpy()).max(),
    }
    print(f"layernorm vs torch {np.dtype(dtype).name} {shape}: " +
          ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ln.weight.grad, tln.weight.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ln.bias.grad, tln.bias.grad.numpy(), rtol=tol, atol=tol)


def test_state_dict_round_trip_with_torch():
    torch = pytest.importorskip("torch")
    tln = torch.nn.LayerNorm((2, 3))
    with torch.no_grad():
        tln.weight.uniform_()
        tln.bias.uniform_()
    ln = LayerNorm((2, 3))
    ln.load_state_dict(tln.state_dict())
    np.testing.assert_array_equal(ln.weight.data, tln.weight.detach().numpy())
    ln2 = LayerNorm((2, 3))
    ln2.load_state_dict(ln.state_dict())
    np.testing.assert_array_equal(ln2.bias.data, ln.bias.data)
