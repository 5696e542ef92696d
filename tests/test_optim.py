"""Optimizers: C steps vs the NumPy twin, 100-step parity with torch.optim, state dicts."""
import copy
import math

import numpy as np
import pytest

from rnnc import _C, reference
from rnnc.module import Module, Parameter
from rnnc.optim import SGD, Adam, AdamW, Optimizer, StepLR

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]

SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05),
]
ADAM_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True),
]
ADAMW_CONFIGS = [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1, amsgrad=True)]
CASES = ([("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS]
         + [("AdamW", c) for c in ADAMW_CONFIGS])
CLASSES = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}


def _case_id(case):
    name, cfg = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in cfg.items())


def _params(rng, dtype):
    return [Parameter(np.array(rng.standard_normal(s), dtype=dtype)) for s in SHAPES]


def _grad_sequence(rng, steps, dtype):
    return [[np.array(rng.standard_normal(s), dtype=dtype) for s in SHAPES] for _ in range(steps)]


def _run(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        opt.step()


# ----------------------------------------------------------- C vs NumPy twin

@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_twin(case):
    name, cfg = case
    rng = np.random.default_rng(0)
    params = _params(rng, np.float64)
    twin = [p.data.copy() for p in params]
    twin_state = [{} for _ in params]
    opt = CLASSES[name](params, **cfg)
    for step_grads in _grad_sequence(rng, 20, np.float64):
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        opt.step()
        for t, st, g in zip(twin, twin_state, step_grads):
            if name == "SGD":
                reference.sgd_step(t, g, st, **cfg)
            else:
                reference.adam_step(t, g, st, decoupled=name == "AdamW",
                                    weight_decay=cfg.get("weight_decay", 1e-2 if name == "AdamW" else 0.0),
                                    **{k: v for k, v in cfg.items() if k != "weight_decay"})
    for p, t in zip(params, twin):
        np.testing.assert_allclose(p.data, t, rtol=1e-12, atol=1e-13)


def test_kernels_directly():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        p = rng.standard_normal(37).astype(dtype)
        g = rng.standard_normal(37).astype(dtype)
        buf = np.empty_like(p)
        expect = p - dtype(0.1) * g
        _C.sgd_step(p, g, buf, 0.1, momentum=0.9, first=True)
        np.testing.assert_allclose(p, expect, rtol=1e-6)
        np.testing.assert_array_equal(buf, g)           # first step: buf = g
        m, v = np.zeros_like(p), np.zeros_like(p)
        q = p.copy()
        _C.adam_step(p, g, m, v, None, 1, lr=0.01)
        # first Adam step moves every element by ~lr * sign(g)
        np.testing.assert_allclose(q - p, 0.01 * np.sign(g), rtol=1e-3, atol=1e-6)
    # empty parameters are fine
    _C.adam_step(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), None, 1)
    _C.sgd_step(np.zeros((0, 3)), np.zeros((0, 3)), None, 0.1)


# ------------------------------------------------------------- torch parity

def _torch_run(torch, name, cfg, init, grads):
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    opt = getattr(torch.optim, name)(tparams, **cfg)
    for step_grads in grads:
        for t, g in zip(tparams, step_grads):
            t.grad = torch.from_numpy(g.copy())
        opt.step()
    return [t.detach().numpy() for t in tparams], opt


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_100_steps_match_torch_float64(case):
    torch = pytest.importorskip("torch")
    name, cfg = case
    rng = np.random.default_rng(2)
    params = _params(rng, np.float64)
    init = [p.data.copy() for p in params]
    grads = _grad_sequence(rng, 100, np.float64)
    _run(CLASSES[name](params, **cfg), params, grads)
    tdata, _ = _torch_run(torch, name, cfg, init, grads)
    diff = max(np.abs(p.data - t).max() for p, t in zip(params, tdata))
    print(f"{_case_id(case)} float64, 100 steps: max |rnnc - torch| = {diff:.2e}")
    assert diff < 1e-6


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_100_steps_match_torch_float32(name):
    torch = pytest.importorskip("torch")
    cfg = dict(lr=0.01, weight_decay=0.01) | (dict(momentum=0.9) if name == "SGD" else {})
    rng = np.random.default_rng(3)
    params = _params(rng, np.float32)
    init = [p.data.copy() for p in params]
    grads = _grad_sequence(rng, 100, np.float32)
    _run(CLASSES[name](params, **cfg), params, grads)
    tdata, _ = _torch_run(torch, name, cfg, init, grads)
    diff = max(np.abs(p.data - t).max() for p, t in zip(params, tdata))
    print(f"{name} float32, 100 steps: max |rnnc - torch| = {diff:.2e}")
    assert diff < 1e-5


def test_param_groups_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    params = _params(rng, np.float64)
    init = [p.data.copy() for p in params]
    grads = _grad_sequence(rng, 30, np.float64)
    opt = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05, "amsgrad": True}],
               lr=0.01)
    _run(opt, params, grads)
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    topt = torch.optim.Adam([{"params": tparams[:2]},
                             {"params": tparams[2:], "lr": 0.05, "amsgrad": True}], lr=0.01)
    for step_grads in grads:
        for t, g in zip(tparams, step_grads):
            t.grad = torch.from_numpy(g.copy())
        topt.step()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-12)


def test_step_lr_matches_torch():
    torch = pytest.importorskip("torch")
    opt = SGD([Parameter(np.zeros(2))], lr=0.1)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    for _ in range(10):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
    assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]


def test_load_torch_state_dict_and_continue():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    init = [np.array(rng.standard_normal(s)) for s in SHAPES]
    grads = _grad_sequence(rng, 20, np.float64)
    cfg = dict(lr=0.01, weight_decay=0.1, amsgrad=True)
    # torch runs 20 steps; rnnc takes over torch's weights and state after 10
    tdata10, topt10 = _torch_run(torch, "AdamW", cfg, init, grads[:10])
    tdata20, _ = _torch_run(torch, "AdamW", cfg, init, grads)
    params = [Parameter(a.copy()) for a in tdata10]
    opt = AdamW(params, **cfg)
    opt.load_state_dict(topt10.state_dict())
    assert opt.state[params[0]]["step"] == 10
    _run(opt, params, grads[10:])
    for p, t in zip(params, tdata20):
        np.testing.assert_allclose(p.data, t, rtol=0, atol=1e-12)
    # Adam refuses AdamW's state (decoupled weight decay differs)
    with pytest.raises(ValueError, match="decoupled"):
        Adam([Parameter(a.copy()) for a in init], **cfg).load_state_dict(topt10.state_dict())


# ---------------------------------------------------------------- behaviour

@pytest.mark.parametrize("case", [CASES[3], CASES[10], CASES[-1]], ids=_case_id)
def test_state_dict_round_trip(case):
    name, cfg = case
    rng = np.random.default_rng(6)
    params = _params(rng, np.float64)
    grads = _grad_sequence(rng, 10, np.float64)
    opt = CLASSES[name](params, **cfg)
    _run(opt, params, grads[:5])
    saved = opt.state_dict()
    saved_copy = copy.deepcopy(saved)
    mid = [p.data.copy() for p in params]
    _run(opt, params, grads[5:])
    final = [p.data.copy() for p in params]
    # the snapshot is a copy: later steps did not change it
    for i, entry in saved["state"].items():
        for k, v in entry.items():
            np.testing.assert_array_equal(v, saved_copy["state"][i][k])
    # a fresh optimizer loaded with the snapshot continues identically
    params2 = [Parameter(m.copy()) for m in mid]
    opt2 = CLASSES[name](params2, lr=123.0)       # hyperparameters come from the state dict
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == cfg["lr"]
    _run(opt2, params2, grads[5:])
    for p, f in zip(params2, final):
        np.testing.assert_array_equal(p.data, f)


def test_load_state_dict_is_validated():
    rng = np.random.default_rng(7)
    params = _params(rng, np.float64)
    opt = Adam(params, lr=0.01)
    _run(opt, params, _grad_sequence(rng, 2, np.float64))
    good = opt.state_dict()

    def broken(edit):
        sd = copy.deepcopy(good)
        edit(sd)
        return sd

    cases = [
        (lambda sd: sd["state"][0].__setitem__("exp_avg", np.zeros((9, 9))), ValueError, "shape"),
        (lambda sd: sd["state"][0].__setitem__("exp_avg", np.full((3, 4), np.nan)), ValueError, "NaN"),
        (lambda sd: sd["state"][0].pop("exp_avg_sq"), ValueError, "keys"),
        (lambda sd: sd["state"][0].__setitem__("step", -1), ValueError, "step"),
        (lambda sd: sd["state"].__setitem__(99, {}), ValueError, "unknown parameter"),
        (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), ValueError, "learning rate"),
        (lambda sd: sd["param_groups"][0].__setitem__("betas", (0.9, 1.0)), ValueError, "beta"),
        (lambda sd: sd["param_groups"][0].__setitem__("momentum", 0.9), ValueError, "unknown"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), ValueError, "parameters"),
        (lambda sd: sd["param_groups"].append({"params": []}), ValueError, "groups"),
        (lambda sd: sd["state"][1].__setitem__("exp_avg", np.array(["a"] * 5)), TypeError, "numeric"),
    ]
    before = {k: v.copy() for k, v in opt.state[params[0]].items() if isinstance(v, np.ndarray)}
    for edit, exc, match in cases:
        with pytest.raises(exc, match=match):
            opt.load_state_dict(broken(edit))
    with pytest.raises(TypeError):
        opt.load_state_dict({"state": {}})
    # a failed load changed nothing
    assert opt.param_groups[0]["lr"] == 0.01
    for k, v in before.items():
        np.testing.assert_array_equal(opt.state[params[0]][k], v)


def test_argument_validation_like_torch():
    p = [Parameter(np.zeros(3))]
    for bad in [dict(lr=-0.1), dict(lr=math.nan), dict(momentum=-0.5), dict(weight_decay=-1.0),
                dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
                dict(dampening=math.inf)]:
        with pytest.raises(ValueError):
            SGD(p, **bad)
    for bad in [dict(lr=-1e-3), dict(eps=-1.0), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)),
                dict(betas=(0.9,)), dict(weight_decay=-0.1)]:
        with pytest.raises(ValueError):
            Adam(p, **bad)
        with pytest.raises(ValueError):
            AdamW(p, **bad)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(p[0], lr=0.1)
    with pytest.raises(TypeError, match="Parameters"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p[0], p[0]], lr=0.1)
    with pytest.raises(ValueError, match="unknown"):
        SGD([{"params": p, "betas": (0.9, 0.9)}], lr=0.1)
    with pytest.raises(ValueError, match="StepLR"):
        StepLR(SGD(p, lr=0.1), step_size=0)
    torch = pytest.importorskip("torch")
    for bad in [dict(lr=-0.1), dict(momentum=-0.5), dict(nesterov=True)]:
        with pytest.raises(ValueError):
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], **bad)


def test_bad_arrays_in_step():
    p = Parameter(np.zeros(4))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.zeros(5)
    with pytest.raises(ValueError, match="grad"):
        opt.step()
    p.grad = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="grad"):
        opt.step()
    # binding: in-place arrays must be writeable and C-contiguous, never a silent copy
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"sgd_step\(\): argument 'param'.*writeable"):
        _C.sgd_step(frozen, np.ones(4), None, 0.1)
    with pytest.raises(ValueError, match="'param'.*contiguous"):
        _C.sgd_step(np.zeros(8)[::2], np.ones(4), None, 0.1)
    with pytest.raises(ValueError, match="'momentum_buffer'.*contiguous"):
        _C.sgd_step(np.zeros(4), np.ones(4), np.zeros(8)[::2], 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="momentum_buffer is required"):
        _C.sgd_step(np.zeros(4), np.ones(4), None, 0.1, momentum=0.9)
    with pytest.raises(TypeError, match="'grad'.*float64"):
        _C.sgd_step(np.zeros(4), np.ones(4, np.float32), None, 0.1)
    with pytest.raises(ValueError, match="'grad'"):
        _C.adam_step(np.zeros(4), np.ones(3), np.zeros(4), np.zeros(4), None, 1)
    with pytest.raises(ValueError, match="'exp_avg_sq'.*writeable"):
        _C.adam_step(np.zeros(4), np.ones(4), np.zeros(4), frozen, None, 1)
    with pytest.raises(ValueError, match="step"):
        _C.adam_step(np.zeros(4), np.ones(4), np.zeros(4), np.zeros(4), None, 0)
    with pytest.raises(ValueError, match="max_exp_avg_sq is required"):
        _C.adam_step(np.zeros(4), np.ones(4), np.zeros(4), np.zeros(4), None, 1, amsgrad=True)
    with pytest.raises(ValueError, match="beta2"):
        _C.adam_step(np.zeros(4), np.ones(4), np.zeros(4), np.zeros(4), None, 1, beta2=1.0)
    # a non-contiguous gradient is only read, so it is fine
    q = np.zeros(4)
    _C.sgd_step(q, np.ones(8)[::2], None, 0.5)
    np.testing.assert_array_equal(q, -0.5)


def test_named_params_module_zero_grad_closure_and_skips():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones(3))
            self.b = Parameter(np.ones(2))
    net = Net()
    opt = SGD(net.named_parameters(), lr=0.5)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    assert "SGD" in repr(opt) and "lr: 0.5" in repr(opt)

    def closure():
        net.zero_grad()
        net.w.grad[...] = 2.0
        return 7.0
    assert opt.step(closure) == 7.0
    np.testing.assert_array_equal(net.w.data, 0.0)
    np.testing.assert_array_equal(net.b.data, 1.0)       # zero gradient, no decay: unchanged
    opt.zero_grad()
    assert not net.w.grad.any()
    net.b.grad = None                                     # skipped, like torch
    Adam(net, lr=0.1).step()
    np.testing.assert_array_equal(net.b.data, 1.0)
    assert isinstance(Adam(net.parameters()), Optimizer)


def test_dtype_change_after_stepping():
    net = Module()
    net.w = Parameter(np.ones(3, np.float32))
    opt = Adam(net.parameters(), lr=0.1)
    net.w.grad[...] = 1.0
    opt.step()
    net.to(np.float64)
    net.w.grad[...] = 1.0
    with pytest.raises(TypeError, match="load_state_dict"):
        opt.step()
    opt.load_state_dict(opt.state_dict())             # converts the state to float64
    opt.step()
    assert opt.state[net.w]["exp_avg"].dtype == np.float64
    assert opt.state[net.w]["step"] == 2


def test_step_lr_state_and_resume():
    opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(5):
        sched.step()
    assert sched.last_epoch == 5 and opt.param_groups[0]["lr"] == pytest.approx(0.01)
    state = sched.state_dict()
    sched2 = StepLR(opt, step_size=7, last_epoch=4)
    sched2.load_state_dict(state)
    assert sched2.step_size == 2 and sched2.last_epoch == 5
    sched2.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)
    with pytest.raises(KeyError):
        StepLR(SGD([Parameter(np.zeros(1))], lr=1.0), step_size=2, last_epoch=3)
