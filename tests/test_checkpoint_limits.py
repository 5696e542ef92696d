"""Checkpoint loading under a size limit: decompression bombs, declared sizes, peak
memory near the arrays returned, and file permissions like other files written."""
import json
import os
import stat
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from rnnc import checkpoint
from rnnc.checkpoint import CheckpointError
from rnnc.layers import Linear


def _seal(path):
    """Append the rnnc whole-file digest as checkpoint.save does (the zip comment)."""
    with open(path, "r+b") as f:
        end = f.seek(0, os.SEEK_END)
        digest = checkpoint._file_digest(f, end - checkpoint._DIGEST_LEN)
        f.seek(end - checkpoint._DIGEST_LEN)
        f.write(digest)


def craft_bomb(path, nbytes, shape=None, declared=None):
    """A checkpoint whose one member is `nbytes` of zeros, deflated while streaming (so
    the test never holds them); `shape` / `declared` let the header lie about them."""
    shape = shape or [nbytes // 4]
    body = {"arrays": [{"name": "a0", "shape": shape, "dtype": "<f4"}],
            "content": {"__dict__": [["model", {"__dict__": [["w", {"__array__": 0}]]}],
                                     ["optimizer", None], ["extra", None]]}}
    header = json.dumps({"format": "rnnc-checkpoint", "version": 1,
                         "checksum": "sha256:" + "0" * 64, "body": body}).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        with zf.open("a0.npy", "w", force_zip64=True) as m:
            np.lib.format.write_array_header_1_0(
                m, {"descr": "<f4", "fortran_order": False, "shape": (nbytes // 4,)})
            chunk = bytes(1 << 20)
            left = nbytes
            while left:
                m.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
        with zf.open("__header__.npy", "w") as m:
            np.lib.format.write_array(m, np.frombuffer(header, np.uint8))
        zf.comment = checkpoint._TRAILER_PREFIX + b"0" * checkpoint._DIGEST_LEN
    _seal(path)


def test_a_small_file_expanding_to_1_gib_is_refused_without_decompressing(tmp_path):
    path = tmp_path / "bomb.ckpt"
    craft_bomb(path, 1 << 30)
    assert path.stat().st_size < 2 << 20          # ~1 MB on disk
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"ratio \d+ > max_ratio=100.*decompression bomb"):
            checkpoint.load(path)
        with pytest.raises(CheckpointError, match="above max_bytes=536870912"):
            checkpoint.load(path, max_bytes=1 << 29, max_ratio=None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak                   # nothing near the 1 GiB was allocated


def test_header_and_zip_sizes_must_agree(tmp_path):
    path = tmp_path / "lie.ckpt"
    craft_bomb(path, 1 << 20, shape=[4])         # header says 16 bytes, the member holds 1 MiB
    with pytest.raises(CheckpointError, match=r"declares \d+ bytes uncompressed, the header's "
                                              r"shape and dtype need 16 bytes"):
        checkpoint.load(path)


def test_limits_are_overridable_and_checked(tmp_path):
    path = tmp_path / "m.ckpt"
    checkpoint.save(path, {"w": np.zeros((1 << 21,), np.float32)}, compress=True)  # 8 MiB zeros
    with pytest.raises(CheckpointError, match="decompression bomb"):
        checkpoint.load(path)                     # a legitimate but absurdly compressible file
    w = checkpoint.load(path, max_ratio=None)["model"]["w"]
    assert w.shape == (1 << 21,) and not w.any()
    with pytest.raises(CheckpointError, match="above max_bytes=1000"):
        checkpoint.load(path, max_bytes=1000, max_ratio=None)
    for bad in (0, -1, "big", True):
        with pytest.raises(ValueError, match="max_bytes must be a number > 0 or None"):
            checkpoint.load(path, max_bytes=bad)
    # load_into passes the limits on
    m = Linear(3, 2)
    checkpoint.save(path, m)
    with pytest.raises(CheckpointError, match="max_bytes=8"):
        checkpoint.load_into(path, Linear(3, 2), max_bytes=8)


def test_peak_memory_of_a_load_is_near_the_arrays_returned(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {f"w{i}": rng.standard_normal((1 << 19,)).astype(np.float32) for i in range(4)}
    total = sum(a.nbytes for a in arrays.values())          # 8 MiB
    for compress in (False, True):
        path = tmp_path / f"big{compress}.ckpt"
        checkpoint.save(path, arrays, compress=compress)
        tracemalloc.start()
        try:
            ck = checkpoint.load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        for k, a in arrays.items():
            np.testing.assert_array_equal(ck["model"][k], a)
        assert peak < total * 1.25 + (2 << 20), (compress, peak, total)


def test_a_flipped_array_byte_fails_the_checksum_read_on_the_way(tmp_path):
    path = tmp_path / "m.ckpt"
    checkpoint.save(path, {"w": np.arange(10.0)})
    data = bytearray(path.read_bytes())
    pos = data.index(np.arange(10.0).tobytes()) + 3
    data[pos] ^= 0x10
    path.write_bytes(bytes(data))
    _seal(path)                        # re-seal the whole-file digest: only the checksum is left
    with pytest.raises(CheckpointError, match="corrupt"):
        checkpoint.load(path)


def test_checkpoint_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = checkpoint.save(tmp_path / "m.ckpt", Linear(2, 2))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        other = tmp_path / "other.txt"
        other.write_text("x")
        assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(os.stat(other).st_mode)
        os.umask(0o077)
        path = checkpoint.save(tmp_path / "p.ckpt", Linear(2, 2))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    finally:
        os.umask(old)
