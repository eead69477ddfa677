"""Converts a PyTorch state dict of tools/mt3_reference.MT3Model into a scribe weights file.

    /usr/bin/python3 tools/convert_mt3.py --state model.pt --config config.json --out mt3.scrb [--dtype q8]
    /usr/bin/python3 tools/convert_mt3.py --random small [--acoustic-features 176] --out random.scrb

Dense kernels are stored [in, out] (nn.Linear weights transposed); --dtype f32 | f16 | q8 applies to
the dense kernels and the embedding (norm scales stay f32). Config layout: src/models/t5.h.
--random small|mt3 writes randomly initialised weights of that configuration (tests, benchmarks).

Models with config acoustic_features = 176 (input_features = mel_bins + 176) read Basic Pitch
posteriors beside the log-mel; their file embeds the acoustic network, so it is one self-contained
file: every tensor of weights/basic-pitch.scrb as "acoustic.<name>" (dtypes unchanged) and
"acoustic.config" (its 64 config int32s as the bit patterns of an f32 [64] tensor). That network is
Basic Pitch by Spotify (Apache-2.0): a file written this way carries its weights, so distribute it
with the notice in weights/basic-pitch.LICENSE.md.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weights_format import KIND_ACOUSTIC, KIND_MT3, f32_bits, read_weights_raw, write_weights  # noqa: E402
from mt3_reference import time_bias_buckets  # noqa: E402

ACOUSTIC_FEATURES = 176  # 88 note + 88 onset posteriors (src/models/mt3_acoustic.h)
BASIC_PITCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "weights", "basic-pitch.scrb")

CONFIG_INDEX = dict(
    d_model=0, heads=1, head_dim=2, mlp_dim=3, enc_layers=4, dec_layers=5, vocab=6, input_features=7,
    segment_frames=8, max_decode=9, input_bias=10, acoustic_features=11, cross_time_bias=12,
    shift_pointer=13, onset_copy=14, join_fragments_ms=15, copy_skip=22, rejoin_ms=23, rejoin_onset=24, onset_gate=25,
    tie_recover=26, tie_end=27, offset_clip=28, onset_recover=29,
    steps_per_second=16, max_shift_steps=17, velocity_bins=18, use_ties=19, use_programs=20, use_drums=21,
    sample_rate=32, fft_size=33, hop=34, mel_bins=35, fmin=36, fmax=37,
)
FLOAT_KEYS = {"fmin", "fmax"}
OPTIONAL_KEYS = {"input_bias", "acoustic_features", "cross_time_bias", "shift_pointer", "onset_copy",
                 "join_fragments_ms", "copy_skip", "rejoin_ms", "rejoin_onset", "onset_gate",
                 "tie_recover", "tie_end", "offset_clip", "onset_recover"}  # 0 when absent


def config_ints(cfg):
    out = [0] * 64
    for k, i in CONFIG_INDEX.items():
        v = cfg.get(k, 0) if k in OPTIONAL_KEYS else cfg[k]
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
        if cfg.get("cross_time_bias", 0):  # buckets -> one bias per key-minus-query frame offset
            buckets = time_bias_buckets(cfg["segment_frames"], cfg["cross_time_bias"]).numpy()
            out.append((f"dec.{l}.cross.time_bias", np.ascontiguousarray(t(p + "cross.time_bias")[:, buckets]), "f32"))
        norm(f"dec.{l}.mlp_norm", p + "mlp_norm.scale")
        for w in ("wi0", "wi1", "wo"):
            dense(f"dec.{l}.mlp.{w}", p + f"mlp.{w}.weight")
    norm("dec.norm", "dec_norm.scale")
    dense("dec.logits", "logits.weight")
    if cfg.get("shift_pointer", 0):
        norm("dec.pointer_gain", "pointer_gain")
    if cfg.get("onset_copy", 0):
        dense("dec.copy_head", "copy_head.weight")
        norm("dec.copy_head.bias", "copy_head.bias")
        norm("dec.copy_gain", "copy_gain")
    return out


def acoustic_tensors(path=BASIC_PITCH):
    """The embedded acoustic network: acoustic.config and acoustic.<name> for every tensor of `path`."""
    kind, config, _, tensors = read_weights_raw(path)
    if kind != KIND_ACOUSTIC:
        raise ValueError(f"{path}: weights kind {kind} is not acoustic ({KIND_ACOUSTIC})")
    out = [("acoustic.config", np.asarray(config, "<i4").view("<f4"), "f32")]
    out += [("acoustic." + n, a, dt) for n, a, dt in tensors]
    return out


def randomize_extras(model, pointer_gain, copy_gain=None):
    """Random-weight test models: training starts the time bias, the pointer gain and the copy gains and
    bias at 0, which would leave the engine's paths for them unexercised; random biases reach every offset."""
    import torch
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("time_bias"):
                p.normal_(0.0, 2.0)
            elif n == "pointer_gain":
                p.fill_(pointer_gain)
            elif n == "copy_gain":
                p.fill_(pointer_gain if copy_gain is None else copy_gain)
            elif n == "copy_head.bias":
                p.normal_(0.0, 1.0)
            elif n == "copy_head.weight":  # copy_skip's feature columns start at 0 in training
                p.normal_(0.0, 1.0 / p.shape[1] ** 0.5)


def check_config(cfg):
    acf = cfg.get("acoustic_features", 0)
    if acf not in (0, ACOUSTIC_FEATURES):
        raise ValueError(f"acoustic_features = {acf}: must be 0 or {ACOUSTIC_FEATURES}")
    if cfg["input_features"] != cfg["mel_bins"] + acf:
        raise ValueError(f"input_features {cfg['input_features']} != mel_bins {cfg['mel_bins']} + "
                         f"acoustic_features {acf}")


def convert(cfg, state_dict, path, dtype="f32", name="mt3", acoustic_path=BASIC_PITCH):
    check_config(cfg)
    tensors = scribe_tensors(cfg, state_dict, dtype)
    if cfg.get("acoustic_features", 0):
        tensors += acoustic_tensors(acoustic_path)
    write_weights(path, KIND_MT3, config_ints(cfg), name, tensors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--state", help="torch.save'd state dict (or {'state_dict', 'config'})")
    src.add_argument("--random", choices=["small", "mt3"], help="random weights of this configuration")
    ap.add_argument("--acoustic-features", type=int, choices=[0, ACOUSTIC_FEATURES],
                    help="with --random: also read the Basic Pitch posteriors (input_features = mel_bins + 176)")
    ap.add_argument("--seed", type=int, default=1, help="with --random")
    ap.add_argument("--config", help="JSON config (defaults to the one stored with the state, else MT3's)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "q8"])
    ap.add_argument("--name", default="mt3")
    a = ap.parse_args()
    import torch
    from mt3_reference import MT3Model, mt3_config, small_config
    if a.random:
        cfg = (small_config if a.random == "small" else mt3_config)(dropout=0.0)
        if a.config:
            with open(a.config) as f:
                cfg.update(json.load(f))
        if a.acoustic_features is not None:
            cfg["acoustic_features"] = a.acoustic_features
            cfg["input_features"] = cfg["mel_bins"] + a.acoustic_features
        torch.manual_seed(a.seed)
        model = MT3Model(cfg).eval()
        model.reset_parameters()
        randomize_extras(model, pointer_gain=0.5)
        sd = model.state_dict()
    else:
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
