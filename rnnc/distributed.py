"""Data-parallel training across processes and machines, on MPI (through mpi4py).

Every process (a "rank") holds a full copy of the model, computes the gradient of its
own share of each global batch, and the ranks sum their gradients with one in-place
``Allreduce`` per step, so every rank applies the same update and the copies stay equal::

    import rnnc.distributed as dist
    dist.init()                                   # a world of size 1 outside an MPI launch
    dist.broadcast_parameters(model)              # rank 0's weights everywhere
    dist.broadcast_optimizer_state(optimizer)
    for x, y in my_share_of_each_batch:           # or simply fit(..., distributed=True)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(); model.zero_grad(); model.backward(loss_fn.backward())
        dist.allreduce_gradients(model)           # the mean over ranks, before clipping
        clip_grad_norm_(model.parameters(), 5.0)  # so clipping sees the global gradient
        optimizer.step()

Launch with ``mpiexec -n 4 python train.py``.  Without mpi4py, ``init()`` gives a world
of size 1 (and refuses, naming what to install, when the process was started by an MPI
launcher or with ``require_mpi=True``).

Failure handling.  With more than one rank, ``init()`` installs a ``sys.excepthook``
that prints the traceback and then calls ``MPI_Abort``, so an uncaught exception on one
rank ends every rank at once.  Every rnnc collective also waits at most ``timeout``
seconds (``init(timeout=...)``, default from the ``RNNC_DIST_TIMEOUT`` environment
variable, else 600) and then raises DistributedTimeoutError, so a rank that caught an
error and went on, or exited, cannot leave the others waiting for ever.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
import traceback

import numpy as np

__all__ = ["init", "is_initialized", "rank", "world_size", "local_world_size", "barrier",
           "abort", "init_for_app", "broadcast_parameters", "broadcast_optimizer_state", "allreduce_gradients",
           "allreduce_sum", "share_cores", "shard_batches", "check_global_batch", "DistributedError",
           "DistributedTimeoutError", "MPIUnavailableError", "INSTALL_COMMAND"]

#: What to run when mpi4py or the MPI library is missing (named in the errors).
INSTALL_COMMAND = "pip install mpi4py==4.1.2 mpich==5.0.2"   # pyproject's "distributed" extra
DEFAULT_TIMEOUT = 600.0
DEFAULT_BUCKET_BYTES = 25 * 2**20   # gradients above this go in several Allreduce calls
SPIN_SECONDS = 0.05                 # a collective polls without sleeping this long first

# variables an MPI launcher sets in the processes it starts (MPICH/Intel, Open MPI, MVAPICH)
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """The ranks disagree (different models, data sizes) or a collective failed."""


class DistributedTimeoutError(DistributedError):
    """A collective waited longer than the timeout: another rank failed or is stuck."""


class MPIUnavailableError(ImportError):
    """mpi4py (or the MPI library under it) is not installed."""


class _World:
    comm = None          # mpi4py.MPI.Intracomm, or None for the world of size 1 without MPI
    MPI = None
    rank = 0
    size = 1
    initialized = False
    timeout = DEFAULT_TIMEOUT
    previous_hook = None


_world = _World()


# -- setup --------------------------------------------------------------------------------
def _launcher_size() -> int:
    for var in _LAUNCHER_SIZE_VARS:
        v = os.environ.get(var, "")
        if v.isdigit():
            return int(v)
    return 1


def _import_mpi(require_mpi: bool):
    """mpi4py.MPI, or None when it is missing and a world of size 1 is acceptable."""
    try:
        import mpi4py
        if "mpi4py.MPI" not in sys.modules:
            mpi4py.rc.thread_level = "funneled"   # only the main thread calls MPI
        from mpi4py import MPI
        return MPI
    except ImportError as exc:
        launched = _launcher_size()
        if not require_mpi and launched <= 1:
            return None
        why = (f"this process was started by an MPI launcher with {launched} processes"
               if launched > 1 else "distributed training was requested")
        raise MPIUnavailableError(
            f"rnnc.distributed: {why}, but mpi4py cannot be imported ({exc}). Install MPI "
            f"and mpi4py with: {INSTALL_COMMAND}   (or your system's MPI, e.g. "
            f"apt-get install libopenmpi-dev openmpi-bin, then pip install mpi4py==4.1.2)") from exc


def init(*, timeout: float | None = None, require_mpi: bool = False) -> int:
    """Join the MPI world (idempotent); returns this process's rank.

    timeout      seconds any rnnc collective waits before raising DistributedTimeoutError
                 (default: $RNNC_DIST_TIMEOUT, else 600); may be changed by a later call.
    require_mpi  raise MPIUnavailableError when mpi4py is missing (else: a world of size 1,
                 unless an MPI launcher started this process).
    """
    if timeout is None and not _world.initialized:
        timeout = float(os.environ.get("RNNC_DIST_TIMEOUT", DEFAULT_TIMEOUT))
    if timeout is not None:
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"init: timeout must be a positive number of seconds, got {timeout!r}")
        _world.timeout = float(timeout)
    if _world.initialized and (_world.comm is not None or not require_mpi):
        return _world.rank
    MPI = _import_mpi(require_mpi)
    if MPI is not None:
        comm = MPI.COMM_WORLD
        launched = _launcher_size()
        if launched > 1 and comm.Get_size() == 1:
            raise DistributedError(
                f"rnnc.distributed: the launcher started {launched} processes but MPI sees a "
                f"world of 1: the mpiexec on PATH belongs to another MPI than the one mpi4py "
                f"was built with ({MPI.Get_library_version().splitlines()[0]}); launch with "
                f"that MPI's mpiexec")
        _world.MPI, _world.comm = MPI, comm
        _world.rank, _world.size = comm.Get_rank(), comm.Get_size()
        if _world.size > 1 and _world.previous_hook is None:
            _world.previous_hook = sys.excepthook
            sys.excepthook = _abort_on_uncaught
    _world.initialized = True
    return _world.rank


def _abort_on_uncaught(etype, value, tb):
    """Print the traceback, then end every rank: the others would wait for this one.
    The traceback is formatted first and written in one piece, so a rank that MPI ends
    meanwhile (another rank leaving) cannot cut it short."""
    if _world.previous_hook is sys.__excepthook__:
        sys.stderr.write("".join(traceback.format_exception(etype, value, tb)))
        sys.stderr.flush()
    else:
        _world.previous_hook(etype, value, tb)
    if _world.comm is not None and not issubclass(etype, KeyboardInterrupt):
        abort(f"rank {_world.rank} of {_world.size} raised an uncaught {etype.__name__}")


def abort(message: str = "", code: int = 1) -> None:
    """Print `message` on this rank and end every rank (MPI_Abort); in a world of size 1
    without MPI, exit this process with `code`."""
    sys.stderr.write(f"rnnc.distributed: {message}; aborting all ranks\n")
    sys.stderr.flush()
    if _world.comm is None:
        raise SystemExit(code)
    _world.comm.Abort(code)


def is_initialized() -> bool:
    """Whether init() has run in this process (a world of size 1 counts)."""
    return _world.initialized


def rank() -> int:
    """This process's rank (0 before init and outside MPI)."""
    return _world.rank


def world_size() -> int:
    """The number of ranks (1 before init and outside MPI)."""
    return _world.size


def local_world_size() -> int:
    """The number of ranks on this machine (they share its cores)."""
    if _world.comm is None or _world.size == 1:
        return 1
    return int(os.environ.get("MPI_LOCALNRANKS") or os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE")
               or _world.comm.Split_type(_world.MPI.COMM_TYPE_SHARED).Get_size())


def share_cores() -> int:
    """Give each rank on this machine an equal share of its cores as rnnc threads
    (unless RNNC_NUM_THREADS is set); returns the thread count."""
    import rnnc

    if "RNNC_NUM_THREADS" not in os.environ:
        rnnc.set_num_threads(max(1, (os.cpu_count() or 1) // local_world_size()))
    return rnnc.get_num_threads()


def init_for_app(threads: int | None = None) -> int:
    """What the apps' --distributed does: join the MPI world (a SystemExit saying what to
    install when MPI is missing) and, unless `threads` is given, share the machine's cores
    among its ranks.  Returns the rank."""
    try:
        init(require_mpi=True)
    except MPIUnavailableError as exc:
        raise SystemExit(f"error: {exc}") from None
    if threads is None:
        share_cores()
    return _world.rank


# -- waiting with a deadline -----------------------------------------------------------------
def _wait(requests, what: str) -> None:
    """Complete nonblocking MPI requests, raising DistributedTimeoutError after the timeout.

    MPI progresses a nonblocking collective only inside MPI calls, so for the first
    SPIN_SECONDS this polls without pause (as a blocking Allreduce would spin); after
    that, with sleeps growing to 1 ms, so that a rank waiting long (for a slow or failed
    one) leaves the cores to the others."""
    test = _world.MPI.Request.Testall
    start = time.monotonic()
    while time.monotonic() - start < SPIN_SECONDS:
        for _ in range(64):
            if test(requests):
                return
    deadline = start + _world.timeout
    delay = 5e-5
    while not test(requests):
        if time.monotonic() > deadline:
            raise DistributedTimeoutError(
                f"rnnc.distributed: rank {_world.rank} of {_world.size} waited {_world.timeout:g} s "
                f"for the other ranks in {what}; one of them has failed (see its error) or is "
                f"stuck (init(timeout=...) or RNNC_DIST_TIMEOUT sets the limit)")
        time.sleep(delay)
        delay = min(delay * 2, 1e-3)


def barrier() -> None:
    """Wait until every rank gets here (with the timeout)."""
    if _world.size > 1:
        _wait([_world.comm.Ibarrier()], "barrier()")


def _allgather_bytes(data: bytes, what: str) -> list:
    """Every rank's `data` (equal lengths), with the timeout."""
    send = np.frombuffer(data, np.uint8)
    recv = np.empty(len(data) * _world.size, np.uint8)
    _wait([_world.comm.Iallgather(send, recv)], what)
    return [recv[i * len(data):(i + 1) * len(data)].tobytes() for i in range(_world.size)]


def allreduce_sum(values, what: str = "allreduce_sum()") -> np.ndarray:
    """The elementwise sum over ranks of `values` (a float64 copy; in a world of 1, a copy)."""
    buf = np.array(values, dtype=np.float64, order="C", ndmin=1)
    if _world.size > 1:
        _wait([_world.comm.Iallreduce(_world.MPI.IN_PLACE, buf, op=_world.MPI.SUM)], what)
    return buf


# -- parameters as flat buffers ------------------------------------------------------------
def _named_params(model, func: str) -> list:
    """[(name, Parameter)], each parameter once (tied ones are synchronised once)."""
    from rnnc.module import Module, Parameter

    if isinstance(model, Module):
        items = list(model.named_parameters())
    elif isinstance(model, Parameter):
        items = [("#0", model)]
    else:
        try:
            items = [(f"#{i}", p) for i, p in enumerate(model)]
        except TypeError:
            raise TypeError(f"{func}: expected an rnnc Module or an iterable of Parameters, "
                            f"got {type(model).__name__}") from None
    seen, out = set(), []
    for name, p in items:
        if not isinstance(p, Parameter):
            raise TypeError(f"{func}: expected Parameters, got {type(p).__name__} at {name}")
        if id(p) not in seen:
            seen.add(id(p))
            out.append((name, p))
    return out


def _by_dtype(arrays) -> dict:
    """{dtype: [positions]} in first-seen order: one flat buffer per dtype."""
    groups: dict = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.dtype, []).append(i)
    return groups


def _pack(arrays, positions, extra: int = 0) -> np.ndarray:
    total = sum(arrays[i].size for i in positions)
    flat = np.empty(total + extra, arrays[positions[0]].dtype)
    off = 0
    for i in positions:
        n = arrays[i].size
        flat[off:off + n] = arrays[i].reshape(-1)
        off += n
    return flat


def _unpack(flat: np.ndarray, arrays, positions) -> None:
    off = 0
    for i in positions:
        n = arrays[i].size
        arrays[i].reshape(-1)[...] = flat[off:off + n]   # in place: the arrays stay the same objects
        off += n


def _buckets(flat: np.ndarray, bucket_bytes: int) -> list:
    """Contiguous slices of flat of at most bucket_bytes (views: reduced in place)."""
    step = max(1, bucket_bytes // flat.itemsize)
    return [flat[s:s + step] for s in range(0, flat.size, step)]


# -- broadcasting the model and the optimizer -------------------------------------------------
def _signature(named) -> list:
    return [(name, tuple(p.data.shape), str(p.data.dtype)) for name, p in named]


def _describe_mismatch(sigs: list, root: int) -> str:
    """The first difference between each rank's parameter list and root's."""
    ref = {n: (s, d) for n, s, d in sigs[root]}
    problems = []
    for r, sig in enumerate(sigs):
        if r == root or sig == sigs[root]:
            continue
        own = {n: (s, d) for n, s, d in sig}
        diff = [f"parameter {n!r} is {own[n][0]} {own[n][1]} on rank {r} but {ref[n][0]} "
                f"{ref[n][1]} on rank {root}" for n in own if n in ref and own[n] != ref[n]]
        diff += [f"parameter {n!r} exists on rank {r} but not on rank {root}"
                 for n in own if n not in ref]
        diff += [f"parameter {n!r} exists on rank {root} but not on rank {r}"
                 for n in ref if n not in own]
        problems.append(diff[0] if diff else f"rank {r} orders its parameters differently")
    return "; ".join(problems)


def _check_same_structure(named, root: int, func: str) -> None:
    sig = _signature(named)
    digest = hashlib.sha256(repr(sig).encode()).digest()
    if len(set(_allgather_bytes(digest, func))) == 1:
        return
    sigs = _world.comm.allgather(sig)  # every rank is here (the digests arrived): no wait
    raise DistributedError(f"{func}: the ranks hold different models: "
                           f"{_describe_mismatch(sigs, root)}")


def _check_root(root, func: str) -> int:
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < _world.size:
        raise ValueError(f"{func}: root must be a rank in [0, {_world.size}), got {root!r}")
    return int(root)


def _broadcast_arrays(arrays, root: int, what: str) -> None:
    """Overwrite `arrays` in place with root's (one Bcast per dtype)."""
    for positions in _by_dtype(arrays).values():
        flat = _pack(arrays, positions)
        _wait([_world.comm.Ibcast(flat, root=root)], what)
        _unpack(flat, arrays, positions)


def broadcast_parameters(model, root: int = 0) -> None:
    """Copy root's parameter values into every rank's model, in place.  First checks that
    every rank's model has the same parameters (names, shapes, dtypes): a mismatch raises
    DistributedError on every rank, naming the parameter."""
    func = "broadcast_parameters"
    root = _check_root(root, func)
    named = _named_params(model, func)
    if _world.size == 1:
        return
    _check_same_structure(named, root, func)
    _broadcast_arrays([p.data for _, p in named], root, func)


def _split_state(sd: dict):
    """(skeleton, arrays): the optimizer state dict with each array replaced by
    ("__array__", position, shape, dtype), and the arrays in that order."""
    arrays, skeleton = [], {}
    for idx, entry in sd["state"].items():
        skeleton[idx] = {}
        for k, v in entry.items():
            if isinstance(v, np.ndarray):
                skeleton[idx][k] = ("__array__", len(arrays), v.shape, str(v.dtype))
                arrays.append(np.ascontiguousarray(v))
            else:
                skeleton[idx][k] = v
    return {"state": skeleton, "param_groups": sd["param_groups"]}, arrays


def broadcast_optimizer_state(optimizer, root: int = 0) -> None:
    """Give every rank root's optimizer state (moments, step counts, learning rates and
    other hyperparameters), through optimizer.load_state_dict on the other ranks."""
    func = "broadcast_optimizer_state"
    root = _check_root(root, func)
    if not (hasattr(optimizer, "state_dict") and hasattr(optimizer, "load_state_dict")):
        raise TypeError(f"{func}: expected an rnnc optimizer, got {type(optimizer).__name__}")
    if _world.size == 1:
        return
    skeleton, arrays = _split_state(optimizer.state_dict()) if _world.rank == root else (None, None)
    # the skeleton is small (keys, shapes, ints, hyperparameters); its bcast waits in
    # Ibarrier first so that a missing rank is a timeout, not a hang
    barrier()
    skeleton = _world.comm.bcast(skeleton, root=root)
    if _world.rank != root:
        arrays = [np.empty(s[2], s[3]) for e in skeleton["state"].values() for s in e.values()
                  if isinstance(s, tuple) and len(s) == 4 and s[0] == "__array__"]
    if arrays:
        _broadcast_arrays(arrays, root, func)
    if _world.rank != root:
        state = {idx: {k: (arrays[v[1]] if isinstance(v, tuple) and len(v) == 4 and v[0] == "__array__"
                           else v) for k, v in entry.items()}
                 for idx, entry in skeleton["state"].items()}
        optimizer.load_state_dict({"state": state, "param_groups": skeleton["param_groups"]})


# -- gradients ---------------------------------------------------------------------------------
def _allreduce_grads(named, average: bool, bucket_bytes: int, extra=None) -> np.ndarray | None:
    """Sum (or average) the gradients over ranks in place; `extra` (small non-negative
    counts or flags, exact in the gradients' dtype) rides in the same Allreduce and comes
    back summed."""
    grads = [p.grad for _, p in named]
    extra = None if extra is None else np.asarray(extra, np.float64).reshape(-1)
    n_extra = 0 if extra is None else extra.size
    groups = list(_by_dtype(grads).values())
    flats = []
    for gi, positions in enumerate(groups):
        flat = _pack(grads, positions, extra=n_extra if gi == 0 else 0)
        if gi == 0 and n_extra:
            flat[-n_extra:] = extra
        flats.append(flat)
    if _world.size > 1:
        MPI = _world.MPI
        reqs = [_world.comm.Iallreduce(MPI.IN_PLACE, b, op=MPI.SUM)
                for flat in flats for b in _buckets(flat, bucket_bytes)]
        _wait(reqs, "allreduce_gradients()")
    summed = None if not n_extra else flats[0][-n_extra:].astype(np.float64)
    for gi, (positions, flat) in enumerate(zip(groups, flats)):
        body = flat[:flat.size - n_extra] if gi == 0 and n_extra else flat
        if average and _world.size > 1:
            body /= _world.size
        _unpack(body, grads, positions)
    return summed


def _sync_gradients(named, finite: bool) -> bool:
    """Average the gradients over ranks; True when every rank's loss was finite (when one
    was not, no rank may step, or the copies would part)."""
    if _world.size == 1:
        return finite
    bad = _allreduce_grads(named, True, DEFAULT_BUCKET_BYTES, extra=[0.0 if finite else 1.0])
    return bad[0] == 0


def allreduce_gradients(model, average: bool = True, *,
                        bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
    """Replace every parameter's .grad by its sum over ranks (the mean with average=True),
    in place.  Call it between backward() and clipping / optimizer.step(), so that
    clipping sees the global gradient.  The gradients are copied into one contiguous
    buffer per dtype, reduced with in-place Allreduce calls over slices of at most
    bucket_bytes (one call for models under 25 MiB of gradients), and copied back."""
    if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, (int, np.integer)) \
            or bucket_bytes < 1:
        raise ValueError(f"allreduce_gradients: bucket_bytes must be an integer >= 1, got "
                         f"{bucket_bytes!r}")
    named = _named_params(model, "allreduce_gradients")
    if named and _world.size > 1:
        _allreduce_grads(named, bool(average), int(bucket_bytes))


# -- sharding ---------------------------------------------------------------------------------
def check_global_batch(batch_size: int, what: str = "batch_size") -> int:
    """The per-rank share of a global batch; a ValueError unless it divides evenly (equal
    shares make the mean of the ranks' mean gradients the mean over the global batch)."""
    if batch_size % _world.size:
        raise ValueError(f"{what} is the global batch (all ranks together) and must be a "
                         f"multiple of the number of ranks, {_world.size}; got {batch_size}")
    return batch_size // _world.size


def shard_batches(order: np.ndarray, batch_size: int):
    """This rank's share of each global batch, as torch's DistributedSampler deals them.

    order       the epoch's sample order (the same on every rank: seed it identically).
    batch_size  the global batch (a multiple of the world size): all ranks' samples of ::

                one step.  Rank r takes every world_size-th sample from position r.

    Yields the local indices of each step.  When len(order) is not a multiple of the world
    size it is padded with its first samples (each epoch then sees every sample once and a
    few twice), so every rank takes the same number of equal steps.
    """
    check_global_batch(batch_size)
    world, r = _world.size, _world.rank
    order = np.asarray(order)
    pad = (-len(order)) % world
    if pad:
        order = np.concatenate([order, np.resize(order, pad)])
    for start in range(0, len(order), batch_size):
        yield order[start + r:start + batch_size:world]
