#!/usr/bin/env python3
"""snn2ann's frame integration against numpy transcriptions of SpikingJelly's and tonic's.

Writes recordings in the N-MNIST binary format (40 bits an event: x, y, polarity and a
23-bit time stamp, from the format's description), has the library integrate them
(integrate_files, every frame_split, T = 3, 5 and 8), and integrates the same bytes as the
two libraries do, transcribed here with numpy from their code:
  SpikingJelly (spikingjelly.datasets): the file read as load_ATIS_bin reads it;
    cal_fixed_frames_number_segment_index (split_by 'number' and 'time', integer dt),
    then integrate_events_segment_to_frame (channel 0 for p == 0, 1 otherwise);
  tonic (tonic.functional.to_frame with n_event_bins / n_time_bins, overlap 0):
    slice_by_event_bins and slice_by_time_bins ((t[-1] - t[0]) // bins), then np.add.at.
The frames must be equal, count for count. Recordings where SpikingJelly's 'time' raises
(a window without events) are not compared for it, and said so.

usage: check_binning.py INTEGRATE_FILES_PROGRAM WORK_DIR
Exit 0 when every comparison holds, 1 otherwise, 77 (skipped) without numpy.
"""
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is missing (Debian: python3-numpy): skipped")
    sys.exit(77)

H = W = 34
FRAMES = (3, 5, 8)


# ----------------------------------------------------------------------------- the files
def write_nmnist(path, x, y, p, t):
    """N-MNIST's format: per event x, y, then polarity in bit 7 and t's bits 22-16, then
    bits 15-8 and 7-0 of t (microseconds; below 2^23 here, so no overflow marker)."""
    assert t.max(initial=0) < 1 << 23
    raw = np.zeros((len(t), 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p.astype(np.uint32) << 7) | (t >> 16)
    raw[:, 3], raw[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    raw.tofile(path)


def read_nmnist(path):
    """As SpikingJelly's load_ATIS_bin reads a file."""
    raw = np.fromfile(path, dtype=np.uint8).astype(np.uint32)
    x, y, b2 = raw[0::5], raw[1::5], raw[2::5]
    p = (b2 & 128) >> 7
    t = ((b2 & 127) << 16) | (raw[3::5] << 8) | raw[4::5]
    return x, y, p, t


def recordings(rng):
    """50 saccade-like recordings and the edge cases: fewer events than frames, a span
    shorter than T microseconds, events on window edges, a gap of empty windows."""
    out = []
    for i in range(50):
        n = int(rng.integers(20, 4000))
        t0 = int(rng.integers(0, 5000))
        span = int(rng.integers(1000, 310000))
        t = np.sort(rng.integers(t0, t0 + span + 1, size=n))
        t[0], t[-1] = t0, t0 + span
        if i % 3 == 0:  # a quarter of the events on the edges of the 5-frame windows, with ties
            dt, k = span // 5, n // 4
            t[1:1 + k] = t0 + dt * rng.integers(0, 6, size=k)
            t = np.sort(t)
        out.append(t.astype(np.uint32))
    out.append(np.array([7, 8], dtype=np.uint32))                  # fewer events than frames
    out.append(np.array([100, 100, 101, 102], dtype=np.uint32))     # a span of 2 us
    out.append(np.array([0, 1, 2, 3, 90000, 90001], dtype=np.uint32))  # empty windows
    out.append(np.arange(0, 81, 1, dtype=np.uint32) * 1000)        # every event on an edge
    result = []
    for t in out:
        n = len(t)
        result.append((rng.integers(0, W, size=n), rng.integers(0, H, size=n), rng.integers(0, 2, size=n), t))
    return result


# ----------------------------------------------------------------------------- SpikingJelly
def sj_segments(t, split_by, frames):
    """cal_fixed_frames_number_segment_index."""
    n = t.size
    j_l = np.zeros(frames, dtype=int)
    j_r = np.zeros(frames, dtype=int)
    if split_by == "number":
        di = n // frames
        for i in range(frames):
            j_l[i] = i * di
            j_r[i] = j_l[i] + di
        j_r[-1] = n
    else:
        dt = (int(t[-1]) - int(t[0])) // frames
        idx = np.arange(n)
        for i in range(frames):
            t_l = dt * i + int(t[0])
            t_r = t_l + dt
            inside = idx[np.logical_and(t >= t_l, t < t_r)]
            j_l[i] = inside[0]  # an IndexError for an empty window, as in SpikingJelly
            j_r[i] = inside[-1] + 1
        j_r[-1] = n
    return j_l, j_r


def sj_frames(x, y, p, t, split_by, frames):
    """integrate_events_by_fixed_frames_number: per segment, bincount per polarity."""
    j_l, j_r = sj_segments(t, split_by, frames)
    out = np.zeros((frames, 2, H * W))
    for i in range(frames):
        xs, ys, ps = x[j_l[i]:j_r[i]].astype(int), y[j_l[i]:j_r[i]].astype(int), p[j_l[i]:j_r[i]]
        for c, mask in enumerate((ps == 0, ps != 0)):
            counts = np.bincount(ys[mask] * W + xs[mask])
            out[i, c, : counts.size] += counts
    return out.reshape(frames, 2, H, W)


# ----------------------------------------------------------------------------- tonic
def tonic_slices(t, by, bins):
    """slice_by_event_bins / slice_by_time_bins with overlap 0."""
    if by == "events":
        count = len(t) // bins
        starts = np.arange(bins) * count
        return list(zip(starts, starts + count))
    window = (int(t[-1]) - int(t[0])) // bins
    starts = np.arange(bins) * window + int(t[0])
    return list(zip(np.searchsorted(t, starts), np.searchsorted(t, starts + window)))


def tonic_frames(x, y, p, t, by, bins):
    """to_frame_numpy: np.add.at over (bin, p, y, x)."""
    out = np.zeros((bins, 2, H, W), dtype=np.int16)
    for i, (a, b) in enumerate(tonic_slices(t, by, bins)):
        np.add.at(out, (i, p[a:b].astype(int), y[a:b].astype(int), x[a:b].astype(int)), 1)
    return out


REFERENCES = {
    "spikingjelly_number": lambda x, y, p, t, T: sj_frames(x, y, p, t, "number", T),
    "spikingjelly_time": lambda x, y, p, t, T: sj_frames(x, y, p, t, "time", T),
    "tonic_event_bins": lambda x, y, p, t, T: tonic_frames(x, y, p, t, "events", T),
    "tonic_time_bins": lambda x, y, p, t, T: tonic_frames(x, y, p, t, "time", T),
}


def main():
    program, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rng = np.random.default_rng(20261206)
    recs = recordings(rng)
    for i, (x, y, p, t) in enumerate(recs):
        write_nmnist(os.path.join(work, f"r{i:03d}.bin"), x, y, p, t)
    for T in FRAMES:
        subprocess.run([program, work, str(T)], check=True)
    failures = 0
    for name, reference in REFERENCES.items():
        for T in FRAMES:
            compared = skipped = differ = 0
            for i in range(len(recs)):
                x, y, p, t = read_nmnist(os.path.join(work, f"r{i:03d}.bin"))
                try:
                    want = reference(x, y, p, t, T)
                except IndexError:
                    skipped += 1
                    continue
                got = np.load(os.path.join(work, f"r{i:03d}.{name}.{T}.npy")).reshape(T, 2, H, W)
                compared += 1
                if not np.array_equal(got, want.astype(np.float32)):
                    differ += 1
                    if differ <= 3:
                        frames_off = [int(np.abs(got[k] - want[k]).sum()) for k in range(T)]
                        print(f"  {name} T={T} recording r{i:03d} ({len(t)} events): events off per frame {frames_off}")
            note = f", {skipped} not compared (SpikingJelly raises on an empty window)" if skipped else ""
            print(f"{name:20s} T={T}: {compared - differ} of {compared} recordings equal{note}")
            failures += differ
            if compared < 50:
                print(f"  too few recordings compared ({compared} < 50)")
                failures += 1
    print("every binning equals its library's" if failures == 0 else f"{failures} differences")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
