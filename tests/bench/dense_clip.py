"""Writes a dense clip for the memory benchmark: slakh-Track01501 (60 s) plus a steady 110 Hz
drone whose period divides the clip, so that some pitch is above the frame threshold in every
frame (no quiet run anywhere, even looped): stream_notes 1 never finds a quiet stretch.
    /usr/bin/python3 tests/bench/dense_clip.py [OUT.wav]   (default dist/bench/dense.wav)
then BENCH_CLIP=dist/bench/dense.wav make bench-memory."""
import sys

import numpy as np
import soundfile as sf

out = sys.argv[1] if len(sys.argv) > 1 else 'dist/bench/dense.wav'
x, sr = sf.read('../shared/data/dev/slakh-Track01501.wav', dtype='float32')
t = np.arange(len(x)) / sr
f = round(110.0 * len(x) / sr) / (len(x) / sr)
y = 0.7 * x + 0.25 * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t))
y /= max(1.0, float(np.abs(y).max()) * 1.01)
sf.write(out, y.astype(np.float32), sr, subtype='PCM_16')
