"""MT3 front end and event codec in Python, for building training data and checking the engine.

Follows magenta/mt3 (spectrograms.py + ddsp.spectral_ops, vocabularies.py, note_sequences.py,
run_length_encoding.py):
  * log-mel: 16 kHz, frames of 128 samples, 256 frames per segment; each segment's spectrogram is
    computed from its own 32768 samples (tf.signal.stft, frame 2048, step 128, pad_end=True, periodic
    Hann, magnitude), 512 HTK mel bins 20..7600 Hz (tf.signal.linear_to_mel_weight_matrix, DC bin
    zero), natural log floored at 1e-5.
  * vocabulary: PAD 0, EOS 1, UNK 2, then the codec: shift 0..1000 (10 ms steps), pitch 0..127,
    velocity 0..1, tie, program 0..127, drum 0..127 -> 1391 ids, embedding rows 1536.
  * segment targets: tie section (program, pitch for every note sounding at the segment start,
    sorted by program then pitch; then tie), then events; shifts run-length encoded as the absolute
    step since the segment start; redundant velocity/program changes removed; EOS.
Programs use MT3's "midi_class" granularity when asked (program -> 8 * (program // 8)).
"""
import math

import numpy as np

SR = 16000
HOP = 128
FFT = 2048
MEL_BINS = 512
FMIN = 20.0
FMAX = 7600.0
SEG_FRAMES = 256        # MT3's segment; a model may use another (config segment_frames): set_segment_frames
SEG_SAMPLES = SEG_FRAMES * HOP
STEPS_PER_SECOND = 100
MAX_SHIFT = 1000

PAD, EOS, UNK = 0, 1, 2
N_SPECIAL = 3
SHIFT0 = N_SPECIAL                      # shift value v -> SHIFT0 + v   (v in 0..1000)
PITCH0 = SHIFT0 + MAX_SHIFT + 1         # 1004
VEL0 = PITCH0 + 128                     # 1132 (0 = off, 1 = on)
TIE = VEL0 + 2                          # 1134
PROG0 = TIE + 1                         # 1135
DRUM0 = PROG0 + 128                     # 1263
N_TOKENS = DRUM0 + 128                  # 1391
VOCAB = 1536


# ---------------------------------------------------------------- log-mel

def _hz_to_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def mel_matrix(n_mels=MEL_BINS, n_fft=FFT, sr=SR, fmin=FMIN, fmax=FMAX):
    """[n_fft//2+1, n_mels] like tf.signal.linear_to_mel_weight_matrix (HTK, DC row zero)."""
    nbins = n_fft // 2 + 1
    lin = np.linspace(0.0, sr / 2.0, nbins)[1:]
    lin_mel = _hz_to_mel(lin)[:, None]
    edges = np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2)
    lo, ce, hi = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower = (lin_mel - lo) / (ce - lo)
    upper = (hi - lin_mel) / (hi - ce)
    w = np.maximum(0.0, np.minimum(lower, upper))
    return np.concatenate([np.zeros((1, n_mels)), w], 0).astype(np.float32)


def set_segment_frames(n):
    """Segment length in frames for every function of this module (the model's config segment_frames)."""
    global SEG_FRAMES, SEG_SAMPLES
    if not 1 <= int(n) <= 8192:
        raise ValueError(f"segment frames {n} out of range")
    SEG_FRAMES = int(n)
    SEG_SAMPLES = SEG_FRAMES * HOP


def periodic_hann(n=FFT):
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


class LogMel:
    """Batched MT3 log-mel in torch: samples [B, N] float -> [B, ceil(N/128), 512]."""

    def __init__(self):
        import torch
        self.torch = torch
        self.win = torch.from_numpy(periodic_hann())
        self.mel_t = torch.from_numpy(mel_matrix()).t().contiguous().to_sparse()  # [512, 1025], ~2k nonzeros

    def __call__(self, x):
        torch = self.torch
        n = x.shape[-1]
        frames = -(-n // HOP)
        need = (frames - 1) * HOP + FFT
        x = torch.nn.functional.pad(x, (0, need - n))
        fr = x.unfold(-1, FFT, HOP) * self.win          # [B, frames, FFT]
        mag = torch.fft.rfft(fr, dim=-1).abs()
        b = mag.shape[:-1]
        mel = torch.sparse.mm(self.mel_t, mag.reshape(-1, mag.shape[-1]).t()).t().reshape(*b, -1)
        return torch.log(torch.clamp(mel, min=1e-5))


def logmel_np(samples):
    """Reference numpy version (one segment or any length)."""
    n = len(samples)
    frames = -(-n // HOP)
    x = np.zeros((frames - 1) * HOP + FFT, np.float64)
    x[:n] = samples
    idx = np.arange(FFT)[None, :] + HOP * np.arange(frames)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * periodic_hann(), axis=-1))
    return np.log(np.maximum(mag @ mel_matrix().astype(np.float64), 1e-5)).astype(np.float32)


# ---------------------------------------------------------------- notes

NOTE_DTYPE = np.dtype([("on", "f8"), ("off", "f8"), ("pitch", "i2"), ("vel", "i2"), ("prog", "i2"),
                       ("drum", "i1")])


def trim_overlaps(notes):
    """note_sequences.trim_overlapping_notes: same (pitch, program, drum) -> end at next onset."""
    notes = np.sort(notes, order=["drum", "prog", "pitch", "on"])
    if len(notes) > 1:
        same = ((notes["drum"][1:] == notes["drum"][:-1]) & (notes["prog"][1:] == notes["prog"][:-1])
                & (notes["pitch"][1:] == notes["pitch"][:-1]))
        nxt = notes["on"][1:]
        cut = same & (notes["off"][:-1] > nxt)
        notes["off"][:-1][cut] = nxt[cut]
    return notes[(notes["off"] > notes["on"]) | (notes["drum"] == 1)]


def midi_class(prog):
    return 8 * (np.asarray(prog) // 8)


def segment_tokens(notes, seg_start_frame, granularity="midi_class", max_len=1024):
    """MT3 targets for the segment of SEG_FRAMES frames starting at frame seg_start_frame.
    notes: NOTE_DTYPE array (already trimmed). Returns int64 array ending with EOS."""
    ta = seg_start_frame * HOP / SR
    tb = (seg_start_frame + SEG_FRAMES) * HOP / SR
    base = math.floor(ta * STEPS_PER_SECOND + 1e-9)
    end = math.floor(tb * STEPS_PER_SECOND + 1e-9)
    progs = midi_class(notes["prog"]) if granularity == "midi_class" else notes["prog"]
    on_step = np.rint(notes["on"] * STEPS_PER_SECOND).astype(np.int64)
    off_step = np.rint(notes["off"] * STEPS_PER_SECOND).astype(np.int64)
    drum = notes["drum"] == 1
    lo = -1 if seg_start_frame == 0 else base
    # state at segment start: non-drum notes whose onset came at or before `base` and whose offset after
    act = (~drum) & (on_step <= lo) & (off_step > lo) if seg_start_frame > 0 else np.zeros(len(notes), bool)
    raw = []
    for p, n in sorted(set(zip(progs[act].tolist(), notes["pitch"][act].tolist()))):
        raw += [PROG0 + p, PITCH0 + n]
    raw.append(TIE)
    # events in (lo, end]: (step, time, kind 0 off / 1 on, drum, prog, pitch, vel)
    ev = []
    sel_on = (on_step > lo) & (on_step <= end)
    for i in np.nonzero(sel_on)[0]:
        ev.append((on_step[i], notes["on"][i], 1, int(drum[i]), int(progs[i]), int(notes["pitch"][i])))
    sel_off = (~drum) & (off_step > lo) & (off_step <= end)
    for i in np.nonzero(sel_off)[0]:
        ev.append((off_step[i], notes["off"][i], 0, 0, int(progs[i]), int(notes["pitch"][i])))
    # MT3 order: stable sort on raw time of [offsets sorted by (prog, pitch)] + [onsets sorted by
    # (drum, prog, pitch)]
    ev.sort(key=lambda e: (e[1], e[2], e[3], e[4], e[5]))
    ref = base if seg_start_frame > 0 else 0
    for step, _, kind, isd, prog, pitch in ev:
        rel = int(step - ref)
        raw.append(("shift", rel))
        if isd:
            raw += [VEL0 + 1, DRUM0 + pitch]
        else:
            raw += [PROG0 + prog, VEL0 + kind, PITCH0 + pitch]
    # run-length encoding of shifts (absolute steps since segment start) + state-change dedup
    out = []
    cur_prog = cur_vel = -1
    last_shift = 0
    pending = 0
    for t in raw:
        if isinstance(t, tuple):
            pending = t[1]
            continue
        if PROG0 <= t < DRUM0:
            if t == cur_prog:
                continue
            cur_prog = t
        elif VEL0 <= t < TIE:
            if t == cur_vel:
                continue
            cur_vel = t
        if pending > last_shift:
            s = pending
            while s > 0:
                o = min(MAX_SHIFT, s)
                out.append(SHIFT0 + o)
                s -= o
            last_shift = pending
        out.append(t)
    out = out[:max_len - 1]
    out.append(EOS)
    return np.asarray(out, np.int64)


def _llround(x):
    """C's llround (halves away from zero; Python's round() rounds them to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


class Decoder:
    """Tokens -> notes across consecutive segments (note_sequences decode_note_event with ties)."""

    def __init__(self, join_ms=0, rejoin_ms=0, rejoin_below=0.5, gate_below=0.0, evidence=None, posterior=None,
                 recover_below=0.0, untied_below=0.0, clip_below=0.0, recover_above=0.0):
        self.join_s = join_ms / 1000.0  # fragment joining as the engine's sc_mt3_decoder_set_join (0: off)
        # rejoining and the onset gate as the engine's (join_notes); evidence(segment index, time, pitch) ->
        # acoustic onset posterior around that time
        self.rejoin_s = rejoin_ms / 1000.0
        self.rejoin_below, self.gate_below = rejoin_below, gate_below
        self.evidence = evidence
        self.onset_evidence = {}  # (onset, pitch, prog) -> evidence at that onset
        # the engine's tie rules (sc_mt3_decoder_set_tie_rules): posterior(segment index, frame, pitch, kind 0 onset /
        # 1 note) -> acoustic posterior, < 0 outside the segment and the one before it
        self.posterior = posterior
        self.recover_below = recover_below if posterior else 0.0
        self.untied_below = untied_below if posterior else 0.0
        # the engine's offset clip (sc_mt3_decoder_set_offset_clip): a note ends no later than where its note
        # posterior first stays below clip_below for QUIET_FRAMES frames, from 2 frames after its onset
        self.clip_below = clip_below if posterior else 0.0
        self.quiet = {}  # active (pitch, prog) -> [next frame to read, time it went quiet or None]
        # the engine's onset recovery (sc_mt3_decoder_set_onset_recovery): an acoustic onset peak >= recover_above
        # with no decoded onset of its pitch within 50 ms becomes a note
        self.recover_above = recover_above if posterior else 0.0
        self.recent = {}  # pitch -> its latest RECENT_ONSETS decoded onsets
        self.recovered = []  # notes added by onset recovery (not joined or gated, as in the engine)
        self.last_start = None  # start of the latest segment decoded
        self.cur_prog = 0  # the latest program token (the engine's current_program)
        self.last_end = {}  # (pitch, prog) -> end of its latest note
        self.n_segments = 0
        self.active = {}        # (pitch, prog) -> (onset, vel)
        self.notes = []          # (on, off, pitch, vel, prog, drum)
        self.cur_time = 0.0

    def _first_quiet(self, seg, pitch, frm, to, below, run):
        """The engine's first_quiet: first frame in [frm, to) beginning `run` frames below `below`, or None."""
        n = 0
        for f in range(frm, to):
            p = self.posterior(seg, f, pitch, 1)
            n = n + 1 if 0 <= p < below else 0
            if n == run:
                return f - run + 1
        return None

    def _start(self, key, on, vel, heard=1.0):
        self.active[key] = (on, vel)
        self.quiet[key] = [_llround(on * SR / HOP) + 2, None]
        if heard >= HEARD_ONSET:  # onset recovery counts onsets the acoustic evidence confirms (the engine's)
            self.recent[key[0]] = (self.recent.get(key[0], []) + [on])[-RECENT_ONSETS:]

    def _recover_onsets(self, seg, to, end):
        """The engine's recover_onsets: acoustic onset peaks in frames [recover_from, to) without a decoded onset of
        their pitch within 50 ms become notes, ended by frame `end`."""
        frm, self.recover_from = self.recover_from, to
        for pitch in range(128):
            before, here = self.posterior(seg, frm - 1, pitch, 0), self.posterior(seg, frm, pitch, 0)
            for f in range(frm, to):
                after = self.posterior(seg, f + 1, pitch, 0)
                t = f / (SR / HOP)
                if (here >= self.recover_above and here >= before and here > after
                        and not any(abs(o - t) <= 0.05 + 1e-9 for o in self.recent.get(pitch, []))):
                    q = self._first_quiet(seg, pitch, f + 2, end, RECOVERED_QUIET, QUIET_FRAMES)
                    prog = self.cur_prog
                    if self.active:  # the active note nearest in pitch, the lowest key (program * 128 + pitch) on a tie
                        prog = min(self.active, key=lambda k: (abs(k[0] - pitch), k[1] * 128 + k[0]))[1]
                    off = (q if q is not None else end) / (SR / HOP)
                    self.recovered.append((t, max(off, t + 0.01), pitch, 100, prog, 0))
                    self.recent[pitch] = (self.recent.get(pitch, []) + [t])[-RECENT_ONSETS:]  # a peak within 50 ms: same onset
                before, here = here, after

    def _read_quiet(self, seg, key, to):
        """The engine's read_quiet: reads key's note posterior up to frame `to` (exclusive)."""
        q = self.quiet[key]
        if q[1] is not None or q[0] >= to:
            return
        f = self._first_quiet(seg, key[0], q[0], to, self.clip_below, QUIET_FRAMES)
        if f is not None:
            q[1] = f / (SR / HOP)
        else:
            q[0] = max(q[0], to - (QUIET_FRAMES - 1))

    def _close(self, key, end, seg):
        if self.clip_below > 0:
            self._read_quiet(seg, key, _llround(end * SR / HOP))
            if self.quiet[key][1] is not None:
                end = min(end, self.quiet[key][1])
        on, v = self.active.pop(key)
        end = max(end, on + 0.01)
        self.last_end[key] = end
        self.notes.append((on, end, key[0], v, key[1], 0))

    def _recover(self, seg, key, t):
        """Tie recovery: start key at the latest acoustic onset before the segment start t (the engine's
        recover_tied)."""
        f1 = _llround(t * SR / HOP)
        for f in range(f1 + 2, f1 - SEG_FRAMES - 1, -1):
            on = f / (SR / HOP)
            if on <= self.last_end.get(key, -1e300) + 0.05:
                return False
            if self.posterior(seg, f, key[0], 0) >= self.recover_below:
                self._start(key, on, 100)
                if self.evidence:
                    self.onset_evidence[(on, key[0], key[1])] = 1.0  # never gated (the engine's gated = 0)
                return True
        return False

    def _untied_end(self, seg, key, t):
        """Where an active note the tie section does not continue ends (the engine's untied_end)."""
        if self.untied_below <= 0:
            return t
        end = _llround(t * SR / HOP)
        f = self._first_quiet(seg, key[0], max(_llround(self.active[key][0] * SR / HOP) + 2, end - SEG_FRAMES), end,
                              self.untied_below, 2)
        return t if f is None else f / (SR / HOP)

    def segment(self, tokens, start_time):
        # as MT3's decode_and_combine_predictions (and the engine): the segment starts on the shift grid
        start_time -= math.fmod(start_time, 1.0 / STEPS_PER_SECOND)
        seg = self.n_segments
        self.n_segments += 1
        if self.clip_below > 0:  # the segment before this one is still held: read it for the offset clip
            for key in self.active:
                self._read_quiet(seg, key, _llround(start_time * SR / HOP))
        tied = set()
        in_tie = True
        vel, prog = 100, 0
        t = start_time
        for tok in tokens:
            tok = int(tok)
            if tok == EOS:
                break
            if tok < N_SPECIAL or tok >= N_TOKENS:
                continue
            if tok < PITCH0:
                t = start_time + (tok - SHIFT0) / STEPS_PER_SECOND
                continue
            t = max(t, self.cur_time)
            self.cur_time = t
            if tok < VEL0:
                p = tok - PITCH0
                key = (p, prog)
                if in_tie:
                    if key in self.active or (self.recover_below > 0 and key not in tied and self._recover(seg, key, t)):
                        tied.add(key)
                elif vel == 0:
                    if key in self.active:
                        self._close(key, t, seg)
                else:
                    if key in self.active:
                        self._close(key, t, seg)
                    heard = self.evidence(seg, t, p) if self.evidence else 1.0
                    self._start(key, t, vel, heard)
                    if self.evidence:
                        self.onset_evidence[(t, p, prog)] = heard
            elif tok < TIE:
                vel = 0 if tok == VEL0 else 100
            elif tok == TIE:
                if in_tie:
                    for key in list(self.active):
                        if key not in tied:
                            self._close(key, self._untied_end(seg, key, self.cur_time), seg)
                    in_tie = False
            elif tok < DRUM0:
                prog = self.cur_prog = tok - PROG0
            else:
                if vel > 0:
                    self.notes.append((t, t + 0.01, tok - DRUM0, vel, 0, 1))
        f1 = _llround(start_time * SR / HOP)
        if self.recover_above > 0 and self.last_start is not None:  # the segment before, to this one's first frame
            self._recover_onsets(seg, f1 + 1, f1 + SEG_FRAMES)
        if self.last_start is None:
            self.recover_from = f1
        self.last_start = start_time

    def finish(self):
        if self.recover_above > 0 and self.last_start is not None:  # the last segment's onsets
            end = _llround(self.last_start * SR / HOP) + SEG_FRAMES
            self._recover_onsets(self.n_segments - 1, end, end)
            self.last_start = None
        # as the engine's flush: every active note ends at the latest of the current time and their onsets + 10 ms
        end = max([self.cur_time] + [on + 0.01 for on, _ in self.active.values()])
        for key in list(self.active):
            self._close(key, end, self.n_segments - 1)
        ev = (lambda n: self.onset_evidence.get((n[0], n[2], n[4]), 1.0)) if self.evidence else None
        notes = join_notes(self.notes, self.join_s, self.rejoin_s, self.rejoin_below, self.gate_below, ev) + self.recovered
        arr = np.array(notes, dtype=[("on", "f8"), ("off", "f8"), ("pitch", "i2"), ("vel", "i2"),
                                     ("prog", "i2"), ("drum", "i1")])
        return np.sort(arr, order="on")


AC_LOWEST_PITCH, AC_PITCHES = 21, 88  # the acoustic network's note bins (src/models/mt3_acoustic.h)
EVIDENCE_FRAMES = 3  # onset evidence window, +-frames (src/models/mt3_backend.c)
QUIET_FRAMES = 3  # offset clip: frames of quiet note posterior that end a note (SC_MT3_QUIET_FRAMES)
# onset recovery (SC_MT3_RECENT_ONSETS, SC_MT3_RECOVERED_QUIET, SC_MT3_HEARD_ONSET)
RECENT_ONSETS, RECOVERED_QUIET, HEARD_ONSET = 64, 0.4, 0.5


def onset_evidence(onsets, seg, t, pitch):
    """As the engine's held_onset_evidence: the largest acoustic onset posterior of `pitch` within
    +-EVIDENCE_FRAMES frames of time t, inside segment `seg` (onsets: [SEG_FRAMES][88] of that segment);
    1.0 outside the acoustic range (no evidence either way: keep the note)."""
    q = pitch - AC_LOWEST_PITCH
    if not 0 <= q < AC_PITCHES:
        return 1.0
    f = int(math.floor(t * SR / HOP + 0.5)) - seg * SEG_FRAMES
    rows = onsets[max(0, f - EVIDENCE_FRAMES):max(0, f + EVIDENCE_FRAMES + 1), q]
    return float(rows.max()) if len(rows) else 0.0


def join_notes(notes, join_s=0.0, rejoin_s=0.0, rejoin_below=0.5, gate_below=0.0, evidence=None):
    """As the engine's note decoder (sc_mt3_decoder_set_join / _set_rejoin / _set_gate), per pitch and program
    in time order: a note continues the previous kept one when that one's latest piece lasted at most join_s
    and it starts within one step of its end (join), or when it starts within rejoin_s of that end with
    evidence(note) < rejoin_below (rejoin); a note that continues nothing is dropped when evidence(note) <
    gate_below. notes: (on, off, pitch, vel, prog, drum); evidence None: no rejoin, no gate."""
    out, last = [], {}  # (pitch, prog) -> (index in out of the latest kept note, length of its latest piece)
    for n in sorted(notes, key=lambda n: (n[4], n[2], n[0])):
        key = (n[2], n[4])
        if not n[5] and key in last:
            i, piece = last[key]
            gap = n[0] - out[i][1]  # (< 0 for an onset inside a 10 ms note)
            if ((join_s > 0 and piece <= join_s + 1e-6 and gap <= 1.0 / STEPS_PER_SECOND + 1e-6) or
                    (evidence and rejoin_s > 0 and gap <= rejoin_s + 1e-6 and evidence(n) < rejoin_below)):
                out[i] = (out[i][0], max(out[i][1], n[1])) + tuple(out[i][2:])
                last[key] = (i, n[1] - n[0])
                continue
        if not n[5] and evidence and gate_below > 0 and evidence(n) < gate_below:
            continue
        if not n[5]:
            last[key] = (len(out), n[1] - n[0])
        out.append(tuple(n))
    return out


def describe(tokens):
    out = []
    for t in tokens:
        t = int(t)
        if t == PAD: out.append("PAD")
        elif t == EOS: out.append("EOS")
        elif t < PITCH0: out.append(f"s{t - SHIFT0}")
        elif t < VEL0: out.append(f"p{t - PITCH0}")
        elif t < TIE: out.append(f"v{t - VEL0}")
        elif t == TIE: out.append("tie")
        elif t < DRUM0: out.append(f"P{t - PROG0}")
        elif t < N_TOKENS: out.append(f"d{t - DRUM0}")
        else: out.append(f"?{t}")
    return " ".join(out)
