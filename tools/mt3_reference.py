"""PyTorch reference of scribe's MT3 network: T5.1.1 encoder-decoder exactly as magenta/mt3 builds it
(network.py, layers.py, gin/model.gin) and as src/models/t5.c runs it.

    from mt3_reference import MT3Model, mt3_config
    model = MT3Model(mt3_config())           # MT3's published size, ~45.9 M parameters
    logits = model(features, decoder_input_tokens)   # teacher forcing (training)
    tokens, step_logits = model.greedy(features, max_tokens=1024)

Architecture: continuous inputs projected to d_model; fixed sinusoidal positions (sin first half,
cos second half, timescales 1..1e4) added in encoder and decoder; pre-norm RMSNorm (eps 1e-6,
scale only); no biases; gated-GELU MLP (tanh approximation: gelu(wi0 x) * wi1 x); attention
without 1/sqrt(head_dim) (folded into the query init); dropout after attention/MLP/embeddings
(training only); final norms; untied logits. Decoder input starts with PAD (0).

Not in MT3, for our trained models (config cross_time_bias = number of buckets, 0 = MT3):
a time-relative cross-attention bias. Each decoder position knows the time it is at, the value of
the last shift token among its input tokens (0 before any), as frame f = round(steps * frames per
step). Cross-attention logits of head h for encoder frame j get bias[h][bucket(j - f)]
(T5-style bidirectional log buckets, learned per layer and head), so attention can follow the
decoded time without having to learn it from content. The engine reads the bias per offset
(dec.L.cross.time_bias [H, 2T-1], offset j - f + T - 1), expanded from the buckets at export.

Also not in MT3 (config shift_pointer = 1): shift tokens are scored partly by pointing. The last
decoder layer's cross-attention head 0 has pre-softmax scores s[j] (time bias included) over the
encoder frames; the logit of shift value v (whose frame f(v) lies in the segment) gets
dec.pointer_gain * s[f(v)] added. Predicting the time of the next event then only needs a head that
finds that event's frame, not a read-out of its position through the residual stream.

Also not in MT3 (config onset_copy = r >= 1): note content is copied from a frame-wise head on the
encoder output. copy_head (Linear d -> 272 with bias: 128 pitch-onset, 128 drum-onset, 16 instrument
class logits per frame; trained with the frame-wise auxiliary loss) is max-pooled over frames
f-r..f+r (the onset frame and the decoded 10 ms time differ by up to 2 frames). At a decoder position
whose decoded frame is f: pitch logits get copy_gain[0] * onset[f] and drum logits copy_gain[1] *
drum[f] when the current velocity (last velocity token so far) is an onset velocity (> 0); program
logits always get copy_gain[2] * class[f][program / 8]. Which pitches start at this time is then
read off a frame classifier instead of having to pass through cross-attention. And every shift value
v whose frame f(v) lies in the segment gets copy_gain[3] * (max over the 256 onset logits at f(v)):
the next event's time is drawn to frames where something starts (our models otherwise moved time on
by one step at a time and re-said held notes at each).
With config copy_skip = k > 0 the copy head also reads the last k input features of each frame (the
acoustic model's posteriors): Linear(d + k -> 272), so onsets the acoustic network found reach the
copy directly instead of only through the encoder.
Use /usr/bin/python3 (torch 1.13).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, EOS = 0, 1
COPY_OUT = 128 + 128 + 16  # onset_copy head: pitch onset, drum onset, instrument class (program / 8)
SHIFT0 = 3  # first shift token id (after PAD, EOS, UNK); shift value v is id SHIFT0 + v


def mt3_config(**over):
    """MT3's published configuration (gin/model.gin + gin/mt3.gin + spectrograms.py)."""
    cfg = dict(
        d_model=512, heads=6, head_dim=64, mlp_dim=1024, enc_layers=8, dec_layers=8, vocab=1536,
        input_features=512, segment_frames=256, max_decode=1024, dropout=0.1,
        # event codec (vocabularies.py, mt3 vocabulary)
        steps_per_second=100, max_shift_steps=1000, velocity_bins=1, use_ties=1, use_programs=1, use_drums=1,
        # log-mel front end (spectrograms.py)
        sample_rate=16000, fft_size=2048, hop=128, mel_bins=512, fmin=20.0, fmax=7600.0,
    )
    cfg.update(over)
    return cfg


def small_config(**over):
    """A small model of the same architecture (tests, quick training)."""
    base = dict(d_model=128, heads=4, head_dim=32, mlp_dim=256, enc_layers=2, dec_layers=2)
    base.update(over)
    return mt3_config(**base)


def sinusoid_table(length, features):
    """layers.sinusoidal(): float64 math, stored as float32."""
    half = features // 2
    pe = torch.zeros(length, features, dtype=torch.float64)
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    scale = -math.log(10000.0) / (half - 1) if half > 1 else 0.0
    div = torch.exp(torch.arange(half, dtype=torch.float64) * scale)
    pe[:, :half] = torch.sin(pos * div)
    pe[:, half:2 * half] = torch.cos(pos * div)
    return pe.float()


def time_bias_buckets(segment_frames, buckets):
    """Bucket of every key-minus-query frame offset -(T-1)..T-1 (index offset + T - 1): T5's
    bidirectional relative-position buckets (exact below buckets / 4, log-spaced up to T)."""
    t = segment_frames
    half = buckets // 2
    exact = max(1, half // 2)
    out = []
    for r in range(-(t - 1), t):
        n = abs(r)
        if n < exact:
            b = n
        else:
            b = exact + int(math.log(n / exact) / math.log(max(t, exact + 1) / exact) * (half - exact))
            b = min(b, half - 1)
        out.append(b + (half if r > 0 else 0))
    return torch.tensor(out, dtype=torch.long)


def token_time_frames(tokens, cfg):
    """[B, L] decoder input tokens -> encoder frame of each position's current time: the last shift
    token among tokens[:, :i+1] (shift ids 3..3+max_shift_steps, value = id - 3), 0 before any,
    converted with round half up, clamped to the segment."""
    b, length = tokens.shape
    is_shift = (tokens >= SHIFT0) & (tokens <= SHIFT0 + cfg["max_shift_steps"])
    idx = torch.where(is_shift, torch.arange(length, device=tokens.device)[None, :].expand(b, length),
                      torch.full_like(tokens, -1))
    last = torch.cummax(idx, dim=1).values
    steps = torch.where(last >= 0, tokens.gather(1, last.clamp(min=0)) - SHIFT0, torch.zeros_like(tokens))
    return shift_frame(steps, cfg)


def shift_frame(steps, cfg, clamp=True):
    """Shift value(s) -> encoder frame: round(steps * sample_rate / (steps_per_second * hop)), half up;
    clamped to the segment unless clamp=False."""
    num = 2 * cfg["sample_rate"]
    den = cfg["steps_per_second"] * cfg["hop"]
    f = (steps * num + den) // (2 * den)
    if not clamp:
        return f
    return f.clamp(0, cfg["segment_frames"] - 1) if torch.is_tensor(f) else min(max(f, 0), cfg["segment_frames"] - 1)


def pointer_frames(cfg):
    """Frame of every shift value whose frame lies inside the segment (values 0..n-1)."""
    f = shift_frame(torch.arange(cfg["max_shift_steps"] + 1), cfg, clamp=False)
    return f[f <= cfg["segment_frames"] - 1]


def codec_ids(cfg):
    """First token id of each event type of the MT3 codec (ids + 3 after PAD, EOS, UNK)."""
    pitch0 = SHIFT0 + cfg["max_shift_steps"] + 1
    vel0 = pitch0 + 128
    tie = vel0 + cfg["velocity_bins"] + 1
    return dict(pitch0=pitch0, vel0=vel0, tie=tie, prog0=tie + 1, drum0=tie + 1 + 128)


def token_onset_context(tokens, cfg):
    """[B, L] decoder input tokens -> bool [B, L]: the last velocity token among tokens[:, :i+1] is an
    onset velocity (> 0); False before any velocity token."""
    ids = codec_ids(cfg)
    b, length = tokens.shape
    is_vel = (tokens >= ids["vel0"]) & (tokens < ids["tie"])
    idx = torch.where(is_vel, torch.arange(length, device=tokens.device)[None, :].expand(b, length),
                      torch.full_like(tokens, -1))
    last = torch.cummax(idx, dim=1).values
    return (last >= 0) & (tokens.gather(1, last.clamp(min=0)) > ids["vel0"])


class DecodingGuard:
    """Greedy decoding guard of one segment, as src/music/mt3_grammar.c: masks tokens that could only
    restate what the segment already said (shift to a time <= the current one, the current velocity or
    program again, a second tie or one after a shift, a pitch / drum already said since the last shift
    in the same program and velocity context, any event of a pitch after its onset at this time in the
    same program; with ties, an offset of a silent note or an onset of a sounding one in the same program).
    Never EOS. Token layout of the MT3 codec: shift
    0..max_shift_steps, pitch 0..127, velocity 0..bins, tie, program 0..127, drum 0..127, ids + 3."""

    def __init__(self, cfg):
        self.shift0 = SHIFT0
        ids = codec_ids(cfg)
        self.pitch0, self.vel0, self.tie, self.prog0, self.drum0 = (ids[k] for k in ("pitch0", "vel0", "tie", "prog0", "drum0"))
        self.time, self.velocity, self.program, self.ties_over, self.said = 0, -1, -1, False, set()
        self.use_ties = bool(cfg.get("use_ties", 1))
        self.sounding = set()  # (program, pitch) of notes sounding (onset or tie entry, no offset yet)

    def _ctx(self):
        return self.velocity if self.ties_over else -2

    def masked(self):
        """Token ids masked at the next step."""
        ids = list(range(self.shift0, self.shift0 + self.time + 1))
        if self.velocity >= 0:
            ids.append(self.vel0 + self.velocity)
        if self.program >= 0:
            ids.append(self.prog0 + self.program)
        if self.ties_over:
            ids.append(self.tie)
        ctx = self._ctx()
        if self.use_ties and ctx >= 0:  # offsets of silent notes, onsets of sounding ones
            ids += [self.pitch0 + p for p in range(128) if ((self.program, p) in self.sounding) == (ctx > 0)]
        for kind, prog, c, p in self.said:
            if kind == "drum":
                if c == ctx:
                    ids.append(self.drum0 + p)
            elif prog == self.program and (c == ctx or (ctx >= 0 and c >= 1)):
                ids.append(self.pitch0 + p)  # the same event again, or anything after an onset at this time
        return ids

    def feed(self, tok):
        if self.shift0 <= tok < self.pitch0:
            self.time, self.said, self.ties_over = tok - self.shift0, set(), True
        elif self.pitch0 <= tok < self.vel0:
            ctx, note = self._ctx(), (self.program, tok - self.pitch0)
            if ctx == -2 or ctx > 0:
                self.sounding.add(note)
            elif ctx == 0:
                self.sounding.discard(note)
            self.said.add(("pitch", self.program, ctx, tok - self.pitch0))
        elif self.vel0 <= tok < self.tie:
            self.velocity = tok - self.vel0
        elif tok == self.tie:
            self.ties_over = True
        elif self.prog0 <= tok < self.drum0:
            self.program = tok - self.prog0
        elif self.drum0 <= tok < self.drum0 + 128:
            self.said.add(("drum", -1, self._ctx(), tok - self.drum0))


def guarded_argmax(logits, guards):
    """logits [B, V] -> next tokens [B] under each row's DecodingGuard (which is advanced)."""
    lg = logits.clone()
    for i, g in enumerate(guards):
        lg[i, g.masked()] = float("-inf")
    nxt = lg.argmax(-1)
    for i, g in enumerate(guards):
        g.feed(int(nxt[i]))
    return nxt


def gelu_tanh(x):
    """T5's GELU, the tanh approximation (the engine's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    torch's fused kernel of the same formula (within 2.4e-7 of it written out) runs forward + backward in
    half the time of the written-out form, 8 % of a training step."""
    return F.gelu(x, approximate="tanh")


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.scale


class Attention(nn.Module):
    def __init__(self, cfg, time_bias=False):
        super().__init__()
        d, self.h, self.dh = cfg["d_model"], cfg["heads"], cfg["head_dim"]
        hd = self.h * self.dh
        self.q = nn.Linear(d, hd, bias=False)
        self.k = nn.Linear(d, hd, bias=False)
        self.v = nn.Linear(d, hd, bias=False)
        self.o = nn.Linear(hd, d, bias=False)
        self.time_bias = None
        if time_bias:  # cross-attention bias by key frame minus the query's decoded time (buckets)
            t = cfg["segment_frames"]
            self.time_bias = nn.Parameter(torch.zeros(self.h, cfg["cross_time_bias"]))
            self.register_buffer("time_bucket", time_bias_buckets(t, cfg["cross_time_bias"]), persistent=False)
        self.capture = False  # training: keep the attention probabilities in self.probs
        self.probs = None
        self.keep_scores = False  # shift pointer: keep head 0's pre-softmax scores in self.scores
        self.scores = None

    def offset_bias(self):
        """[H, 2T-1] bias per key-minus-query frame offset (what the engine stores)."""
        return self.time_bias[:, self.time_bucket]

    def forward(self, xq, xkv, mask=None, qframes=None):
        b, lq, _ = xq.shape
        lk = xkv.shape[1]
        q = self.q(xq).view(b, lq, self.h, self.dh).transpose(1, 2)
        k = self.k(xkv).view(b, lk, self.h, self.dh).transpose(1, 2)
        v = self.v(xkv).view(b, lk, self.h, self.dh).transpose(1, 2)
        s = q @ k.transpose(-1, -2)  # no 1/sqrt(dh): T5
        if self.time_bias is not None and qframes is not None:
            # table[h, q, k] = bias of key k seen from query frame q, then one row per query: gathering
            # rows instead of B*Lq*Lk single values makes the backward pass's scatter 256 times smaller
            t = self.time_bucket.shape[0] // 2 + 1
            off = torch.arange(lk, device=xq.device)[None, :] - torch.arange(t, device=xq.device)[:, None] + (t - 1)
            table = self.offset_bias()[:, off.clamp(0, 2 * t - 2)]  # [H, t, Lk]
            s = s + table[:, qframes.clamp(0, t - 1)].permute(1, 0, 2, 3)
        if mask is not None:
            s = s.masked_fill(~mask, -1e10)
        self.scores = s[:, 0] if self.keep_scores else None
        a = torch.softmax(s, dim=-1)
        self.probs = a if self.capture else None
        return self.o((a @ v).transpose(1, 2).reshape(b, lq, self.h * self.dh))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, m = cfg["d_model"], cfg["mlp_dim"]
        self.wi0 = nn.Linear(d, m, bias=False)
        self.wi1 = nn.Linear(d, m, bias=False)
        self.wo = nn.Linear(m, d, bias=False)
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))

    def forward(self, x):
        return self.wo(self.drop(gelu_tanh(self.wi0(x)) * self.wi1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_norm = RMSNorm(cfg["d_model"])
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg["d_model"])
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))

    def forward(self, x):
        h = self.attn_norm(x)
        x = x + self.drop(self.attn(h, h))
        return x + self.drop(self.mlp(self.mlp_norm(x)))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_norm = RMSNorm(cfg["d_model"])
        self.self_attn = Attention(cfg)
        self.cross_norm = RMSNorm(cfg["d_model"])
        self.cross = Attention(cfg, time_bias=cfg.get("cross_time_bias", 0) > 0)
        self.mlp_norm = RMSNorm(cfg["d_model"])
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))

    def forward(self, y, enc, causal, qframes=None):
        h = self.self_norm(y)
        y = y + self.drop(self.self_attn(h, h, causal))
        y = y + self.drop(self.cross(self.cross_norm(y), enc, qframes=qframes))
        return y + self.drop(self.mlp(self.mlp_norm(y)))


class MT3Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        d = cfg["d_model"]
        self.input_proj = nn.Linear(cfg["input_features"], d, bias=False)
        # not in MT3: our trained models fold per-bin input normalisation into input_proj + this bias
        self.input_bias = nn.Parameter(torch.zeros(d)) if cfg.get("input_bias", 0) else None
        self.enc_layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg["enc_layers"])])
        self.enc_norm = RMSNorm(d)
        self.embed = nn.Embedding(cfg["vocab"], d)
        self.dec_layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg["dec_layers"])])
        self.dec_norm = RMSNorm(d)
        self.logits = nn.Linear(d, cfg["vocab"], bias=False)
        self.drop = nn.Dropout(cfg.get("dropout", 0.0))
        self.pointer_gain = None
        if cfg.get("shift_pointer", 0) or cfg.get("onset_copy", 0):
            self.register_buffer("pointer_frames", pointer_frames(cfg), persistent=False)
        if cfg.get("shift_pointer", 0):
            self.pointer_gain = nn.Parameter(torch.zeros(1))
            self.dec_layers[-1].cross.keep_scores = True
        self.copy_head = self.copy_gain = None
        if cfg.get("onset_copy", 0):
            self.copy_head = nn.Linear(d + cfg.get("copy_skip", 0), COPY_OUT)
            self.copy_gain = nn.Parameter(torch.zeros(4))
        self.copy_feats = None  # copy_skip: the last encode()'s input features it reads
        n_pos = max(cfg["segment_frames"], cfg["max_decode"] + 1)
        self.register_buffer("pos", sinusoid_table(n_pos, d), persistent=False)
        self.reset_parameters()

    def reset_parameters(self, logits_scale=1.0):
        """T5/MT3 initialisation: variance scaling 1/fan_in (normal), queries / sqrt(head_dim),
        embedding N(0, 1), norms 1."""
        dh = self.cfg["head_dim"]
        for name, p in self.named_parameters():
            if name.endswith("scale"):
                nn.init.ones_(p)
            elif name in ("input_bias", "pointer_gain", "copy_gain", "copy_head.bias") or name.endswith("time_bias"):
                nn.init.zeros_(p)
            elif name == "copy_head.weight" and self.cfg.get("copy_skip", 0):  # feature columns start at 0
                nn.init.normal_(p, std=1.0 / math.sqrt(self.cfg["d_model"]))
                p.data[:, self.cfg["d_model"]:] = 0.0
            elif name == "embed.weight":
                nn.init.normal_(p, std=1.0)
            else:
                std = 1.0 / math.sqrt(p.shape[1])
                if name.endswith(".q.weight"):
                    std /= math.sqrt(dh)
                if name == "logits.weight":
                    std *= logits_scale
                nn.init.normal_(p, std=std)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def encode(self, features):
        """features [B, T, F] -> [B, T, D]"""
        t = features.shape[1]
        x = self.input_proj(features) + self.pos[:t]
        if self.input_bias is not None:
            x = x + self.input_bias
        x = self.drop(x)
        for layer in self.enc_layers:
            x = layer(x)
        k = self.cfg.get("copy_skip", 0)
        self.copy_feats = features[..., features.shape[-1] - k:] if self.copy_head is not None and k else None
        return self.drop(self.enc_norm(x))

    def copy_logits(self, enc):
        """onset_copy: [B, T, 272] copy-head logits of each frame (from the encoder output, and with copy_skip
        the last input features of the latest encode())."""
        return self.copy_head(enc if self.copy_feats is None else torch.cat([enc, self.copy_feats], -1))

    def decode(self, enc, tokens):
        """Teacher forcing: decoder input tokens [B, L] (PAD first) -> logits [B, L, V]."""
        length = tokens.shape[1]
        y = self.drop(self.embed(tokens) + self.pos[:length])
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        timed = self.cfg.get("cross_time_bias", 0) or self.copy_head is not None
        qframes = token_time_frames(tokens, self.cfg) if timed else None
        for layer in self.dec_layers:
            y = layer(y, enc, causal, qframes if self.cfg.get("cross_time_bias", 0) else None)
        lg = self.point(self.logits(self.drop(self.dec_norm(y))), self.dec_layers[-1].cross.scores)
        if self.copy_head is None:
            return lg
        return self.copy(lg, self.copy_table(enc), qframes, token_onset_context(tokens, self.cfg))

    def copy_table(self, enc):
        """onset_copy: [B, T, 272] copy-head logits max-pooled over frames f-r..f+r (None when off)."""
        if self.copy_head is None:
            return None
        r = self.cfg["onset_copy"]
        a = self.copy_logits(enc).transpose(1, 2)
        return F.max_pool1d(a, 2 * r + 1, stride=1, padding=r).transpose(1, 2)

    def copy(self, logits, table, qframes, onset):
        """onset_copy: add the copy table at each position's decoded frame to the pitch and drum logits (onset
        contexts), the program logits (class) and, as each frame's strongest onset, to the in-segment shifts."""
        if table is None:
            return logits
        ids = codec_ids(self.cfg)
        at = table.gather(1, qframes[..., None].expand(-1, -1, table.shape[-1]))  # [B, L, 272]
        on = onset[..., None].to(at.dtype)  # [B, L, 1]: onset context (velocity > 0 so far)
        g = self.copy_gain
        add = torch.zeros_like(logits)
        add[..., ids["pitch0"]:ids["pitch0"] + 128] = g[0] * at[..., :128] * on
        add[..., ids["drum0"]:ids["drum0"] + 128] = g[1] * at[..., 128:256] * on
        add[..., ids["prog0"]:ids["prog0"] + 128] = g[2] * at[..., 256:].repeat_interleave(8, -1)
        n = self.pointer_frames.shape[0]
        onset_any = table[..., :256].max(-1).values[:, self.pointer_frames]  # [B, n]
        add[..., SHIFT0:SHIFT0 + n] = g[3] * onset_any[:, None, :]
        return logits + add

    def point(self, logits, scores):
        """Shift pointer: logits [..., V] += gain * head-0 scores [..., T] at each in-segment shift's frame."""
        if self.pointer_gain is None:
            return logits
        n = self.pointer_frames.shape[0]
        ptr = self.pointer_gain * scores[..., self.pointer_frames]
        return torch.cat([logits[..., :SHIFT0], logits[..., SHIFT0:SHIFT0 + n] + ptr, logits[..., SHIFT0 + n:]], -1)

    def forward(self, features, decoder_input_tokens):
        return self.decode(self.encode(features), decoder_input_tokens)

    @torch.no_grad()
    def greedy(self, features, max_tokens, ignore_eos=False):
        """Greedy decoding from PAD under DecodingGuard (as the engine decodes). Returns (tokens [B, n] with
        EOS kept, per-step logits [B, n, V] before the guard).
        Rows that produced EOS keep emitting EOS (unless ignore_eos)."""
        enc = self.encode(features)
        b = features.shape[0]
        inp = torch.zeros(b, 1, dtype=torch.long, device=features.device)
        out, step_logits = [], []
        done = torch.zeros(b, dtype=torch.bool, device=features.device)
        guards = [DecodingGuard(self.cfg) for _ in range(b)]
        for _ in range(max_tokens):
            lg = self.decode(enc, inp)[:, -1]
            nxt = guarded_argmax(lg, guards)
            if not ignore_eos:
                nxt = torch.where(done, torch.full_like(nxt, EOS), nxt)
                done = done | (nxt == EOS)
            out.append(nxt)
            step_logits.append(lg)
            inp = torch.cat([inp, nxt[:, None]], 1)
            if not ignore_eos and bool(done.all()):
                break
        return torch.stack(out, 1), torch.stack(step_logits, 1)
