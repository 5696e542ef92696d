"""Checkpoints survive a process killed with SIGKILL in the middle of saving: the file at
the final path always loads and equals one complete version, never a torn one.

A child process saves large checkpoints (model + optimizer state + a version number)
to one path in a loop and reports each finished save on stdout.  The parent kills it
at varying moments of a save (after a varying number of reports, plus a varying amount
of busy work -- no clock is read), several times over, each child continuing the
version count.  Temporary files of killed saves may remain; they never hide or damage
the checkpoint, and the next save works.
"""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rnnc import checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = 8

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import rnnc
    from rnnc import checkpoint, optim
    path, version = sys.argv[1], int(sys.argv[2])
    model = rnnc.LSTM(64, 256, num_layers=2, seed=0)          # ~3 MiB of parameters
    opt = optim.Adam(model.parameters())
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step()                                                 # + ~6 MiB of Adam state
    while True:
        for p in model.parameters():
            p.data[...] = version                              # every number names the version
        big = np.full(version % 5 * 250_000 + 1, version, np.float32)  # the size varies too
        checkpoint.save(path, model, opt, extra={"version": version, "big": big})
        print(version, flush=True)
        version += 1
""")


def expected_version(ckpt):
    """The version a checkpoint holds, after checking every array says the same."""
    v = ckpt["extra"]["version"]
    assert np.all(ckpt["extra"]["big"] == v) and ckpt["extra"]["big"].size == v % 5 * 250_000 + 1
    for name, a in ckpt["model"].items():
        assert np.all(a == v), f"model {name} holds a mix of versions"
    assert ckpt["optimizer"]["state"], "the optimizer state is missing"
    return v


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_kill_during_save_leaves_the_previous_checkpoint_intact(tmp_path):
    path = str(tmp_path / "model.ckpt")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               RNNC_NUM_THREADS="1")
    rng = np.random.default_rng(0)
    next_version, last_loaded = 0, None
    for r in range(ROUNDS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, path, str(next_version)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, cwd=str(tmp_path))
        reported = []
        try:
            wait_for = int(rng.integers(1, 4))
            while len(reported) < wait_for:
                line = child.stdout.readline()
                assert line, f"child exited early: {child.stderr.read()}"
                reported.append(int(line))
            spin = int(rng.integers(0, 4_000_000))  # 0 to ~100 ms: anywhere in the next save
            for _ in range(spin):
                pass
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        ckpt = checkpoint.load(path)  # must load: never a torn or half-renamed file
        v = expected_version(ckpt)
        # the last reported save, or the one in flight if its rename happened
        assert v in (reported[-1], reported[-1] + 1), (v, reported)
        assert last_loaded is None or v > last_loaded
        last_loaded, next_version = v, v + 1
    leftovers = [f for f in os.listdir(tmp_path) if f != "model.ckpt"]
    assert all(f.startswith(".model.ckpt.") and f.endswith(".tmp") for f in leftovers), leftovers
    # a save after all that replaces the file cleanly
    checkpoint.save(path, extra={"version": -1})
    assert checkpoint.load(path)["extra"]["version"] == -1


def test_a_torn_or_stale_temporary_file_is_never_mistaken_for_the_checkpoint(tmp_path):
    """What a killed save leaves behind (a partial temporary file) is not loadable, and
    the real checkpoint next to it still is."""
    path = tmp_path / "m.ckpt"
    checkpoint.save(path, extra={"a": np.arange(100_000.0)})
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 1):
        torn = tmp_path / f".m.ckpt.partial{cut}.tmp"
        torn.write_bytes(data[:cut])
        with pytest.raises(checkpoint.CheckpointError):
            checkpoint.load(torn)
    np.testing.assert_array_equal(checkpoint.load(path)["extra"]["a"], np.arange(100_000.0))
