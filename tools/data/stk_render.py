"""Stems played by the Synthesis ToolKit's physical and FM models (Debian `stk`: `stk-demo`), a timbre set
unlike every sampled one: bowed strings, reeds, flutes, plucked strings, FM organs, electric pianos and
voices (build_dataset.py --stk-*).

Physical models do not play every pitch in tune: a delay line of whole samples plays flat or sharp
as the pitch rises (Bowed +42 cents at MIDI 64, +198 at 88), and a flute overblows into the octave
below 40. `stk-demo` takes fractional note numbers, so each instrument gets a tuning table measured
here: per MIDI pitch, the note number that sounds it within TUNE_CENTS, found by a few corrections of
the measured pitch. An instrument only ever plays notes inside its table; its gain brings it to the
loudness of FluidR3 for the same program.

STK seeds its noise sources (the plucked strings' excitation, breath noise) from the clock, so unlike
the other renditions an STK rendition is not bit-identical from build to build; its notes are.

    /usr/bin/python3 tools/data/stk_render.py    # measures and rewrites tools/data/stk_tuning.json (~1 min)
"""
import functools
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mt3_data as md  # noqa: E402

TUNING_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stk_tuning.json")
TUNE_CENTS = 15.0  # largest pitch error of a tuned note
GAP = 1.6  # measuring: note i sounds from 0.5 + GAP * i for 1 s
# GM program -> the STK model that plays it. Only models that sound like members of the program's MIDI
# class; Brass (silent at most pitches without lip-tension control), the bells and bars (inharmonic)
# and Recorder (no stable pitch) are left out.
INSTRUMENT_OF = {
    4: "Rhodey", 5: "Wurley",
    16: "BeeThree", 17: "BeeThree", 18: "BeeThree",
    24: "Plucked", 25: "Plucked", 26: "StifKarp", 27: "StifKarp", 29: "HevyMetl", 30: "HevyMetl",
    32: "Plucked", 33: "Plucked", 34: "Plucked", 38: "Moog", 39: "Moog",
    40: "Bowed", 41: "Bowed", 42: "Bowed", 43: "Bowed", 44: "Bowed", 45: "Plucked", 46: "Plucked",
    48: "Bowed", 49: "Bowed", 52: "FMVoices", 53: "FMVoices", 54: "FMVoices",
    64: "Saxofony", 65: "Saxofony", 66: "Saxofony", 67: "Saxofony",
    68: "Clarinet", 69: "Clarinet", 70: "Clarinet", 71: "Clarinet",
    73: "Flute", 75: "BlowBotl", 76: "BlowBotl", 77: "Flute", 79: "BlowBotl",
    80: "Moog", 81: "Moog", 107: "StifKarp",
}

# Controls set before the first note. Bowed: the bow nearer the bridge (CC 4 = 20 instead of 64) keeps the
# string on its fundamental; at the default position it sounded the octave above at 13 of MIDI 36..77.
CONTROLS = {"Bowed": [(4, 20)]}


def sent_velocity(vel):
    """MIDI velocity -> the velocity given to STK: blown and bowed models need breath or bow pressure to
    speak at all, so velocities are compressed into 64..127."""
    return 64 + int(vel) // 2


def skini(events, controls=()):
    """[(seconds, on, note number, velocity)] -> SKINI score text (delta times), after the controls
    [(number, value)], with a silent tail."""
    lines, t = [f"ControlChange 0.000000 1 {c} {v}" for c, v in controls], 0.0
    for time, on, note, vel in sorted(events, key=lambda e: (e[0], e[1])):
        lines.append(f"{'NoteOn' if on else 'NoteOff'} {time - t:.6f} 1 {note:.3f} {vel if on else 0}")
        t = time
    lines.append("NoteOff 1.500000 1 0.000 0")  # lets the last notes ring out
    return "\n".join(lines) + "\n"


def play(instrument, events, tmp, tag="k", voices=8):
    """Renders SKINI events with one STK model at md.SR -> mono float32 audio."""
    import build_dataset as bd  # (imports this module: here, not at the top)
    ski, wav = os.path.join(tmp, tag + ".ski"), os.path.join(tmp, tag + ".wav")
    with open(ski, "w") as f:
        f.write(skini(events, CONTROLS.get(instrument, ())))
    subprocess.run(["nice", "-n", "10", "stk-demo", instrument, "-n", str(voices), "-s", str(md.SR), "-ow", wav,
                    "-if", ski], check=True, capture_output=True)
    return bd.read_mono(wav)


@functools.lru_cache(maxsize=None)
def tuning(path=TUNING_PATH):
    """{instrument: dict(gain, notes={MIDI pitch: note number to send})} (read once per process)."""
    with open(path) as f:
        t = json.load(f)
    return {k: dict(gain=v["gain"], notes={int(p): n for p, n in v["notes"].items()}) for k, v in t.items()}


def playable(program, pitches):
    """The STK model for program if it has one and its tuning table holds every pitch, else None."""
    name = INSTRUMENT_OF.get(int(program))
    if name is None or name not in tuning():
        return None
    table = tuning()[name]["notes"]
    return name if all(int(p) in table for p in pitches) else None


def polyphony(notes):
    """Most notes sounding at once."""
    ev = sorted([(float(n["on"]), 1) for n in notes] + [(float(n["off"]), -1) for n in notes])
    cur = best = 0
    for _, d in ev:
        cur += d
        best = max(best, cur)
    return best


def render(notes, instrument, gain, tmp, rng, tag="k"):
    """Melodic notes of one instrument played by an STK model (every pitch in its table) -> mono float32
    audio: tuned, at its FluidR3 loudness times gain, with a random room (reverb)."""
    t = tuning()[instrument]
    events = []
    for n in notes:
        events.append((float(n["on"]), 1, t["notes"][int(n["pitch"])], sent_velocity(n["vel"])))
        events.append((float(n["off"]), 0, t["notes"][int(n["pitch"])], 0))
    audio = play(instrument, events, tmp, tag, voices=max(1, polyphony(notes)) + 1)
    return reverb(audio * (t["gain"] * gain), rng)


def reverb(audio, rng):
    """A random room: exponentially decaying noise (RT60 0.2-1.5 s) mixed in at 5-35 %; none 3 times in 10."""
    if rng.random() < 0.3:
        return audio.astype(np.float32)
    from scipy.signal import fftconvolve
    rt60 = rng.uniform(0.2, 1.5)
    n = int(rt60 * md.SR)
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    ir = nrng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir /= np.sqrt(np.sum(ir ** 2))
    wet = rng.uniform(0.05, 0.35)
    out = (1.0 - wet) * audio + wet * fftconvolve(audio, ir)[:len(audio)]
    return out.astype(np.float32)


def pitch_of(x, hz):
    """The frequency (Hz) near hz (within a semitone) at which the steady tone x repeats, or nan: the dip of
    the cumulative-mean-normalised difference function (YIN, de Cheveigne & Kawahara 2002) nearest the
    period of hz, interpolated. nan unless that dip is deep (at most 0.15), as deep as the best one below
    1.5 periods (within 0.05), and the tone does not repeat at half the period as well (an octave above
    hz: a weak fundamental is fine, a missing one is not)."""
    x = x - x.mean()
    n = 2048
    lags = np.arange(max(2, int(md.SR / (hz * 2.2))), int(md.SR / (hz / 2.2)) + 2)
    x = x[:n + lags[-1] + 1]
    if len(x) < n + lags[-1] + 1:
        return float("nan")
    d = np.array([np.sum((x[:n] - x[k:k + n]) ** 2) for k in lags])
    cm = d * np.arange(1, len(d) + 1) / np.maximum(np.cumsum(d), 1e-12)

    def dip_near(lag, width):
        """(interpolated lag, depth) of the deepest local minimum within lag * 2^(+-width/12)."""
        lo, hi = lag * 2.0 ** (-width / 12.0), lag * 2.0 ** (width / 12.0)
        idx = [j for j in range(1, len(cm) - 1) if lo <= lags[j] <= hi and cm[j] <= cm[j - 1] and cm[j] <= cm[j + 1]]
        if not idx:
            return float("nan"), float("inf")
        j = min(idx, key=lambda j: cm[j])
        den = cm[j - 1] - 2 * cm[j] + cm[j + 1]
        return lags[j] + (0.5 * (cm[j - 1] - cm[j + 1]) / den if den > 0 else 0.0), cm[j]

    period = md.SR / hz
    lag, depth = dip_near(period, 1.0)
    _, half = dip_near(period / 2.0, 1.0)
    # whole multiples of the period repeat too (and FM or vibrato can make twice the period the deepest
    # dip): the best dip is sought below 1.5 periods
    best = cm[lags < 1.5 * period].min()
    if depth > 0.15 or depth > best + 0.05 or half <= depth + 0.03:
        return float("nan")
    return md.SR / lag


def steady(x, i):
    """The steady part (0.25-0.75 s after the onset) of note i of a measuring score (GAP)."""
    return x[int((0.75 + GAP * i) * md.SR):int((1.25 + GAP * i) * md.SR)]


def rms(x):
    return float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0


def measure(instrument, sent, tmp, vel=100):
    """sent: [(wanted MIDI pitch, note number to send)]. Plays each note number for 1 s, one every GAP s ->
    [(cents of the sounding pitch above the wanted one, or nan; RMS)] over each note's steady part."""
    events = []
    for i, (want, s) in enumerate(sent):
        events += [(0.5 + GAP * i, 1, s, sent_velocity(vel)), (1.5 + GAP * i, 0, s, 0)]
    x = play(instrument, events, tmp, voices=2)
    out = []
    for i, (want, s) in enumerate(sent):
        seg = steady(x, i)
        level = rms(seg)
        hz = 440.0 * 2.0 ** ((want - 69) / 12.0)
        if level < 1e-3:
            out.append((float("nan"), level))
            continue
        out.append((1200.0 * np.log2(pitch_of(seg, hz) / hz), level))
    return out


def calibrate(instrument, program, tmp, pitches=range(21, 109)):
    """Tuning table and gain of one model: each pitch corrected by its measured error up to eight times (a pitch
    too far off to measure starts from the correction of the pitch below); the table is the longest run of
    consecutive pitches tuned within TUNE_CENTS that sound at least a tenth of the median level."""
    pitches = list(pitches)
    sent = {p: float(p) for p in pitches}
    todo = pitches
    for _ in range(8):
        measured = dict(zip(todo, measure(instrument, [(p, sent[p]) for p in todo], tmp)))
        for p in todo:
            c = measured[p][0]
            if c == c:
                sent[p] -= c / 100.0
            elif p - 1 in sent and p - 1 not in measured:  # the pitch below is tuned: its correction
                sent[p] = p + (sent[p - 1] - (p - 1))
        todo = [p for p in todo if not abs(measured[p][0]) <= TUNE_CENTS]
        if not todo:
            break
    final = dict(zip(pitches, measure(instrument, [(p, sent[p]) for p in pitches], tmp)))
    med = np.nanmedian([r for _, r in final.values()])
    good = [abs(final[p][0]) <= TUNE_CENTS and final[p][1] >= 0.1 * med for p in pitches]
    best, run = (0, 0), None
    for i, g in enumerate(good + [False]):
        if g and run is None:
            run = i
        elif not g and run is not None:
            best = max(best, (i - run, run))
            run = None
    keep = pitches[best[1]:best[1] + best[0]]
    # loudness against FluidR3 playing the program at the same pitches (every fourth), velocity 100, CC7 100
    import build_dataset as bd
    probe = keep[::4]
    notes = np.zeros(len(probe), md.NOTE_DTYPE)
    notes["on"] = 0.5 + GAP * np.arange(len(probe))
    notes["off"] = notes["on"] + 1.0
    notes["pitch"], notes["vel"], notes["prog"] = probe, 100, program
    ref, _ = bd.fluid_render(notes, {(program, 0): 100}, "FluidR3_GM.sf2", tmp, tag="ref") if probe else (None, None)
    ratios = []
    for i, p in enumerate(probe):
        r_ref = rms(steady(ref, i))
        if final[p][1] > 0 and r_ref > 0:
            ratios.append(r_ref / final[p][1])
    return dict(gain=round(float(np.median(ratios)) if ratios else 1.0, 4),
                notes={str(p): round(sent[p], 3) for p in keep}, cents=[round(final[p][0], 1) for p in keep])


def main():
    import tempfile
    first = {}
    for prog, name in sorted(INSTRUMENT_OF.items()):
        first.setdefault(name, prog)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, prog in sorted(first.items()):
            t = calibrate(name, prog, tmp)
            keys = sorted(map(int, t["notes"]))
            print(f"{name:9s} program {prog:3d}: MIDI {keys[0] if keys else '-'}..{keys[-1] if keys else '-'} "
                  f"({len(keys)} pitches), worst {max(map(abs, t['cents']), default=0):.0f} cents, gain {t['gain']:.2f}",
                  flush=True)
            if len(keys) >= 12:  # an instrument playing less than an octave in tune is left out
                out[name] = dict(gain=t["gain"], notes=t["notes"])
    with open(TUNING_PATH, "w") as f:
        json.dump(out, f, indent=0, sort_keys=True)
        f.write("\n")
    print("wrote", TUNING_PATH)


if __name__ == "__main__":
    main()
