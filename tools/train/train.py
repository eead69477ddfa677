"""Trains scribe's MT3-architecture model on the data set of tools/data/build_dataset.py.

    nice -n 10 /usr/bin/python3 tools/train/train.py --run .data/runs/NAME [--aux 1.0] [--guided 0.0]
        [--d 256 --heads 4 --head-dim 64 --mlp 1024 --layers 4] [--minutes 30] [--ranks 2]

Resumes from <run>/ckpt.pt when present (model, optimiser, step counters: resuming continues with fresh random
segments). --until HH:MM stops at a wall-clock time; creating <run>/STOP makes the run evaluate, save
and exit at the next step, and removes STOP (a request for one stop; one found at the start, left behind by
an older run or copied with its directory, is removed so that the new run trains). Every --save-min minutes: ckpt.pt (full state) and, when the
validation onset F1 improves, best.pt (model weights + config only). Learning curve: <run>/curve.csv
(step, segments seen, hours, train losses, validation loss, token accuracy, onset F1, multi F1, ...).
"""
import argparse
import csv
import ctypes
import json
import math
import os
import random
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data"))
sys.path.insert(0, HERE)
import acoustic_features as af  # noqa: E402
import mt3_data as md  # noqa: E402
from model import AUX_OUT, TrainModel, mt3_config  # noqa: E402
import metrics  # noqa: E402


AC_FEATURES = 176  # acoustic (Basic Pitch) note + onset posteriors per MT3 frame (src/models/mt3_acoustic.h)


def cpu_has_bf16():
    """Whether the CPU multiplies bfloat16 natively (elsewhere autocast would emulate it, slower than float32)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def set_blas_threads(n):
    """Torch's float32 matrix products call OpenBLAS (Debian's libblas.so.3), which keeps its own pool of one
    thread per core beside torch's; with the other core busy (the second training run) those threads
    contend and a step took 2.05 s instead of 1.27 (session 12, AVX2 machine)."""
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(n)
    except (OSError, AttributeError):  # another BLAS: it follows torch's setting or has no pool
        pass


def npz_member(path, name):
    """Array `name` of the .npz at path, memory-mapped read-only when stored uncompressed (np.savez): the
    pages then live in the shared page cache, so two training runs on one machine hold the audio once
    (35 h of int16 audio and its float16 acoustic features are 9 GB; read into each process they made
    two runs 11.5 GB each, and the second was killed out of memory in session 15). Compressed members
    are read into memory."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name + ".npy")
        if info.compress_type != zipfile.ZIP_STORED:
            with z.open(info) as f:
                return np.lib.format.read_array(f)
    with open(path, "rb") as f:
        # local file header: 30 bytes, then the name and the extra field, whose lengths sit at bytes 26..29
        f.seek(info.header_offset)
        head = f.read(30)
        if head[:4] != b"PK\x03\x04":
            raise ValueError(f"{path}: bad zip local header for {name}")
        f.seek(info.header_offset + 30 + int.from_bytes(head[26:28], "little") + int.from_bytes(head[28:30], "little"))
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            return np.load(path)[name]
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    if dtype.hasobject or fortran:
        return np.load(path)[name]
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def load_split(root, split, max_items=None, acoustic=False):
    """Renditions of a split; with acoustic, also their acoustic features (tools/data/acoustic_features.py).
    Audio and features are memory-mapped (npz_member), the notes read."""
    items = []
    found = af.current_version(root) if acoustic else af.VERSION
    if found != af.VERSION:
        sys.exit(f"{root}/acoustic holds features of version {found!r}, not {af.VERSION!r}: "
                 f"run make data (tools/data/acoustic_features.py --data {root})")
    files = sorted(f for f in os.listdir(os.path.join(root, split)) if f.endswith(".npz"))
    for f in files[:max_items]:
        path = os.path.join(root, split, f)
        notes = np.load(path)["notes"].copy()
        notes["prog"] = md.midi_class(notes["prog"])
        notes = md.trim_overlaps(notes)
        it = dict(id=f[:-4], audio=npz_member(path, "audio"), notes=notes)
        if acoustic:
            ac_path = os.path.join(root, "acoustic", split, f[:-4] + ".npy")
            if not os.path.exists(ac_path):
                sys.exit(f"{ac_path} missing: run tools/data/acoustic_features.py --data {root}")
            it["ac"] = np.load(ac_path, mmap_mode="r")  # float16 [rows][176]
        items.append(it)
    return items


def ac_rows(it, start, n=None):
    """Acoustic features of frames start..start+n-1 (default: one segment; zero past the stored rows), float32."""
    n = n or md.SEG_FRAMES
    out = np.zeros((n, AC_FEATURES), np.float32)
    rows = it["ac"][start:start + n]
    out[:len(rows)] = rows
    return out


def aux_targets(notes, start):
    """[SEG_FRAMES, AUX_OUT] float targets for the frames of the segment starting at `start`."""
    y = np.zeros((md.SEG_FRAMES, AUX_OUT), np.float32)
    fps = md.SR / md.HOP
    on_f = np.floor(notes["on"] * fps).astype(np.int64) - start
    off_f = np.ceil(notes["off"] * fps).astype(np.int64) - start
    sel = (off_f >= 0) & (on_f < md.SEG_FRAMES)
    for o, e, p, pr, d in zip(on_f[sel], off_f[sel], notes["pitch"][sel], notes["prog"][sel], notes["drum"][sel]):
        if d:
            if 0 <= o < md.SEG_FRAMES:
                y[o, 256 + p] = 1
            continue
        if 0 <= o < md.SEG_FRAMES:
            y[o, p] = 1
        a, b = max(o, 0), min(e, md.SEG_FRAMES)
        y[a:b, 128 + p] = 1
        y[a:b, 384 + pr // 8] = 1
    return y


def token_frames(tokens):
    """Frame (0..255) of the event each target token belongs to; -1 where unknown (EOS/PAD)."""
    fr = np.full(len(tokens), -1, np.int64)
    cur = 0
    for i, t in enumerate(tokens):
        if t == md.EOS or t == md.PAD:
            continue
        if md.SHIFT0 <= t < md.PITCH0:
            cur = t - md.SHIFT0
        fr[i] = min(md.SEG_FRAMES - 1, int(round(cur * md.SR / md.HOP / md.STEPS_PER_SECOND)))
    return fr


def oracle_rows(notes, start):
    """Ground-truth stand-in for the acoustic features of one segment: 88 note-activity and 88 onset
    channels (pitched notes; an onset lights its frame and the next, as the network's onset peaks
    are about two frames wide). Teacher input for --oracle: the decoder can learn to read times and
    pitches from clean features before it must cope with the acoustic network's errors."""
    out = np.zeros((md.SEG_FRAMES, AC_FEATURES), np.float32)
    fps = md.SR / md.HOP
    on_f = np.floor(notes["on"] * fps).astype(np.int64) - start
    off_f = np.ceil(notes["off"] * fps).astype(np.int64) - start
    sel = (notes["drum"] == 0) & (off_f >= 0) & (on_f < md.SEG_FRAMES) & (notes["pitch"] >= 21) & (notes["pitch"] <= 108)
    for o, e, p in zip(on_f[sel], off_f[sel], notes["pitch"][sel]):
        k = p - 21
        out[max(o, 0):min(e, md.SEG_FRAMES), k] = 1.0
        for f in (o, o + 1):
            if 0 <= f < md.SEG_FRAMES:
                out[f, 88 + k] = 1.0
    return out


def fake_shifts(tokens, rng, p, ahead=8):
    """Exposure-bias help (--fake-shifts): after a group of note events at time c, with probability p
    insert a shift to a time c + 1..ahead steps (10-80 ms) before the next real shift (or EOS). The
    inserted token is decoder input only (its own target position is not scored); the target after
    it is the real next event. Greedy decoding that drifts a few steps past a chord otherwise meets
    a state training never showed and strikes the chord again. Returns (tokens, scored flags)."""
    out, scored = [], []
    cur = 0
    seg_steps = int(md.SEG_FRAMES * md.HOP * md.STEPS_PER_SECOND / md.SR)
    for i, t in enumerate(tokens):
        after_note = i > 0 and (md.PITCH0 <= tokens[i - 1] < md.VEL0 or md.DRUM0 <= tokens[i - 1] < md.N_TOKENS)
        is_shift = md.SHIFT0 <= t < md.PITCH0
        if after_note and (is_shift or t == md.EOS):
            limit = min(cur + ahead, (t - md.SHIFT0 - 1) if is_shift else seg_steps)
            if limit > cur and rng.random() < p:
                out.append(md.SHIFT0 + int(rng.integers(cur + 1, limit + 1)))
                scored.append(False)
        if is_shift:
            cur = t - md.SHIFT0
        out.append(t)
        scored.append(True)
    return np.array(out, np.int64), np.array(scored, bool)


def is_balanced(rid):
    """Class-balanced rendition (build_dataset.py --balanced-*: ids end in -b<k>)."""
    return re.search(r"-b\d+$", rid) is not None


class Sampler:
    def __init__(self, items, rng, max_len, oracle=0.0, fake=0.0, balanced_weight=1.0, order_rng=None):
        self.items = items
        self.rng = rng
        # batches(): the order of a pool's batches; --ranks share it, so the ranks' batches of one step are of
        # the same length rank in their pools and no rank waits long for another's longest batch
        self.order_rng = order_rng or rng
        self.max_len = max_len
        self.oracle = oracle  # probability of replacing a training segment's acoustic features by oracle_rows
        self.fake = fake  # fake_shifts probability
        # segments are drawn in proportion to audio length, class-balanced renditions balanced_weight times as often
        self.balanced = np.array([is_balanced(it["id"]) for it in items], bool)
        self.w = np.array([len(it["audio"]) for it in items], np.float64) * np.where(self.balanced, balanced_weight, 1.0)
        self.w /= self.w.sum()

    def segment(self, it, start):
        a = it["audio"][start * md.HOP: start * md.HOP + md.SEG_SAMPLES].astype(np.float32) / 32768.0
        if len(a) < md.SEG_SAMPLES:
            a = np.pad(a, (0, md.SEG_SAMPLES - len(a)))
        tok = md.segment_tokens(it["notes"], start, max_len=self.max_len)
        ac = ac_rows(it, start) if "ac" in it else None
        if ac is not None and self.oracle > 0 and self.rng.random() < self.oracle:
            ac = oracle_rows(it["notes"], start)
        scored = np.ones(len(tok), bool)
        if self.fake > 0:
            tok, scored = fake_shifts(tok, self.rng, self.fake)
        return a, tok, aux_targets(it["notes"], start), ac, valid_frames(it, start), scored

    def draw(self):
        """One random training segment (Sampler.segment's tuple)."""
        it = self.items[self.rng.choice(len(self.items), p=self.w)]
        frames = len(it["audio"]) // md.HOP
        start = int(self.rng.integers(0, max(1, frames - min(64, md.SEG_FRAMES // 2))))
        return self.segment(it, start)

    def batch(self, n):
        return collate([self.draw() for _ in range(n)])

    def batches(self, n, k):
        """k batches of n segments drawn together and grouped by token count, in random order, each with its
        token normaliser. The decoder pads a batch to its longest sequence: at k = 1 half its work was padding
        (median segment 94 tokens, longest of 8 ~200). The normaliser is the pool's scored tokens / k, so every
        token weighs what it weighs in an unsorted batch (a mean over each batch's tokens would weight the
        tokens of the short-sequence batches more). k = 1 draws exactly what batch(n) draws."""
        segs = [self.draw() for _ in range(n * k)]
        norm = sum(int(s[5].sum()) for s in segs) / k
        if k == 1:
            return [(collate(segs), norm)]
        segs.sort(key=lambda s: len(s[1]))
        out = [(collate(segs[i * n:(i + 1) * n]), norm) for i in range(k)]
        return [out[i] for i in self.order_rng.permutation(k)]


def valid_frames(it, start):
    """Frames of the segment at `start` that hold audio. The engine (as MT3) pads the audio to whole
    hops (always adding 1..hop zeros) and gives every frame past that all-zero input features."""
    return int(min(md.SEG_FRAMES, len(it["audio"]) // md.HOP + 1 - start))


def collate(segs):
    L = max(len(s[1]) for s in segs)
    b = len(segs)
    # model input = (audio, acoustic features or None, valid frame counts)
    audio = (torch.from_numpy(np.stack([s[0] for s in segs])),
             torch.from_numpy(np.stack([s[3] for s in segs])) if segs[0][3] is not None else None,
             torch.tensor([s[4] for s in segs]))
    tgt = np.zeros((b, L), np.int64)
    frames = np.full((b, L), -1, np.int64)
    scored = np.zeros((b, L), bool)
    for i, s in enumerate(segs):
        tgt[i, :len(s[1])] = s[1]
        frames[i, :len(s[1])] = token_frames(s[1])
        scored[i, :len(s[1])] = s[5]
    tgt = torch.from_numpy(tgt)
    dec_in = torch.cat([torch.zeros(b, 1, dtype=torch.long), tgt[:, :-1]], 1)
    aux = torch.from_numpy(np.stack([s[2] for s in segs]))
    return audio, dec_in, tgt, torch.from_numpy(frames), aux, torch.from_numpy(scored)


def guided_loss(probs, frames, width=8.0, pointer=False):
    """Mean attention mass (over heads and layers) far from each token's event frame.
    pointer: instead, head 0 of every layer is trained as a pointer: -log of its attention mass near
    the frame (a sharp, strong signal; the other heads stay free)."""
    valid = frames >= 0
    if not probs or not bool(valid.any()):
        return torch.zeros(())
    t = torch.arange(md.SEG_FRAMES, dtype=torch.float32)
    f = frames.clamp(min=0).float()[:, :, None]
    near = torch.exp(-((t[None, None, :] - f) ** 2) / (2 * width * width))  # [B, L, T]
    total = 0.0
    for p in probs:
        if pointer:
            m = (p[:, 0] * near).sum(-1).clamp(min=1e-6)
            total = total + (-torch.log(m) * valid).sum() / valid.sum()
        else:
            total = total + ((p.mean(1) * (1.0 - near)).sum(-1) * valid).sum() / valid.sum()
    return total / len(probs)


def input_stats(sampler, logmel, n=256):
    """Per-feature mean and standard deviation of the model input over n random training segments."""
    rng_state, oracle = sampler.rng.bit_generator.state, sampler.oracle
    sampler.oracle = 0.0  # statistics of the real features
    segs = []
    for _ in range(n // 8):
        f = logmel(sampler.batch(8)[0])
        segs.append(f.reshape(-1, f.shape[-1]))
    sampler.rng.bit_generator.state, sampler.oracle = rng_state, oracle
    x = torch.cat(segs)
    return x.mean(0), x.std(0).clamp(min=0.1)


def evaluate(model, logmel, val_segs, clips, max_tokens):
    """Validation loss / token accuracy on fixed segments, and F1 on stitched clips."""
    model.eval()
    model.set_capture(False)
    with torch.no_grad():
        audio, dec_in, tgt, frames, aux, _ = val_segs
        logits, _, _ = model(logmel(audio), dec_in)
        mask = tgt != md.PAD
        loss = F.cross_entropy(logits[mask], tgt[mask]).item()
        pred = logits.argmax(-1)
        acc = (pred[mask] == tgt[mask]).float().mean().item()
        sh = mask & (tgt >= md.SHIFT0) & (tgt < md.PITCH0)
        sacc = (pred[sh] == tgt[sh]).float().mean().item() if bool(sh.any()) else 0.0
    res = dict(val_loss=loss, val_acc=acc, val_shift_acc=sacc)
    scores = []
    segs, acs, where = [], [], []
    for ci, (it, start, nseg) in enumerate(clips):
        for k in range(nseg):
            s0 = start + k * md.SEG_FRAMES
            a = it["audio"][s0 * md.HOP: s0 * md.HOP + md.SEG_SAMPLES].astype(np.float32) / 32768.0
            segs.append(np.pad(a, (0, md.SEG_SAMPLES - len(a))))
            if "ac" in it:
                acs.append(ac_rows(it, s0))
            where.append((ci, k))
    x = (torch.from_numpy(np.stack(segs)), torch.from_numpy(np.stack(acs)) if acs else None,
         torch.tensor([valid_frames(it, start + k * md.SEG_FRAMES) for it, start, nseg in clips for k in range(nseg)]))
    toks = model.greedy(logmel(x), max_tokens=max_tokens) if segs else []
    for ci, (it, start, nseg) in enumerate(clips):
        dec = md.Decoder()
        for (c, k), tk in zip(where, toks):
            if c == ci:
                dec.segment(tk, (start + k * md.SEG_FRAMES) * md.HOP / md.SR)
        est = dec.finish()
        t0 = start * md.HOP / md.SR
        t1 = (start + nseg * md.SEG_FRAMES) * md.HOP / md.SR
        ref = it["notes"][(it["notes"]["on"] >= t0) & (it["notes"]["on"] < t1)].copy()
        ref["off"] = np.minimum(ref["off"], t1)
        scores.append(metrics.all_metrics(ref, est))
    for k in scores[0] if scores else []:
        res[k] = float(np.nanmean([s[k] for s in scores])) if any(s[k] == s[k] for s in scores) else 0.0
    model.train()
    return res


def grow_layers(model, weights, n):
    """Initial weights for a model n encoder and n decoder layers deeper: the encoder's new layers
    go on top, the decoder's before its last layer (the shift pointer reads the last layer's
    cross-attention). The new layers' output projections are zeroed, so each starts as the identity
    of its residual stream and the grown model computes what the initial one did."""
    dec = model.mt3.cfg["dec_layers"] - n
    out = {}
    for k, v in weights.items():
        if k.startswith("mt3.dec_layers."):
            i = int(k.split(".")[2])
            if i == dec - 1:
                k = k.replace(f"mt3.dec_layers.{i}.", f"mt3.dec_layers.{i + n}.", 1)
        out[k] = v
    own = model.state_dict()
    new = [f"mt3.enc_layers.{model.mt3.cfg['enc_layers'] - n + j}." for j in range(n)]
    new += [f"mt3.dec_layers.{dec - 1 + j}." for j in range(n)]
    for k, v in own.items():
        if any(k.startswith(p) for p in new):
            out[k] = torch.zeros_like(v) if k.endswith((".o.weight", ".wo.weight")) else v
    return out


def widen_mlp(model, weights, m):
    """Initial weights for a model whose MLPs are m wide: the new hidden units' input rows come from the
    model's own initialisation, their output columns are zeroed, so the widened model computes what the
    initial one did and the new units start learning through their output weights."""
    own = model.state_dict()
    out = dict(weights)
    for k, v in weights.items():
        if k.endswith((".mlp.wi0.weight", ".mlp.wi1.weight")):
            out[k] = torch.cat([v, own[k][v.shape[0]:m]], 0)
        elif k.endswith(".mlp.wo.weight"):
            out[k] = torch.cat([v, torch.zeros(v.shape[0], m - v.shape[1], dtype=v.dtype)], 1)
    return out


class Ranks:
    """Data parallelism over processes of this machine (--ranks N, one torch thread each). Two cores run
    one training process no faster with two threads than with one (tools/train/README.md), but N
    processes each draw their own batch and average their gradients after every backward pass, so a
    step learns from N batches. The averaged gradients are the same on every rank, so are the weights
    after the optimiser step (checked by agree()); rank 0 alone evaluates, saves and logs.
    With N = 1 every method is the identity."""

    def __init__(self, rank=0, world=1):
        self.rank, self.world = rank, world
        if world > 1:
            import torch.distributed as dist
            self.dist = dist

    def average(self, params, values):
        """Averages the gradients of params over the ranks in place (one all-reduce of a flat buffer) and
        returns values (floats) averaged too. A gradient missing on some ranks counts as zero there; one
        missing on all stays missing (the optimiser then leaves that parameter alone, as in one process)."""
        if self.world == 1:
            return list(values)
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        has = [0.0 if p.grad is None else 1.0 for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads] + [torch.tensor(values + has, dtype=torch.float32)])
        self.dist.all_reduce(flat)
        flat /= self.world
        at = 0
        for p, g in zip(params, grads):  # views of flat: a fresh buffer every step
            p.grad = flat[at:at + g.numel()].view_as(g)
            at += g.numel()
        rest = flat[at:].tolist()
        for p, h in zip(params, rest[len(values):]):
            if h == 0.0:
                p.grad = None
        return rest[:len(values)]

    def any(self, flag):
        """Whether flag is true on any rank (all ranks stop at the same step)."""
        if self.world == 1:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0])
        self.dist.all_reduce(t, op=self.dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def broadcast(self, tensors):
        """Rank 0's values of tensors on every rank (in place)."""
        if self.world > 1:
            for t in tensors:
                self.dist.broadcast(t, 0)

    def agree(self, tensors):
        """Exits if the ranks' weights differ: they must, being updated from the same averaged gradients."""
        if self.world == 1:
            return
        with torch.no_grad():
            mine = torch.stack([t.double().sum() for t in tensors] + [t.double().abs().sum() for t in tensors])
        lo, hi = mine.clone(), mine.clone()
        self.dist.all_reduce(lo, op=self.dist.ReduceOp.MIN)
        self.dist.all_reduce(hi, op=self.dist.ReduceOp.MAX)
        if not torch.equal(lo, hi):
            sys.exit(f"rank {self.rank}: the ranks' weights differ (largest checksum gap {float((hi - lo).max()):.3g})")

    def close(self):
        if self.world > 1:
            self.dist.destroy_process_group()


def start_ranks(fn, n, *args):
    """Runs fn(rank, port, *args) in n processes (torch.multiprocessing.spawn) that meet on a free local port."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(fn, args=(port,) + args, nprocs=n, join=True)


def join_ranks(rank, world, port):
    """This process's Ranks in a start_ranks run (gloo)."""
    import datetime
    import torch.distributed as dist
    # rank 0 evaluates and saves while the others wait in their next all-reduce: allow it minutes
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(minutes=60))
    return Ranks(rank, world)


def rank_main(rank, port, a):
    """One process of a --ranks run."""
    sync = join_ranks(rank, a.ranks, port)
    try:
        train_run(a, sync)
    finally:
        sync.close()


def learning_rate(step, base, warm_from, warmup, cool_from=0, cool_steps=0):
    """Learning rate of a step: linear warm-up over `warmup` steps from `warm_from` (a fresh optimiser), an
    inverse-square-root decay after step 2000, and an optional linear cool-down to 0 over `cool_steps` steps
    from `cool_from`. A pure function of the step, so both ranks and a resumed run agree on it."""
    lr = base * min(1.0, (step - warm_from + 1) / warmup) * min(1.0, math.sqrt(2000.0 / max(step + 1, 2000)))
    if cool_steps:
        lr *= min(1.0, max(0.0, 1.0 - (step - cool_from) / cool_steps))
    return lr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=".data/dataset")
    ap.add_argument("--run", required=True)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--mlp", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--dec-layers", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--aux", type=float, default=1.0, help="weight of the frame-wise encoder loss (0: off)")
    ap.add_argument("--guided", type=float, default=0.0, help="weight of the guided cross-attention loss")
    ap.add_argument("--guided-width", type=float, default=8.0, help="guided loss: Gaussian window (frames)")
    ap.add_argument("--guided-pointer", action="store_true",
                    help="guided loss on head 0 of each layer only, as -log of its mass near the event frame")
    ap.add_argument("--time-init", action="store_true",
                    help="initialise shift-token embeddings with the sinusoid of their frame (encoder positions)")
    ap.add_argument("--acoustic", action="store_true",
                    help="new runs: the encoder also reads the acoustic network's note/onset posteriors (176 features)")
    ap.add_argument("--no-norm", action="store_true",
                    help="new runs: feed raw log-mel (default: per-bin normalised, folded into the input layer at export)")
    ap.add_argument("--segment-frames", type=int, default=None,
                    help="new runs (default 256), or initialised ones (default: the initial run's): frames per segment (MT3: 256 = 2.048 s); the engine reads it from the weights")
    ap.add_argument("--init-from", help="new runs: start from this run's ckpt.pt / best.pt / snapshot weights and input "
                    "normalisation (same network shape; e.g. to change the segment length)")
    ap.add_argument("--oracle", type=float, default=0.0,
                    help="probability that a training segment's acoustic features are replaced by the ground-truth "
                    "piano roll (teacher input; validation always uses the real features)")
    ap.add_argument("--dropout", type=float, default=None,
                    help="dropout rate (new runs: 0.1 by default; given on a resumed or initialised run, it replaces "
                    "the checkpoint's)")
    ap.add_argument("--cross-time-bias", type=int, default=None,
                    help="new runs (default 0), or initialised ones (default: the initial run's): buckets of the "
                    "time-relative cross-attention bias (0: off, as MT3)")
    ap.add_argument("--shift-pointer", type=int, default=None, choices=[0, 1],
                    help="new runs (default 0), or initialised ones (default: the initial run's): shift tokens also "
                    "scored by the last decoder layer's cross-attention head 0 (pointer)")
    ap.add_argument("--onset-copy", type=int, default=None,
                    help="new runs (default 0), or initialised ones (default: the initial run's): pitch, drum and "
                    "program logits get a frame-wise copy head's logits at the decoded time, max-pooled over this "
                    "many frames either side (0: off, as MT3)")
    ap.add_argument("--copy-skip", type=int, default=None,
                    help="with --onset-copy: the copy head also reads the last N input features (176: the acoustic "
                    "posteriors); new runs default 0, initialised ones the initial run's")
    ap.add_argument("--grow-layers", type=int, default=0,
                    help="with --init-from: N more encoder layers (on top) and decoder layers (before the last, "
                         "whose head 0 the shift pointer reads), starting as identities")
    ap.add_argument("--widen-mlp", type=int, default=0,
                    help="with --init-from: MLP hidden width of the new run (wider than the initial one's); the new "
                         "units start with zero output weights, so the model starts where it was")
    ap.add_argument("--mel-dropout", type=float, default=0.0,
                    help="with acoustic features: probability that a training segment's log-mel is replaced by "
                         "its training mean, so the model learns to transcribe from the acoustic posteriors alone")
    ap.add_argument("--balanced-weight", type=float, default=1.0,
                    help="draw segments of the class-balanced renditions (ids -b<k>) this many times as often")
    ap.add_argument("--fake-shifts", type=float, default=0.0,
                    help="probability of a decoder-input-only shift 10-80 ms after each note group (fake_shifts)")
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--bucket", type=int, default=4,
                    help="draw this many batches at once and group their segments by token count (less decoder "
                         "padding; 1: each batch drawn on its own)")
    ap.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget of this invocation")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps of this invocation (0: no limit)")
    ap.add_argument("--until", help="stop at this wall-clock time HH:MM (today) instead of after --minutes")
    ap.add_argument("--cool-from", type=int, default=0,
                    help="with --cool-steps: the step the learning rate starts falling at")
    ap.add_argument("--cool-steps", type=int, default=0,
                    help="cool-down: from step --cool-from the learning rate falls linearly to 0 over this many "
                         "steps, and the run stops there (0: no cool-down); fixed steps, so a resumed run goes on "
                         "where it was")
    ap.add_argument("--save-min", type=float, default=8.0)
    ap.add_argument("--eval-min", type=float, default=8.0)
    ap.add_argument("--ema", type=float, default=0.9995,
                    help="decay of an exponential moving average of the weights, which evaluation, export and "
                         "snapshots use (0: off); weights 5-20 minutes apart scored up to 0.02 onset F1 apart")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                    help="bfloat16 autocast for the forward pass; auto: on where the CPU has bfloat16 "
                         "instructions (a training step 2.4x faster here, same losses to 1e-3)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads: 2 ran no faster than 1 on a quiet 2-core machine and 5x slower with the other core busy")
    ap.add_argument("--ranks", type=int, default=1,
                    help="training processes, each one thread and its own batch, gradients averaged (Ranks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-clips", type=int, default=6)
    ap.add_argument("--eval-tokens", type=int, default=256, help="greedy decoding limit per validation segment")
    a = ap.parse_args()
    if a.cool_steps < 0 or (a.cool_steps > 0) != (a.cool_from > 0):
        ap.error("--cool-steps N and --cool-from STEP go together, both positive")
    a.bf16 = a.bf16 == "on" or (a.bf16 == "auto" and cpu_has_bf16())
    stale_stop = os.path.join(a.run, "STOP")
    if os.path.exists(stale_stop):  # before the ranks start, so that none of them sees it
        os.remove(stale_stop)
        print(f"removed {stale_stop}, left from an earlier stop", flush=True)
    if a.ranks > 1:
        start_ranks(rank_main, a.ranks, a)
    else:
        train_run(a, Ranks())


def train_run(a, sync):
    """Trains (one rank of a --ranks run, or the only process) with the arguments of main()."""
    say = print if sync.rank == 0 else (lambda *args, **kw: None)
    torch.set_num_threads(a.threads)
    set_blas_threads(a.threads)
    torch.manual_seed(a.seed)
    # trained attention is peaked: its tiny probabilities are denormal floats, which made the
    # attention products several times slower on x86
    torch.set_flush_denormal(True)
    os.makedirs(a.run, exist_ok=True)
    ckpt_path = os.path.join(a.run, "ckpt.pt")
    cfg = mt3_config(d_model=a.d, heads=a.heads, head_dim=a.head_dim, mlp_dim=a.mlp, enc_layers=a.layers,
                     dec_layers=a.dec_layers or a.layers, dropout=0.1 if a.dropout is None else a.dropout, fmax=md.FMAX, max_decode=1024,
                     acoustic_features=AC_FEATURES if a.acoustic else 0,
                     input_features=md.MEL_BINS + (AC_FEATURES if a.acoustic else 0),
                     segment_frames=a.segment_frames or md.SEG_FRAMES, cross_time_bias=a.cross_time_bias or 0,
                     shift_pointer=a.shift_pointer or 0, onset_copy=a.onset_copy or 0,
                     copy_skip=a.copy_skip or 0)
    state = init = None
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu")
        cfg = state["config"]
        say("resuming", ckpt_path, "step", state["step"], flush=True)
    elif a.init_from:
        init = torch.load(a.init_from, map_location="cpu")
        cfg = dict(init["config"])
        if a.segment_frames is not None:
            cfg["segment_frames"] = a.segment_frames
        if a.cross_time_bias is not None:
            cfg["cross_time_bias"] = a.cross_time_bias
        if a.shift_pointer is not None:
            cfg["shift_pointer"] = a.shift_pointer
        if a.onset_copy is not None:
            cfg["onset_copy"] = a.onset_copy
        if a.copy_skip is not None:
            cfg["copy_skip"] = a.copy_skip
        if a.grow_layers:
            cfg["enc_layers"] += a.grow_layers
            cfg["dec_layers"] += a.grow_layers
        if a.widen_mlp:
            if a.widen_mlp < cfg["mlp_dim"]:
                sys.exit(f"--widen-mlp {a.widen_mlp} is narrower than the initial run's {cfg['mlp_dim']}")
            cfg["mlp_dim"] = a.widen_mlp
        seg = cfg["segment_frames"]
        say("initialised from", a.init_from, "step", init.get("step"), "segment frames", seg, flush=True)
    for flag, v in (("--grow-layers", a.grow_layers), ("--widen-mlp", a.widen_mlp)):
        if v and state:
            # the checkpoint already has the grown shape: the same command resumes a grown run
            say(f"resuming: {flag} applies only when a run starts", flush=True)
        elif v and not init:
            sys.exit(f"{flag} needs --init-from")
    md.set_segment_frames(cfg["segment_frames"])
    if a.dropout is not None and cfg.get("dropout") != a.dropout:
        say(f"dropout {cfg.get('dropout')} -> {a.dropout}", flush=True)
        cfg = dict(cfg, dropout=a.dropout)
    model = TrainModel(cfg, aux=a.aux > 0, capture=a.guided > 0)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    step, seen, hours, best = 0, 0, 0.0, -1.0
    warm_from = 0  # step the learning-rate warm-up counts from: a fresh optimiser warms up again
    if a.time_init and not state:
        with torch.no_grad():
            pos = model.mt3.pos
            fr = (torch.arange(md.MAX_SHIFT + 1).float() * md.SR / md.HOP / md.STEPS_PER_SECOND).round().long()
            fr = fr.clamp(max=pos.shape[0] - 1)
            e = model.mt3.embed.weight
            e[md.SHIFT0:md.SHIFT0 + md.MAX_SHIFT + 1] = math.sqrt(2.0) * pos[fr] + 0.3 * e[md.SHIFT0:md.SHIFT0 + md.MAX_SHIFT + 1]
            # output rows too: a hidden state carrying a frame's sinusoid (read from the encoder by
            # cross-attention) then scores that frame's shift token highest
            w = model.mt3.logits.weight
            w[md.SHIFT0:md.SHIFT0 + md.MAX_SHIFT + 1] = (pos[fr] * math.sqrt(2.0 / pos.shape[1])
                                                          + 0.3 * w[md.SHIFT0:md.SHIFT0 + md.MAX_SHIFT + 1])
    if cfg.get("cross_time_bias", 0) and not state:
        # head 0 of every decoder layer starts as a window around the decoded time (the others flat):
        # the guided loss then only has to sharpen it
        with torch.no_grad():
            for l in model.mt3.dec_layers:
                tb, bk = l.cross.time_bias, l.cross.time_bucket
                offs = torch.arange(bk.shape[0]) - (bk.shape[0] // 2)
                for b in range(tb.shape[1]):
                    r = offs[bk == b].abs().float()
                    if len(r):
                        tb[0, b] = max(-6.0, -float(r.min()) ** 2 / 32.0)
    if init:
        if "model" in init:
            weights = model.adopt_aux(init["model"])
            if a.grow_layers:
                weights = grow_layers(model, weights, a.grow_layers)
            if a.widen_mlp:
                weights = widen_mlp(model, weights, a.widen_mlp)
            missing, _ = model.load_state_dict(weights, strict=False)
            if missing:
                say("not in the initial weights (fresh):", ", ".join(missing), flush=True)
        else:
            model.mt3.load_state_dict(init["state_dict"])
        # a snapshot (tools/train/snapshot.py) continues its run's counters: the curve stays cumulative
        if init.get("seen") is not None:
            step, seen, hours, best = init["step"], init["seen"], init["hours"], init.get("best", -1.0)
            warm_from = step
    if state:
        model.load_state_dict(state["model"], strict=False)
        opt_fresh = False
        try:
            opt.load_state_dict(state["opt"])
        except ValueError:
            say("optimizer state not reusable; fresh optimizer", flush=True)
            opt_fresh = True
        step, seen, hours, best = state["step"], state["seen"], state["hours"], state.get("best", -1.0)
        warm_from = step if opt_fresh else 0
    # moving average of the weights (Polyak): with batch 8 the weights of one step are noisy
    live = {k: v for k, v in model.state_dict().items() if v.is_floating_point()}  # aliases of the parameters
    ema, ema_n = None, 0
    if a.ema > 0 and sync.rank == 0:  # rank 0 saves and evaluates: it alone keeps the average
        old = (state or {}).get("ema") or {}
        # from trained weights (a checkpoint or --init-from) the full decay applies at once; from random
        # ones it warms up (below), so a young average is not the initial weights
        ema_n = (state or {}).get("ema_updates", 0) if old else (10 ** 6 if state or init else 0)
        ema = {k: (old[k].clone() if k in old and old[k].shape == v.shape else v.clone()) for k, v in live.items()}
        say(f"weight average: decay {a.ema}" + (" (resumed)" if old else " (from the current weights)"), flush=True)
        ema_avg, ema_src = list(ema.values()), [live[k] for k in ema]  # what each step updates, in one order
    n_params = model.mt3.n_params()
    say(f"model {n_params / 1e6:.2f} M params (+aux {0 if model.aux is None else sum(p.numel() for p in model.aux.parameters())}), "
          f"{'bfloat16' if a.bf16 else 'float32'} products", flush=True)
    if sync.rank == 0:
        with open(os.path.join(a.run, "config.json"), "w") as f:
            json.dump(dict(config=cfg, args=vars(a)), f, indent=1)

    acoustic = cfg.get("acoustic_features", 0) > 0
    train = load_split(a.data, "train", acoustic=acoustic)
    val = load_split(a.data, "val", acoustic=acoustic)
    say(f"train {len(train)} renditions {sum(len(i['audio']) for i in train) / md.SR / 3600:.2f} h, "
          f"val {len(val)} {sum(len(i['audio']) for i in val) / md.SR / 3600:.2f} h", flush=True)
    # every rank its own segments (rank 0 draws what a one-process run draws)
    rng = np.random.default_rng(a.seed + step if sync.rank == 0 else (a.seed + step, sync.rank))
    sampler = Sampler(train, rng, a.max_len, oracle=a.oracle, fake=a.fake_shifts, balanced_weight=a.balanced_weight,
                      order_rng=np.random.default_rng((a.seed + step, 0, 1)) if sync.world > 1 else None)
    if sampler.balanced.any():
        say(f"class-balanced renditions: {sampler.balanced.sum()}, "
              f"{100 * sampler.w[sampler.balanced].sum():.0f} % of the segments drawn")
    vrng = np.random.default_rng(1234)
    vs = Sampler(val, vrng, 1024)
    val_segs = collate([vs.segment(it, int(vrng.integers(0, max(1, len(it["audio"]) // md.HOP - md.SEG_FRAMES))))
                        for it in val][:32])
    clips = []
    for it in val[:: max(1, len(val) // a.val_clips)][:a.val_clips]:
        clips.append((it, 0, max(1, 1024 // md.SEG_FRAMES)))  # first ~8 s of each held-out piece
    mel = md.LogMel()

    def raw_features(x):
        """Model input before normalisation from (audio, acoustic features or None, valid frames):
        log-mel [+ acoustic features], frames past the audio all zero (as the engine feeds them)."""
        audio, ac, valid = x
        f = mel(audio) if ac is None else torch.cat([mel(audio), ac], -1)
        pad = torch.arange(f.shape[1])[None, :] >= valid[:, None]
        return f.masked_fill(pad[:, :, None], 0.0)

    if state and "input_mean" in state:
        mu, sd = state["input_mean"], state["input_std"]
    elif init and init.get("input_mean") is not None:
        mu, sd = init["input_mean"], init["input_std"]
    elif (state and not state.get("input_norm", False)) or a.no_norm:
        mu, sd = None, None
    else:
        mu, sd = input_stats(sampler, raw_features)
        sync.broadcast([mu, sd])  # rank 0's statistics (each rank drew its own segments)
        say(f"input normalisation: log-mel mean {float(mu.mean()):.2f}, std {float(sd.mean()):.2f} (bin averages)",
              flush=True)
    if a.mel_dropout > 0 and (not acoustic or mu is None):
        sys.exit("--mel-dropout needs acoustic features and input normalisation (0 stands for the log-mel mean)")

    def logmel(x):
        """Model input, normalised per feature when the run does."""
        f = raw_features(x)
        return f if mu is None else (f - mu) / sd

    # fresh weights come from the seeded initialisation, loaded ones from the same file: broadcasting rank 0's
    # makes sure every rank starts from them
    params = list(model.parameters())
    sync.broadcast(list(model.state_dict().values()))
    if sync.rank:  # dropout masks of its own (every rank seeded alike for the initialisation)
        torch.manual_seed(a.seed + 7919 * sync.rank)
    curve = os.path.join(a.run, "curve.csv")
    fields = ["step", "segments", "hours", "loss", "tok_loss", "aux_loss", "guided_loss", "val_loss", "val_acc",
              "val_shift_acc", "onset_f1", "onset_offset_f1", "multi_f1", "drum_f1", "onset_p", "onset_r"]
    if not os.path.exists(curve) and sync.rank == 0:
        with open(curve, "w", newline="") as f:
            csv.writer(f).writerow(fields)
    t_start = time.time()
    t_last_save = t_last_eval = time.time()
    acc = dict(loss=0.0, tok=0.0, aux=0.0, gl=0.0, n=0)
    model.train()

    def save(final=False):
        torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), config=cfg, step=step, seen=seen,
                        hours=hours, best=best, input_norm=mu is not None, input_mean=mu, input_std=sd, ema=ema,
                        ema_updates=ema_n),
                   ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    def do_eval():
        nonlocal best
        # the averaged weights are the ones exported: evaluate (and keep as best.pt) those
        kept = None
        if ema is not None:
            with torch.no_grad():
                kept = {k: v.clone() for k, v in live.items()}
                for k, v in live.items():
                    v.copy_(ema[k])
        r = evaluate(model, logmel, val_segs, clips, max_tokens=a.eval_tokens)
        n = acc["n"]
        row = dict(step=step, segments=seen, hours=round(hours, 4), **r)
        if n:  # training losses averaged since the previous evaluation
            row.update(loss=acc["loss"] / n, tok_loss=acc["tok"] / n, aux_loss=acc["aux"] / n,
                       guided_loss=acc["gl"] / n)
        with open(curve, "a", newline="") as f:
            csv.writer(f).writerow([(f"{row[k]:.4f}" if isinstance(row.get(k), float) else row.get(k, ""))
                                    for k in fields])
        say(" ".join(f"{k}={row[k]:.4f}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in fields
                       if k in row), flush=True)
        for k in acc:
            acc[k] = 0 if k == "n" else 0.0
        score = r.get("onset_f1", 0.0) + r.get("multi_f1", 0.0)
        if score > best:
            best = score
            torch.save(dict(state_dict=model.mt3.state_dict(), config=cfg, step=step, hours=hours, metrics=row,
                            input_mean=mu, input_std=sd),
                       os.path.join(a.run, "best.pt"))
        if kept is not None:
            with torch.no_grad():
                for k, v in live.items():
                    v.copy_(kept[k])

    deadline = t_start + a.minutes * 60
    if a.until:
        hh, mm = map(int, a.until.split(":"))
        lt = time.localtime()
        deadline = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, hh, mm, 0, 0, 0, -1))
        if deadline <= time.time():  # a clock time already past today means tomorrow (runs across midnight)
            deadline += 24 * 3600
    stop_file = os.path.join(a.run, "STOP")
    first_step = step
    queue = []  # batches drawn together (--bucket)
    while not sync.any(time.time() >= deadline or os.path.exists(stop_file)
                       or (a.steps and step - first_step >= a.steps)
                       or (a.cool_steps and step >= a.cool_from + a.cool_steps)):
        t0 = time.time()
        lr = learning_rate(step, a.lr, warm_from, a.warmup, a.cool_from, a.cool_steps)
        for g in opt.param_groups:
            g["lr"] = lr
        if not queue:
            queue = sampler.batches(a.batch, a.bucket)
        (audio, dec_in, tgt, frames, aux_t, scored), norm = queue.pop()
        with torch.no_grad():
            feats = logmel(audio)
            if a.mel_dropout > 0:
                # 0 is the training mean after normalisation: "no log-mel evidence"
                feats[torch.rand(feats.shape[0]) < a.mel_dropout, :, :md.MEL_BINS] = 0.0
        model.set_capture(a.guided > 0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            logits, aux, probs = model(feats, dec_in)
        # losses in float32 (softmax/BCE precision); only the products ran in bfloat16
        logits = logits.float()
        aux = aux if aux is None else aux.float()
        probs = [p.float() for p in probs] if probs else probs
        mask = (tgt != md.PAD) & scored
        tok_loss = F.cross_entropy(logits[mask], tgt[mask], reduction="sum") / norm
        loss = tok_loss
        aux_loss = torch.zeros(())
        if aux is not None:
            aux_loss = F.binary_cross_entropy_with_logits(aux, aux_t, pos_weight=torch.full((AUX_OUT,), 4.0))
            loss = loss + a.aux * aux_loss
        gl = torch.zeros(())
        if a.guided > 0:
            gl = guided_loss(probs, frames, a.guided_width, a.guided_pointer)
            loss = loss + a.guided * gl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # the logged losses are the ranks' means too
        losses = sync.average(params, [loss.item(), tok_loss.item(), aux_loss.item(), float(gl)])
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if ema is not None:
            with torch.no_grad():
                # the decay grows from 0.1 with the updates made
                ema_n += 1
                d = min(a.ema, ema_n / (ema_n + 9.0))
                torch._foreach_mul_(ema_avg, d)
                torch._foreach_add_(ema_avg, ema_src, alpha=1.0 - d)
        model.set_capture(a.guided > 0)
        step += 1
        seen += a.batch * sync.world
        hours += (time.time() - t0) / 3600.0
        for k, v in zip(("loss", "tok", "aux", "gl"), losses):
            acc[k] += v
        acc["n"] += 1
        if step % 20 == 0:
            say(f"step {step} seg {seen} loss {losses[0]:.3f} tok {losses[1]:.3f} aux {losses[2]:.3f} "
                f"gl {losses[3]:.3f} lr {lr:.2e} {time.time() - t0:.2f}s/step", flush=True)
        if step % 1000 == 0:
            sync.agree(params)
        if sync.rank > 0:  # the others wait in their next all-reduce while rank 0 evaluates or saves
            continue
        if time.time() - t_last_eval > a.eval_min * 60:
            do_eval()
            t_last_eval = time.time()
        if time.time() - t_last_save > a.save_min * 60:
            save()
            t_last_save = time.time()
    sync.agree(params)
    if sync.rank > 0:
        return
    do_eval()
    save()
    if os.path.exists(stop_file):  # honoured: a copy or a resumption of this run must not stop at once
        os.remove(stop_file)
    say("done", step, "steps", f"{hours:.3f} h", flush=True)


if __name__ == "__main__":
    main()
