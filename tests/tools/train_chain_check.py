"""The training chain end to end on a tiny synthetic data set (run by tests/node/train_chain.test.mjs):
tools/data/acoustic_features.py -> tools/train/train.py (acoustic features, 64-frame segments, the
time-relative cross-attention bias, the shift pointer and the onset copy, a few steps) -> tools/train/export.py -> the
engine (bin/scribe, WASM, decoding guard) against the PyTorch checkpoint (tools/eval.py's PyModel, the
same guard) on the same audio. Prints one JSON line; exits 1 on a failed check.

    /usr/bin/python3 tests/tools/train_chain_check.py --tmp DIR
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools", "data"))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import mt3_data as md  # noqa: E402

PY = sys.executable


def synth(rng, seconds):
    """Harmonic tones with decaying envelopes at random pitches and times, and their notes."""
    n = int(seconds * md.SR)
    audio = np.zeros(n, np.float64)
    notes = []
    t = 0.1
    while t < seconds - 0.5:
        pitch = int(rng.integers(48, 76))
        dur = float(rng.uniform(0.15, 0.6))
        prog = int(rng.choice([0, 24, 40]))
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        i0, i1 = int(t * md.SR), min(n, int((t + dur) * md.SR))
        dur = (i1 - i0) / md.SR
        tt = np.arange(i1 - i0) / md.SR
        env = np.exp(-tt * 3.0) * np.minimum(1.0, tt / 0.005)
        tone = sum(np.sin(2 * np.pi * f0 * k * tt) / k ** (1.0 + prog / 40.0) for k in range(1, 6))
        audio[i0:i1] += 0.2 * env * tone
        notes.append((t, t + dur, pitch, 100, prog, 0))
        t += float(rng.uniform(0.05, 0.4))
    audio = (audio / max(1e-9, np.abs(audio).max()) * 0.8 * 32767).astype(np.int16)
    return audio, np.array(notes, dtype=md.NOTE_DTYPE)


def run(args):
    r = subprocess.run([PY] + args, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args[:1])} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--steps", type=int, default=800)
    a = ap.parse_args()
    rng = np.random.default_rng(7)
    data = os.path.join(a.tmp, "dataset")
    for split, count in (("train", 3), ("val", 2)):
        os.makedirs(os.path.join(data, split), exist_ok=True)
        for i in range(count):
            audio, notes = synth(rng, 6.0)
            np.savez(os.path.join(data, split, f"synth-{i}.npz"), audio=audio, notes=notes)
    run([os.path.join(ROOT, "tools", "data", "acoustic_features.py"), "--data", data, "--jobs", "1"])
    runs = os.path.join(a.tmp, "run")
    out = run([os.path.join(ROOT, "tools", "train", "train.py"), "--data", data, "--run", runs, "--acoustic",
               "--d", "32", "--heads", "2", "--head-dim", "16", "--mlp", "64", "--layers", "1", "--batch", "4",
               "--segment-frames", "64", "--cross-time-bias", "16", "--shift-pointer", "1", "--onset-copy", "2", "--copy-skip", "176",
               "--steps", str(a.steps),
               "--lr", "3e-3", "--warmup", "5",
               "--guided", "1", "--eval-min", "1000", "--save-min", "1000", "--val-clips", "1",
               "--eval-tokens", "64", "--minutes", "10"])
    rows = open(os.path.join(runs, "curve.csv")).read().strip().splitlines()
    if len(rows) < 2 or f"done {a.steps} steps" not in out:
        sys.exit(f"training did not run {a.steps} steps and evaluate:\n{out[-1500:]}")
    # the weight average (train.py --ema, on by default) is kept, has seen every step, and is what export reads
    import torch
    import export as ex
    ck = torch.load(os.path.join(runs, "ckpt.pt"), map_location="cpu")
    if ck.get("ema_updates") != a.steps or not ck.get("ema"):
        sys.exit(f"checkpoint has no weight average of {a.steps} updates: {ck.get('ema_updates')}")
    _, exported, _ = ex.load(os.path.join(runs, "ckpt.pt"))
    w = "enc_layers.0.attn.q.weight"
    if w not in exported or not torch.equal(exported[w], ck["ema"]["mt3." + w].float()) \
            or torch.equal(ck["ema"]["mt3." + w], ck["model"]["mt3." + w]):
        sys.exit("export does not read the weight average, or the average equals the last weights")
    model = os.path.join(a.tmp, "model.scrb")
    run([os.path.join(ROOT, "tools", "train", "export.py"), "--ckpt", os.path.join(runs, "ckpt.pt"), "--out", model,
         "--dtype", "f32"])

    import soundfile as sf
    import eval as ev
    wav = os.path.join(a.tmp, "clip.wav")
    audio, _ = synth(np.random.default_rng(99), 5.0)
    sf.write(wav, audio, md.SR, subtype="PCM_16")
    py = ev.PyModel(os.path.join(runs, "ckpt.pt"), max_tokens=1024)(wav, os.path.join(a.tmp, "py.csv"))
    eng = ev.transcribe_engine(model, wav, os.path.join(a.tmp, "engine.csv"), os.path.join(ROOT, "bin", "scribe"))
    key = lambda n: (round(float(n["on"]), 3), int(n["pitch"]), int(n["prog"]), int(n["drum"]))  # noqa: E731
    a_set, b_set = {key(n) for n in py}, {key(n) for n in eng}
    same = len(a_set & b_set)
    agree = 2 * same / max(1, len(a_set) + len(b_set))
    res = dict(train_steps=a.steps, curve_rows=len(rows) - 1, segment_frames=64, python_notes=len(py),
               engine_notes=len(eng), agreement=round(agree, 4))
    print(json.dumps(res))
    if len(py) < 3:
        sys.exit(f"the trained model made too few notes for a comparison: {res}")
    if agree < 0.98:
        sys.exit(f"engine and PyTorch notes differ: {res}")


if __name__ == "__main__":
    main()
