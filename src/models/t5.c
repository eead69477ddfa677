/* T5.1.1 encoder-decoder for MT3 (see t5.h). */
#include "t5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "../kernels/simd.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

static void transpose_keys(const sc_t5_state *s, const float *K, int n, int H, int Dh, float *base, size_t off,
                           int ld);
static inline void kv_set(const sc_t5_state *s, float *base, size_t i, float v);

#define PANEL 64   /* columns dequantised at a time for large M */
#define SKINNY 16  /* rows up to which the strip kernel is used */

/* ------------------------------------------------------------------ config and binding */

/* Whether decoding tracks each row's decoded frame (the time bias, the shift pointer and the onset copy read it). */
static int tracks_time(const sc_t5_config *c) { return c->cross_time_bias || c->shift_pointer || c->onset_copy; }

scribe_status sc_t5_config_read(const sc_weights *w, sc_t5_config *c, scribe_error *err) {
    const int32_t *k = w->config;
    c->d_model = k[SC_T5_CFG_D_MODEL];
    c->heads = k[SC_T5_CFG_HEADS];
    c->head_dim = k[SC_T5_CFG_HEAD_DIM];
    c->mlp_dim = k[SC_T5_CFG_MLP_DIM];
    c->enc_layers = k[SC_T5_CFG_ENC_LAYERS];
    c->dec_layers = k[SC_T5_CFG_DEC_LAYERS];
    c->vocab = k[SC_T5_CFG_VOCAB];
    c->input_features = k[SC_T5_CFG_INPUT_FEATURES];
    c->segment_frames = k[SC_T5_CFG_SEGMENT_FRAMES];
    c->max_decode = k[SC_T5_CFG_MAX_DECODE];
    c->input_bias = k[SC_T5_CFG_INPUT_BIAS];
    c->cross_time_bias = k[SC_T5_CFG_CROSS_TIME_BIAS];
    c->shift_pointer = k[SC_T5_CFG_SHIFT_POINTER];
    c->onset_copy = k[SC_T5_CFG_ONSET_COPY];
    c->join_ms = k[SC_T5_CFG_JOIN_MS];
    c->copy_skip = k[SC_T5_CFG_COPY_SKIP];
    c->rejoin_ms = k[SC_T5_CFG_REJOIN_MS];
    c->rejoin_onset = k[SC_T5_CFG_REJOIN_ONSET];
    c->onset_gate = k[SC_T5_CFG_ONSET_GATE];
    c->tie_recover = k[SC_T5_CFG_TIE_RECOVER];
    c->tie_end = k[SC_T5_CFG_TIE_END];
    c->offset_clip = k[SC_T5_CFG_OFFSET_CLIP];
    c->onset_recover = k[SC_T5_CFG_ONSET_RECOVER];
    const int64_t frame_den = (int64_t)k[SC_T5_CFG_STEPS_PER_SECOND] * k[SC_T5_CFG_HOP];
    c->frame_num = k[SC_T5_CFG_SAMPLE_RATE];
    c->frame_den = frame_den >= 1 && frame_den <= 1000000 ? (int)frame_den : 0;
    struct { const char *name; int v, lo, hi; } chk[] = {
        {"d_model", c->d_model, 2, 8192},         {"heads", c->heads, 1, 256},
        {"head_dim", c->head_dim, 1, 1024},       {"mlp_dim", c->mlp_dim, 1, 65536},
        {"encoder layers", c->enc_layers, 1, 128}, {"decoder layers", c->dec_layers, 1, 128},
        {"vocabulary size", c->vocab, 4, 1 << 20}, {"input features", c->input_features, 1, 8192},
        {"segment frames", c->segment_frames, 1, 8192}, {"max decode length", c->max_decode, 1, 1024},
        {"input bias flag", c->input_bias, 0, 1},  {"cross-attention time bias buckets", c->cross_time_bias, 0, 1024},
        {"shift pointer flag", c->shift_pointer, 0, 1},  {"onset copy window", c->onset_copy, 0, 64},
        {"fragment join (ms)", c->join_ms, 0, 1000},
        {"rejoin gap (ms)", c->rejoin_ms, 0, 1000},
        {"rejoin onset threshold (1/1000)", c->rejoin_onset, c->rejoin_ms ? 1 : 0, 1000},
        {"onset gate (1/1000)", c->onset_gate, 0, 1000},
        {"tie recovery onset threshold (1/1000)", c->tie_recover, 0, 1000},
        {"untied end note threshold (1/1000)", c->tie_end, 0, 1000},
        {"offset clip note threshold (1/1000)", c->offset_clip, 0, 1000},
        {"onset recovery threshold (1/1000)", c->onset_recover, 0, 1000},
        {"copy head feature columns", c->copy_skip, 0, c->onset_copy && c->input_features > 0 ? c->input_features : 0},
    };
    for (size_t i = 0; i < sizeof chk / sizeof chk[0]; i++)
        if (chk[i].v < chk[i].lo || chk[i].v > chk[i].hi)
            return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 config %s = %d outside %d..%d", chk[i].name, chk[i].v,
                           chk[i].lo, chk[i].hi);
    /* (the shift tokens themselves are checked by the codec, sc_t5_model_init) */
    if (tracks_time(c) &&
        (c->frame_num < 1 || c->frame_num > 1000000 || !c->frame_den))
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 config: frame rate out of range for the "
                       "cross-attention time bias, the shift pointer or the onset copy");
    return SCRIBE_OK;
}

/* Encoder frame of a shift value (not clamped): round half up of value * frame_num / frame_den. */
static int64_t shift_frame(const sc_t5_config *c, int value) {
    return (2 * (int64_t)value * c->frame_num + c->frame_den) / (2 * (int64_t)c->frame_den);
}

#define DENSE_DTYPES ((1u << SC_DTYPE_F32) | (1u << SC_DTYPE_F16) | (1u << SC_DTYPE_Q8))

static scribe_status bind_dense(sc_t5_model *m, const sc_weights *w, sc_t5_dense *d, const char *name, int in,
                                int out, scribe_error *err) {
    uint32_t shape[2] = {(uint32_t)in, (uint32_t)out};
    const sc_tensor *t = sc_weights_get(w, name, DENSE_DTYPES, 2, shape, err);
    if (!t) return SCRIBE_ERR_BAD_WEIGHTS;
    d->in = in;
    d->out = out;
    m->n_params += (uint64_t)in * out;
    if (t->dtype == SC_DTYPE_Q8) {
        d->dtype = SC_DTYPE_Q8;
        d->q = t->data;
        d->scales = t->q8_scales;
        m->weight_dtype = SC_DTYPE_Q8;
        return SCRIBE_OK;
    }
    d->dtype = SC_DTYPE_F32;
    if (t->dtype == SC_DTYPE_F32) {
        d->w = t->data;
        return SCRIBE_OK;
    }
    /* f16: widened once at load */
    if (!sc_buffer_fits((uint64_t)in * (uint64_t)out, sizeof(float), NULL))
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "f16 tensor '%s' (%d x %d) widened to f32 is above the engine's "
                       SC_MAX_BUFFER_TEXT " limit per buffer", name, in, out);
    float *f = sc_aligned_array((uint64_t)in * (uint64_t)out, sizeof(float));
    if (!f) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory widening '%s'", name);
    sc_tensor_to_f32(t, f);
    m->owned[m->n_owned++] = f;
    d->w = f;
    if (m->weight_dtype != SC_DTYPE_Q8) m->weight_dtype = SC_DTYPE_F16;
    return SCRIBE_OK;
}

static scribe_status bind_norm(sc_t5_model *m, const sc_weights *w, const float **p, const char *name, int d,
                               scribe_error *err) {
    uint32_t shape[1] = {(uint32_t)d};
    const sc_tensor *t = sc_weights_get(w, name, 1u << SC_DTYPE_F32, 1, shape, err);
    if (!t) return SCRIBE_ERR_BAD_WEIGHTS;
    *p = t->data;
    m->n_params += (uint64_t)d;
    return SCRIBE_OK;
}

static scribe_status bind_attn(sc_t5_model *m, const sc_weights *w, sc_t5_attn *a, const char *pre,
                               scribe_error *err) {
    const sc_t5_config *c = &m->cfg;
    int hd = c->heads * c->head_dim;
    char n[80];
    scribe_status st;
    snprintf(n, sizeof n, "%s.q", pre);
    if ((st = bind_dense(m, w, &a->q, n, c->d_model, hd, err))) return st;
    snprintf(n, sizeof n, "%s.k", pre);
    if ((st = bind_dense(m, w, &a->k, n, c->d_model, hd, err))) return st;
    snprintf(n, sizeof n, "%s.v", pre);
    if ((st = bind_dense(m, w, &a->v, n, c->d_model, hd, err))) return st;
    snprintf(n, sizeof n, "%s.o", pre);
    return bind_dense(m, w, &a->o, n, hd, c->d_model, err);
}

static scribe_status bind_mlp(sc_t5_model *m, const sc_weights *w, sc_t5_mlp *p, const char *pre,
                              scribe_error *err) {
    const sc_t5_config *c = &m->cfg;
    char n[80];
    scribe_status st;
    snprintf(n, sizeof n, "%s.wi0", pre);
    if ((st = bind_dense(m, w, &p->wi0, n, c->d_model, c->mlp_dim, err))) return st;
    snprintf(n, sizeof n, "%s.wi1", pre);
    if ((st = bind_dense(m, w, &p->wi1, n, c->d_model, c->mlp_dim, err))) return st;
    snprintf(n, sizeof n, "%s.wo", pre);
    return bind_dense(m, w, &p->wo, n, c->mlp_dim, c->d_model, err);
}

scribe_status sc_t5_model_init(sc_t5_model *m, const sc_weights *w, scribe_error *err) {
    memset(m, 0, sizeof *m);
    scribe_status st = sc_t5_config_read(w, &m->cfg, err);
    if (st) return st;
    const sc_t5_config *c = &m->cfg;
    const int32_t *k = w->config;
    if ((st = sc_mt3_codec_init(&m->codec, k[SC_T5_CFG_STEPS_PER_SECOND], k[SC_T5_CFG_MAX_SHIFT_STEPS],
                                k[SC_T5_CFG_VELOCITY_BINS], k[SC_T5_CFG_USE_TIES], k[SC_T5_CFG_USE_PROGRAMS],
                                k[SC_T5_CFG_USE_DRUMS], c->vocab, err)))
        return st;
    if (c->onset_copy && !(m->codec.use_programs && m->codec.use_drums))
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 config: the onset copy needs program and drum tokens");
    int n_dense = 2 + 1 + 7 * c->enc_layers + 11 * c->dec_layers + 1;
    m->owned = calloc((size_t)n_dense, sizeof *m->owned);
    m->enc = calloc((size_t)c->enc_layers, sizeof *m->enc);
    m->dec = calloc((size_t)c->dec_layers, sizeof *m->dec);
    m->pos_len = SC_MAX(c->segment_frames, c->max_decode + 1);
    m->pos = sc_malloc_array((size_t)m->pos_len * c->d_model, sizeof(float));
    if (!m->owned || !m->enc || !m->dec || !m->pos) {
        sc_t5_model_free(m);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the T5 model");
    }
    m->weight_dtype = SC_DTYPE_F32;
    char n[80];
    if ((st = bind_dense(m, w, &m->input_proj, "enc.input_proj", c->input_features, c->d_model, err))) goto fail;
    if (c->input_bias && (st = bind_norm(m, w, &m->input_bias, "enc.input_bias", c->d_model, err))) goto fail;
    for (int l = 0; l < c->enc_layers; l++) {
        sc_t5_enc_layer *L = &m->enc[l];
        snprintf(n, sizeof n, "enc.%d.attn_norm", l);
        if ((st = bind_norm(m, w, &L->attn_norm, n, c->d_model, err))) goto fail;
        snprintf(n, sizeof n, "enc.%d.attn", l);
        if ((st = bind_attn(m, w, &L->attn, n, err))) goto fail;
        snprintf(n, sizeof n, "enc.%d.mlp_norm", l);
        if ((st = bind_norm(m, w, &L->mlp_norm, n, c->d_model, err))) goto fail;
        snprintf(n, sizeof n, "enc.%d.mlp", l);
        if ((st = bind_mlp(m, w, &L->mlp, n, err))) goto fail;
    }
    if ((st = bind_norm(m, w, &m->enc_norm, "enc.norm", c->d_model, err))) goto fail;
    if ((st = bind_dense(m, w, &m->embed, "dec.embed", c->vocab, c->d_model, err))) goto fail;
    for (int l = 0; l < c->dec_layers; l++) {
        sc_t5_dec_layer *L = &m->dec[l];
        snprintf(n, sizeof n, "dec.%d.self_norm", l);
        if ((st = bind_norm(m, w, &L->self_norm, n, c->d_model, err))) goto fail;
        snprintf(n, sizeof n, "dec.%d.self", l);
        if ((st = bind_attn(m, w, &L->self, n, err))) goto fail;
        snprintf(n, sizeof n, "dec.%d.cross_norm", l);
        if ((st = bind_norm(m, w, &L->cross_norm, n, c->d_model, err))) goto fail;
        snprintf(n, sizeof n, "dec.%d.cross", l);
        if ((st = bind_attn(m, w, &L->cross, n, err))) goto fail;
        if (c->cross_time_bias) {
            uint32_t shape[2] = {(uint32_t)c->heads, (uint32_t)(2 * c->segment_frames - 1)};
            snprintf(n, sizeof n, "dec.%d.cross.time_bias", l);
            const sc_tensor *t = sc_weights_get(w, n, 1u << SC_DTYPE_F32, 2, shape, err);
            if (!t) {
                st = SCRIBE_ERR_BAD_WEIGHTS;
                goto fail;
            }
            L->cross_time_bias = (const float *)t->data;
        }
        snprintf(n, sizeof n, "dec.%d.mlp_norm", l);
        if ((st = bind_norm(m, w, &L->mlp_norm, n, c->d_model, err))) goto fail;
        snprintf(n, sizeof n, "dec.%d.mlp", l);
        if ((st = bind_mlp(m, w, &L->mlp, n, err))) goto fail;
    }
    if ((st = bind_norm(m, w, &m->dec_norm, "dec.norm", c->d_model, err))) goto fail;
    if ((st = bind_dense(m, w, &m->logits, "dec.logits", c->d_model, c->vocab, err))) goto fail;
    if (c->shift_pointer && (st = bind_norm(m, w, &m->pointer_gain, "dec.pointer_gain", 1, err))) goto fail;
    if (c->shift_pointer || c->onset_copy) { /* frames of the in-segment shift values */
        int n_shift = m->codec.max_shift_steps + 1;
        m->pointer_frame = sc_malloc_array((size_t)n_shift, sizeof *m->pointer_frame);
        if (!m->pointer_frame) {
            st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the T5 model");
            goto fail;
        }
        for (int v = 0; v < n_shift; v++) {
            int64_t f = shift_frame(c, v);
            if (f > c->segment_frames - 1) break; /* frames only grow with v */
            m->pointer_frame[m->n_pointer++] = (int32_t)f;
        }
    }
    if (c->onset_copy) {
        if ((st = bind_dense(m, w, &m->copy_head, "dec.copy_head", c->d_model + c->copy_skip, SC_T5_COPY_OUT, err)))
            goto fail;
        if ((st = bind_norm(m, w, &m->copy_bias, "dec.copy_head.bias", SC_T5_COPY_OUT, err))) goto fail;
        if ((st = bind_norm(m, w, &m->copy_gain, "dec.copy_gain", 4, err))) goto fail;
    }

    /* layers.sinusoidal(min_scale 1, max_scale 1e4): sin in [0, D/2), cos in [D/2, 2*(D/2)) */
    int half = c->d_model / 2;
    double scale_factor = half > 1 ? -log(10000.0) / (half - 1) : 0.0;
    for (int p = 0; p < m->pos_len; p++) {
        float *row = m->pos + (size_t)p * c->d_model;
        memset(row, 0, (size_t)c->d_model * sizeof *row);
        for (int i = 0; i < half; i++) {
            double div = exp(i * scale_factor);
            row[i] = (float)sin(p * div);
            row[half + i] = (float)cos(p * div);
        }
    }
    return sc_ok(err);
fail:
    sc_t5_model_free(m);
    return st;
}

void sc_t5_model_free(sc_t5_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) sc_aligned_free(m->owned[i]);
    free(m->owned);
    free(m->enc);
    free(m->dec);
    free(m->pos);
    free(m->pointer_frame);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ state */

scribe_status sc_t5_state_init(sc_t5_state *s, const sc_t5_model *m, int slots, int max_tokens, scribe_error *err) {
    memset(s, 0, sizeof *s);
    const sc_t5_config *c = &m->cfg;
    if (slots < 1 || slots > 64) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "batch of %d segments outside 1..64", slots);
    if (max_tokens < 1 || max_tokens > c->max_decode)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "max decode tokens %d outside 1..%d", max_tokens, c->max_decode);
    s->m = m;
    s->slots = slots;
    s->max_tokens = max_tokens;
    s->kv_bf16 = m->weight_dtype == SC_DTYPE_Q8;
    /* Every size in uint64_t (L * B * T * HD alone reaches 2^44 within the config limits) and each buffer
       checked against the engine's per-buffer limit (common.h) before anything is allocated. */
#define kvn(n) (s->kv_bf16 ? ((n) + 1) / 2 : (n)) /* floats holding n cache elements */
    const uint64_t T = (uint64_t)c->segment_frames, D = (uint64_t)c->d_model, HD = (uint64_t)c->heads * c->head_dim,
                   M = (uint64_t)c->mlp_dim, B = (uint64_t)slots, L = (uint64_t)c->dec_layers,
                   K = (uint64_t)max_tokens, F = (uint64_t)c->input_features, CS = (uint64_t)c->copy_skip;
    const uint64_t kmax = SC_MAX(SC_MAX(F, D + CS), SC_MAX(HD, M));
    struct { float **p; uint64_t n; const char *name; } bufs[] = {
        {&s->ex, T * D, "encoder activations"}, {&s->eh, T * SC_MAX(F, D), "encoder normed activations"},
        {&s->eq, T * HD, "encoder queries"}, {&s->ek, T * HD, "encoder keys"}, {&s->ev, T * HD, "encoder values"},
        {&s->eatt, T * HD, "encoder attention"}, {&s->escore, T * T, "encoder attention scores"},
        {&s->em0, T * M, "encoder MLP"}, {&s->em1, T * M, "encoder MLP gate"},
        {&s->enc_out, B * T * D, "encoder outputs"}, {&s->xk, kvn(L * B * T * HD), "cross-attention keys"},
        {&s->xv, kvn(L * B * T * HD), "cross-attention values"},
        {&s->ck, kvn(L * B * K * HD), "self-attention key cache"},
        {&s->cv, kvn(L * B * K * HD), "self-attention value cache"}, {&s->dx, B * D, "decoder activations"},
        {&s->dh, B * D, "decoder normed activations"}, {&s->dq, B * HD, "decoder queries"},
        {&s->dk, B * HD, "decoder keys"}, {&s->dv, B * HD, "decoder values"}, {&s->datt, B * HD, "decoder attention"},
        {&s->dm0, B * M, "decoder MLP"}, {&s->dm1, B * M, "decoder MLP gate"},
        {&s->dlogits, B * (uint64_t)c->vocab, "decoder logits"}, {&s->dscore, SC_MAX(T, K), "decoder attention scores"},
        {&s->panel, kmax * PANEL, "dequantisation panel"}, {&s->dptr, B * T, "shift pointer scores"},
        {&s->copy, c->onset_copy ? B * T * SC_T5_COPY_OUT : 0, "onset copy table"},
        {&s->craw, c->onset_copy ? T * SC_T5_COPY_OUT : 0, "onset copy scratch"},
        {&s->copy_any, c->onset_copy ? B * T : 0, "onset copy maxima"},
        {&s->cin, c->copy_skip ? T * (D + CS) : 0, "copy head input"},
    };
#undef kvn
    const size_t n_bufs = sizeof bufs / sizeof bufs[0];
    for (size_t i = 0; i < n_bufs; i++)
        if (!sc_buffer_fits(bufs[i].n, sizeof(float), NULL))
            return sc_fail(err, SCRIBE_ERR_TOO_LARGE,
                           "T5 %s: %llu floats, above the engine's " SC_MAX_BUFFER_TEXT " limit per buffer (batch %d, "
                           "%d frames, %d decoder layers, %d heads x %d, %d tokens)",
                           bufs[i].name, (unsigned long long)bufs[i].n, slots, c->segment_frames, c->dec_layers,
                           c->heads, c->head_dim, max_tokens);
    for (size_t i = 0; i < n_bufs; i++) {
        if (!bufs[i].n) continue;
        *bufs[i].p = sc_aligned_array(bufs[i].n, sizeof(float));
        if (!*bufs[i].p) {
            sc_t5_state_free(s);
            return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for T5 %s (%llu floats)", bufs[i].name,
                           (unsigned long long)bufs[i].n);
        }
    }
    s->cur = calloc((size_t)slots, sizeof *s->cur);
    s->qframe = calloc((size_t)slots, sizeof *s->qframe);
    s->active = calloc((size_t)slots, sizeof *s->active);
    s->grammar = calloc((size_t)slots, sizeof *s->grammar);
    s->said = sc_malloc_array((size_t)slots * (size_t)max_tokens, sizeof *s->said);
    if (!s->cur || !s->qframe || !s->active || !s->grammar || !s->said) {
        sc_t5_state_free(s);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for T5 state");
    }
    return sc_ok(err);
}

void sc_t5_state_free(sc_t5_state *s) {
    if (!s) return;
    float **all[] = {&s->ex, &s->eh, &s->eq, &s->ek, &s->ev, &s->eatt, &s->escore, &s->em0, &s->em1,
                     &s->enc_out, &s->xk, &s->xv, &s->ck, &s->cv, &s->dx, &s->dh, &s->dq, &s->dk, &s->dv,
                     &s->datt, &s->dm0, &s->dm1, &s->dlogits, &s->dscore, &s->panel, &s->dptr, &s->copy,
                     &s->craw, &s->copy_any, &s->cin};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sc_aligned_free(*all[i]);
        *all[i] = NULL;
    }
    free(s->cur);
    free(s->qframe);
    free(s->active);
    free(s->grammar);
    free(s->said);
    s->cur = NULL;
    s->qframe = NULL;
    s->grammar = NULL;
    s->said = NULL;
    s->active = NULL;
}

/* ------------------------------------------------------------------ small kernels */

static float dot(const float *a, const float *b, int n) {
    int i = 0;
#ifdef __wasm_simd128__
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    for (; i + 16 <= n; i += 16) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
    }
    v128_t s = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
    float r = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) +
              wasm_f32x4_extract_lane(s, 3);
#else
    float acc[8] = {0};
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float r = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
#endif
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

static void rms_norm(const float *x, const float *scale, float *y, int rows, int d, int ld) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ld;
        float *yr = y + (size_t)r * ld;
        float ms = dot(xr, xr, d) / (float)d;
        float inv = 1.0f / sqrtf(ms + 1e-6f);
        for (int i = 0; i < d; i++) yr[i] = xr[i] * inv * scale[i];
    }
}

static void softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* gelu(a) * b with jax.nn.gelu's tanh approximation, into a */
static void gated_gelu(float *a, const float *b, size_t n) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (size_t i = 0; i < n; i++) {
        float x = a[i];
        float cdf = 0.5f * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
        a[i] = x * cdf * b[i];
    }
}

#ifdef __wasm_simd128__
/* R x 8 tile (R <= 4) over K: accumulators in registers; k unrolled by 2 with two accumulator sets
 * when R < 3 so the add latency chain does not bound the loop. */
static inline __attribute__((always_inline)) void tile8(const int R, int K, const float *A, int lda, const float *P,
                                                       int ldp, float *C, int ldc, int acc, const float *scale) {
    v128_t c0[4], c1[4], d0[4], d1[4];
    for (int i = 0; i < R; i++) c0[i] = c1[i] = d0[i] = d1[i] = wasm_f32x4_splat(0);
    const float *w = P;
    int k = 0;
    if (R < 3) {
        for (; k + 2 <= K; k += 2, w += 2 * (size_t)ldp) {
            v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
            v128_t u0 = wasm_v128_load(w + ldp), u1 = wasm_v128_load(w + ldp + 4);
            for (int i = 0; i < R; i++) {
                v128_t x = wasm_v128_load32_splat(A + (size_t)i * lda + k);
                v128_t y = wasm_v128_load32_splat(A + (size_t)i * lda + k + 1);
                c0[i] = wasm_f32x4_add(c0[i], wasm_f32x4_mul(x, w0));
                c1[i] = wasm_f32x4_add(c1[i], wasm_f32x4_mul(x, w1));
                d0[i] = wasm_f32x4_add(d0[i], wasm_f32x4_mul(y, u0));
                d1[i] = wasm_f32x4_add(d1[i], wasm_f32x4_mul(y, u1));
            }
        }
    }
    for (; k < K; k++, w += ldp) {
        v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
        for (int i = 0; i < R; i++) {
            v128_t x = wasm_v128_load32_splat(A + (size_t)i * lda + k);
            c0[i] = wasm_f32x4_add(c0[i], wasm_f32x4_mul(x, w0));
            c1[i] = wasm_f32x4_add(c1[i], wasm_f32x4_mul(x, w1));
        }
    }
    for (int i = 0; i < R; i++) {
        v128_t v0 = c0[i], v1 = c1[i];
        if (R < 3) {
            v0 = wasm_f32x4_add(v0, d0[i]);
            v1 = wasm_f32x4_add(v1, d1[i]);
        }
        float *cr = C + (size_t)i * ldc;
        if (scale) {
            v0 = wasm_f32x4_mul(v0, wasm_v128_load(scale));
            v1 = wasm_f32x4_mul(v1, wasm_v128_load(scale + 4));
        }
        if (acc) {
            v0 = wasm_f32x4_add(v0, wasm_v128_load(cr));
            v1 = wasm_f32x4_add(v1, wasm_v128_load(cr + 4));
        }
        wasm_v128_store(cr, v0);
        wasm_v128_store(cr + 4, v1);
    }
}
#endif

/* Few-row kernel on one 8-column panel: C[M x 8] (+)= A[M x K] P[K x 8] (P rows `ldp` apart),
 * times optional column scales. 4 x 8 register tiles (8 accumulators: V8 on x64 has 16 xmm registers). */
static void panel8(int M, int K, const float *A, int lda, const float *P, int ldp, float *C, int ldc, int acc,
                   const float *scale) {
    int m = 0;
#ifdef __wasm_simd128__
    for (; m + 4 <= M; m += 4) tile8(4, K, A + (size_t)m * lda, lda, P, ldp, C + (size_t)m * ldc, ldc, acc, scale);
    switch (M - m) {
    case 3: tile8(3, K, A + (size_t)m * lda, lda, P, ldp, C + (size_t)m * ldc, ldc, acc, scale); break;
    case 2: tile8(2, K, A + (size_t)m * lda, lda, P, ldp, C + (size_t)m * ldc, ldc, acc, scale); break;
    case 1: tile8(1, K, A + (size_t)m * lda, lda, P, ldp, C + (size_t)m * ldc, ldc, acc, scale); break;
    default: break;
    }
#else
    for (; m < M; m++) {
        const float *a = A + (size_t)m * lda;
        float s[8] = {0};
        const float *w = P;
        for (int k = 0; k < K; k++, w += ldp) {
            float x = a[k];
            for (int j = 0; j < 8; j++) s[j] += x * w[j];
        }
        float *cr = C + (size_t)m * ldc;
        for (int j = 0; j < 8; j++) {
            float v = scale ? s[j] * scale[j] : s[j];
            cr[j] = acc ? cr[j] + v : v;
        }
    }
#endif
}

/* int8 [K x n] columns (row stride ld) -> f32 [K x n] (stride n), optionally scaled */
static void dequant(const int8_t *q, int ld, int K, int n, const float *scale, float *out) {
    for (int k = 0; k < K; k++) {
        const int8_t *qr = q + (size_t)k * ld;
        float *o = out + (size_t)k * n;
        int j = 0;
#ifdef __wasm_simd128__
        for (; j + 16 <= n; j += 16) {
            v128_t b = wasm_v128_load(qr + j);
            v128_t lo = wasm_i16x8_extend_low_i8x16(b), hi = wasm_i16x8_extend_high_i8x16(b);
            v128_t f0 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo));
            v128_t f1 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo));
            v128_t f2 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi));
            v128_t f3 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi));
            if (scale) {
                f0 = wasm_f32x4_mul(f0, wasm_v128_load(scale + j));
                f1 = wasm_f32x4_mul(f1, wasm_v128_load(scale + j + 4));
                f2 = wasm_f32x4_mul(f2, wasm_v128_load(scale + j + 8));
                f3 = wasm_f32x4_mul(f3, wasm_v128_load(scale + j + 12));
            }
            wasm_v128_store(o + j, f0);
            wasm_v128_store(o + j + 4, f1);
            wasm_v128_store(o + j + 8, f2);
            wasm_v128_store(o + j + 12, f3);
        }
        for (; j + 8 <= n; j += 8) {
            v128_t b = wasm_v128_load64_zero(qr + j);
            v128_t lo = wasm_i16x8_extend_low_i8x16(b);
            v128_t f0 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo));
            v128_t f1 = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo));
            if (scale) {
                f0 = wasm_f32x4_mul(f0, wasm_v128_load(scale + j));
                f1 = wasm_f32x4_mul(f1, wasm_v128_load(scale + j + 4));
            }
            wasm_v128_store(o + j, f0);
            wasm_v128_store(o + j + 4, f1);
        }
#endif
        for (; j < n; j++) o[j] = scale ? (float)qr[j] * scale[j] : (float)qr[j];
    }
}

#ifdef __wasm_simd128__
/* q8 kernel for 1..2 rows: C[R x 16] (+)= A[R x K] (Q[K x 16] int8, rows ld bytes apart) * scale,
 * widening in registers (one-token decoding is bound by the bytes read). */
static inline __attribute__((always_inline)) void q8_rows16(const int R, int K, const float *A, int lda,
                                                           const int8_t *Q, int ld, const float *scale, float *C,
                                                           int ldc, int acc) {
    v128_t c[2][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < 4; j++) c[i][j] = wasm_f32x4_splat(0);
    for (int k = 0; k < K; k++, Q += ld) {
        v128_t v = wasm_v128_load(Q);
        v128_t lo = wasm_i16x8_extend_low_i8x16(v), hi = wasm_i16x8_extend_high_i8x16(v);
        v128_t w[4] = {wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo)),
                       wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo)),
                       wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi)),
                       wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi))};
        for (int i = 0; i < R; i++) {
            v128_t x = wasm_v128_load32_splat(A + (size_t)i * lda + k);
            for (int j = 0; j < 4; j++) c[i][j] = wasm_f32x4_add(c[i][j], wasm_f32x4_mul(x, w[j]));
        }
    }
    for (int i = 0; i < R; i++) {
        float *cr = C + (size_t)i * ldc;
        for (int j = 0; j < 4; j++) {
            v128_t r = wasm_f32x4_mul(c[i][j], wasm_v128_load(scale + 4 * j));
            if (acc) r = wasm_f32x4_add(r, wasm_v128_load(cr + 4 * j));
            wasm_v128_store(cr + 4 * j, r);
        }
    }
}
#endif

/* Packs columns n0..n0+64 of a dense kernel into 8 contiguous [K x 8] panels (panel j at out + j*K*8);
 * q8 values are widened unscaled (the scales are applied to the results). */
static void pack64(const sc_t5_dense *d, int n0, float *out) {
    const int K = d->in, N = d->out;
    const size_t stride = (size_t)K * 8;
    for (int k = 0; k < K; k++) {
        float *o = out + (size_t)k * 8;
        if (d->dtype == SC_DTYPE_F32) {
            const float *w = d->w + (size_t)k * N + n0;
            for (int j = 0; j < 8; j++) memcpy(o + j * stride, w + 8 * j, 8 * sizeof(float));
            continue;
        }
        const int8_t *q = d->q + (size_t)k * N + n0;
#ifdef __wasm_simd128__
        for (int b = 0; b < 4; b++) {
            v128_t v = wasm_v128_load(q + 16 * b);
            v128_t lo = wasm_i16x8_extend_low_i8x16(v), hi = wasm_i16x8_extend_high_i8x16(v);
            float *p0 = o + (size_t)(2 * b) * stride, *p1 = o + (size_t)(2 * b + 1) * stride;
            wasm_v128_store(p0, wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo)));
            wasm_v128_store(p0 + 4, wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo)));
            wasm_v128_store(p1, wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi)));
            wasm_v128_store(p1 + 4, wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi)));
        }
#else
        for (int j = 0; j < 64; j++) o[(size_t)(j / 8) * stride + j % 8] = (float)q[j];
#endif
    }
}

/* f32 [K x n] columns (row stride ld) -> contiguous [K x n] */
static void copy_panel(const float *w, int ld, int K, int n, float *out) {
    for (int k = 0; k < K; k++) memcpy(out + (size_t)k * n, w + (size_t)k * ld, (size_t)n * sizeof(float));
}

void sc_t5_dense_apply(const sc_t5_dense *d, int M, const float *x, int ldx, float *y, int ldy, int accumulate,
                       float *panel) {
    const int K = d->in, N = d->out;
    if (M <= SKINNY) {
        int n0 = 0;
#ifdef __wasm_simd128__
        if (M < 4 && d->dtype == SC_DTYPE_Q8) {
            for (; n0 + 16 <= N; n0 += 16)
                for (int m = 0; m < M; m += 2) {
                    if (M - m >= 2)
                        q8_rows16(2, K, x + (size_t)m * ldx, ldx, d->q + n0, N, d->scales + n0,
                                  y + (size_t)m * ldy + n0, ldy, accumulate);
                    else
                        q8_rows16(1, K, x + (size_t)m * ldx, ldx, d->q + n0, N, d->scales + n0,
                                  y + (size_t)m * ldy + n0, ldy, accumulate);
                }
        }
#endif
        if (M >= 4 || d->dtype != SC_DTYPE_F32) {
            /* 64 columns at a time into contiguous panels: one pass over each weight row, and the
             * panels are re-read for every 4-row tile without the L1 set aliasing of strided rows */
            for (; n0 + 64 <= N; n0 += 64) {
                pack64(d, n0, panel);
                for (int j = 0; j < 8; j++)
                    panel8(M, K, x, ldx, panel + (size_t)j * K * 8, 8, y + n0 + 8 * j, ldy, accumulate,
                           d->dtype == SC_DTYPE_F32 ? NULL : d->scales + n0 + 8 * j);
            }
        }
        for (; n0 + 8 <= N; n0 += 8) {
            if (d->dtype != SC_DTYPE_F32) {
                dequant(d->q + n0, N, K, 8, NULL, panel);
                panel8(M, K, x, ldx, panel, 8, y + n0, ldy, accumulate, d->scales + n0);
            } else if (M >= 4) { /* contiguous copy: the strided rows alias in L1 when re-read */
                copy_panel(d->w + n0, N, K, 8, panel);
                panel8(M, K, x, ldx, panel, 8, y + n0, ldy, accumulate, NULL);
            } else {
                panel8(M, K, x, ldx, d->w + n0, N, y + n0, ldy, accumulate, NULL);
            }
        }
        if (n0 < N) { /* ragged tail: scalar */
            for (int m = 0; m < M; m++)
                for (int n = n0; n < N; n++) {
                    float s = 0;
                    for (int k = 0; k < K; k++) {
                        float wv = d->dtype == SC_DTYPE_F32 ? d->w[(size_t)k * N + n]
                                                             : (float)d->q[(size_t)k * N + n] * d->scales[n];
                        s += x[(size_t)m * ldx + k] * wv;
                    }
                    y[(size_t)m * ldy + n] = accumulate ? y[(size_t)m * ldy + n] + s : s;
                }
        }
        return;
    }
    if (d->dtype == SC_DTYPE_F32) {
        sc_matmul(M, N, K, x, ldx, d->w, N, y, ldy, accumulate);
        return;
    }
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        int nb = SC_MIN(PANEL, N - n0);
        dequant(d->q + n0, N, K, nb, d->scales + n0, panel);
        sc_matmul(M, nb, K, x, ldx, panel, nb, y + n0, ldy, accumulate);
    }
}

/* ------------------------------------------------------------------ encoder */

/* onset_copy: copy-head logits of every frame of `slot`, max-pooled over frames f-r..f+r (clipped to the
 * segment): the decoder reads them at its decoded frame. */
static void copy_table(sc_t5_state *s, int slot, const float *enc, const float *features) {
    const sc_t5_model *m = s->m;
    const int T = m->cfg.segment_frames, r = m->cfg.onset_copy, K = SC_T5_COPY_OUT, D = m->cfg.d_model,
              k = m->cfg.copy_skip, F = m->cfg.input_features;
    if (k) { /* [encoder output | last k input features] per frame */
        for (int f = 0; f < T; f++) {
            memcpy(s->cin + (size_t)f * (D + k), enc + (size_t)f * D, (size_t)D * sizeof(float));
            memcpy(s->cin + (size_t)f * (D + k) + D, features + (size_t)f * F + (F - k), (size_t)k * sizeof(float));
        }
        enc = s->cin;
    }
    sc_t5_dense_apply(&m->copy_head, T, enc, D + k, s->craw, K, 0, s->panel);
    float *tab = s->copy + (size_t)slot * T * K;
    for (int f = 0; f < T; f++) {
        float *row = tab + (size_t)f * K;
        int lo = f - r > 0 ? f - r : 0, hi = f + r < T - 1 ? f + r : T - 1;
        memcpy(row, s->craw + (size_t)lo * K, (size_t)K * sizeof *row);
        for (int g = lo + 1; g <= hi; g++) {
            const float *x = s->craw + (size_t)g * K;
            for (int j = 0; j < K; j++) row[j] = x[j] > row[j] ? x[j] : row[j];
        }
        for (int j = 0; j < K; j++) row[j] += m->copy_bias[j]; /* the bias commutes with the max */
        float any = row[0]; /* strongest pitch or drum onset: how likely an event starts here */
        for (int j = 1; j < 256; j++) any = row[j] > any ? row[j] : any;
        s->copy_any[(size_t)slot * T + f] = any;
    }
}

void sc_t5_encode(sc_t5_state *s, int slot, const float *features) {
    const sc_t5_model *m = s->m;
    const sc_t5_config *c = &m->cfg;
    const int T = c->segment_frames, D = c->d_model, H = c->heads, Dh = c->head_dim, HD = H * Dh, Mm = c->mlp_dim;
    float *x = s->ex, *h = s->eh;
    sc_t5_dense_apply(&m->input_proj, T, features, c->input_features, x, D, 0, s->panel);
    for (int t = 0; t < T; t++) {
        float *xr = x + (size_t)t * D;
        const float *pr = m->pos + (size_t)t * D;
        for (int i = 0; i < D; i++) xr[i] += pr[i];
        if (m->input_bias)
            for (int i = 0; i < D; i++) xr[i] += m->input_bias[i];
    }
    for (int l = 0; l < c->enc_layers; l++) {
        const sc_t5_enc_layer *L = &m->enc[l];
        rms_norm(x, L->attn_norm, h, T, D, D);
        sc_t5_dense_apply(&L->attn.q, T, h, D, s->eq, HD, 0, s->panel);
        sc_t5_dense_apply(&L->attn.k, T, h, D, s->ek, HD, 0, s->panel);
        sc_t5_dense_apply(&L->attn.v, T, h, D, s->ev, HD, 0, s->panel);
        for (int hh = 0; hh < H; hh++) {
            sc_matmul_bt(T, T, Dh, s->eq + hh * Dh, HD, s->ek + hh * Dh, HD, s->escore, T, 0);
            for (int t = 0; t < T; t++) softmax(s->escore + (size_t)t * T, T);
            sc_matmul(T, Dh, T, s->escore, T, s->ev + hh * Dh, HD, s->eatt + hh * Dh, HD, 0);
        }
        sc_t5_dense_apply(&L->attn.o, T, s->eatt, HD, x, D, 1, s->panel);
        rms_norm(x, L->mlp_norm, h, T, D, D);
        sc_t5_dense_apply(&L->mlp.wi0, T, h, D, s->em0, Mm, 0, s->panel);
        sc_t5_dense_apply(&L->mlp.wi1, T, h, D, s->em1, Mm, 0, s->panel);
        gated_gelu(s->em0, s->em1, (size_t)T * Mm);
        sc_t5_dense_apply(&L->mlp.wo, T, s->em0, Mm, x, D, 1, s->panel);
    }
    float *out = s->enc_out + (size_t)slot * T * D;
    rms_norm(x, m->enc_norm, out, T, D, D);
    /* cross-attention keys and values of every decoder layer */
    for (int l = 0; l < c->dec_layers; l++) {
        size_t off = ((size_t)l * s->slots + slot) * T * HD;
        sc_t5_dense_apply(&m->dec[l].cross.k, T, out, D, s->ek, HD, 0, s->panel);
        transpose_keys(s, s->ek, T, c->heads, c->head_dim, s->xk, off, T);
        sc_t5_dense_apply(&m->dec[l].cross.v, T, out, D, s->ev, HD, 0, s->panel);
        for (size_t i = 0; i < (size_t)T * HD; i++) kv_set(s, s->xv, off + i, s->ev[i]);
    }
    if (c->onset_copy) copy_table(s, slot, out, features);
}

/* ------------------------------------------------------------------ decoder */

static void embed_row(const sc_t5_dense *e, int tok, float *out) {
    const int D = e->out;
    if (e->dtype == SC_DTYPE_F32) {
        memcpy(out, e->w + (size_t)tok * D, (size_t)D * sizeof *out);
    } else {
        const int8_t *q = e->q + (size_t)tok * D;
        for (int i = 0; i < D; i++) out[i] = (float)q[i] * e->scales[i];
    }
}

static inline uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Element `i` of a cache (f32 or bf16) set to v. */
static inline void kv_set(const sc_t5_state *s, float *base, size_t i, float v) {
    if (s->kv_bf16)
        ((uint16_t *)base)[i] = to_bf16(v);
    else
        base[i] = v;
}

static inline void *kv_at(const sc_t5_state *s, float *base, size_t i) {
    return s->kv_bf16 ? (void *)((uint16_t *)base + i) : (void *)(base + i);
}

/* Element i of a key/value cache, f32 or bf16 (`bf16` is a constant in every caller below, so
 * each attention loop is compiled once per cache type). */
static inline sc_vf kv_vload(const void *base, size_t i, int bf16) {
    return bf16 ? sc_vf_load_bf16((const uint16_t *)base + i) : sc_vf_load((const float *)base + i);
}
static inline float kv_get(const void *base, size_t i, int bf16) {
    return bf16 ? from_bf16(((const uint16_t *)base)[i]) : ((const float *)base)[i];
}

#define KEYS_BLOCK 16 /* keys per pass of attn_scores */
#define DIMS_BLOCK 32 /* value dimensions per pass of attn_values */

/* scores[0..n) = q . Kt[:, j]: keys stored transposed (Dh rows of `ld` elements), vectorised across keys. */
static inline __attribute__((always_inline)) void attn_scores_t(const float *q, const void *Kt, int ld, int n,
                                                                int Dh, float *score, const int bf16) {
    enum { A = KEYS_BLOCK / SC_VW };
    int j = 0;
    for (; j + KEYS_BLOCK <= n; j += KEYS_BLOCK) {
        sc_vf s[A];
        for (int a = 0; a < A; a++) s[a] = sc_vf_zero();
        size_t k = (size_t)j;
        for (int d = 0; d < Dh; d++, k += (size_t)ld) {
            sc_vf x = sc_vf_load1(q + d);
            for (int a = 0; a < A; a++) s[a] = sc_vf_fma(x, kv_vload(Kt, k + (size_t)a * SC_VW, bf16), s[a]);
        }
        for (int a = 0; a < A; a++) sc_vf_store(score + j + a * SC_VW, s[a]);
    }
    for (; j < n; j++) {
        float a = 0;
        for (int d = 0; d < Dh; d++) a += q[d] * kv_get(Kt, (size_t)d * ld + j, bf16);
        score[j] = a;
    }
}

/* out[0..Dh) = sum_j p[j] V[j][0..Dh) (V rows `ldv` elements apart). */
static inline __attribute__((always_inline)) void attn_values_t(const float *p, const void *V, int ldv, int n,
                                                                int Dh, float *out, const int bf16) {
    enum { A = DIMS_BLOCK / SC_VW };
    int d = 0;
    for (; d + DIMS_BLOCK <= Dh; d += DIMS_BLOCK) {
        sc_vf o[A];
        for (int a = 0; a < A; a++) o[a] = sc_vf_zero();
        size_t v = (size_t)d;
        for (int j = 0; j < n; j++, v += (size_t)ldv) {
            sc_vf x = sc_vf_load1(p + j);
            for (int a = 0; a < A; a++) o[a] = sc_vf_fma(x, kv_vload(V, v + (size_t)a * SC_VW, bf16), o[a]);
        }
        for (int a = 0; a < A; a++) sc_vf_store(out + d + a * SC_VW, o[a]);
    }
    for (; d < Dh; d++) {
        float a = 0;
        for (int j = 0; j < n; j++) a += p[j] * kv_get(V, (size_t)j * ldv + d, bf16);
        out[d] = a;
    }
}

/* One query row over `n` keys (transposed per head: [H][Dh][ldk]) and values ([n][H*Dh]), f32 or bf16.
 * bias (or NULL): added to the scores, head h reads bias[h * ld_bias + j] for key j.
 * keep0 (or NULL): receives head 0's scores before the softmax (shift pointer). */
static void attend(const float *q, const void *Kt, int ldk, const void *V, int n, int H, int Dh, float *score,
                   float *att, int bf16, const float *bias, int ld_bias, float *keep0) {
    const int HD = H * Dh;
    for (int hh = 0; hh < H; hh++) {
        if (bf16)
            attn_scores_t(q + hh * Dh, (const uint16_t *)Kt + (size_t)hh * Dh * ldk, ldk, n, Dh, score, 1);
        else
            attn_scores_t(q + hh * Dh, (const float *)Kt + (size_t)hh * Dh * ldk, ldk, n, Dh, score, 0);
        if (bias) {
            const float *b = bias + (size_t)hh * ld_bias;
            for (int j = 0; j < n; j++) score[j] += b[j];
        }
        if (keep0 && hh == 0) memcpy(keep0, score, (size_t)n * sizeof *score);
        softmax(score, n);
        if (bf16)
            attn_values_t(score, (const uint16_t *)V + hh * Dh, HD, n, Dh, att + hh * Dh, 1);
        else
            attn_values_t(score, (const float *)V + hh * Dh, HD, n, Dh, att + hh * Dh, 0);
    }
}

/* [n][H*Dh] rows -> cache [H][Dh][ld] columns 0..n (f32 or bf16) from element offset `off` */
static void transpose_keys(const sc_t5_state *s, const float *K, int n, int H, int Dh, float *base, size_t off,
                           int ld) {
    const int HD = H * Dh;
    for (int j = 0; j < n; j++)
        for (int c = 0; c < HD; c++) kv_set(s, base, off + (size_t)c * ld + j, K[(size_t)j * HD + c]);
}

void sc_t5_decode(sc_t5_state *s, int n, int max_tokens, int ignore_eos, int32_t *tokens, int *lengths,
                  float *logits) {
    const sc_t5_model *m = s->m;
    const sc_t5_config *c = &m->cfg;
    const int D = c->d_model, H = c->heads, Dh = c->head_dim, HD = H * Dh, Mm = c->mlp_dim, V = c->vocab,
              T = c->segment_frames;
    if (n > s->slots) n = s->slots;
    if (max_tokens > s->max_tokens) max_tokens = s->max_tokens;
    int n_act = n;
    for (int i = 0; i < n; i++) {
        s->active[i] = i;
        s->cur[i] = 0; /* PAD starts decoding */
        s->qframe[i] = 0;
        sc_mt3_grammar_start(&s->grammar[i], s->said + (size_t)i * s->max_tokens);
        lengths[i] = 0;
    }
    const int shift0 = sc_mt3_codec_encode(&m->codec, SC_MT3_EV_SHIFT, 0), max_shift = m->codec.max_shift_steps;
    const int pitch0 = sc_mt3_codec_encode(&m->codec, SC_MT3_EV_PITCH, 0),
              prog0 = sc_mt3_codec_encode(&m->codec, SC_MT3_EV_PROGRAM, 0),
              drum0 = sc_mt3_codec_encode(&m->codec, SC_MT3_EV_DRUM, 0);
    for (int step = 0; step < max_tokens && n_act > 0; step++) {
        const float *pos = m->pos + (size_t)step * D;
        for (int r = 0; r < n_act; r++) {
            float *xr = s->dx + (size_t)r * D;
            int tok = s->cur[r];
            if (tracks_time(c) && tok >= shift0 && tok <= shift0 + max_shift) {
                int64_t f = shift_frame(c, tok - shift0);
                s->qframe[r] = (int32_t)(f < T - 1 ? f : T - 1);
            }
            embed_row(&m->embed, s->cur[r], xr);
            for (int i = 0; i < D; i++) xr[i] += pos[i];
        }
        for (int l = 0; l < c->dec_layers; l++) {
            const sc_t5_dec_layer *L = &m->dec[l];
            /* self-attention with the cache */
            rms_norm(s->dx, L->self_norm, s->dh, n_act, D, D);
            sc_t5_dense_apply(&L->self.q, n_act, s->dh, D, s->dq, HD, 0, s->panel);
            sc_t5_dense_apply(&L->self.k, n_act, s->dh, D, s->dk, HD, 0, s->panel);
            sc_t5_dense_apply(&L->self.v, n_act, s->dh, D, s->dv, HD, 0, s->panel);
            for (int r = 0; r < n_act; r++) {
                size_t base = ((size_t)l * s->slots + s->active[r]) * s->max_tokens * HD;
                const float *kr = s->dk + (size_t)r * HD, *vr = s->dv + (size_t)r * HD;
                for (int c2 = 0; c2 < HD; c2++) {
                    kv_set(s, s->ck, base + (size_t)c2 * s->max_tokens + step, kr[c2]);
                    kv_set(s, s->cv, base + (size_t)step * HD + c2, vr[c2]);
                }
                attend(s->dq + (size_t)r * HD, kv_at(s, s->ck, base), s->max_tokens, kv_at(s, s->cv, base), step + 1, H,
                       Dh, s->dscore, s->datt + (size_t)r * HD, s->kv_bf16, NULL, 0, NULL);
            }
            sc_t5_dense_apply(&L->self.o, n_act, s->datt, HD, s->dx, D, 1, s->panel);
            /* cross-attention */
            rms_norm(s->dx, L->cross_norm, s->dh, n_act, D, D);
            sc_t5_dense_apply(&L->cross.q, n_act, s->dh, D, s->dq, HD, 0, s->panel);
            for (int r = 0; r < n_act; r++) {
                size_t off = ((size_t)l * s->slots + s->active[r]) * T * HD;
                /* time bias: the row of offsets (key frame j) - qframe + T - 1 for j = 0.. starts at T-1-qframe */
                const float *tb = L->cross_time_bias ? L->cross_time_bias + (T - 1 - s->qframe[r]) : NULL;
                float *keep0 = m->pointer_gain && l == c->dec_layers - 1 ? s->dptr + (size_t)r * T : NULL;
                attend(s->dq + (size_t)r * HD, kv_at(s, s->xk, off), T, kv_at(s, s->xv, off), T, H, Dh, s->dscore,
                       s->datt + (size_t)r * HD, s->kv_bf16, tb, 2 * T - 1, keep0);
            }
            sc_t5_dense_apply(&L->cross.o, n_act, s->datt, HD, s->dx, D, 1, s->panel);
            /* MLP */
            rms_norm(s->dx, L->mlp_norm, s->dh, n_act, D, D);
            sc_t5_dense_apply(&L->mlp.wi0, n_act, s->dh, D, s->dm0, Mm, 0, s->panel);
            sc_t5_dense_apply(&L->mlp.wi1, n_act, s->dh, D, s->dm1, Mm, 0, s->panel);
            gated_gelu(s->dm0, s->dm1, (size_t)n_act * Mm);
            sc_t5_dense_apply(&L->mlp.wo, n_act, s->dm0, Mm, s->dx, D, 1, s->panel);
        }
        rms_norm(s->dx, m->dec_norm, s->dh, n_act, D, D);
        sc_t5_dense_apply(&m->logits, n_act, s->dh, D, s->dlogits, V, 0, s->panel);
        int w = 0;
        for (int r = 0; r < n_act; r++) {
            int slot = s->active[r];
            float *lg = s->dlogits + (size_t)r * V;
            if (m->pointer_gain) { /* shift pointer: in-segment shift values scored by head 0's frame scores */
                const float g = m->pointer_gain[0], *sc = s->dptr + (size_t)r * T;
                for (int v = 0; v < m->n_pointer; v++) lg[shift0 + v] += g * sc[m->pointer_frame[v]];
            }
            if (m->copy_gain) { /* onset copy at the decoded frame (onsets only while the velocity is > 0) */
                const float *a = s->copy + ((size_t)slot * T + s->qframe[r]) * SC_T5_COPY_OUT, *g = m->copy_gain;
                if (s->grammar[slot].velocity > 0)
                    for (int p = 0; p < 128; p++) {
                        lg[pitch0 + p] += g[0] * a[p];
                        lg[drum0 + p] += g[1] * a[128 + p];
                    }
                for (int q = 0; q < 128; q++) lg[prog0 + q] += g[2] * a[256 + q / 8];
                const float *any = s->copy_any + (size_t)slot * T; /* shifts drawn to frames where onsets are */
                for (int v = 0; v < m->n_pointer; v++) lg[shift0 + v] += g[3] * any[m->pointer_frame[v]];
            }
            if (logits) memcpy(logits + ((size_t)slot * max_tokens + step) * V, lg, (size_t)V * sizeof(float));
            sc_mt3_grammar_mask(&m->codec, &s->grammar[slot], lg);
            int best = 0;
            for (int v = 1; v < V; v++)
                if (lg[v] > lg[best]) best = v;
            sc_mt3_grammar_feed(&m->codec, &s->grammar[slot], best);
            tokens[(size_t)slot * max_tokens + step] = best;
            lengths[slot] = step + 1;
            if (best == 1 && !ignore_eos) continue; /* EOS: this row is done */
            /* keep the row (compacting the active list; caches are indexed by slot) */
            s->active[w] = slot;
            s->cur[w] = best;
            s->qframe[w] = s->qframe[r];
            w++;
        }
        n_act = w;
    }
}

double sc_t5_encoder_flops(const sc_t5_config *c) {
    double T = c->segment_frames, D = c->d_model, HD = (double)c->heads * c->head_dim, M = c->mlp_dim;
    double per_layer = T * (4 * D * HD + 3 * D * M) + 2 * T * T * HD;
    return 2 * (T * c->input_features * D + c->enc_layers * per_layer + c->dec_layers * T * 2 * D * HD);
}

double sc_t5_decoder_flops_per_token(const sc_t5_config *c, int t) {
    double D = c->d_model, HD = (double)c->heads * c->head_dim, M = c->mlp_dim;
    double per_layer = 6 * D * HD + 3 * D * M + 2 * (t + 1) * HD + 2 * c->segment_frames * HD;
    return 2 * (c->dec_layers * per_layer + D * c->vocab);
}
