"""Losses: torch parity (values and gradients), finite differences, stability, validation."""
import numpy as np
import pytest

from rnnc.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, log_softmax, softmax


def numeric_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + eps
        fp = f()
        a[i] = old - eps
        fm = f()
        a[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def _torch_ce(torch, logits, target, **kw):
    """torch's CrossEntropyLoss with the class axis moved to position 1."""
    x = torch.tensor(np.moveaxis(logits, -1, 1) if logits.ndim > 2 else logits, requires_grad=True)
    if "weight" in kw and kw["weight"] is not None:
        kw["weight"] = torch.tensor(kw["weight"])
    loss = torch.nn.CrossEntropyLoss(**kw)(x, torch.tensor(target))
    return loss, x


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 5)])
def test_cross_entropy_matches_torch(reduction, weighted, smoothing, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal(shape) * 3
    target = rng.integers(0, shape[-1], shape[:-1])
    target.flat[1] = -100          # ignored
    target.flat[-1] = -100
    weight = rng.uniform(0.2, 3.0, shape[-1]) if weighted else None
    fn = CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=smoothing)
    loss = fn(logits, target)
    up = rng.standard_normal(shape[:-1]) if reduction == "none" else None
    d = fn.backward(up)
    lt, xt = _torch_ce(torch, logits, target, weight=weight, reduction=reduction,
                       label_smoothing=smoothing)
    (lt * torch.tensor(up)).sum().backward() if up is not None else lt.backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-12, atol=1e-12)
    dt = xt.grad.numpy()
    np.testing.assert_allclose(d, np.moveaxis(dt, 1, -1) if len(shape) > 2 else dt, atol=1e-12)


def test_cross_entropy_time_major_and_custom_ignore_index():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 3, 6))  # (T, B, C): the class axis is last either way
    target = rng.integers(0, 6, (4, 3))
    target[2:, 1] = 0                        # padding id 0 ignored
    fn = CrossEntropyLoss(ignore_index=0)
    loss = fn(logits, target)
    d = fn.backward()
    lt, xt = _torch_ce(torch, logits, target, ignore_index=0)
    lt.backward()
    assert abs(loss - lt.item()) < 1e-12
    np.testing.assert_allclose(d, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-12)
    assert np.all(d[2:, 1] == 0)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_finite_differences(smoothing):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((5, 4))
    target = np.array([0, 3, -100, 2, 1])
    fn = CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5, 1.5]), label_smoothing=smoothing)
    fn(logits, target)
    d = fn.backward()
    num = numeric_grad(lambda: fn(logits, target), logits)
    assert np.abs(d - num).max() < 1e-8


def test_cross_entropy_stable_and_float32():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]], np.float32)
    fn = CrossEntropyLoss()
    loss = fn(logits, np.array([2, 1]))
    d = fn.backward()
    assert np.isfinite(loss) and abs(loss - 1000.0) < 1e-2
    assert d.dtype == np.float32 and np.all(np.isfinite(d))


def test_cross_entropy_all_ignored_is_zero():
    fn = CrossEntropyLoss()
    assert fn(np.zeros((2, 3)), np.array([-100, -100])) == 0.0
    assert np.all(fn.backward() == 0)


def test_cross_entropy_bad_targets():
    fn = CrossEntropyLoss()
    x = np.zeros((3, 4))
    with pytest.raises(TypeError, match="integer class indices"):
        fn(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        fn(x, np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"class 4, outside \[0, 4\)"):
        fn(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="class -1"):
        fn(x, np.array([0, -1, 1]))
    with pytest.raises(TypeError, match="float32 or float64"):
        fn(np.zeros((3, 4), np.int64), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="weight has 3 entries"):
        CrossEntropyLoss(weight=[1, 1, 1])(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        CrossEntropyLoss(reduction="avg")
    with pytest.raises(RuntimeError, match="forward"):
        CrossEntropyLoss().backward()
    fn(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="scalar"):
        fn.backward(np.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weights", [False, True])
def test_bce_with_logits_matches_torch(reduction, with_weights):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3)) * 4
    y = rng.uniform(0, 1, (5, 3))
    y[0] = [0, 1, 1]
    pos_weight = rng.uniform(0.5, 3, 3) if with_weights else None
    weight = rng.uniform(0.5, 2, (5, 1)) if with_weights else None
    fn = BCEWithLogitsLoss(weight=weight, pos_weight=pos_weight, reduction=reduction)
    loss = fn(x, y)
    d = fn.backward()
    xt = torch.tensor(x, requires_grad=True)
    tfn = torch.nn.BCEWithLogitsLoss(
        weight=None if weight is None else torch.tensor(weight),
        pos_weight=None if pos_weight is None else torch.tensor(pos_weight), reduction=reduction)
    lt = tfn(xt, torch.tensor(y))
    lt.sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(d, xt.grad.numpy(), atol=1e-12)


def test_bce_stable_int_targets_and_dtype_rules():
    fn = BCEWithLogitsLoss()
    with np.errstate(over="raise"):
        loss = fn(np.array([800.0, -800.0]), np.array([1, 0]))
    assert loss < 1e-12
    with pytest.raises(TypeError, match="float64 but input is float32"):
        fn(np.zeros(2, np.float32), np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        fn(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    fn = MSELoss(reduction=reduction)
    loss = fn(x, y)
    d = fn.backward()
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.MSELoss(reduction=reduction)(xt, torch.tensor(y))
    lt.sum().backward()
    np.testing.assert_allclose(loss, lt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(d, xt.grad.numpy(), atol=1e-12)


def test_softmax_helpers():
    x = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]])
    p = softmax(x)
    np.testing.assert_allclose(p.sum(-1), 1.0)
    np.testing.assert_allclose(np.log(p), log_softmax(x), atol=1e-12)
    np.testing.assert_allclose(p[1], 1 / 3)
    np.testing.assert_allclose(softmax(x.T, axis=0), p.T)
