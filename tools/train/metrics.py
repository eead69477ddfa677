"""mir_eval transcription metrics on note arrays (fields on, off, pitch, prog, drum).

onset_f1          program-agnostic, pitched notes, onset only (50 ms)
onset_offset_f1   program-agnostic, pitched notes, onset + offset (offset ratio 0.2, min 50 ms)
multi_f1          MT3's multi-instrument F1: notes match only within the same MIDI class
                  (program // 8), onset + offset for pitched notes, onset only for drums
drum_f1           drum onsets (pitch-aware)
A metric with no reference and no estimated notes is NaN (left out of means).
"""
import numpy as np
import mir_eval


def _prf(ref_iv, ref_p, est_iv, est_p, offset):
    if len(ref_p) == 0 and len(est_p) == 0:
        return (float("nan"),) * 3  # nothing to find: left out of means
    if len(ref_p) == 0 or len(est_p) == 0:
        return (0.0, 0.0, 0.0)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_iv, ref_p, est_iv, est_p, onset_tolerance=0.05, offset_ratio=0.2 if offset else None,
        offset_min_tolerance=0.05)
    return (p, r, f)


def _iv(n):
    on = np.asarray(n["on"], np.float64)
    off = np.maximum(np.asarray(n["off"], np.float64), on + 0.01)
    return np.stack([on, off], 1) if len(on) else np.zeros((0, 2))


def _hz(pitch):
    return 440.0 * 2.0 ** ((np.asarray(pitch, np.float64) - 69.0) / 12.0)


def _match(r, e, offset):
    """mir_eval's note matching (50 ms onsets; offsets within 20 % or 50 ms when `offset`) -> (ref, est) index pairs."""
    if len(r) == 0 or len(e) == 0:
        return []
    return mir_eval.transcription.match_notes(_iv(r), _hz(r["pitch"]), _iv(e), _hz(e["pitch"]), onset_tolerance=0.05,
                                              offset_ratio=0.2 if offset else None, offset_min_tolerance=0.05)


def all_metrics(ref, est):
    out = {}
    rp, ep = ref[ref["drum"] == 0], est[est["drum"] == 0]
    p, r, f = _prf(_iv(rp), _hz(rp["pitch"]), _iv(ep), _hz(ep["pitch"]), False)
    out.update(onset_p=p, onset_r=r, onset_f1=f)
    out["onset_offset_f1"] = _prf(_iv(rp), _hz(rp["pitch"]), _iv(ep), _hz(ep["pitch"]), True)[2]
    rd, ed = ref[ref["drum"] == 1], est[est["drum"] == 1]
    out["drum_f1"] = _prf(_iv(rd), _hz(rd["pitch"]), _iv(ed), _hz(ed["pitch"]), False)[2]
    # multi-instrument: separate pitch "spaces" per class (128 semitones apart never match);
    # drums onset-only, counted in the same P/R/F by matching them separately and pooling counts
    def counts(r_, e_, offset):
        return len(_match(r_, e_, offset)), len(r_), len(e_)

    tp = nr = ne = 0
    for cls in sorted(set((rp["prog"] // 8).tolist()) | set((ep["prog"] // 8).tolist())):
        a, b, c = counts(rp[rp["prog"] // 8 == cls], ep[ep["prog"] // 8 == cls], True)
        tp, nr, ne = tp + a, nr + b, ne + c
    a, b, c = counts(rd, ed, False)
    tp, nr, ne = tp + a, nr + b, ne + c
    prec = tp / ne if ne else 0.0
    rec = tp / nr if nr else 0.0
    out["multi_f1"] = 2 * prec * rec / (prec + rec) if prec + rec > 0 else (float("nan") if nr == ne == 0 else 0.0)
    return out


CLASS_NAMES = ["piano", "chrom perc", "organ", "guitar", "bass", "strings", "ensemble", "brass", "reed", "pipe",
               "synth lead", "synth pad", "synth fx", "ethnic", "percussive", "sound fx"]


def class_matches(ref, est):
    """[16, 16] counts: reference MIDI class (row) against the estimated note's class (column) for the pitched
    reference notes matched by onset and pitch, any program (the onset_f1 matching); and [16] reference
    notes per class. The diagonal's share of a row is how often that class keeps its label."""
    rp, ep = ref[ref["drum"] == 0], est[est["drum"] == 0]
    m = np.zeros((16, 16), np.int64)
    total = np.bincount(np.asarray(rp["prog"], np.int64) // 8, minlength=16)
    for i, j in _match(rp, ep, False):
        m[int(rp["prog"][i]) // 8, int(ep["prog"][j]) // 8] += 1
    return m, total
