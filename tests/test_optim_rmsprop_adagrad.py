"""RMSprop and Adagrad (fused C steps) and the CosineAnnealingLR / ReduceLROnPlateau
schedules: C vs the NumPy twin, 100-step parity with torch.optim, state dicts."""
import math

import numpy as np
import pytest

from rnnc import _C, reference
from rnnc.module import Parameter
from rnnc.optim import (SGD, Adagrad, Adam, CosineAnnealingLR, ReduceLROnPlateau, RMSprop,
                        StepLR)

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,), (37,)]

RMSPROP_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.005, alpha=0.9, eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.005, momentum=0.9),
    dict(lr=0.005, centered=True),
    dict(lr=0.002, momentum=0.8, centered=True, weight_decay=0.05),
]
ADAGRAD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.01),
    dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.05, eps=1e-6, lr_decay=0.001, weight_decay=0.01),
]
CASES = [("RMSprop", c) for c in RMSPROP_CONFIGS] + [("Adagrad", c) for c in ADAGRAD_CONFIGS]
CLASSES = {"RMSprop": RMSprop, "Adagrad": Adagrad}
TWINS = {"RMSprop": reference.rmsprop_step, "Adagrad": reference.adagrad_step}


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


def _torch_run(torch, name, cfg, init, grads):
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    opt = getattr(torch.optim, name)(tparams, **cfg)
    for step_grads in grads:
        for t, g in zip(tparams, step_grads):
            t.grad = torch.from_numpy(g.copy())
        opt.step()
    return [t.detach().numpy() for t in tparams], opt


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
            TWINS[name](t, g, st, **cfg)
    for p, t in zip(params, twin):
        np.testing.assert_allclose(p.data, t, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_100_steps_match_torch_float64(case):
    torch = pytest.importorskip("torch")
    name, cfg = case
    rng = np.random.default_rng(2)
    params = _params(rng, np.float64)
    init = [p.data.copy() for p in params]
    grads = _grad_sequence(rng, 100, np.float64)
    opt = CLASSES[name](params, **cfg)
    _run(opt, params, grads)
    tdata, topt = _torch_run(torch, name, cfg, init, grads)
    diff = max(np.abs(p.data - t).max() for p, t in zip(params, tdata))
    print(f"{_case_id(case)} float64, 100 steps: max |rnnc - torch| = {diff:.2e}")
    assert diff < 1e-12
    # the state buffers agree too, under torch's names
    tstate = topt.state_dict()["state"]
    for i, p in enumerate(params):
        for key, buf in opt.state[p].items():
            want = tstate[i][key]
            if key == "step":
                assert buf == int(want.item())
            else:
                np.testing.assert_allclose(buf, want.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad"])
def test_100_steps_match_torch_float32(name):
    torch = pytest.importorskip("torch")
    cfg = dict(lr=0.01, weight_decay=0.01) | (dict(momentum=0.9, centered=True)
                                              if name == "RMSprop" else dict(lr_decay=0.01))
    rng = np.random.default_rng(3)
    params = _params(rng, np.float32)
    init = [p.data.copy() for p in params]
    grads = _grad_sequence(rng, 100, np.float32)
    _run(CLASSES[name](params, **cfg), params, grads)
    tdata, _ = _torch_run(torch, name, cfg, init, grads)
    diff = max(np.abs(p.data - t).max() for p, t in zip(params, tdata))
    print(f"{name} float32, 100 steps: max |rnnc - torch| = {diff:.2e}")
    assert diff < 1e-5


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad"])
def test_load_torch_state_and_continue(name):
    torch = pytest.importorskip("torch")
    cfg = dict(lr=0.01, momentum=0.5, centered=True) if name == "RMSprop" else dict(lr=0.1,
                                                                                 lr_decay=0.01)
    rng = np.random.default_rng(4)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = _grad_sequence(rng, 20, np.float64)
    t20, _ = _torch_run(torch, name, cfg, init, grads)
    t10, topt10 = _torch_run(torch, name, cfg, init, grads[:10])
    params = [Parameter(a.copy()) for a in t10]
    opt = CLASSES[name](params, **cfg)
    opt.load_state_dict(topt10.state_dict())
    _run(opt, params, grads[10:])
    for p, t in zip(params, t20):
        np.testing.assert_allclose(p.data, t, rtol=1e-12, atol=1e-14)
    # and our own state dict round-trips into a fresh optimizer
    fresh = CLASSES[name]([Parameter(p.data.copy()) for p in params], **cfg)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_kernels_directly_and_bad_arguments():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        p = rng.standard_normal(37).astype(dtype)
        g = rng.standard_normal(37).astype(dtype)
        q, sq = p.copy(), np.zeros_like(p)
        _C.rmsprop_step(p, g, sq, None, None, lr=0.01, alpha=0.99)
        np.testing.assert_allclose(sq, 0.01 * g * g, rtol=1e-6)
        # first step: |g| / sqrt(0.01 g^2) = 10, so every element moves by lr * 10 * sign(g)
        np.testing.assert_allclose(q - p, 0.1 * np.sign(g), rtol=1e-4)
        q, s = p.copy(), np.zeros_like(p)
        _C.adagrad_step(p, g, s, 1, lr=0.1)
        np.testing.assert_allclose(q - p, 0.1 * np.sign(g), rtol=1e-5)
    _C.rmsprop_step(np.zeros(0), np.zeros(0), np.zeros(0), None, None)
    _C.adagrad_step(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)), 1)
    z = np.zeros(3)
    with pytest.raises(ValueError, match=r"rmsprop_step\(\): alpha must be in \[0, 1\], got 1.5"):
        _C.rmsprop_step(z, z, z.copy(), None, None, alpha=1.5)
    with pytest.raises(TypeError, match=r"rmsprop_step\(\): argument 'grad_avg' must be a"):
        _C.rmsprop_step(z, z, z.copy(), None, None, centered=True)
    with pytest.raises(TypeError, match=r"rmsprop_step\(\): argument 'momentum_buffer'"):
        _C.rmsprop_step(z, z, z.copy(), None, None, momentum=0.9)
    with pytest.raises(ValueError, match=r"adagrad_step\(\): step must be >= 1, got 0"):
        _C.adagrad_step(z, z, z.copy(), 0)
    with pytest.raises(ValueError, match=r"adagrad_step\(\): lr_decay must be in"):
        _C.adagrad_step(z, z, z.copy(), 1, lr_decay=-1.0)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        RMSprop([Parameter(np.ones(2))], alpha=2.0)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        Adagrad([Parameter(np.ones(2))], lr_decay=-0.1)


def test_frozen_parameters_are_skipped():
    for cls in (SGD, Adam, RMSprop, Adagrad):
        a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
        b.requires_grad = False
        a.grad[...] = b.grad[...] = 1.0
        cls([a, b], lr=0.1).step()
        assert np.all(a.data != 1.0) and np.all(b.data == 1.0), cls.__name__


# ------------------------------------------------------------------- schedules

def _lr_sequence_torch(torch, make, steps, metrics=None):
    opt = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": 0.1},
                           {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.03}])
    sched = make(torch.optim.lr_scheduler, opt)
    out = [sched.get_last_lr()]
    for i in range(steps):
        opt.step()
        sched.step(*([] if metrics is None else [metrics[i]]))
        out.append(sched.get_last_lr())
    return out


def _lr_sequence_rnnc(make, steps, metrics=None):
    from rnnc import optim
    opt = SGD([{"params": [Parameter(np.zeros(2))], "lr": 0.1},
               {"params": [Parameter(np.zeros(1))], "lr": 0.03}])
    sched = make(optim, opt)
    out = [sched.get_last_lr()]
    for i in range(steps):
        opt.step()
        sched.step(*([] if metrics is None else [metrics[i]]))
        out.append(sched.get_last_lr())
    return out


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.001), (1, 0.0), (25, 0.01)])
def test_cosine_annealing_matches_torch(T_max, eta_min):
    torch = pytest.importorskip("torch")

    def make(mod, opt):
        return mod.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    ours = _lr_sequence_rnnc(make, 60)
    theirs = _lr_sequence_torch(torch, make, 60)
    assert ours == theirs        # the same recursion: the same floats, exactly
    # and close to the closed form
    for t, lrs in enumerate(ours[:T_max + 1]):
        want = eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
        assert lrs[0] == pytest.approx(want, rel=1e-9, abs=1e-12)


PLATEAU_CONFIGS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=2, min_lr=0.004),
    dict(patience=0, factor=0.3, min_lr=[0.01, 0.001], eps=1e-3),
    dict(mode="max", threshold_mode="abs", threshold=0.05, patience=3, cooldown=1),
]


@pytest.mark.parametrize("cfg", PLATEAU_CONFIGS)
def test_reduce_lr_on_plateau_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    # a noisy, mostly flat metric with a few improvements
    metrics = list(np.round(1.0 - 0.02 * np.cumsum(rng.random(80) < 0.2) + 0.01 * rng.random(80), 4))

    def make(mod, opt):
        return mod.ReduceLROnPlateau(opt, **cfg)
    ours = _lr_sequence_rnnc(make, 80, metrics)
    theirs = _lr_sequence_torch(torch, make, 80, metrics)
    assert ours == theirs
    assert ours[-1] != ours[0] or cfg.get("mode") == "max"   # the schedule did something


def test_schedules_state_dict_and_errors():
    from rnnc import optim
    opt = SGD([Parameter(np.zeros(2))], lr=0.1)
    s = CosineAnnealingLR(opt, T_max=5)
    for _ in range(3):
        s.step()
    state = s.state_dict()
    opt2 = SGD([Parameter(np.zeros(2))], lr=0.1)
    s2 = CosineAnnealingLR(opt2, T_max=5)
    s2.load_state_dict(state)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    s.step(), s2.step()
    assert s.get_last_lr() == s2.get_last_lr()
    p = ReduceLROnPlateau(opt, patience=0)
    p.step(1.0), p.step(2.0)
    p2 = ReduceLROnPlateau(opt2, patience=0)
    p2.load_state_dict(p.state_dict())
    assert p2.best == 1.0 and p2.last_epoch == 2
    with pytest.raises(ValueError, match="T_max must be an integer >= 1"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="metrics is NaN"):
        ReduceLROnPlateau(opt).step(float("nan"))
    with pytest.raises(TypeError, match="optimizer must be an rnnc Optimizer"):
        optim.CosineAnnealingLR(object(), T_max=3)
    # StepLR still behaves as before on the shared base
    opt3 = SGD([Parameter(np.zeros(2))], lr=1.0)
    st = StepLR(opt3, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        st.step()
        lrs.append(st.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
