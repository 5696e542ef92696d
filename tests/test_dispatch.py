"""Run-time CPU dispatch, the thread pool and the vectorised activations.

- best_isa()/set_isa()/get_isa(): only supported paths can be forced; the env var
  RNNC_ISA picks the initial path; every path gives the same answers.
- Threads: RNNC_NUM_THREADS sets the default; several Python threads may call the
  core at once (the pool is shared, a busy pool means "compute alone"); changing the
  thread count while others compute is safe; a forked child can still compute.
- sigmoid/tanh kernels (activations.h) against float64 NumPy on every path.
"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from rnnc import _C, _testhooks

ALL_ISAS = ("portable", "avx2", "avx512")
ISAS = ALL_ISAS[: ALL_ISAS.index(_C.best_isa()) + 1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


pytestmark = pytest.mark.usefixtures("restore_runtime")


def run_python(code, **env):
    """Run `code` in a fresh interpreter with extra environment variables."""
    e = dict(os.environ, **env)
    e["PYTHONPATH"] = ROOT + os.pathsep + e.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# ----------------------------------------------------------------- dispatch

def test_best_isa_is_a_known_path_and_the_default():
    assert _C.best_isa() in ALL_ISAS
    out = run_python("from rnnc import _C; print(_C.get_isa(), _C.best_isa())")
    active, best = out.split()
    assert active == best


def test_set_isa_accepts_supported_and_rejects_others():
    for isa in ISAS:
        _C.set_isa(isa)
        assert _C.get_isa() == isa
    for isa in ALL_ISAS[len(ISAS):]:
        with pytest.raises(RuntimeError):
            _C.set_isa(isa)
    with pytest.raises(ValueError):
        _C.set_isa("sse9")


def test_isa_environment_variable():
    out = run_python("from rnnc import _C; print(_C.get_isa())", RNNC_ISA="portable")
    assert out == "portable"
    # an unknown or unsupported request falls back to the best path
    out = run_python("from rnnc import _C; print(_C.get_isa())", RNNC_ISA="nonsense")
    assert out == _C.best_isa()


def test_cpu_flags_agree_with_detection():
    """On Linux, /proc/cpuinfo lists the CPU's features; the detected path must not
    exceed them (and AVX-512F listed implies the AVX-512 path, unless the OS hides it)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    except OSError:
        flags = None
    if flags is None:
        pytest.skip("no /proc/cpuinfo flags")
    best = _C.best_isa()
    if best == "avx512":
        assert "avx512f" in flags
    if best in ("avx2", "avx512"):
        assert "avx2" in flags and "fma" in flags
    if "avx512f" in flags and "fma" in flags and best != "portable":
        # (portable here: a build without SIMD code, -DRNNC_NO_X86)
        assert best == "avx512"


# ------------------------------------------------------------------ threads

def test_num_threads_default_from_environment():
    assert run_python("from rnnc import _C; print(_C.get_num_threads())", RNNC_NUM_THREADS="3") == "3"
    # malformed values are ignored: the default is the number of CPUs
    out = run_python("import os; from rnnc import _C; print(_C.get_num_threads(), os.cpu_count())",
                     RNNC_NUM_THREADS="zero")
    got, cpus = out.split()
    assert int(got) >= 1


def test_set_num_threads_validates():
    _C.set_num_threads(3)
    assert _C.get_num_threads() == 3
    for bad in (0, -1):
        with pytest.raises(ValueError):
            _C.set_num_threads(bad)


def _worker(seed, dtype, results, idx, errors):
    try:
        rng = np.random.default_rng(seed)
        for _ in range(15):
            a = rng.standard_normal((int(rng.integers(1, 90)), 70)).astype(dtype)
            b = rng.standard_normal((70, int(rng.integers(1, 300)))).astype(dtype)
            got = _C.gemm(a, b)
            want = a.astype(np.float64) @ b.astype(np.float64)
            tol = 1e-4 if dtype == np.float32 else 1e-12
            if not np.allclose(got, want, rtol=tol, atol=tol):
                errors.append(f"thread {idx}: wrong result")
        results[idx] = True
    except Exception as e:  # pragma: no cover - reported below
        errors.append(repr(e))


@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_concurrent_python_threads(nthreads):
    """Several Python threads compute at once (the GIL is released in the core);
    whoever finds the pool busy computes alone.  Results stay exact."""
    _C.set_num_threads(nthreads)
    results, errors = [False] * 6, []
    ts = [threading.Thread(target=_worker, args=(i, (np.float32, np.float64)[i % 2], results, i, errors))
          for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors, errors
    assert all(results)


def test_set_num_threads_while_others_compute():
    stop = threading.Event()
    errors = []

    def toggler():
        n = 1
        while not stop.is_set():
            _C.set_num_threads(n)
            n = n % 3 + 1

    t = threading.Thread(target=toggler)
    t.start()
    try:
        rng = np.random.default_rng(0)
        for _ in range(40):
            a = rng.standard_normal((64, 200)).astype(np.float32)
            b = rng.standard_normal((300, 200)).astype(np.float32)
            got = _C.gemm(a, b, trans_b=True)
            if not np.allclose(got, a @ b.T, rtol=1e-4, atol=1e-4):
                errors.append("wrong result")
    finally:
        stop.set()
        t.join()
    assert not errors


@pytest.mark.parametrize("nthreads", [1, 2, 3])
@pytest.mark.parametrize("n_tasks", [0, 1, 2, 5, 32])
def test_region_phases_run_every_task_once_in_order(nthreads, n_tasks):
    """The recurrent loops' work sharing: every task of every phase runs exactly once,
    and only after the whole previous phase is done."""
    _C.set_num_threads(nthreads)
    used, errors, taken, _ = _testhooks.region_phases_check(nthreads, 3000, n_tasks, -1, 0)
    assert used == nthreads
    assert errors == 0
    assert sum(taken) == 3000 * n_tasks


@pytest.mark.parametrize("nthreads", [2, 3])
def test_region_phases_do_not_wait_for_a_stalled_thread(nthreads):
    """A thread that stops for a while (as a descheduled one does) does not hold the
    others up: they take its home tasks of that phase (it sleeps 200 ms before taking
    any; they start taking others' tasks after 20 us)."""
    _C.set_num_threads(nthreads)
    phases, n_tasks = 400, 8
    used, errors, taken, stalled_took = _testhooks.region_phases_check(nthreads, phases, n_tasks, 1,
                                                               200_000)
    assert used == nthreads and errors == 0
    assert sum(taken) == phases * n_tasks
    assert stalled_took == 0


@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_parallel_for_runs_every_task_once(nthreads):
    _C.set_num_threads(nthreads)
    for n in (0, 1, 2, 7, 1000):
        counts = _testhooks.parallel_for_check(n, nthreads)
        assert counts.shape == (n,) and np.all(counts == 1)


def test_benchmark_probes_measure_and_validate():
    """The rooflines bench/ reads (FMA rate, cache read bandwidth) are positive on every
    available path and refuse arguments out of range with a ValueError."""
    for isa in ("portable", _C.best_isa()):
        assert _testhooks.fma_peak(isa, 2, 1000) > 0
        assert _testhooks.read_bandwidth(isa, 2, 64 * 1024, 3) > 0
    for bad in ((_C.best_isa(), 0, 4096, 1), (_C.best_isa(), 65, 4096, 1),
                (_C.best_isa(), 1, 255, 1), (_C.best_isa(), 1, 2 ** 33, 1),
                (_C.best_isa(), 1, 4096, 0), ("mmx", 1, 4096, 1)):
        with pytest.raises(ValueError, match="read_bandwidth"):
            _testhooks.read_bandwidth(*bad)


def test_region_runs_alone_when_pool_busy():
    """Regions started from several Python threads at once never deadlock: one gets
    the pool, the others run on their own thread."""
    _C.set_num_threads(2)
    out = []
    ts = [threading.Thread(target=lambda: out.append(_testhooks.region_phases_check(2, 3000, 8, -1, 0)))
          for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert len(out) == 4
    assert all(errors == 0 and used in (1, 2) and sum(taken) == 3000 * 8
               for used, errors, taken, _ in out)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_can_compute():
    """The pool's helper threads do not survive fork(); the child rebuilds them."""
    code = (
        "import os, numpy as np\n"
        "from rnnc import _C\n"
        "_C.set_num_threads(2)\n"
        "a = np.ones((200, 300), np.float32); b = np.ones((300, 400), np.float32)\n"
        "_C.gemm(a, b)\n"  # the parent has started its pool
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = np.all(_C.gemm(a, b) == 300)\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    assert run_python(code) == "0"


# --------------------------------------------------------------- activations

def sigmoid64(x):
    return 1.0 / (1.0 + np.exp(-x))


ACT_REF = {"sigmoid": sigmoid64, "tanh": np.tanh}


def activation_inputs():
    return np.concatenate([
        np.linspace(-100, 100, 40001), np.linspace(-1, 1, 4001),
        np.logspace(-30, 1.5, 1000), -np.logspace(-30, 1.5, 1000),
        [0.625, -0.625, 0.62499994, 9.0, -9.0, 88.0, -88.0, 87.5, -87.5],
    ])


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_float32_accuracy(isa, name):
    _C.set_isa(isa)
    x = activation_inputs().astype(np.float32)
    got = _testhooks.vector_activation(name, x).astype(np.float64)
    want = ACT_REF[name](x.astype(np.float64))
    normal = np.abs(want) >= np.finfo(np.float32).tiny
    rel = np.abs(got - want)[normal] / np.abs(want[normal])
    print(f"{isa} {name} float32 max relative error {rel.max():.3g}")
    assert rel.max() < 1e-6
    assert np.all(np.abs(got - want)[~normal] < 1e-37)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_activation_float64_accuracy(isa, name):
    _C.set_isa(isa)
    x = activation_inputs()
    got = _testhooks.vector_activation(name, x)
    want = ACT_REF[name](x)
    normal = np.abs(want) >= np.finfo(np.float64).tiny
    rel = np.abs(got - want)[normal] / np.abs(want[normal])
    assert rel.max() < 1e-15


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_special_values_and_shapes(isa, dtype):
    _C.set_isa(isa)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype)
    t = _testhooks.vector_activation("tanh", special)
    assert np.isnan(t[0]) and t[1] == 1 and t[2] == -1 and t[3] == 0 and np.signbit(t[4])
    s = _testhooks.vector_activation("sigmoid", special)
    # sigmoid(-inf) is 0 up to a denormal (fp32 kernels assume denormals are flushed)
    assert np.isnan(s[0]) and s[1] == 1 and 0 <= s[2] < 1e-37 and s[3] == 0.5
    # every length around the vector widths (masked tails), and n-d shapes
    rng = np.random.default_rng(0)
    for n in list(range(0, 40)) + [63, 64, 65, 127, 129]:
        x = (rng.standard_normal(n) * 4).astype(dtype)
        np.testing.assert_allclose(_testhooks.vector_activation("tanh", x), np.tanh(x.astype(np.float64)),
                                   rtol=1e-6, atol=1e-30)
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    assert _testhooks.vector_activation("sigmoid", x).shape == (3, 5, 7)
    # non-contiguous input is accepted (copied)
    np.testing.assert_allclose(_testhooks.vector_activation("tanh", x[:, ::2, 1:]),
                               np.tanh(x[:, ::2, 1:].astype(np.float64)), rtol=1e-6)


def test_activation_bad_arguments():
    with pytest.raises(ValueError):
        _testhooks.vector_activation("relu", np.zeros(3))
    with pytest.raises(TypeError):
        _testhooks.vector_activation("tanh", np.zeros(3, np.int64))
    with pytest.raises(TypeError):
        _testhooks.vector_activation("tanh", [1.0, 2.0])
