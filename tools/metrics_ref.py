#!/usr/bin/python3
"""Reference metrics with mir_eval 0.7 (Debian python3-mir-eval), for tests.

Reads JSON from stdin: {"cases": [{"ref": [[onset, offset, pitch, velocity, program, is_drum], ...],
"est": [...]}, ...], "frame_rate": 62.5} and prints a JSON list with one object per case,
keys as web/engine/music.js evaluate() returns them.

Definitions (mirroring MT3's mt3/metrics.py and metrics_utils.py):
- notes go through note_seq.sequences_lib.sequence_to_valued_intervals (zero-length notes
  dropped, Hz = 440 * 2 ** ((pitch - 69) / 12) as pretty_midi.note_number_to_hz);
- onset / onset_offset: mir_eval.transcription.precision_recall_f1_overlap on pitched notes;
- onset_offset_velocity: mir_eval.transcription_velocity.precision_recall_f1_overlap;
- frame: MT3's get_prettymidi_pianoroll + frame_metrics, re-derived with numpy (pretty_midi's
  piano roll: columns int(start*fs):int(end*fs), velocities summed; pitched notes shorter than
  50 ms lengthened to 50 ms; reference cells > 30, estimated cells > 0; sklearn P/R/F1 with 0 on 0/0);
- multi_instrument*: MT3's _program_aware_note_scores (flat / midi_class / full), with every
  drum note in one drum group (program ignored);
- drum_onset: mir_eval onset-only, pitch-aware, drums alone.
"""
import json
import sys
import warnings

import numpy as np
import mir_eval

warnings.filterwarnings("ignore")


def valued_intervals(notes):
    iv, hz, vel = [], [], []
    for on, off, pitch, v, prog, drum in notes:
        if off == on:
            continue
        iv.append((on, off))
        hz.append(440.0 * (2.0 ** ((pitch - 69) / 12.0)))
        vel.append(v)
    return np.array(iv, dtype=float).reshape((-1, 2)), np.array(hz, dtype=float), np.array(vel, dtype=float)


def prf(ref, est, **kw):
    ri, rp, _ = valued_intervals(ref)
    ei, ep, _ = valued_intervals(est)
    return mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, **kw)


def prf_velocity(ref, est):
    ri, rp, rv = valued_intervals(ref)
    ei, ep, ev = valued_intervals(est)
    return mir_eval.transcription_velocity.precision_recall_f1_overlap(ri, rp, rv, ei, ep, ev)


def pianoroll(notes, fs, width):
    roll = np.zeros((128, width))
    for on, off, pitch, v, prog, drum in notes:
        if off - on < 0.05:
            off = on + 0.05
        roll[pitch, int(on * fs):int(off * fs)] += v
    return roll


def frame(ref, est, fs):
    if not ref or not est:
        return 0.0, 0.0, 0.0
    ends = [on + 0.05 if off - on < 0.05 else off for on, off, *_ in ref + est]
    width = int(fs * max(ends))
    r = pianoroll(ref, fs, width) > 30
    e = pianoroll(est, fs, width) > 0
    tp = float(np.sum(r & e))
    p = tp / np.sum(e) if np.sum(e) else 0.0
    rc = tp / np.sum(r) if np.sum(r) else 0.0
    f = 2 * p * rc / (p + rc) if p + rc > 0 else 0.0
    return p, rc, f


def program_aware(ref, est, granularity):
    fmap = {"flat": lambda p: 0, "midi_class": lambda p: 8 * (p // 8), "full": lambda p: p}[granularity]

    def mapped(notes):
        return [(n[0], n[1], n[2], n[3], 0 if n[5] else fmap(n[4]), n[5]) for n in notes]

    ref, est = mapped(ref), mapped(est)
    groups = set((n[4], n[5]) for n in ref) | set((n[4], n[5]) for n in est)
    ps = pc = rs = rc = 0.0
    for prog, drum in groups:
        rt = [n for n in ref if n[4] == prog and n[5] == drum]
        et = [n for n in est if n[4] == prog and n[5] == drum]
        kw = {"offset_ratio": None} if drum else {}
        p, r, _, _ = prf(rt, et, **kw)
        ne = len(valued_intervals(et)[0])
        nr = len(valued_intervals(rt)[0])
        ps += p * ne
        pc += ne
        rs += r * nr
        rc += nr
    p = ps / pc if pc else 0
    r = rs / rc if rc else 0
    return p, r, mir_eval.util.f_measure(p, r)


def evaluate(ref, est, fs):
    ref = [tuple(n) for n in ref]
    est = [tuple(n) for n in est]
    pr = [n for n in ref if not n[5]]
    pe = [n for n in est if not n[5]]
    dr = [n for n in ref if n[5]]
    de = [n for n in est if n[5]]
    out = {}

    def put(key, vals, overlap=False):
        out[key + "_precision"], out[key + "_recall"], out[key + "_f1"] = (float(v) for v in vals[:3])
        if overlap:
            out[key + "_overlap"] = float(vals[3])

    put("onset", prf(pr, pe, offset_ratio=None), True)
    put("onset_offset", prf(pr, pe), True)
    put("onset_offset_velocity", prf_velocity(pr, pe), True)
    put("frame", frame(pr, pe, fs))
    put("multi_instrument", program_aware(ref, est, "midi_class"))
    put("multi_instrument_flat", program_aware(ref, est, "flat"))
    put("multi_instrument_full", program_aware(ref, est, "full"))
    put("drum_onset", prf(dr, de, offset_ratio=None))
    out["ref_notes"] = len(ref)
    out["est_notes"] = len(est)
    return out


def main():
    req = json.load(sys.stdin)
    fs = float(req.get("frame_rate", 62.5))
    json.dump([evaluate(c["ref"], c["est"], fs) for c in req["cases"]], sys.stdout)


if __name__ == "__main__":
    main()
