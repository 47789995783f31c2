# Writes shd_half.h5, the SHD-layout fixture that tests/test_shd.cpp reads: written by h5py
# rather than by the library, with half-precision spike times, 8-bit units and an extra
# group, so that the reader is checked on a file it did not write itself.
#   /usr/bin/python3 tests/data/make_shd_fixture.py tests/data/shd_half.h5
import sys

import h5py
import numpy as np

with h5py.File(sys.argv[1], "w") as f:
    times = f.create_dataset("spikes/times", (3,), dtype=h5py.vlen_dtype(np.float16))
    units = f.create_dataset("spikes/units", (3,), dtype=h5py.vlen_dtype(np.uint8))
    times[0] = np.array([0.0, 0.25, 0.5], dtype=np.float16)
    units[0] = np.array([0, 255, 3], dtype=np.uint8)
    times[1] = np.array([], dtype=np.float16)
    units[1] = np.array([], dtype=np.uint8)
    times[2] = np.array([1.0], dtype=np.float16)
    units[2] = np.array([17], dtype=np.uint8)
    f.create_dataset("labels", data=np.array([19, 0, 7], dtype=np.uint16))
    f.create_dataset("extra/speaker", data=np.array([1, 2, 3], dtype=np.uint16))
