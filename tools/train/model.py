"""Training wrapper around tools/mt3_reference.MT3Model (the architecture the C engine runs).

Adds, for training only (never exported):
  * an auxiliary frame-wise head on the encoder output: onset / frame / drum-onset piano rolls and
    instrument-class activity (joint CTC/attention style help so the encoder learns notes early);
  * access to the decoder's cross-attention probabilities, for a guided-attention loss.
Also a KV-cached greedy decoder for fast validation decoding.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from mt3_reference import (SHIFT0, DecodingGuard, MT3Model, guarded_argmax, mt3_config,  # noqa: E402,F401
                           shift_frame)

AUX_OUT = 128 + 128 + 128 + 16  # onset, frame, drum onset, class activity


class TrainModel(nn.Module):
    def __init__(self, cfg, aux=True, capture=False):
        super().__init__()
        self.mt3 = MT3Model(cfg)
        self.cfg = self.mt3.cfg
        self.aux = self.aux_frame = None
        if self.mt3.copy_head is not None:
            # onset_copy: the exported copy head gives the onset / drum / class part of the frame-wise
            # targets, a training-only head the frame-activity part
            self.aux_frame = nn.Linear(cfg["d_model"], 128)
        elif aux:
            self.aux = nn.Linear(cfg["d_model"], AUX_OUT)
        self.set_capture(capture)

    def aux_logits(self, enc):
        """[B, T, AUX_OUT] frame-wise logits (onset, frame, drum onset, class) or None."""
        if self.aux_frame is not None:
            c = self.mt3.copy_logits(enc)
            return torch.cat([c[..., :128], self.aux_frame(enc), c[..., 128:]], -1)
        return self.aux(enc) if self.aux is not None else None

    def adopt_aux(self, sd):
        """Weights of a model without onset_copy: its aux head [AUX_OUT, d] seeds copy_head + aux_frame."""
        w = sd.get("mt3.copy_head.weight")
        if w is not None and self.aux_frame is not None and w.shape[1] < self.mt3.copy_head.weight.shape[1]:
            # copy_skip added: the feature columns start at 0 (the same function)
            pad = w.new_zeros(w.shape[0], self.mt3.copy_head.weight.shape[1] - w.shape[1])
            sd = dict(sd, **{"mt3.copy_head.weight": torch.cat([w, pad], 1)})
        if self.aux_frame is None or "aux.weight" not in sd or "mt3.copy_head.weight" in sd:
            return sd
        sd = dict(sd)
        w, b = sd.pop("aux.weight"), sd.pop("aux.bias")
        sd["mt3.copy_head.weight"] = torch.cat([w[:128], w[256:]])
        sd["mt3.copy_head.bias"] = torch.cat([b[:128], b[256:]])
        sd["aux_frame.weight"], sd["aux_frame.bias"] = w[128:256], b[128:256]
        return sd

    def set_capture(self, on):
        """Keep the cross-attention probabilities of every decoder layer (guided-attention loss)."""
        for l in self.mt3.dec_layers:
            l.cross.capture = on
            l.cross.probs = None

    def forward(self, feats, dec_in):
        enc = self.mt3.encode(feats)
        logits = self.mt3.decode(enc, dec_in)
        aux = self.aux_logits(enc)
        probs = [l.cross.probs for l in self.mt3.dec_layers if l.cross.probs is not None]
        return logits, aux, probs

    @torch.no_grad()
    def greedy(self, feats, max_tokens=512):
        """KV-cached greedy decoding from PAD under the decoding guard (as the engine); returns list of token
        lists (EOS excluded)."""
        m = self.mt3
        m.eval()
        enc = m.encode(feats)
        b = feats.shape[0]
        layers = m.dec_layers
        cross_kv = []
        for l in layers:
            a = l.cross
            k = a.k(enc).view(b, -1, a.h, a.dh).transpose(1, 2)
            v = a.v(enc).view(b, -1, a.h, a.dh).transpose(1, 2)
            cross_kv.append((k, v))
        cache = [[None, None] for _ in layers]
        tok = torch.zeros(b, dtype=torch.long)
        n_shift = m.cfg["max_shift_steps"]
        qframe = torch.zeros(b, dtype=torch.long)  # decoded time of each row (cross_time_bias)
        guards = [DecodingGuard(m.cfg) for _ in range(b)]
        t_enc = enc.shape[1]
        biases = [l.cross.offset_bias() if l.cross.time_bias is not None else None for l in layers]
        table = m.copy_table(enc)
        outs = [[] for _ in range(b)]
        done = torch.zeros(b, dtype=torch.bool)
        for t in range(max_tokens):
            is_shift = (tok >= SHIFT0) & (tok <= SHIFT0 + n_shift)
            qframe = torch.where(is_shift, shift_frame(tok - SHIFT0, m.cfg), qframe)
            off = torch.arange(t_enc)[None, :] - qframe[:, None] + (m.cfg["segment_frames"] - 1)  # [B, T]
            y = m.embed(tok)[:, None, :] + m.pos[t:t + 1]
            for li, l in enumerate(layers):
                h = l.self_norm(y)
                a = l.self_attn
                q = a.q(h).view(b, 1, a.h, a.dh).transpose(1, 2)
                k = a.k(h).view(b, 1, a.h, a.dh).transpose(1, 2)
                v = a.v(h).view(b, 1, a.h, a.dh).transpose(1, 2)
                if cache[li][0] is not None:
                    k = torch.cat([cache[li][0], k], 2)
                    v = torch.cat([cache[li][1], v], 2)
                cache[li] = [k, v]
                p = torch.softmax(q @ k.transpose(-1, -2), -1)
                y = y + a.o((p @ v).transpose(1, 2).reshape(b, 1, a.h * a.dh))
                h = l.cross_norm(y)
                c = l.cross
                q = c.q(h).view(b, 1, c.h, c.dh).transpose(1, 2)
                ck, cv = cross_kv[li]
                sc = q @ ck.transpose(-1, -2)  # [B, H, 1, T]
                if biases[li] is not None:
                    sc = sc + biases[li][:, off].permute(1, 0, 2)[:, :, None, :]
                last_scores = sc[:, 0, 0]  # [B, T] head 0 (shift pointer reads the last layer's)
                p = torch.softmax(sc, -1)
                y = y + c.o((p @ cv).transpose(1, 2).reshape(b, 1, c.h * c.dh))
                y = y + l.mlp(l.mlp_norm(y))
            lg = m.logits(m.dec_norm(y))[:, 0]
            if m.pointer_gain is not None:
                lg = m.point(lg, last_scores)
            if table is not None:  # onset context from each row's guard: its current velocity
                onset = torch.tensor([g.velocity > 0 for g in guards])
                lg = m.copy(lg[:, None], table, qframe.clamp(0, t_enc - 1)[:, None], onset[:, None])[:, 0]
            nxt = guarded_argmax(lg, guards)
            for i in range(b):
                if not done[i]:
                    if int(nxt[i]) == 1:
                        done[i] = True
                    else:
                        outs[i].append(int(nxt[i]))
            if bool(done.all()):
                break
            tok = nxt
        return outs
