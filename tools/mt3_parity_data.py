"""Makes random-weight MT3 models and reference outputs for tests/node/mt3_parity.test.mjs.

    /usr/bin/python3 tools/mt3_parity_data.py --out DIR --preset mt3|small --inputs N --tokens S --seed K

Writes DIR/model_f32.scrb, DIR/model_q8.scrb, inputs.f32 [N,T,F], enc.f32 [N,T,D], logits.f32 [N,S,V],
tokens.i32 [N,S], meta.json. Random T5 init, except the logits kernel scaled by --logits-scale (10):
random weights give near-uniform logits, so the scale separates the greedy choices well beyond float
rounding; decoding ignores EOS so every input yields S tokens.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_mt3 import convert, randomize_extras  # noqa: E402
from mt3_reference import MT3Model, mt3_config, small_config, codec_ids, token_onset_context  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", default="mt3", choices=["mt3", "small"])
    ap.add_argument("--inputs", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logits-scale", type=float, default=10.0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    # the small preset also covers what our trained models add to MT3: the input bias, a segment
    # shorter than MT3's 256 frames, the time-relative cross-attention bias, the shift pointer and the onset copy
    # (its head also reading the last 16 input features)
    cfg = (mt3_config(dropout=0.0) if a.preset == "mt3"
           else small_config(dropout=0.0, input_bias=1, segment_frames=64, cross_time_bias=32, shift_pointer=1,
                             onset_copy=2, copy_skip=16))
    model = MT3Model(cfg).eval()
    model.reset_parameters(logits_scale=a.logits_scale)
    if model.input_bias is not None:
        with torch.no_grad():
            model.input_bias.normal_(std=2.0)
    randomize_extras(model, pointer_gain=5.0)  # a gain strong enough to move the (x10) logits
    if cfg.get("onset_copy", 0):
        # random weights rarely choose the onset velocity, the one context where pitch and drum logits
        # get the onset copy: favour it
        with torch.no_grad():
            model.logits.weight[codec_ids(cfg)["vel0"] + 1] *= 6.0
    sd = model.state_dict()
    convert(cfg, sd, os.path.join(a.out, "model_f32.scrb"), "f32", f"parity-{a.preset}")
    convert(cfg, sd, os.path.join(a.out, "model_q8.scrb"), "q8", f"parity-{a.preset}-q8")
    # log-mel-like inputs: MT3 features are log(max(mel, 1e-5)), roughly -11.5..4
    x = torch.randn(a.inputs, cfg["segment_frames"], cfg["input_features"]) * 2.0 - 5.0
    with torch.no_grad():
        enc = model.encode(x)
        tokens, logits = model.greedy(x, a.tokens, ignore_eos=True)
    x.numpy().astype("<f4").tofile(os.path.join(a.out, "inputs.f32"))
    enc.numpy().astype("<f4").tofile(os.path.join(a.out, "enc.f32"))
    logits.numpy().astype("<f4").tofile(os.path.join(a.out, "logits.f32"))
    tokens.numpy().astype("<i4").tofile(os.path.join(a.out, "tokens.i32"))
    lg = logits.numpy()
    top2 = np.sort(lg, axis=-1)[..., -2:]
    meta = dict(config=cfg, inputs=a.inputs, tokens=a.tokens, params=model.n_params(),
                min_top2_gap=float((top2[..., 1] - top2[..., 0]).min()),
                distinct_tokens=int(len(np.unique(tokens.numpy()))),
                # decoding steps whose pitch / drum logits got the onset copy (velocity > 0 so far)
                onset_copy_steps=int(token_onset_context(tokens, cfg).sum()) if cfg.get("onset_copy", 0) else 0)
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
