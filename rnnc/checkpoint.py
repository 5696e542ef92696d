"""Checkpoints: save and load model / optimizer state safely.

    checkpoint.save("model.ckpt", model, optimizer, extra={"epoch": 3, "vocab": vocab.itos})
    ckpt = checkpoint.load("model.ckpt")      # {"model": {...}, "optimizer": ..., "extra": ...}
    checkpoint.load_into("model.ckpt", model, optimizer)

Format (self-describing, no code runs on load): a NumPy .npz (zip) archive read with
allow_pickle=False.  Member "__header__" holds UTF-8 JSON::

    {"format": "rnnc-checkpoint", "version": 1, "checksum": "sha256:<hex>",
     "body": {"arrays": [{"name": "a0", "shape": [...], "dtype": "<f4"}, ...],
              "content": {...}}}

The content is the saved structure (dicts, lists, tuples, numbers, strings) in JSON
with tagged nodes: {"__dict__": [[key, value], ...]} keeps key order and int keys,
{"__tuple__": [...]}, {"__array__": i} refers to member "a<i>" (numeric arrays only).
The checksum is SHA-256 over the canonical JSON of the body and every array's bytes
(C order).  In addition the zip comment, the last bytes of the file, is
"rnnc-sha256:" + the SHA-256 hex digest of every byte before the digest, so a
truncated, corrupt or bit-flipped file is detected wherever the damage is (zip
metadata included) and reported as CheckpointError.  Loading checks every member's
declared sizes against the header before decompressing anything (load's max_bytes and
max_ratio), so a small crafted file cannot expand into gigabytes.

Saving is atomic: the archive is written to a temporary file in the same directory,
flushed and fsync'ed, moved over the final name with os.replace, and the directory is
fsync'ed.  A failure leaves the previous file untouched and removes the temporary one.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

__all__ = ["CheckpointError", "save", "load", "load_into", "FORMAT_NAME", "FORMAT_VERSION",
           "DEFAULT_MAX_BYTES", "DEFAULT_MAX_RATIO"]

#: The ``"format"`` field of every checkpoint header.
FORMAT_NAME = "rnnc-checkpoint"
#: The newest format version this rnnc reads and the one it writes.
FORMAT_VERSION = 1
_HEADER = "__header__"
_ZIP_MAGIC = b"PK\x03\x04"
_ARRAY_KINDS = "biufcUS"  # dtypes that load without pickle


class CheckpointError(Exception):
    """A file is not an rnnc checkpoint, or is corrupt, truncated or of a newer version."""


# -- encoding the saved structure -----------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays = []  # C-contiguous arrays, member "a<i>"

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, float)) and not isinstance(obj, np.generic):
            return obj
        if isinstance(obj, (np.ndarray, np.generic)):
            arr = np.asarray(obj)
            if arr.dtype.kind not in _ARRAY_KINDS:
                raise TypeError(f"checkpoint.save: {where} is an array of dtype {arr.dtype}; only "
                                f"numeric, bool and string arrays can be saved")
            self.arrays.append(arr if arr.flags.c_contiguous else arr.copy(order="C"))
            node = {"__array__": len(self.arrays) - 1}
            if isinstance(obj, np.generic):
                node["scalar"] = True
            return node
        if hasattr(obj, "items"):
            pairs = []
            for k, v in obj.items():
                if isinstance(k, np.integer):
                    k = int(k)
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"checkpoint.save: {where} has key {k!r}; keys must be str or int")
                pairs.append([k, self.encode(v, f"{where}[{k!r}]")])
            return {"__dict__": pairs}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        raise TypeError(f"checkpoint.save: {where} is a {type(obj).__name__}; a checkpoint holds "
                        f"dicts, lists, tuples, numbers, strings, None and NumPy arrays")


def _decode(node, arrays, path: str):
    if isinstance(node, list):
        return [_decode(v, arrays, path) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            i = node["__array__"]
            if not isinstance(i, int) or not 0 <= i < len(arrays):
                raise CheckpointError(f"{path} is corrupt: array reference {i!r} out of range")
            return arrays[i][()] if node.get("scalar") else arrays[i]
        if "__tuple__" in node:
            return tuple(_decode(v, arrays, path) for v in node["__tuple__"])
        if "__dict__" in node:
            return OrderedDict((k, _decode(v, arrays, path)) for k, v in node["__dict__"])
        raise CheckpointError(f"{path} is corrupt: unknown node {sorted(node)}")
    return node


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _checksum(body: dict, arrays) -> str:
    h = hashlib.sha256(_canonical(body))
    for a in arrays:
        h.update(a.tobytes(order="C"))
    return "sha256:" + h.hexdigest()


def _state_of(obj, what: str):
    """A module/optimizer's state_dict(), or a mapping given directly."""
    if obj is None:
        return None
    if hasattr(obj, "state_dict"):
        return obj.state_dict()
    if hasattr(obj, "items"):
        return obj
    raise TypeError(f"checkpoint.save: {what} must have a state_dict() method or be a mapping, "
                    f"got {type(obj).__name__}")


# -- whole-file digest in the zip comment ----------------------------------------------
_TRAILER_PREFIX = b"rnnc-sha256:"
_DIGEST_LEN = 64  # hex characters of a SHA-256


def _write_npz(f, members: dict, compress: bool) -> None:
    """Write an .npz archive (readable by np.load) whose zip comment ends the file with
    the SHA-256 hex digest of all the bytes before it."""
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, "w", compression=mode, allowZip64=True) as zf:
        for name, arr in members.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
        zf.comment = _TRAILER_PREFIX + b"0" * _DIGEST_LEN  # placeholder, same length
    f.flush()
    end = f.seek(0, os.SEEK_END)
    digest = _file_digest(f, end - _DIGEST_LEN)
    f.seek(end - _DIGEST_LEN)
    f.write(digest)


def _file_digest(f, n: int) -> bytes:
    """SHA-256 hex digest (bytes) of the first n bytes of the open file f."""
    h = hashlib.sha256()
    f.seek(0)
    left = n
    while left > 0:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            break
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest().encode("ascii")


def _check_trailer(path: str) -> None:
    with open(path, "rb") as f:
        magic = f.read(4)
        if magic != _ZIP_MAGIC:
            raise CheckpointError(f"{path} is not an rnnc checkpoint (not an .npz archive; "
                                  f"starts with {magic!r})")
        end = f.seek(0, os.SEEK_END)
        tail_len = len(_TRAILER_PREFIX) + _DIGEST_LEN
        if end < tail_len + 22:  # 22: the zip end-of-directory record
            raise CheckpointError(f"{path} is corrupt or truncated: only {end} bytes")
        f.seek(end - tail_len)
        tail = f.read(tail_len)
        if not tail.startswith(_TRAILER_PREFIX):
            if zipfile.is_zipfile(path):
                raise CheckpointError(f"{path} is not an rnnc checkpoint (a zip/.npz archive "
                                      f"without the rnnc digest; a plain np.savez file?)")
            raise CheckpointError(f"{path} is corrupt or truncated (no rnnc digest at the "
                                  f"end of the file)")
        if _file_digest(f, end - _DIGEST_LEN) != tail[len(_TRAILER_PREFIX):]:
            raise CheckpointError(f"{path} is corrupt: file digest mismatch (the file was "
                                  f"modified or damaged after it was written)")


# -- atomic write ---------------------------------------------------------------------
def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask (read by setting it, as the os module offers no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(path, model=None, optimizer=None, extra=None, *, compress: bool = False,
         architecture=None) -> str:
    """Write a checkpoint of `model` (a Module or a state dict), `optimizer` (an Optimizer
    or its state dict) and `extra` (any JSON-like structure, NumPy arrays allowed)
    atomically to `path` (the exact name given; no suffix is added).  `architecture` is
    what rnnc.save stores to rebuild the model (JSON-like).  The file gets the
    permissions of any file the process creates (0666 less the umask, 0644 usually).
    Returns the path."""
    path = os.fspath(path)
    enc = _Encoder()
    entries = [
        ["model", enc.encode(_state_of(model, "model"), "model")],
        ["optimizer", enc.encode(_state_of(optimizer, "optimizer"), "optimizer")],
        ["extra", enc.encode(extra, "extra")],
    ]
    if architecture is not None:
        entries.append(["architecture", enc.encode(architecture, "architecture")])
    content = {"__dict__": entries}
    body = {"arrays": [{"name": f"a{i}", "shape": list(a.shape), "dtype": a.dtype.str}
                       for i, a in enumerate(enc.arrays)],
            "content": content}
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
              "checksum": _checksum(body, enc.arrays), "body": body}
    members = {f"a{i}": a for i, a in enumerate(enc.arrays)}
    members[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)

    return atomic_write(path, lambda f: _write_npz(f, members, compress))


def atomic_write(path, write) -> str:
    """Call write(f) on a temporary file beside `path` (opened "w+b"), fsync it, move it
    over `path` with os.replace and fsync the directory; on failure remove it and leave
    any previous file untouched.  The file gets 0666 less the umask.  Returns the path."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; match open()'s files
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename
        os.replace(tmp, path)      # atomic: readers see the old file or the new one
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)  # the rename itself is on disk
    return path


# -- load -----------------------------------------------------------------------------
# Limits that keep a small crafted file from taking the machine (a decompression bomb):
# every member's size is checked against the header before anything is decompressed.
#: ``load(max_bytes=...)``'s default: total bytes of the arrays a load may return (2 GiB).
DEFAULT_MAX_BYTES = 2 << 30
#: ``load(max_ratio=...)``'s default: the largest uncompressed / compressed size of one
#: member of 4 MiB or more.
DEFAULT_MAX_RATIO = 100
_RATIO_MIN_BYTES = 4 << 20      # members smaller than this are not ratio-checked
_MAX_HEADER_BYTES = 64 << 20    # the JSON header member
_NPY_HEADER_SLACK = 1 << 16     # an .npy member is its array's bytes plus a short header
_CHUNK = 1 << 20


def _limit(value, name: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not value > 0:
        raise ValueError(f"checkpoint.load: {name} must be a number > 0 or None, got {value!r}")
    return value


def _check_member_size(info, need: int, path: str, max_ratio) -> None:
    """The zip entry's declared sizes must fit the array the header describes, and a
    large compressed member may not expand absurdly; checked before decompressing."""
    if not need <= info.file_size <= need + _NPY_HEADER_SLACK:
        raise CheckpointError(f"{path} is corrupt: member {info.filename!r} declares "
                              f"{info.file_size} bytes uncompressed, the header's shape and "
                              f"dtype need {need} bytes")
    if max_ratio is not None and info.compress_type != zipfile.ZIP_STORED \
            and info.file_size >= _RATIO_MIN_BYTES \
            and info.file_size > max_ratio * max(info.compress_size, 1):
        raise CheckpointError(
            f"{path}: member {info.filename!r} expands {info.compress_size} compressed bytes to "
            f"{info.file_size} (ratio {info.file_size / max(info.compress_size, 1):.0f} > "
            f"max_ratio={max_ratio}); refused as a possible decompression bomb (pass a larger "
            f"max_ratio, or None, to load a file you trust)")


def _array_table(body, infos, path: str, max_bytes, max_ratio):
    """[(zip info, shape, dtype)] from the header, every size checked, nothing read."""
    table, total = [], 0
    for spec in body["arrays"]:
        name = spec.get("name") if isinstance(spec, dict) else None
        info = infos.get(f"{name}.npy") if isinstance(name, str) else None
        if info is None:
            raise CheckpointError(f"{path} is corrupt or truncated: array {name!r} is missing")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise CheckpointError(f"{path} is corrupt: array {name!r} has shape {shape!r}")
        try:
            dtype = np.dtype(spec.get("dtype"))
        except (TypeError, ValueError):
            dtype = None
        if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.hasobject:
            raise CheckpointError(f"{path} is corrupt: array {name!r} has dtype "
                                  f"{spec.get('dtype')!r}")
        need = math.prod(shape) * dtype.itemsize
        total += need
        if max_bytes is not None and total > max_bytes:
            raise CheckpointError(
                f"{path} holds more than {total} bytes of arrays, above max_bytes={max_bytes}; "
                f"refused (pass a larger max_bytes, or None, to load a file you trust)")
        _check_member_size(info, need, path, max_ratio)
        table.append((info, tuple(shape), dtype))
    return table


def _read_array(zf, info, shape, dtype, hasher, path: str) -> np.ndarray:
    """Read one .npy member straight into its array, chunk by chunk, hashing as it goes
    (no second copy); the header's shape and dtype must match the member's."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            got = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            got = np.lib.format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"{path} is corrupt: member {info.filename!r} has .npy "
                                  f"version {version}")
        if got[0] != shape or got[1] or got[2] != dtype:
            raise CheckpointError(
                f"{path} is corrupt: array {info.filename[:-4]!r} is {got[2].str} {list(got[0])}"
                f"{' (Fortran order)' if got[1] else ''}, the header says {dtype.str} {list(shape)}")
        out = np.empty(shape, dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        pos = 0
        while pos < len(view):
            n = f.readinto(view[pos:pos + _CHUNK])
            if not n:
                raise CheckpointError(f"{path} is corrupt or truncated: member "
                                      f"{info.filename!r} ends early")
            hasher.update(view[pos:pos + n])
            pos += n
        if f.read(1):
            raise CheckpointError(f"{path} is corrupt: member {info.filename!r} is longer "
                                  f"than its array")
    return out


def _read_header(zf, infos, path: str) -> dict:
    info = infos.get(_HEADER + ".npy")
    if info is None:
        raise CheckpointError(f"{path} is not an rnnc checkpoint (no {_HEADER} member; "
                              f"a plain .npz file?)")
    if info.file_size > _MAX_HEADER_BYTES:
        raise CheckpointError(f"{path}: the header member declares {info.file_size} bytes "
                              f"(at most {_MAX_HEADER_BYTES}); refused")
    with zf.open(info) as f:
        raw = np.lib.format.read_array(f, allow_pickle=False)
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt: unreadable header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not an rnnc checkpoint (format "
                              f"{header.get('format') if isinstance(header, dict) else None!r})")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path} is corrupt: bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {version}; this rnnc reads "
                              f"up to {FORMAT_VERSION} (upgrade rnnc)")
    body = header.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("arrays"), list):
        raise CheckpointError(f"{path} is corrupt: header has no array table")
    return header


def load(path, *, max_bytes=DEFAULT_MAX_BYTES, max_ratio=DEFAULT_MAX_RATIO) -> dict:
    """Read and verify a checkpoint.  Returns {"model": OrderedDict name -> array or None,
    "optimizer": state dict or None, "extra": ..., "architecture": ... or None (what
    rnnc.save stores), "format": ..., "version": ...}.
    Raises CheckpointError when the file is not an rnnc checkpoint, is corrupt or
    truncated, or was written by a newer format version; FileNotFoundError if missing.

    Before anything is decompressed, every member's declared sizes are checked against
    the header: the arrays together may hold at most `max_bytes` bytes (default 2 GiB),
    and a compressed member of 4 MiB or more may expand at most `max_ratio` times
    (default 100; float weights barely compress).  None lifts a limit.  Each array is
    read straight into the array returned and hashed on the way, so the peak memory of
    a load stays near the size of what it returns."""
    path = os.fspath(path)
    max_bytes, max_ratio = _limit(max_bytes, "max_bytes"), _limit(max_ratio, "max_ratio")
    _check_trailer(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            header = _read_header(zf, infos, path)
            body = header["body"]
            table = _array_table(body, infos, path, max_bytes, max_ratio)
            hasher = hashlib.sha256(_canonical(body))
            arrays = [_read_array(zf, info, shape, dtype, hasher, path)
                      for info, shape, dtype in table]
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError,
            TypeError) as exc:
        raise CheckpointError(f"{path} is corrupt or truncated: {type(exc).__name__}: {exc}") from None
    if "sha256:" + hasher.hexdigest() != header.get("checksum"):
        raise CheckpointError(f"{path} is corrupt: checksum mismatch (the file was modified "
                              f"or damaged after it was written)")
    content = _decode(body.get("content"), arrays, path)
    keys = {"model", "optimizer", "extra"}
    if not isinstance(content, dict) or not keys <= set(content) <= keys | {"architecture"}:
        raise CheckpointError(f"{path} is corrupt: unexpected content layout")
    return {"model": content["model"], "optimizer": content["optimizer"],
            "extra": content["extra"], "architecture": content.get("architecture"),
            "format": FORMAT_NAME, "version": header["version"]}


def load_into(path, model=None, optimizer=None, strict: bool = True, **limits) -> dict:
    """Load a checkpoint and copy its state into `model` (load_state_dict, keys and
    shapes checked) and `optimizer` (load_state_dict).  `limits`: load()'s max_bytes /
    max_ratio.  Returns what load() returns."""
    ckpt = load(path, **limits)
    if model is not None:
        if ckpt["model"] is None:
            raise ValueError(f"load_into: {os.fspath(path)} holds no model state")
        model.load_state_dict(ckpt["model"], strict=strict)
    if optimizer is not None:
        if ckpt["optimizer"] is None:
            raise ValueError(f"load_into: {os.fspath(path)} holds no optimizer state")
        optimizer.load_state_dict(_plain(ckpt["optimizer"]))
    return ckpt


def _plain(obj):
    """OrderedDicts back to dicts (what state-dict loaders expect)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_plain(v) for v in obj)
    return obj
