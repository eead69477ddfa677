"""Converts a PyTorch state dict of tools/mt3_reference.MT3Model into a scribe weights file.

    /usr/bin/python3 tools/convert_mt3.py --state model.pt --config config.json --out mt3.scrb [--dtype q8]

Dense kernels are stored [in, out] (nn.Linear weights transposed); --dtype f32 | f16 | q8 applies to
the dense kernels and the embedding (norm scales stay f32). Config layout: src/models/t5.h.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weights_format import KIND_MT3, f32_bits, write_weights  # noqa: E402

CONFIG_INDEX = dict(
    d_model=0, heads=1, head_dim=2, mlp_dim=3, enc_layers=4, dec_layers=5, vocab=6, input_features=7,
    segment_frames=8, max_decode=9, input_bias=10,
    steps_per_second=16, max_shift_steps=17, velocity_bins=18, use_ties=19, use_programs=20, use_drums=21,
    sample_rate=32, fft_size=33, hop=34, mel_bins=35, fmin=36, fmax=37,
)
FLOAT_KEYS = {"fmin", "fmax"}


def config_ints(cfg):
    out = [0] * 64
    for k, i in CONFIG_INDEX.items():
        v = cfg.get(k, 0) if k == "input_bias" else cfg[k]
        out[i] = f32_bits(v) if k in FLOAT_KEYS else int(v)
    return out


def scribe_tensors(cfg, sd, dtype="f32"):
    """(name, array, dtype) list in scribe's naming from an MT3Model state dict."""
    def t(name):
        v = sd[name]
        return v.detach().cpu().numpy().astype(np.float32) if hasattr(v, "detach") else np.asarray(v, np.float32)

    out = []

    def dense(dst, src):
        out.append((dst, np.ascontiguousarray(t(src).T), dtype))

    def norm(dst, src):
        out.append((dst, t(src), "f32"))

    dense("enc.input_proj", "input_proj.weight")
    if cfg.get("input_bias", 0):
        norm("enc.input_bias", "input_bias")
    for l in range(cfg["enc_layers"]):
        p = f"enc_layers.{l}."
        norm(f"enc.{l}.attn_norm", p + "attn_norm.scale")
        for w in "qkvo":
            dense(f"enc.{l}.attn.{w}", p + f"attn.{w}.weight")
        norm(f"enc.{l}.mlp_norm", p + "mlp_norm.scale")
        for w in ("wi0", "wi1", "wo"):
            dense(f"enc.{l}.mlp.{w}", p + f"mlp.{w}.weight")
    norm("enc.norm", "enc_norm.scale")
    out.append(("dec.embed", t("embed.weight"), dtype))
    for l in range(cfg["dec_layers"]):
        p = f"dec_layers.{l}."
        norm(f"dec.{l}.self_norm", p + "self_norm.scale")
        for w in "qkvo":
            dense(f"dec.{l}.self.{w}", p + f"self_attn.{w}.weight")
        norm(f"dec.{l}.cross_norm", p + "cross_norm.scale")
        for w in "qkvo":
            dense(f"dec.{l}.cross.{w}", p + f"cross.{w}.weight")
        norm(f"dec.{l}.mlp_norm", p + "mlp_norm.scale")
        for w in ("wi0", "wi1", "wo"):
            dense(f"dec.{l}.mlp.{w}", p + f"mlp.{w}.weight")
    norm("dec.norm", "dec_norm.scale")
    dense("dec.logits", "logits.weight")
    return out


def convert(cfg, state_dict, path, dtype="f32", name="mt3"):
    write_weights(path, KIND_MT3, config_ints(cfg), name, scribe_tensors(cfg, state_dict, dtype))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state", required=True, help="torch.save'd state dict (or {'state_dict', 'config'})")
    ap.add_argument("--config", help="JSON config (defaults to the one stored with the state, else MT3's)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "q8"])
    ap.add_argument("--name", default="mt3")
    a = ap.parse_args()
    import torch
    from mt3_reference import mt3_config
    obj = torch.load(a.state, map_location="cpu")
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    cfg = mt3_config()
    if isinstance(obj, dict) and "config" in obj:
        cfg.update(obj["config"])
    if a.config:
        with open(a.config) as f:
            cfg.update(json.load(f))
    convert(cfg, sd, a.out, a.dtype, a.name)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes, {a.dtype})")


if __name__ == "__main__":
    main()
