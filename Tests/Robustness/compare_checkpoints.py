#!/usr/bin/env python3
"""Compares HDF5 training checkpoints dataset by dataset, bit for bit (kill-resume.sh).
Exit status 1 when any checkpoint differs from the first."""
import sys
import h5py

def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out

reference = datasets(sys.argv[1])
status = 0
for other in sys.argv[2:]:
    d = datasets(other)
    differing = sorted(k for k in reference if k not in d or reference[k].tobytes() != d[k].tobytes())
    extra = sorted(set(d) - set(reference))
    print(f"{other}: {len(reference)} datasets, {len(differing)} differ {differing[:5]}, {len(extra)} extra")
    status |= bool(differing or extra)
sys.exit(status)
