"""Exports a training checkpoint (best.pt or ckpt.pt of tools/train/train.py) to the engine's weights file.

    /usr/bin/python3 tools/train/export.py --ckpt .data/runs/main/best.pt --out weights/mt3.scrb [--dtype f16]

Only the MT3 network is exported (tools/convert_mt3.py naming, src/models/t5.h); the training-only
auxiliary head is dropped. Fails when the file would exceed --max-mb.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)  # snapshot.py beside it
from convert_mt3 import convert  # noqa: E402
from mt3_reference import mt3_config  # noqa: E402
from snapshot import training_weights  # noqa: E402

JOIN_FRAGMENTS_MS = 30  # tools/eval.py on 12 clips: onset F1 +0.03 to +0.06 (weights/MODEL_CARD.md)
# models with acoustic features (weights/MODEL_CARD.md, session 8): a note said to end and start again within
# 100 ms continues when the acoustic onset posterior there stays below 0.5 (Basic Pitch's own onset
# threshold), and a new pitched note whose onset posterior stays below ONSET_GATE / 1000 is dropped
REJOIN_MS, REJOIN_ONSET, ONSET_GATE = 100, 500, 500
# session 12 (weights/MODEL_CARD.md): a tie for a pitch with no active note starts one at the latest acoustic onset
# >= TIE_RECOVER / 1000 of the previous segment; a note the tie section drops ends where its note posterior
# falls below TIE_END / 1000 instead of at the segment start
TIE_RECOVER, TIE_END = 500, 300
# session 13 (weights/MODEL_CARD.md): a pitched note ends no later than where its note posterior first stays below
# OFFSET_CLIP / 1000 for 3 frames
OFFSET_CLIP = 200
# session 13: an acoustic onset posterior peak >= ONSET_RECOVER / 1000 with no decoded onset of its pitch within
# 50 ms becomes a note
ONSET_RECOVER = 800


def load(path):
    obj = torch.load(path, map_location="cpu")
    cfg = mt3_config()
    cfg.update(obj["config"])
    # decoding setting of our trained models: join note fragments up to this long (engine and PyModel)
    cfg.setdefault("join_fragments_ms", JOIN_FRAGMENTS_MS)
    if cfg.get("acoustic_features", 0):
        cfg.setdefault("rejoin_ms", REJOIN_MS)
        cfg.setdefault("rejoin_onset", REJOIN_ONSET)
        cfg.setdefault("onset_gate", ONSET_GATE)
        cfg.setdefault("tie_recover", TIE_RECOVER)
        cfg.setdefault("tie_end", TIE_END)
        cfg.setdefault("offset_clip", OFFSET_CLIP)
        cfg.setdefault("onset_recover", ONSET_RECOVER)
    sd = {k[4:]: v for k, v in training_weights(obj).items() if k.startswith("mt3.")}  # the MT3 network
    # a snapshot (tools/train/snapshot.py) stores float16: compute in float32 as training did
    sd = {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}
    for k in ("input_mean", "input_std"):
        if obj.get(k) is not None:
            obj[k] = obj[k].float()
    return cfg, sd, obj


def fold_input_norm(cfg, sd, obj):
    """Training normalised the log-mel per bin, (x - mean) / std; the engine feeds raw log-mel, so
    W' = W / std and bias' = bias - W' mean give the same encoder input exactly (up to rounding)."""
    mu, sd_ = obj.get("input_mean"), obj.get("input_std")
    if mu is None:
        return
    w0 = sd["input_proj.weight"]
    w = w0.double() / sd_.double()[None, :]
    b = sd["input_bias"].double() if "input_bias" in sd else torch.zeros(w.shape[0], dtype=torch.float64)
    sd["input_proj.weight"] = w.float()
    sd["input_bias"] = (b - w @ mu.double()).float()
    cfg["input_bias"] = 1
    k = cfg.get("copy_skip", 0)
    if cfg.get("onset_copy", 0) and k:  # the copy head's feature columns read normalised features too
        wc = sd["copy_head.weight"].double()
        d = wc.shape[1] - k
        ws = wc[:, d:] / sd_.double()[None, -k:]
        sd["copy_head.bias"] = (sd["copy_head.bias"].double() - ws @ mu.double()[-k:]).float()
        sd["copy_head.weight"] = torch.cat([wc[:, :d], ws], 1).float()
    # check on log-mel-like inputs: folded layer on raw features == trained layer on normalised ones
    x = torch.randn(64, w0.shape[1]) * 3.0 - 6.0
    want = ((x - mu) / sd_) @ w0.t() + b.float()
    got = x @ sd["input_proj.weight"].t() + sd["input_bias"]
    err = float((got - want).abs().max() / want.abs().max())
    if err > 1e-5:
        sys.exit(f"folding the input normalisation failed: relative error {err:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", default="weights/mt3.scrb")
    ap.add_argument("--dtype", default="f16", choices=["f32", "f16", "q8"])
    ap.add_argument("--name", default="scribe-mt3-small")
    ap.add_argument("--max-mb", type=float, default=25.0)
    ap.add_argument("--onset-gate", type=int, help=f"decoding: onset gate in 1/1000 (default {ONSET_GATE}; 0 off)")
    ap.add_argument("--rejoin-ms", type=int, help=f"decoding: rejoin gap in ms (default {REJOIN_MS}; 0 off)")
    ap.add_argument("--tie-recover", type=int,
                    help=f"decoding: tie recovery onset threshold in 1/1000 (default {TIE_RECOVER}; 0 off)")
    ap.add_argument("--tie-end", type=int,
                    help=f"decoding: untied notes end below this note posterior in 1/1000 (default {TIE_END}; 0 off)")
    ap.add_argument("--offset-clip", type=int,
                    help=f"decoding: notes end where their note posterior stays below this, in 1/1000 "
                         f"(default {OFFSET_CLIP}; 0 off)")
    ap.add_argument("--onset-recover", type=int,
                    help=f"decoding: acoustic onset peaks above this (1/1000) with no decoded onset become notes "
                         f"(default {ONSET_RECOVER}; 0 off)")
    a = ap.parse_args()
    cfg, sd, obj = load(a.ckpt)
    if cfg.get("acoustic_features", 0):
        for k, v in (("onset_gate", a.onset_gate), ("rejoin_ms", a.rejoin_ms), ("tie_recover", a.tie_recover),
                     ("tie_end", a.tie_end), ("offset_clip", a.offset_clip),
                     ("onset_recover", a.onset_recover)):
            if v is not None:
                cfg[k] = v
    cfg["dropout"] = 0.0
    fold_input_norm(cfg, sd, obj)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    convert(cfg, sd, a.out, a.dtype, a.name)
    size = os.path.getsize(a.out)
    if size > a.max_mb * 1e6:
        os.remove(a.out)
        sys.exit(f"{a.out}: {size} bytes exceeds {a.max_mb} MB; use --dtype q8 or a smaller model")
    n = sum(v.numel() for v in sd.values())
    print(f"wrote {a.out}: {size} bytes, {n / 1e6:.2f} M params, {a.dtype}, step {obj.get('step')}")


if __name__ == "__main__":
    main()
