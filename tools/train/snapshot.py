"""Writes a compact, resumable snapshot of a training run for git (weights only, no optimiser state).

    /usr/bin/python3 tools/train/snapshot.py --run .data/runs/tb-main --out weights/train/mt3-train.pt

The snapshot holds the training model (MT3 network + auxiliary head) in float16, the configuration,
the input normalisation and the step / segment / hour counters of the run's latest checkpoint
(ckpt.pt). `train.py --init-from <snapshot>` continues from it on a fresh machine (a new AdamW whose
moments re-estimate within its warm-up; the counters continue, so the learning curve stays
cumulative). .data/ does not survive a new machine; this file does.
"""
import argparse
import os

import torch


def training_weights(st):
    """TrainModel weights (mt3.* and the auxiliary heads) of a loaded run checkpoint (ckpt.pt: its weight
    average where train.py --ema kept one, which is what validation scored), snapshot or best.pt (the MT3
    network only)."""
    if "model" in st:
        return {**st["model"], **(st.get("ema") or {})}  # integer buffers are not averaged
    return {"mt3." + k: v for k, v in st["state_dict"].items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--from", dest="src", default="ckpt.pt", help="ckpt.pt (latest, default) or best.pt")
    a = ap.parse_args()
    st = torch.load(os.path.join(a.run, a.src), map_location="cpu")
    model = training_weights(st)
    snap = dict(model={k: (v.half() if v.is_floating_point() else v) for k, v in model.items()},
                config=st["config"], input_mean=st.get("input_mean"), input_std=st.get("input_std"),
                step=st.get("step"), seen=st.get("seen"), hours=st.get("hours"), best=st.get("best", -1.0),
                source=os.path.join(os.path.basename(os.path.normpath(a.run)), a.src))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(snap, a.out + ".tmp")
    os.replace(a.out + ".tmp", a.out)
    n = sum(v.numel() for v in model.values())
    print(f"wrote {a.out}: {os.path.getsize(a.out)} bytes, {n / 1e6:.2f} M values, step {snap['step']}, "
          f"{snap['hours'] or 0:.2f} h")


if __name__ == "__main__":
    main()
