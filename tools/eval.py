"""`make eval`: transcribes the dev clips and the held-out synthetic set with the C engine
(`bin/scribe transcribe`, WASM build) and prints mir_eval metrics per clip and per group.

    /usr/bin/python3 tools/eval.py [--model weights/mt3.scrb] [--dev ../shared/data/dev]
        [--data .data/dataset] [--heldout 30] [--seconds 30] [--python-model CKPT] [--classes]

Metrics (tools/train/metrics.py, mir_eval): onset F1 with its precision and recall, and onset+offset
F1 (pitched notes, program-agnostic), multi-instrument F1 (MT3 midi_class granularity: class-aware
onset+offset for pitched notes, onsets for drums), drum onset F1. --python-model decodes with the PyTorch checkpoint instead
of the engine (to separate model quality from engine issues). --classes adds, per group, where the
instrument labels go: for each MIDI class, its notes found by onset and the share that keep their class.

Group `slakh-sp` scores the Slakh clips once more against their labels with the bass moved down an
octave, to the pitch that sounds: Slakh's renderer plays bass programs an octave below their MIDI
labels (ethman/slakh-generation issue 2, ethman/slakh-utils issue 18), so a model that writes the
sounding bass pitch, as ours and the acoustic model do, misses every bass note of the `slakh` group.
MT3's published Slakh figures come from training on those labels. The `slakh` group is the one the
issue's floors and the default-model choice use.
"""
import argparse
import csv
import glob
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "train"))
sys.path.insert(0, os.path.join(HERE, "data"))
import metrics  # noqa: E402
import mt3_data as md  # noqa: E402

ROOT = os.path.dirname(HERE)
KEYS = ["onset_f1", "onset_p", "onset_r", "onset_offset_f1", "multi_f1", "drum_f1"]  # onset precision and recall: where F1 goes


def read_csv(path):
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            rows.append((float(r["onset_s"]), float(r["offset_s"]), int(float(r["pitch"])),
                         int(float(r.get("velocity") or 100)), int(float(r.get("program") or 0)),
                         int(float(r.get("is_drum") or 0))))
    return np.array(rows, dtype=md.NOTE_DTYPE)


def write_csv(path, notes):
    with open(path, "w") as f:
        f.write("onset_s,offset_s,pitch,velocity,program,is_drum\n")
        for n in notes:
            f.write(f"{n['on']:.4f},{n['off']:.4f},{n['pitch']},{n['vel']},{n['prog']},{n['drum']}\n")


def bass_at_sounding_pitch(notes):
    """Slakh labels -> the pitches that sound: bass programs (32-39) an octave down."""
    out = notes.copy()
    bass = (out["drum"] == 0) & (out["prog"] // 8 == 4)
    out["pitch"][bass] -= 12
    return out


def heldout_clips(data, n, seconds, out_dir):
    """Writes the first `seconds` of n held-out renditions as WAV + notes CSV."""
    import soundfile as sf
    os.makedirs(out_dir, exist_ok=True)
    files = sorted(glob.glob(os.path.join(data, "val", "*.npz")))
    files = files[:: max(1, len(files) // n)][:n] if n else []
    clips = []
    for f in files:
        z = np.load(f)
        name = os.path.basename(f)[:-4]
        wav = os.path.join(out_dir, name + ".wav")
        ref = os.path.join(out_dir, name + ".notes.csv")
        audio = z["audio"][: int(seconds * md.SR)]
        notes = z["notes"]
        notes = notes[notes["on"] < seconds].copy()
        notes["off"] = np.minimum(notes["off"], seconds)
        sf.write(wav, audio, md.SR, subtype="PCM_16")
        write_csv(ref, notes)
        clips.append(("heldout", name, wav, ref))
    return clips


def transcribe_engine(model, wav, out_csv, scribe):
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs")
    r = subprocess.run(["node", scribe, "transcribe", wav, "--model", model,
                        "--csv", out_csv], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"bin/scribe transcribe {wav}: {r.stderr.strip()[:400]}")
    return read_csv(out_csv)


class PyModel:
    def __init__(self, ckpt, max_tokens=512):
        self.max_tokens = max_tokens
        import torch
        sys.path.insert(0, HERE)
        from export import fold_input_norm, load
        from model import TrainModel
        cfg, sd, obj = load(ckpt)
        cfg["dropout"] = 0.0
        fold_input_norm(cfg, sd, obj)  # the network then reads raw log-mel, as the engine does
        self.acoustic = cfg.get("acoustic_features", 0)
        self.join_ms = cfg.get("join_fragments_ms", 0)
        self.rejoin_ms, self.rejoin_onset = cfg.get("rejoin_ms", 0), cfg.get("rejoin_onset", 0)
        self.onset_gate = cfg.get("onset_gate", 0)
        self.tie_recover, self.tie_end = cfg.get("tie_recover", 0), cfg.get("tie_end", 0)
        self.offset_clip, self.onset_recover = cfg.get("offset_clip", 0), cfg.get("onset_recover", 0)
        md.set_segment_frames(cfg["segment_frames"])
        self.m = TrainModel(cfg, aux=False)
        self.m.mt3.load_state_dict(sd)
        self.m.eval()
        self.torch = torch
        self.logmel = md.LogMel()

    def __call__(self, wav, out_csv):
        import soundfile as sf
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
        audio = audio.mean(1)
        if sr != md.SR:
            from scipy.signal import resample_poly
            g = np.gcd(sr, md.SR)
            audio = resample_poly(audio, md.SR // g, sr // g).astype(np.float32)
        valid = len(audio) // md.HOP + 1  # frames holding audio; later frames are all-zero input (engine)
        nseg = -(-len(audio) // md.SEG_SAMPLES)
        audio = np.pad(audio, (0, nseg * md.SEG_SAMPLES - len(audio)))
        segs = self.torch.from_numpy(audio.reshape(nseg, md.SEG_SAMPLES))
        ac = None
        if self.acoustic:  # the engine's own features (tools/native/acoustic_features_native.c)
            raw = out_csv + ".ac.f32"
            tool = os.path.join(ROOT, "dist", "native", "scribe-acoustic-features")
            r = subprocess.run([tool, wav, "--model", os.path.join(ROOT, "weights", "basic-pitch.scrb"),
                                "--out", raw], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(r.stderr.strip())
            rows = np.fromfile(raw, "<f4").reshape(-1, self.acoustic)
            ac = np.zeros((nseg * md.SEG_FRAMES, self.acoustic), np.float32)
            ac[:min(len(rows), len(ac))] = rows[:len(ac)]
            ac = self.torch.from_numpy(ac.reshape(nseg, md.SEG_FRAMES, self.acoustic))
        evidence = None
        if ac is not None and (self.rejoin_ms or self.onset_gate):
            def evidence(seg, t, pitch):  # the engine's: onset columns of the segment being decoded
                return md.onset_evidence(ac[seg, :, self.acoustic // 2:], seg, t, pitch)
        posterior = None
        if ac is not None and (self.tie_recover or self.tie_end or self.offset_clip or self.onset_recover):
            def posterior(seg, frame, pitch, kind):  # the engine's: the segment decoded and the one before it
                q, j = pitch - 21, frame - seg * md.SEG_FRAMES
                if not 0 <= q < 88:
                    return -1.0
                col = q if kind else self.acoustic // 2 + q
                if 0 <= j < md.SEG_FRAMES:
                    return float(ac[seg, j, col])
                if seg >= 1 and 0 <= j + md.SEG_FRAMES < md.SEG_FRAMES:
                    return float(ac[seg - 1, j + md.SEG_FRAMES, col])
                return -1.0
        dec = md.Decoder(join_ms=self.join_ms, rejoin_ms=self.rejoin_ms, rejoin_below=self.rejoin_onset / 1000.0,
                         gate_below=self.onset_gate / 1000.0, evidence=evidence, posterior=posterior,
                         recover_below=self.tie_recover / 1000.0, untied_below=self.tie_end / 1000.0,
                         clip_below=self.offset_clip / 1000.0, recover_above=self.onset_recover / 1000.0)
        for i in range(0, nseg, 16):
            x = self.logmel(segs[i:i + 16])
            if ac is not None:
                x = self.torch.cat([x, ac[i:i + 16]], -1)
            frame = self.torch.arange(i * md.SEG_FRAMES, i * md.SEG_FRAMES + x.shape[0] * md.SEG_FRAMES)
            x = x.masked_fill((frame >= valid).reshape(x.shape[0], md.SEG_FRAMES, 1), 0.0)
            toks = self.m.greedy(x, max_tokens=self.max_tokens)
            for k, tk in enumerate(toks):
                dec.segment(tk, (i + k) * md.SEG_SAMPLES / md.SR)
        est = dec.finish()
        write_csv(out_csv, est)
        return est


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "weights", "mt3.scrb"))
    ap.add_argument("--dev", default=os.path.join(ROOT, "..", "shared", "data", "dev"))
    ap.add_argument("--data", default=os.path.join(ROOT, ".data", "dataset"))
    ap.add_argument("--heldout", type=int, default=30, help="held-out clips (the model card reports 30)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--scribe", default=os.path.join(ROOT, "bin", "scribe"), help="the CLI script to run")
    ap.add_argument("--python-model", help="PyTorch checkpoint instead of the C engine")
    ap.add_argument("--classes", action="store_true",
                    help="also print, per group, how often the notes of each MIDI class found by onset keep their class")
    a = ap.parse_args()
    clips = []
    for wav in sorted(glob.glob(os.path.join(a.dev, "*.wav"))):
        name = os.path.basename(wav)[:-4]
        ref = wav[:-4] + ".notes.csv"
        if os.path.exists(ref):
            group = "slakh" if name.startswith("slakh") else "real"
            clips.append((group, name, wav, ref))
    tmp = tempfile.mkdtemp(prefix="scribe-eval-")
    if os.path.isdir(os.path.join(a.data, "val")):
        clips += heldout_clips(a.data, a.heldout, a.seconds, os.path.join(tmp, "heldout"))
    else:
        print(f"(no held-out set at {a.data}; run `make data`)")
    run = PyModel(a.python_model) if a.python_model else (lambda w, o: transcribe_engine(a.model, w, o, a.scribe))
    print(f"model: {a.python_model or a.model}")
    print(f"{'group':8s} {'clip':42s} " + " ".join(f"{k:>15s}" for k in KEYS) + "  notes(ref/est)  sec")
    groups = {}
    classes = {}  # group -> (class match counts, reference notes per class)
    for group, name, wav, ref_csv in clips:
        t0 = time.time()
        try:
            est = run(wav, os.path.join(tmp, name + ".est.csv"))
        except Exception as e:  # keep going: one failing clip must not hide the rest
            print(f"{group:8s} {name:42s} FAILED: {e}")
            continue
        ref = read_csv(ref_csv)
        scored = [(group, ref)] + ([("slakh-sp", bass_at_sounding_pitch(ref))] if group == "slakh" else [])
        for g, r in scored:
            m = metrics.all_metrics(r, est)
            groups.setdefault(g, []).append(m)
            if a.classes:
                cm, ct = metrics.class_matches(r, est)
                acc = classes.setdefault(g, [0, 0])
                acc[0], acc[1] = acc[0] + cm, acc[1] + ct
            print(f"{g:8s} {name[:42]:42s} " + " ".join(f"{m[k]:15.3f}" for k in KEYS)
                  + f"  {len(r):5d}/{len(est):<5d}  {time.time() - t0:5.1f}")
    print()
    for g, ms in groups.items():
        print(f"{g:8s} {'mean of ' + str(len(ms)) + ' clips':42s} "
              + " ".join(f"{np.nanmean([m[k] for m in ms]):15.3f}" if any(m[k] == m[k] for m in ms) else f"{'-':>15s}"
                     for k in KEYS))
    if a.classes:
        print_classes(classes)


def print_classes(classes):
    """Per group and reference MIDI class: notes, those matched by onset, the share that keep their class, and
    the classes they are most often given instead."""
    for g, (cm, total) in classes.items():
        found = cm.sum(1)
        kept = np.trace(cm) / max(1, found.sum())
        print(f"\n{g}: MIDI class of the pitched notes matched by onset ({found.sum()} of {total.sum()}; "
              f"{100 * kept:.0f} % keep their class)")
        print(f"  {'class':12s} {'notes':>6s} {'found':>6s} {'kept':>5s}  labelled instead")
        for c in np.nonzero(total)[0]:
            other = [(cm[c, k], k) for k in range(16) if k != c and cm[c, k]]
            instead = ", ".join(f"{metrics.CLASS_NAMES[k]} {100 * n / found[c]:.0f} %" for n, k in sorted(other, reverse=True)[:3])
            share = f"{100 * cm[c, c] / found[c]:4.0f}%" if found[c] else f"{'-':>5s}"
            print(f"  {metrics.CLASS_NAMES[c]:12s} {total[c]:6d} {found[c]:6d} {share}  {instead}")


if __name__ == "__main__":
    main()
