"""Checks of the training tools that need no training run (run by tests/node/training_tools.test.mjs):

1. tools/data/build_dataset.py: adding training-only material (--more-mma/--more-random/
   --more-renditions, --font-mma, --mix-mma, --piano-mma) leaves the held-out set and every existing rendition exactly as they were, and
   a second run over the same directory renders nothing again.
   The recorded piano (tools/data/sampled_piano.py, here with synthetic samples) plays the pitch asked for
   from the nearest sample, starts at the onset, is damped after note-off and picks the velocity layer.
   tools/data/mt3_data.Decoder's tie rules match the engine's (tests/native/test_mt3_tokens.c, same case).
   freepats (TiMidity) and STK (tools/data/stk_render.py) stems play the pitch asked for, from the onset.
2. tools/train/train.py --grow-layers and --widen-mlp: the grown or widened model computes the initial
   model's logits. --ranks: the processes average their gradients and keep equal weights.

    /usr/bin/python3 tests/tools/training_tools_check.py --tmp DIR
Prints what it checked; exits 1 on a failed check.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
sys.path.insert(0, os.path.join(ROOT, "tools", "data"))
import build_dataset as bd  # noqa: E402
import mt3_data as md  # noqa: E402
import sampled_piano as sp  # noqa: E402

BUILD = os.path.join(ROOT, "tools", "data", "build_dataset.py")
failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failed.append(what)


def build(out, *extra):
    r = subprocess.run([sys.executable, BUILD, "--out", out, "--no-jam", "--no-openmsx", "--mma", "3", "--random", "9",
                        "--jobs", "2", *extra], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"build_dataset.py failed:\n{r.stderr[-2000:]}")
    with open(os.path.join(out, "index.json")) as f:
        return {e["id"]: e for e in json.load(f)}, r.stdout


def same_file(a, b):
    za, zb = np.load(a), np.load(b)
    return np.array_equal(za["audio"], zb["audio"]) and np.array_equal(za["notes"], zb["notes"])


def check_added_renditions(tmp, base, name, flag, suffix, fonts, what):
    """A build with `flag 2` beside the base build: every base rendition identical, two new training-only
    renditions whose ids end in suffix, with a font label in fonts and audio. -> their index entries."""
    built, _ = build(os.path.join(tmp, name), flag, "2")
    check(all(same_file(os.path.join(tmp, "base", e["split"], i + ".npz"), os.path.join(tmp, name, e["split"], i + ".npz"))
              for i, e in base.items()), f"all {len(base)} base renditions identical with {what} renditions")
    new = [e for i, e in built.items() if i not in base]
    check(len(new) == 2 and all(e["split"] == "train" and e["id"].endswith(suffix) and e["sf"] in fonts and e["seconds"] > 1
                                for e in new), f"{what} renditions are training-only: {sorted((e['id'], e['sf']) for e in new)}")
    return new


def check_dataset(tmp):
    base, _ = build(os.path.join(tmp, "base"))
    more, _ = build(os.path.join(tmp, "more"), "--more-mma", "2", "--more-random", "2")
    val = sorted(i for i, e in base.items() if e["split"] == "val")
    check(len(val) > 0 and val == sorted(i for i, e in more.items() if e["split"] == "val"),
          f"held-out renditions unchanged by extra material ({len(val)})")
    check(all(same_file(os.path.join(tmp, "base", e["split"], i + ".npz"), os.path.join(tmp, "more", e["split"], i + ".npz"))
              for i, e in base.items()), f"all {len(base)} base renditions identical with extra material")
    extra = [e for i, e in more.items() if i not in base]
    check(len(extra) == 4 and all(e["split"] == "train" and e["piece"].startswith("x") for e in extra),
          f"extra renditions are training-only: {sorted(e['id'] for e in extra)}")
    check_added_renditions(tmp, base, "fonts", "--font-mma", "-f0", bd.MORE_SF, "new-font")
    new = check_added_renditions(tmp, base, "mix", "--mix-mma", "-m0", ["mix"], "mixed")
    # a mixed rendition (its own augmentation draw) holds notes and sounds unlike the piece's plain rendition
    for e in new:
        plain = np.load(os.path.join(tmp, "base", "train", e["id"][:-3] + "-0.npz"))
        mix = np.load(os.path.join(tmp, "mix", "train", e["id"] + ".npz"))
        check(len(mix["notes"]) > 0 and not np.array_equal(plain["audio"][:len(mix["audio"])], mix["audio"][:len(plain["audio"])]),
              f"{e['id']}: {len(mix['notes'])} notes, audio unlike the plain rendition's")
    # recorded-piano renditions, from synthetic samples where the packages would be fetched (<out>/../npm)
    fake_samples(os.path.join(tmp, "npm", "salamander", "salamander-16k.npz"))
    piano, _ = build(os.path.join(tmp, "piano"), "--piano-mma", "2")
    check(all(same_file(os.path.join(tmp, "base", e["split"], i + ".npz"), os.path.join(tmp, "piano", e["split"], i + ".npz"))
              for i, e in base.items()), f"all {len(base)} base renditions identical with recorded-piano renditions")
    with_piano = [i for i, e in base.items() if e["split"] == "train" and e["source"] == "mma" and np.any(
        (lambda n: (n["drum"] == 0) & (n["prog"] < 8))(np.load(os.path.join(tmp, "base", "pieces", f"mma-{e['piece']}.npy"))))]
    new = [e for i, e in piano.items() if i not in base]
    check(len(new) == min(2, len(with_piano)) and all(e["split"] == "train" and e["id"].endswith("-p0")
                                                       and e["sf"] == "mix+recorded piano" for e in new),
          f"recorded-piano renditions are training-only, one per mma piece with a piano (of {len(with_piano)}): "
          f"{sorted(e['id'] for e in new)}")
    check_added_renditions(tmp, base, "balanced", "--balanced-mma", "-b0", ["mix, balanced classes"], "class-balanced")
    check_added_renditions(tmp, base, "freepats", "--freepats-mma", "-t0", ["mix+freepats"], "freepats")
    check_added_renditions(tmp, base, "stk", "--stk-mma", "-k0", ["mix+stk"], "STK")
    check_added_renditions(tmp, base, "drumkit", "--drumkit-mma", "-d0", ["mix+drum kit"], "drum-kit")
    stamp = {i: os.path.getmtime(os.path.join(tmp, "more", e["split"], i + ".npz")) for i, e in more.items()}
    again, _ = build(os.path.join(tmp, "more"), "--more-mma", "2", "--more-random", "2")
    check(again.keys() == more.keys() and all(
        os.path.getmtime(os.path.join(tmp, "more", e["split"], i + ".npz")) == stamp[i] for i, e in again.items()),
        "a second run renders nothing again and lists the same renditions")


def check_freepats(tmp):
    """The freepats stems: TiMidity plays the freepats patches (not its default FluidR3 configuration, which it
    also reads) for the programs freepats has, at about FluidR3's loudness."""
    progs = bd.freepats_programs()
    check(len(progs) == 72 and 40 in progs and 17 not in progs, f"freepats has {len(progs)} melodic programs (violin, no 17)")
    n = np.zeros(8, md.NOTE_DTYPE)
    n["on"], n["off"] = np.arange(8) * 0.25, np.arange(8) * 0.25 + 0.4
    n["pitch"], n["vel"], n["prog"] = [60, 64, 67, 72, 67, 64, 60, 55], 90, 40
    out = os.path.join(tmp, "freepats-check")
    os.makedirs(out, exist_ok=True)
    dry = ["--reverb=d", "--chorus=d"]
    stem, kept = bd.timidity_render(n, {(40, 0): 100}, out, dry)
    fluid, _ = bd.fluid_render(n, {(40, 0): 100}, "FluidR3_GM.sf2", out)
    fl, _ = bd.timidity_render(n, {(40, 0): 100}, out, dry, cfg="/etc/timidity/fluidr3_gm.cfg")
    again, _ = bd.timidity_render(n, {(40, 0): 100}, out, dry)

    def rms(a):
        return float(np.sqrt(np.mean(a[:int(2.0 * md.SR)] ** 2)))

    m = min(len(fl), len(stem))
    check(np.array_equal(stem, again), "TiMidity renders the same stem twice (a fair comparison below)")
    check(len(kept) == 8 and rms(stem) > 0.3 * rms(fluid) and rms(stem) < 3.0 * rms(fluid),
          f"freepats violin sounds (RMS {rms(stem):.4f}, FluidR3 {rms(fluid):.4f})")
    check(np.abs(stem[:m] - fl[:m]).max() > 0.01, "freepats stem unlike TiMidity's FluidR3 violin: the patches are freepats'")
    # the stem keeps the silence before its first note (TiMidity drops it by default): sound starts at the onset
    late = n[1:].copy()
    late["on"] += 0.75
    late["off"] += 0.75
    stem, _ = bd.timidity_render(late, {(40, 0): 100}, out, dry)
    first = np.argmax(np.abs(stem) > 0.05 * np.abs(stem).max()) / md.SR
    check(abs(first - late["on"][0]) < 0.03, f"freepats stem starts at its first onset: {first:.3f} s (want {late['on'][0]:.3f})")


def check_drum_kits(tmp):
    """The recorded kits (avldrums.lv2-soundfont) play the GM keys of build_dataset.KIT_PLAYS at about FluidR3's
    loudness, and hand the rest back; render_mix keeps every label."""
    out = os.path.join(tmp, "kit-check")
    os.makedirs(out, exist_ok=True)
    hits = [(bar * 2.0 + i * 0.25, 42) for bar in range(4) for i in range(8)]
    hits += [(bar * 2.0 + t, p) for bar in range(4) for t, p in ((0.0, 36), (0.5, 38), (1.0, 36), (1.5, 38))]
    hits += [(1.5, 50), (1.625, 48), (1.75, 45), (1.875, 41), (2.0, 49), (4.0, 52)]
    n = np.zeros(len(hits), md.NOTE_DTYPE)
    n["on"], n["pitch"] = zip(*sorted(hits))
    n["off"], n["vel"], n["drum"] = n["on"] + 0.01, 100, 1
    fluid, _ = bd.fluid_render(n, {(0, 1): 100}, "FluidR3_GM.sf2", out)

    def db(a):
        return 20 * np.log10(np.sqrt(np.mean(a ** 2)) + 1e-12)
    for font in bd.KIT_FONTS:
        stem, rest = bd.kit_render(n, 100, font, out)
        check(len(rest) == 0 and abs(db(stem) - db(fluid)) < 1.5,
              f"{font} plays the pattern at {db(stem):.1f} dB (FluidR3's kit {db(fluid):.1f})")
        first = np.argmax(np.abs(stem) > 0.02 * np.abs(stem).max()) / md.SR
        check(abs(first) < 0.02, f"{font}: sound starts at the first hit ({first:.3f} s)")
        # GM's high toms (no piece of their own on a 4-piece kit) sound from its rack tom: spectral centroid
        # 1.2-1.5 kHz; AVL's own keys 48 and 50 (a hi-hat swish and a crash choke) 2.7-2.9 kHz
        toms, _ = bd.kit_render(n[np.isin(n["pitch"], [48, 50])], 100, font, out)
        mag = np.abs(np.fft.rfft(toms))
        centroid = float((mag * np.fft.rfftfreq(len(toms), 1.0 / md.SR)).sum() / mag.sum())
        check(db(toms) > db(fluid) - 20 and centroid < 2000,
              f"{font}: GM keys 48 and 50 sound as a tom ({db(toms):.1f} dB, centroid {centroid:.0f} Hz)")
    latin = n[:3].copy()
    latin["pitch"] = [62, 63, 75]  # congas, claves: no piece on the kit
    stem, rest = bd.kit_render(latin, 100, bd.KIT_FONTS[0], out)
    check(np.array_equal(rest, latin) and np.abs(stem).max() < 1e-3, "keys without a kit piece are handed back, unplayed")
    mel = np.zeros(4, md.NOTE_DTYPE)
    mel["on"], mel["off"], mel["pitch"], mel["vel"] = [0.0, 0.5, 1.0, 1.5], [0.4, 0.9, 1.4, 1.9], 60, 90
    both = np.sort(np.concatenate([n, latin, mel]), order="on")
    audio, kept = bd.render_mix(both, {(0, 1): 100, (0, 0): 100}, random.Random(3), out, drumkit=True)
    check(np.array_equal(kept, both) and np.sqrt(np.mean(audio ** 2)) > 1e-3,
          f"render_mix with drumkit=True keeps all {len(both)} labels and sounds")


def check_sf3_loading(tmp):
    """fluid_render loads .sf3 fonts with dynamic sample loading (it decodes only the samples a MIDI selects):
    the audio must equal FluidSynth's whole-font load, for several programs, drums, reverb and chorus."""
    out = os.path.join(tmp, "sf3-check")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(5)
    progs = [0, 24, 33, 40, 48, 56, 65, 73]
    n = np.zeros(40, md.NOTE_DTYPE)
    n["on"] = np.sort([rng.uniform(0.0, 4.0) for _ in range(40)])
    n["off"] = n["on"] + [rng.uniform(0.05, 1.0) for _ in range(40)]
    n["vel"] = [rng.randrange(30, 127) for _ in range(40)]
    n["drum"] = [i % 5 == 4 for i in range(40)]
    n["prog"] = [0 if d else progs[i % len(progs)] for i, d in enumerate(n["drum"])]
    n["pitch"] = [rng.choice([36, 38, 42, 46, 49]) if d else rng.randrange(36, 90) for d in n["drum"]]
    vol = {(int(p), int(d)): 100 for p, d in zip(n["prog"], n["drum"])}
    effects = ["-o", "synth.reverb.room-size=0.6", "-o", "synth.reverb.level=0.7", "-o", "synth.chorus.depth=8"]
    font = "MuseScore_General_Full.sf3"
    fast, _ = bd.fluid_render(n, vol, font, out, effects, tag="sf3")
    whole = os.path.join(out, "whole.wav")
    subprocess.run(bd.FLUIDSYNTH + ["-F", whole, *effects, bd.font_path(font), os.path.join(out, "sf3.mid")],
                   check=True, capture_output=True)
    ref = bd.read_mono(whole)
    check(np.array_equal(fast, ref) and np.sqrt(np.mean(ref ** 2)) > 1e-3,
          f"{font} with dynamic sample loading renders exactly the whole-font audio ({len(ref) / md.SR:.1f} s)")


def lowest_peak_hz(x):
    """Frequency of the lowest spectral peak above 15 % of the strongest (Hann window, 16x zero padding,
    parabolic interpolation of the log magnitude): for the tones below, their fundamental. Independent of
    stk_render.pitch_of (a time-domain estimator) that tuned them."""
    n = len(x) * 16
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x)), n))
    lo = int(40.0 * n / md.SR)
    peaks = [i for i in range(lo, len(mag) - 1) if mag[i] >= 0.15 * mag.max() and mag[i] >= mag[i - 1] and mag[i] > mag[i + 1]]
    if not peaks:
        return float("nan")
    i = peaks[0]
    a, b, c = np.log(mag[i - 1:i + 2] + 1e-12)
    return (i + 0.5 * (a - c) / (a - 2 * b + c)) * md.SR / n


def check_stk(tmp):
    """STK stems (tools/data/stk_render.py): each model plays the asked pitch (measured here by another
    method), starts at the onset, keeps to its tuning table, and render_mix gives it about half the
    instruments it can play."""
    import stk_render as sk
    out = os.path.join(tmp, "stk-check")
    os.makedirs(out, exist_ok=True)
    errs, starts = [], []
    # untuned (the note number itself), Bowed at 76 plays 87 cents sharp and Flute at 76 about 40. Plucked
    # strings start from random noise, so their spectra differ from render to render (the fundamental
    # 0.07-0.6 of the strongest partial): they are checked for the onset only
    for model, prog, pitch in (("Bowed", 40, 76), ("Clarinet", 71, 60), ("Plucked", 24, 45), ("Flute", 73, 76),
                               ("FMVoices", 52, 64), ("Rhodey", 4, 45)):
        n = np.zeros(1, md.NOTE_DTYPE)
        n["on"], n["off"], n["pitch"], n["vel"], n["prog"] = 0.5, 1.5, pitch, 100, prog
        a = sk.render(n, model, 1.0, out, DryRng())
        hz = lowest_peak_hz(a[int(0.8 * md.SR):int(1.3 * md.SR)])
        if model != "Plucked":
            errs.append((model, pitch, round(1200 * np.log2(hz / (440.0 * 2 ** ((pitch - 69) / 12.0))))))
        starts.append((model, round(np.argmax(np.abs(a) > 0.05 * np.abs(a).max()) / md.SR - 0.5, 3)))
    check(all(abs(c) <= 30 for _, _, c in errs), f"STK models play the asked pitch (cents off: {errs})")
    check(all(-0.001 <= d <= 0.05 for _, d in starts), f"STK stems start at the onset (seconds late: {starts})")
    table = sk.tuning()["Bowed"]["notes"]
    check(sk.playable(40, [min(table), max(table)]) == "Bowed" and sk.playable(40, [max(table) + 1]) is None
          and sk.playable(0, [60]) is None, f"STK plays a program only inside its tuning table (Bowed {min(table)}..{max(table)})")
    # render_mix: stems of violins and clarinets, 20 mixes; count what went to STK
    played = []
    real = sk.render

    def counting(notes, model, *args, **kw):
        played.append(model)
        return real(notes, model, *args, **kw)
    n = np.zeros(8, md.NOTE_DTYPE)
    n["on"], n["off"] = np.arange(8) * 0.25, np.arange(8) * 0.25 + 0.4
    n["pitch"], n["vel"], n["prog"] = [60, 64, 67, 72, 55, 57, 59, 60], 90, [40] * 4 + [71] * 4
    sk.render = counting
    try:
        for seed in range(20):
            bd.render_mix(n, {(40, 0): 100, (71, 0): 100}, random.Random(seed), out, stk=True)
        without = len(played)
        bd.render_mix(n, {(40, 0): 100, (71, 0): 100}, random.Random(0), out)
    finally:
        sk.render = real
    check(10 <= without <= 30 and len(played) == without and set(played) == {"Bowed", "Clarinet"},
          f"render_mix gives STK {without} of 40 instruments it can play (none without stk=True)")


class DryRng(random.Random):
    """A random.Random whose first draw is 0: stk_render.reverb then adds no room."""

    def __init__(self):
        super().__init__(0)
        self.first = True

    def random(self):
        if self.first:
            self.first = False
            return 0.0
        return super().random()


def check_memory_mapped_audio(tmp):
    """train.npz_member maps stored .npz members (np.savez) read-only and reads compressed ones; load_split's
    audio is what np.load reads."""
    import train
    rng = np.random.default_rng(5)
    arrays = dict(audio=rng.integers(-32768, 32767, 40001).astype(np.int16), feats=rng.random((37, 176)).astype(np.float16),
                  notes=np.array([(0.5, 1.0, 60, 80, 0, 0)], dtype=md.NOTE_DTYPE))
    stored, packed = os.path.join(tmp, "stored.npz"), os.path.join(tmp, "packed.npz")
    np.savez(stored, **arrays)
    np.savez_compressed(packed, **arrays)
    got = {(f, k): train.npz_member(f, k) for f in (stored, packed) for k in ("audio", "feats")}
    check(all(np.array_equal(v, arrays[k]) and v.dtype == arrays[k].dtype for (f, k), v in got.items())
          and all(isinstance(got[(stored, k)], np.memmap) for k in ("audio", "feats"))
          and not isinstance(got[(packed, "audio")], np.memmap),
          "npz_member: stored members memory-mapped, compressed ones read, both equal to what was saved")
    items = train.load_split(os.path.join(tmp, "base"), "train")
    check(len(items) > 0 and all(isinstance(it["audio"], np.memmap) and np.array_equal(
        it["audio"], np.load(os.path.join(tmp, "base", "train", it["id"] + ".npz"))["audio"]) for it in items),
        f"load_split maps the audio of {len(items)} renditions, equal to np.load's")


def check_bucketed_batches():
    """train.Sampler.batches: k = 1 draws what batch() draws; k = 4 groups the same draws by token count, every
    batch normalised by the pool's scored tokens / 4 (so a token weighs what it weighs unsorted)."""
    import train
    rng = np.random.default_rng(3)
    items = []
    for i in range(6):  # pieces from sparse to dense: segments of very different token counts
        on = np.sort(rng.uniform(0, 20, 20 + 60 * i))
        notes = np.array([(t, t + 0.3, rng.integers(40, 80), 80, 0, 0) for t in on], dtype=md.NOTE_DTYPE)
        items.append(dict(id=f"random-{i:03d}-0", audio=np.zeros(20 * md.SR, np.int16), notes=notes))

    def sampler(seed):
        return train.Sampler(items, np.random.default_rng(seed), 384)
    one = sampler(7).batches(8, 1)
    plain = sampler(7).batch(8)
    check(len(one) == 1 and all(torch_equal(x, y) for x, y in zip(one[0][0], plain))
          and one[0][1] == int(plain[5].sum()), "bucket 1: the batch batch() draws, normalised by its own scored tokens")
    four = sampler(7).batches(8, 4)
    draws = sampler(7)
    lengths = sorted(len(draws.draw()[1]) for _ in range(32))
    got = sorted(sorted(int(n) for n in ((b[2] != md.PAD).sum(1))) for b, _ in four)
    check(len(four) == 4 and [x for g in got for x in g] == lengths and all(got[i][-1] <= got[i + 1][0] for i in range(3))
          and all(nrm == sum(lengths) / 4 for _, nrm in four),
          f"bucket 4: the same 32 draws grouped by token count (longest per batch {[g[-1] for g in got]}), "
          f"each normalised by {sum(lengths) / 4}")
    # --ranks: two ranks' samplers (own draws, shared order) give batches of the same length rank at each step
    pools = [train.Sampler(items, np.random.default_rng(seed), 384, order_rng=np.random.default_rng(99)).batches(8, 4)
             for seed in (7, 8)]
    ranks = [np.argsort(np.argsort([int((b[2] != md.PAD).sum(1).max()) for b, _ in pool])).tolist() for pool in pools]
    check(ranks[0] == ranks[1] and ranks[0] != [0, 1, 2, 3],
          f"bucket 4, shared order: both ranks' batches in the same length order {ranks[0]}")


def torch_equal(x, y):
    import torch
    if isinstance(x, tuple):
        return all(torch_equal(a, b) for a, b in zip(x, y))
    return (x is None and y is None) or bool(torch.equal(x, y))


def ranks_worker(rank, port, out):
    """One of two processes of check_ranks."""
    import torch
    import train
    sync = train.join_ranks(rank, 2, port)
    p = [torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(1))]
    p[0].grad = torch.full((3,), float(rank + 1))
    if rank == 1:  # rank 0 has no gradient for p[1]: it counts as zero; p[2] has none on either
        p[1].grad = torch.full((2,), 4.0)
    res = dict(values=sync.average(p, [float(rank), 10.0]), g0=p[0].grad.tolist(), g1=p[1].grad.tolist(),
               g2=p[2].grad, any_one=sync.any(rank == 1), any_none=sync.any(False))
    t = torch.tensor([1.0, 2.0]) + rank
    sync.broadcast([t])
    res["broadcast"] = t.tolist()
    sync.agree([torch.ones(2)])
    try:
        sync.agree([torch.ones(2) * (1 + rank * 1e-6)])
        res["differ"] = "not noticed"
    except SystemExit as e:
        res["differ"] = str(e)
    sync.close()
    with open(f"{out}-{rank}.json", "w") as f:
        json.dump(res, f)


def check_ranks(tmp):
    """train.Ranks over two processes: gradients and values averaged (a missing gradient as zero), any(),
    rank 0's broadcast, agree() passing equal weights and stopping on a difference of 1e-6."""
    import train
    out = os.path.join(tmp, "ranks")
    train.start_ranks(ranks_worker, 2, out)
    got = []
    for r in range(2):
        with open(f"{out}-{r}.json") as f:
            got.append(json.load(f))
    check(all(g["values"] == [0.5, 10.0] and g["g0"] == [1.5] * 3 and g["g1"] == [2.0] * 2 and g["g2"] is None for g in got),
          "ranks: gradients and logged values averaged on both ranks, a gradient missing on one rank counted as "
          "zero, one missing on both left missing")
    check(all(g["any_one"] and not g["any_none"] and g["broadcast"] == [1.0, 2.0] for g in got),
          "ranks: any() true on both when one rank says so; broadcast gives rank 0's values")
    check(all("weights differ" in g["differ"] for g in got), f"ranks: agree() stops both on differing weights ({got[0]['differ']})")


def tiny_train_cmd(tmp, run):
    """train.py on check_dataset's base renditions with a tiny model: a command the checks extend."""
    return [sys.executable, os.path.join(ROOT, "tools", "train", "train.py"), "--data", os.path.join(tmp, "base"),
            "--run", run, "--d", "32", "--heads", "2", "--head-dim", "16", "--mlp", "64", "--layers", "1",
            "--batch", "2", "--val-clips", "1", "--eval-tokens", "16", "--warmup", "1"]


def check_ranks_run(tmp):
    """train.py --ranks 2 trains (weights agreeing at the end, or it exits), counts both ranks' segments,
    and its checkpoint resumes."""
    import torch
    run = os.path.join(tmp, "ranks-run")
    cmd = tiny_train_cmd(tmp, run) + ["--ranks", "2"]
    steps = []
    for n in (3, 2):
        r = subprocess.run(cmd + ["--steps", str(n)], capture_output=True, text=True)
        if r.returncode != 0:
            check(False, f"train.py --ranks 2 failed:\n{r.stderr[-2000:]}")
            return
        state = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")
        steps.append((state["step"], state["seen"]))
    check(steps == [(3, 12), (5, 20)], f"train.py --ranks 2, batch 2: (steps, segments) {steps} after 3 steps and 2 resumed")


def check_learning_rate(tmp):
    """train.learning_rate: warm-up, inverse-square-root decay, the linear cool-down; train.py stops at its end
    and refuses a cool-down without its start."""
    import train
    lr = lambda step, **k: train.learning_rate(step, 3e-3, 0, 30, **k)  # noqa: E731
    check(abs(lr(0) - 1e-4) < 1e-12 and lr(29) == 3e-3 and lr(1999) == 3e-3 and abs(lr(7999) - 1.5e-3) < 1e-12,
          f"learning rate: warm-up and decay {lr(0)}, {lr(29)}, {lr(1999)}, {lr(7999)}")
    cool = dict(cool_from=7999, cool_steps=1000)
    check(lr(7998, **cool) == lr(7998) and abs(lr(8499, **cool) - lr(8499) / 2) < 1e-12 and lr(8999, **cool) == 0.0
          and lr(9999, **cool) == 0.0, f"learning rate: cool-down {lr(8499, **cool)} at half way, {lr(8999, **cool)} at the end")
    run = os.path.join(tmp, "cool-run")
    cmd = tiny_train_cmd(tmp, run) + ["--steps", "50"]
    r = subprocess.run(cmd + ["--cool-steps", "3"], capture_output=True, text=True)
    check(r.returncode != 0 and "--cool-from" in r.stderr, f"train.py --cool-steps alone: rc {r.returncode}")
    r = subprocess.run(cmd + ["--cool-from", "2", "--cool-steps", "3"], capture_output=True, text=True)
    import torch
    step = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")["step"] if r.returncode == 0 else None
    check(step == 5, f"train.py --cool-from 2 --cool-steps 3 stops at step 5 of 50: {step} (rc {r.returncode})")


def check_stop_file(tmp):
    """<run>/STOP stops a running train.py (evaluated, saved) and is removed then; a STOP already there when a
    run starts (left by an older run, or copied with the run directory) is removed and the run trains."""
    import torch
    run = os.path.join(tmp, "stop-run")
    os.makedirs(run, exist_ok=True)
    stop = os.path.join(run, "STOP")
    open(stop, "w").close()
    r = subprocess.run(tiny_train_cmd(tmp, run) + ["--steps", "2"], capture_output=True, text=True)
    step = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")["step"] if r.returncode == 0 else None
    check(step == 2 and not os.path.exists(stop), f"stale STOP: trained to step {step} of 2 (rc {r.returncode}), "
          f"STOP {'still there' if os.path.exists(stop) else 'removed'}")
    # a run that would go on for 100,000 steps, stopped by STOP once it has logged step 20
    log = open(os.path.join(tmp, "stop-run.log"), "w")
    p = subprocess.Popen(tiny_train_cmd(tmp, run) + ["--steps", "100000"], stdout=log,
                         stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while p.poll() is None and time.time() - t0 < 300 and "step 20 " not in open(log.name).read():
        time.sleep(0.2)
    open(stop, "w").close()
    try:
        rc = p.wait(timeout=300)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "killed after 300 s"
    log.close()
    step = torch.load(os.path.join(run, "ckpt.pt"), map_location="cpu")["step"] if rc == 0 else None
    check(rc == 0 and step is not None and 20 <= step < 100000 and not os.path.exists(stop),
          f"STOP during a run: rc {rc}, stopped at step {step}, STOP {'still there' if os.path.exists(stop) else 'removed'}")


def check_class_matches():
    """metrics.class_matches: reference class x estimated class over the notes matched by onset, any program."""
    import metrics
    ref = np.array([(1.0, 1.5, 60, 80, 0, 0), (2.0, 3.0, 64, 80, 48, 0), (3.0, 3.2, 67, 80, 41, 0),
                    (4.0, 4.01, 36, 80, 0, 1)], dtype=md.NOTE_DTYPE)
    est = np.array([(1.02, 1.1, 60, 80, 24, 0), (2.0, 2.2, 64, 80, 50, 0), (3.2, 3.4, 67, 80, 41, 0),
                    (4.0, 4.01, 36, 80, 0, 1)], dtype=md.NOTE_DTYPE)
    m, total = metrics.class_matches(ref, est)
    want = np.zeros((16, 16), np.int64)
    want[0, 3] = want[6, 6] = 1  # piano found as guitar; strings ensemble kept; the late violin note not found
    check(np.array_equal(m, want) and total.tolist() == [1, 0, 0, 0, 0, 1, 1] + [0] * 9,
          f"class matches: {[(int(a), int(b), int(m[a, b])) for a, b in zip(*np.nonzero(m))]}, notes per class {total.tolist()}")


def check_balanced_weight():
    """train.py --balanced-weight: segments drawn by audio length, class-balanced renditions (-b<k>) W times as often."""
    import train
    items = [dict(id=i, audio=np.zeros(n, np.int16)) for i, n in
             [("mma-001-Swing-0", 3000), ("mma-001-Swing-b0", 1000), ("jam-bethena-b1", 2000), ("jam-bach-0", 1000)]]
    w = train.Sampler(items, np.random.default_rng(0), 64, balanced_weight=3.0).w
    check(np.allclose(w, np.array([3000, 3000, 6000, 1000]) / 13000), f"balanced weight 3: draw shares {np.round(w, 3).tolist()}")


def check_balanced_classes():
    """--balanced-*: a piano part mostly becomes a class the sources rarely play; a bass part mostly stays bass."""
    notes = np.array([(0.0, 1.0, 60, 80, 0, 0), (0.0, 1.0, 36, 80, 33, 0), (0.5, 0.51, 36, 90, 0, 1)], dtype=md.NOTE_DTYPE)

    def classes(balanced):
        piano, bass = [], []
        for seed in range(600):
            n, _ = bd.augment(notes, random.Random(seed), strong=True, balanced=balanced)
            pitched = n[n["drum"] == 0]
            piano += (pitched["prog"][pitched["pitch"] >= 50] // 8).tolist()  # transposition keeps them apart
            bass += (pitched["prog"][pitched["pitch"] < 50] // 8).tolist()
        return np.array(piano), np.array(bass)

    piano, bass = classes(True)
    rare = np.isin(piano, [5, 6, 7, 8, 9]).mean()
    check(0.45 < rare < 0.7 and (piano == 0).mean() < 0.1 and 0.55 < (bass == 4).mean() < 0.8,
          f"balanced classes: piano part -> strings..pipe {rare:.2f}, stays piano {(piano == 0).mean():.2f}; "
          f"bass stays bass {(bass == 4).mean():.2f}")
    piano, bass = classes(False)
    check((piano == 0).mean() > 0.8 and (bass == 4).mean() > 0.8,
          f"plain augmentation: piano stays piano {(piano == 0).mean():.2f}, bass stays bass {(bass == 4).mean():.2f}")


def fake_samples(path, seconds=2.0):
    """A stand-in for the Salamander cache: a decaying sine at each recorded pitch, amplitude layer / 16."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t = np.arange(int(seconds * md.SR)) / md.SR
    arrays = {}
    for layer in sp.LAYERS:
        for octave in range(0, 9):
            for name, pc in sp.NAMES.items():
                pitch = 12 * (octave + 1) + pc
                if 21 <= pitch <= 108:
                    f = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
                    arrays[f"{layer}_{pitch}"] = (layer / 16 * np.sin(2 * np.pi * f * t) * np.exp(-t)).astype(np.float16)
    np.savez(path, **arrays)


def check_recorded_piano(tmp):
    path = os.path.join(tmp, "samples.npz")
    fake_samples(path)
    piano = sp.SampledPiano(path)
    for pitch in (61, 62, 63, 64):  # below, at, above a recorded pitch (63 = D#4), and the next one's lower side
        y = piano.note(pitch, 100, 1.0, 0.1)
        spec = np.abs(np.fft.rfft(y[: md.SR] * np.hanning(md.SR)))
        f = np.argmax(spec) * md.SR / md.SR  # 1 Hz bins
        want = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
        check(abs(f - want) <= max(1.0, 0.003 * want), f"recorded piano pitch {pitch}: {f:.0f} Hz (want {want:.1f})")
    y = piano.note(60, 100, 0.5, 0.05)
    held = np.abs(y[int(0.4 * md.SR):int(0.5 * md.SR)]).max()
    after = np.abs(y[-int(0.01 * md.SR):]).max()  # the last 10 ms, 5 damper time constants after note-off
    check(len(y) <= int(0.5 * md.SR + 5 * 0.05 * md.SR) and after < 0.01 * held,
          f"damped after note-off: {len(y) / md.SR:.2f} s long, ending at {after / held:.4f} of the held level")
    top = piano.note(sp.UNDAMPED + 2, 100, 0.2, 0.05)
    check(len(top) > int(0.2 * md.SR + 5 * 0.05 * md.SR), f"undamped top string rings on: {len(top) / md.SR:.2f} s")
    soft, loud = (np.abs(piano.note(60, v, 0.3, 0.1)).max() for v in (20, 127))
    check(2.5 < loud / soft < 8.0, f"velocity layers: velocity 127 / 20 peak ratio {loud / soft:.2f}")
    n = np.zeros(2, md.NOTE_DTYPE)
    n["on"], n["off"], n["pitch"], n["vel"] = (0.5, 1.25), (1.0, 1.5), (60, 72), (90, 90)
    import random
    audio = piano.render(n, 1.0, random.Random(0))
    first = int(np.argmax(np.abs(audio) > 1e-3)) / md.SR
    check(abs(first - 0.5) < 0.003, f"rendered note starts at its onset: {first:.4f} s (0.5)")


def check_tie_rules():
    """The scenario of the engine's mt3_decoder_tie_rules_recover_tied_notes_and_end_untied_ones."""
    def posterior(seg, frame, pitch, kind):
        if frame < 0:
            return -1.0
        if kind == 1:
            return 0.1 if pitch == 60 and frame >= 150 else 0.9
        return 0.9 if (pitch, frame) in ((64, 200), (62, 100), (65, 253)) else 0.1
    S, PI, PR = (lambda v: md.SHIFT0 + v), (lambda v: md.PITCH0 + v), (lambda v: md.PROG0 + v)
    V0, V1 = md.VEL0, md.VEL0 + 1
    a = [md.TIE, S(50), PR(0), V1, PI(60), PI(62), S(85), V0, PI(62), S(190), V1, PI(65), S(195), V0, PI(65)]
    b = [PR(0), PI(64), PI(67), PI(62), PI(65), md.TIE, S(50), V0, PI(64)]
    rules_want = [(60, 0.50, 1.20), (62, 0.50, 0.85), (64, 1.60, 2.54), (65, 1.90, 1.95), (65, 2.024, 2.54)]
    for rules, rejoin, want in ((False, 0, [(60, 0.50, 2.04), (62, 0.50, 0.85), (65, 1.90, 1.95)]),
                                (True, 0, rules_want), (True, 100, rules_want)):
        d = md.Decoder(posterior=posterior if rules else None, recover_below=0.5, untied_below=0.3, rejoin_ms=rejoin,
                       evidence=(lambda seg, t, p: 0.0) if rejoin else None)
        d.segment(a, 0.0)
        d.segment(b, 2.048)  # a segment start (2.048 s) falls to the shift grid: 2.04 as in the engine test
        got = sorted((int(n["pitch"]), round(float(n["on"]), 9), round(float(n["off"]), 9)) for n in d.finish())
        check(got == want, f"Decoder tie rules {'on' if rules else 'off'}, rejoin {rejoin} ms: {got}")


def check_offset_clip():
    """The scenario of the engine's mt3_decoder_offset_clip_ends_notes_where_the_sound_stops: four segments,
    only the one decoded and the one before it held."""
    def posterior(seg, frame, pitch, kind):
        if not (seg - 1) * 256 <= frame < (seg + 1) * 256:
            return -1.0
        quiet = ((pitch == 60 and (100 <= frame <= 101 or 200 <= frame <= 202)) or (pitch == 62 and frame >= 50)
                 or (pitch == 64 and 254 <= frame <= 256))
        return 0.0 if kind == 0 else (0.1 if quiet else 0.9)
    S, PI, PR = (lambda v: md.SHIFT0 + v), (lambda v: md.PITCH0 + v), (lambda v: md.PROG0 + v)
    V0, V1, T = md.VEL0, md.VEL0 + 1, md.TIE
    segs = [[T, S(10), PR(0), V1, PI(60), S(20), PI(62), S(50), PI(64), S(90), V0, PI(62), S(100), V1, PI(65),
             S(120), md.DRUM0 + 36, S(150), V0, PI(65)],
            [PR(0), PI(60), PI(64), T, S(95), V0, PI(64)], [PR(0), PI(60), T], [PR(0), PI(60), T, S(40), V0, PI(60)]]
    for below, want in ((0.0, [(60, 0.10, 6.54), (62, 0.20, 0.90), (64, 0.50, 2.99), (65, 1.00, 1.50)]),
                        (0.2, [(60, 0.10, 1.60), (62, 0.20, 0.40), (64, 0.50, 2.032), (65, 1.00, 1.50)])):
        d = md.Decoder(posterior=posterior, clip_below=below)
        for i, toks in enumerate(segs):
            d.segment(toks, i * 2.048)
        notes = d.finish()
        got = sorted((int(n["pitch"]), round(float(n["on"]), 9), round(float(n["off"]), 9)) for n in notes if not n["drum"])
        check(got == want and int(notes["drum"].sum()) == 1, f"Decoder offset clip {below}: {got}")


def check_onset_recovery():
    """The scenario of the engine's mt3_decoder_onset_recovery_adds_clear_acoustic_onsets_the_model_missed."""
    def posterior(seg, frame, pitch, kind):
        if not (seg - 1) * 256 <= frame < (seg + 1) * 256:
            return -1.0
        if kind == 1:
            return 0.1 if (pitch == 64 and frame >= 150) or (pitch == 76 and frame >= 320) else 0.9
        if (pitch, frame) in ((60, 126), (64, 100), (72, 254), (79, 255), (76, 300)):
            return 0.9
        if pitch == 45 and frame in (200, 201):
            return 0.85
        if pitch == 64 and frame in (101, 102, 103):
            return 0.85 if frame == 103 else 0.5
        return 0.7 if (pitch, frame) == (50, 110) else 0.1
    S, PI, PR = (lambda v: md.SHIFT0 + v), (lambda v: md.PITCH0 + v), (lambda v: md.PROG0 + v)
    V0, V1, T = md.VEL0, md.VEL0 + 1, md.TIE
    a = [T, S(50), PR(32), V1, PI(40), S(100), PR(0), PI(60), S(150), V0, PI(60)]
    b = [PR(32), PI(40), T, S(3), PR(24), V1, PI(72), S(10), PR(0), PI(67)]
    c = [PR(32), PI(40), PR(24), PI(72), PR(0), PI(67), T]
    plain = [(40, 0.50, 4.09, 32), (60, 1.00, 1.50, 0), (72, 2.07, 4.09, 24), (67, 2.14, 4.09, 0)]
    rec = plain + [(64, 0.80, 1.20, 0), (45, 1.608, 4.088, 32), (79, 2.04, 4.088, 24), (76, 2.40, 2.56, 24)]
    for above, want in ((0.0, plain), (0.8, rec)):
        d = md.Decoder(posterior=posterior, recover_above=above)
        d.segment(a, 0.0)
        d.segment(b, 2.048)
        d.segment(c, 4.096)
        got = sorted((int(n["pitch"]), round(float(n["on"]), 9), round(float(n["off"]), 9), int(n["prog"]))
                     for n in d.finish())
        check(got == sorted(want), f"Decoder onset recovery {above}: {got}")


def check_eq():
    """The mixed renditions' EQ filters (audio EQ cookbook): shelf and peak gains where they belong."""
    from scipy.signal import freqz
    for kind, f0, gain, at in (("low", 200, 6.0, (6, 3, 0)), ("high", 4000, -6.0, (0, -3, -6)), ("peak", 1000, 6.0, (0, 6, 0))):
        b, a = bd.biquad(kind, f0, gain)
        _, h = freqz(b, a, worN=[1.0, f0, 7990.0], fs=16000)
        db = 20 * np.log10(np.abs(h))
        check(np.allclose(db, at, atol=0.1), f"{kind} {f0} Hz {gain:+.0f} dB: gain at DC / f0 / Nyquist {np.round(db, 2)}")


def started_from(seed, what, shape, adapt):
    """A tiny model, and one of another shape (cfg overrides) loaded with adapt(new model, its weights):
    checks every tensor is set and both compute the same logits; -> (initial, new) models."""
    import torch
    from model import TrainModel
    from mt3_reference import mt3_config
    torch.manual_seed(seed)
    cfg = mt3_config(d_model=32, heads=2, head_dim=16, mlp_dim=64, enc_layers=2, dec_layers=2, dropout=0.0,
                     input_features=40, segment_frames=32, cross_time_bias=8, shift_pointer=1, onset_copy=2)
    small = TrainModel(cfg).eval()
    big = TrainModel(dict(cfg, **shape)).eval()
    missing, unexpected = big.load_state_dict(adapt(big, small.state_dict()), strict=False)
    check(not missing and not unexpected, f"{what} model: every tensor set")
    x = torch.randn(2, 32, 40)
    tok = torch.randint(3, 1100, (2, 12))
    with torch.no_grad():
        d = (small.mt3(x, tok) - big.mt3(x, tok)).abs().max().item()
    check(d < 1e-5, f"{what} model's logits equal the initial model's (max difference {d:.2e})")
    return small, big


def check_grow():
    import torch
    import train
    small, grown = started_from(3, "grown", dict(enc_layers=3, dec_layers=3), lambda m, w: train.grow_layers(m, w, 1))
    # the shift pointer's layer stays last; the new decoder layer sits before it
    last_ok = torch.equal(small.mt3.dec_layers[1].cross.q.weight, grown.mt3.dec_layers[2].cross.q.weight)
    check(last_ok and grown.mt3.dec_layers[1].mlp.wo.weight.abs().max().item() == 0.0,
          "new decoder layer inserted before the last one, output projection zero")


def check_widen():
    import train
    _, wide = started_from(4, "widened", dict(mlp_dim=96), lambda m, w: train.widen_mlp(m, w, 96))
    wi, wo = wide.mt3.enc_layers[0].mlp.wi0.weight, wide.mt3.dec_layers[1].mlp.wo.weight
    check(tuple(wi.shape) == (96, 32) and wi[64:].abs().min().item() > 0 and wo[:, 64:].abs().max().item() == 0.0,
          "new hidden units: initialised inputs, zero outputs")


def check_bass_at_sounding_pitch():
    import eval as ev
    import mt3_data as md
    n = np.zeros(4, md.NOTE_DTYPE)
    n["pitch"], n["prog"], n["drum"] = [52, 52, 40, 36], [33, 0, 39, 32], [0, 0, 0, 1]
    got = ev.bass_at_sounding_pitch(n)
    check(got["pitch"].tolist() == [40, 52, 28, 36] and n["pitch"].tolist() == [52, 52, 40, 36],
          "eval slakh-sp: bass programs an octave down, other programs and drums as they were, input untouched")


def check_fake_shifts():
    import train
    import mt3_data as md
    rng = np.random.default_rng(3)
    notes = np.zeros(40, md.NOTE_DTYPE)
    notes["on"] = np.repeat(np.arange(20) * 0.09, 2)[:40]  # chords every 90 ms
    notes["off"] = notes["on"] + 0.3
    notes["pitch"] = 60 + np.arange(40) % 7
    notes["vel"] = 100
    tok = md.segment_tokens(md.trim_overlaps(notes), 0)
    out, scored = train.fake_shifts(tok, rng, 0.7)
    fake = np.flatnonzero(~scored)
    check(len(fake) > 3 and np.array_equal(out[scored], tok), f"fake shifts: {len(fake)} inserted, the rest unchanged")
    ok = True
    for i in fake:  # after a note, later than the time so far, before the next real shift
        prev = [t for t in out[:i] if md.SHIFT0 <= t < md.PITCH0]
        cur = prev[-1] - md.SHIFT0 if prev else 0
        v = out[i] - md.SHIFT0
        nxt = out[i + 1]
        ok &= md.PITCH0 <= out[i - 1] < md.VEL0 and cur < v <= cur + 8
        ok &= nxt == md.EOS or (md.SHIFT0 <= nxt < md.PITCH0 and v < nxt - md.SHIFT0)
    check(bool(ok), "fake shifts follow a note and fall strictly between the current time and the next event")
    out0, scored0 = train.fake_shifts(tok, rng, 0.0)
    check(np.array_equal(out0, tok) and scored0.all(), "fake shifts off: tokens unchanged")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()
    check_eq()
    check_recorded_piano(a.tmp)
    check_tie_rules()
    check_offset_clip()
    check_onset_recovery()
    check_grow()
    check_widen()
    check_bass_at_sounding_pitch()
    check_fake_shifts()
    check_balanced_classes()
    check_balanced_weight()
    check_class_matches()
    check_bucketed_batches()
    check_dataset(a.tmp)
    check_memory_mapped_audio(a.tmp)
    check_ranks(a.tmp)
    check_ranks_run(a.tmp)
    check_learning_rate(a.tmp)
    check_stop_file(a.tmp)
    check_freepats(a.tmp)
    check_stk(a.tmp)
    check_drum_kits(a.tmp)
    check_sf3_loading(a.tmp)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
