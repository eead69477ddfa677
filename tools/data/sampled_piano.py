"""A recorded concert grand for training renditions: Salamander Grand Piano V3 (Yamaha C5, recorded by
Alexander Holm, samples CC BY 3.0; packaged on npm as @audio-samples/piano-velocity<N>, MIT).

Every other piano the model hears comes from the four training soundfonts, mostly one sample set
(FluidR3); half the notes of the Slakh dev clips are piano from sample libraries the model never heard, and users
transcribe recorded pianos. This renders the notes of piano-class instruments (programs 0-7) from
these recordings: the sample of the nearest recorded pitch (every third semitone, A0-C8) at the
velocity layer nearest the note's velocity, resampled by at most a semitone, damped at note-off, then
a synthetic room. The packages are fetched with `npm pack` into <cache> (never installed into the
project) and decoded once into <cache>/salamander-16k.npz.
"""
import glob
import os
import subprocess
import tarfile

import numpy as np

import mt3_data as md

VERSION = "1.0.5"
LAYERS = (3, 6, 9, 12, 14, 16)  # of the 16 velocity layers (soft to loud); about 5 MB each
NAMES = {"C": 0, "D#": 3, "F#": 6, "A": 9}  # the recorded pitches of every octave
MAX_SECONDS = 12.0  # longer sample tails (low notes ring ~25 s) are cut: a note is damped long before
UNDAMPED = 89  # Salamander's strings from F6 up have no dampers: they ring on after note-off


def sample_pitch(name):
    """'D#4v8.ogg' -> 63."""
    base = name.split("v")[0]
    return 12 * (int(base[-1]) + 1) + NAMES[base[:-1]]


def fetch(cache):
    """Downloads (npm pack) and decodes the velocity layers -> path of the 16 kHz cache npz."""
    out = os.path.join(cache, "salamander-16k.npz")
    if os.path.exists(out):
        return out
    import soundfile as sf
    from scipy.signal import resample_poly
    os.makedirs(cache, exist_ok=True)
    arrays = {}
    for layer in LAYERS:
        pkg = f"@audio-samples/piano-velocity{layer}@{VERSION}"
        tgz = glob.glob(os.path.join(cache, f"audio-samples-piano-velocity{layer}-{VERSION}.tgz"))
        if not tgz:
            subprocess.run(["npm", "pack", pkg, "--silent"], cwd=cache, check=True, stdout=subprocess.DEVNULL)
            tgz = glob.glob(os.path.join(cache, f"audio-samples-piano-velocity{layer}-{VERSION}.tgz"))
        with tarfile.open(tgz[0]) as tf:
            for m in tf.getmembers():
                if not m.name.endswith(".ogg"):
                    continue
                x, sr = sf.read(tf.extractfile(m), dtype="float32", always_2d=True)
                x = x.mean(1)[: int(MAX_SECONDS * sr)]
                # the recordings start 5-12 ms before the hammer: trim so the note starts at its onset
                start = int(np.argmax(np.abs(x) > 0.05 * np.abs(x).max()))
                x = x[max(0, start - int(0.002 * sr)):]
                assert sr % md.SR == 0, sr
                y = resample_poly(x, 1, sr // md.SR).astype(np.float32)
                arrays[f"{layer}_{sample_pitch(os.path.basename(m.name))}"] = y.astype(np.float16)
    np.savez(out + ".tmp.npz", **arrays)
    os.replace(out + ".tmp.npz", out)
    return out


class SampledPiano:
    def __init__(self, path):
        z = np.load(path)
        self.samples = {tuple(map(int, k.split("_"))): z[k].astype(np.float32) for k in z.files}
        self.pitches = np.array(sorted({p for _, p in self.samples}))
        self.layers = np.array(sorted({l for l, _ in self.samples}))

    def note(self, pitch, vel, dur, release):
        """Audio of one note: pitch (MIDI), velocity 1-127, seconds held, damper time constant (s)."""
        root = int(self.pitches[np.argmin(np.abs(self.pitches - pitch))])
        layer = int(self.layers[np.argmin(np.abs(self.layers * 8 - vel))])  # layer L recorded at about 8 L
        s = self.samples[(layer, root)]
        ratio = 2.0 ** ((pitch - root) / 12.0)
        hold = int(dur * md.SR)
        tail = int((8.0 if pitch >= UNDAMPED else 5.0) * release * md.SR)
        n = min(int((len(s) - 1) / ratio), hold + tail)
        if n <= 0:
            return np.zeros(0, np.float32)
        y = np.interp(np.arange(n) * ratio, np.arange(len(s)), s).astype(np.float32)
        if pitch < UNDAMPED and n > hold:
            y[hold:] *= np.exp(-np.arange(n - hold) / (release * md.SR)).astype(np.float32)
        # between layers: scale towards the note's own velocity (at most +-3 dB)
        return y * float(np.clip(vel / (8.0 * layer), 0.7, 1.4))

    def render(self, notes, gain, rng, note_gains=None):
        """Mono audio of notes (NOTE_DTYPE, pitched) with a random damper time and room; note_gains: one
        amplitude per note (its instrument's volume), gain: of the whole stem."""
        if len(notes) == 0:
            return np.zeros(0, np.float32)
        release = rng.uniform(0.05, 0.25)
        total = int((float(notes["off"].max()) + 3.0) * md.SR)
        out = np.zeros(total, np.float32)
        for k, n in enumerate(notes):
            y = self.note(int(n["pitch"]), int(n["vel"]), float(n["off"] - n["on"]), release)
            if note_gains is not None:
                y *= float(note_gains[k])
            i = int(round(float(n["on"]) * md.SR))
            y = y[: max(0, total - i)]
            out[i:i + len(y)] += y
        return room(out, rng) * gain


def room(audio, rng):
    """A synthetic room: exponentially decaying noise (RT60 0.3-2 s) mixed in at a random level."""
    from scipy.signal import fftconvolve
    rt60 = rng.uniform(0.3, 2.0)
    t = np.arange(int(rt60 * md.SR)) / md.SR
    ir = np.random.default_rng(rng.randrange(1 << 30)).standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    ir *= 1.0 / np.sqrt(np.sum(ir ** 2))
    wet = fftconvolve(audio, ir.astype(np.float32))[: len(audio)]
    return (audio + rng.uniform(0.0, 0.5) * wet).astype(np.float32)
