"""Acoustic (Basic Pitch) features for every rendition of the data set, for MT3 models that read
them beside the log-mel (config acoustic_features = 176; src/models/mt3_acoustic.h).

    /usr/bin/python3 tools/data/acoustic_features.py --data .data/dataset [--jobs 2]

Runs the engine's own tool (dist/native/scribe-acoustic-features, `make` builds it) on each
rendition's 16 kHz audio, so training sees exactly the features an MT3 session computes, and
stores acoustic/<split>/<id>.npy: float16 [rows][176] (88 note then 88 onset posteriors per MT3 frame;
rows past the end are zero). Skips renditions whose features exist.

acoustic/VERSION names the feature layout. Features of another version are deleted and computed
again: version 1 (sessions 1-6) read the acoustic rows as evenly spaced, which drifts 5.2 ms per
second from the audio (src/models/mt3_acoustic.h).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "dist", "native", "scribe-acoustic-features")
MODEL = os.path.join(ROOT, "weights", "basic-pitch.scrb")
N_FEATURES = 176
VERSION = "2: acoustic rows at their window times"


def stamp_path(data):
    return os.path.join(data, "acoustic", "VERSION")


def current_version(data):
    """The version of the features under data/acoustic, or None."""
    try:
        with open(stamp_path(data)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def feature_path(data, split, rid):
    return os.path.join(data, "acoustic", split, rid + ".npy")


def one(npz, out, tmp):
    if os.path.exists(out):
        return out, "exists"
    import soundfile as sf
    audio = np.load(npz)["audio"]
    wav = os.path.join(tmp, os.path.basename(npz)[:-4] + ".wav")
    raw = os.path.join(tmp, os.path.basename(npz)[:-4] + ".f32")
    sf.write(wav, audio, 16000, subtype="PCM_16")
    r = subprocess.run(["nice", "-n", "10", TOOL, wav, "--model", MODEL, "--out", raw], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{npz}: {r.stderr.strip()}")
    feat = np.fromfile(raw, "<f4").reshape(-1, N_FEATURES)
    np.save(out + ".tmp.npy", feat.astype(np.float16))
    os.replace(out + ".tmp.npy", out)
    os.remove(wav)
    os.remove(raw)
    return out, f"{len(feat)} rows"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=".data/dataset")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    if not os.path.exists(TOOL):
        sys.exit(f"{TOOL} missing: run make dist/native/scribe-acoustic-features")
    found = current_version(a.data)
    if os.path.isdir(os.path.join(a.data, "acoustic")) and found != VERSION:
        print(f"acoustic features of version {found!r}, not {VERSION!r}: computing them again", flush=True)
        shutil.rmtree(os.path.join(a.data, "acoustic"))
    os.makedirs(os.path.join(a.data, "acoustic"), exist_ok=True)
    with open(stamp_path(a.data), "w") as f:  # before any file: every file in the folder is of this version
        f.write(VERSION + "\n")
    jobs = []
    for s in ("train", "val"):
        os.makedirs(os.path.join(a.data, "acoustic", s), exist_ok=True)
        for f in sorted(os.listdir(os.path.join(a.data, s))):
            if f.endswith(".npz"):
                jobs.append((os.path.join(a.data, s, f), feature_path(a.data, s, f[:-4])))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(a.jobs) as ex:
        for i, (out, what) in enumerate(ex.map(lambda j: one(j[0], j[1], tmp), jobs)):
            if i % 20 == 0 or i == len(jobs) - 1:
                print(f"{i + 1}/{len(jobs)} {os.path.basename(out)}: {what}", flush=True)


if __name__ == "__main__":
    main()
