"""Hostile PyTorch files for the reader's limits (docs/robustness.md), each small.

Made with torch itself where torch can write them (an expanded view, a view whose size
overflows), by hand where torch would not (a 50,000-deep pickle, a memo bomb, a zip bomb).

    .venv-bench/bin/python Tests/Fixtures/generate_hostile_fixtures.py
"""
import collections
import io
import os
import pickle
import struct
import zipfile

import torch

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pth")

# An ordinary expanded view: 1 stored element seen as 10^6 x 10^6 (4 TB if materialised).
torch.save({"w": torch.zeros(1).expand(1_000_000, 1_000_000)}, os.path.join(out, "hostile_expand.pth"))


class OverflowingView:
    """Pickles as _rebuild_tensor_v2 over a real storage with size [2^40, 2^40]."""

    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, 0, (2**40, 2**40), (0, 0), False, collections.OrderedDict()))


torch.save({"w": OverflowingView(torch.zeros(1)._typed_storage())}, os.path.join(out, "hostile_overflow.pth"))


def legacy(object_pickle: bytes) -> bytes:
    """torch's legacy stream around a hand-made object pickle (no storages)."""
    head = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    head += pickle.dumps(1001, protocol=2)
    head += pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    return head + object_pickle + pickle.dumps([], protocol=2)


# 50,000 nested lists: EMPTY_LIST x n, APPEND x (n - 1).
n = 50_000
deep = b"\x80\x02" + b"]" * n + b"a" * (n - 1) + b"."
open(os.path.join(out, "hostile_deep.pth"), "wb").write(legacy(deep))

# A memo bomb: t_0 = [], t_k = (t_{k-1}, t_{k-1}); t_60 expands to 2^60 objects.
bomb = bytearray(b"\x80\x02]\x94")  # EMPTY_LIST, MEMOIZE (memo 0)
for k in range(1, 61):
    bomb += b"j" + struct.pack("<I", k - 1) + b"2\x86\x94"  # LONG_BINGET k-1, DUP, TUPLE2, MEMOIZE
bomb += b"."
open(os.path.join(out, "hostile_memo_bomb.pth"), "wb").write(legacy(bytes(bomb)))

# A cycle through a tuple (found by fuzzing): l = []; l.append((l,)) — EMPTY_LIST, MEMOIZE,
# BINGET 0, TUPLE1, APPEND. Printing or flattening it recursed until the stack overflowed.
cycle = b"\x80\x02]\x94h\x00\x85a."
open(os.path.join(out, "hostile_cycle.pth"), "wb").write(legacy(cycle))

# A zip bomb: a torch.save archive whose one storage entry is deflated 100 MB of zeros.
buffer = io.BytesIO()
torch.save({"w": torch.zeros(4)}, buffer)
source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
with zipfile.ZipFile(os.path.join(out, "hostile_zip_bomb.pth"), "w") as z:
    for info in source.infolist():
        data = source.read(info.filename)
        if info.filename.endswith("/data/0"):
            z.writestr(info.filename, bytes(100 << 20), compress_type=zipfile.ZIP_DEFLATED)
        else:
            z.writestr(info.filename, data, compress_type=zipfile.ZIP_STORED)
print("wrote hostile_*.pth to", out)

# HDF5: a dataset header claiming 4 TB with nothing stored (h5py allocates storage late).
import h5py  # noqa: E402

h5_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h5")
os.makedirs(h5_dir, exist_ok=True)
with h5py.File(os.path.join(h5_dir, "hostile_huge_dataset.h5"), "w") as f:
    f.create_dataset("model/w", shape=(1_000_000, 1_000_000), dtype="f4")
print("wrote hostile_huge_dataset.h5 to", h5_dir)
