/* T5.1.1 encoder-decoder as magenta/mt3 uses it (network.py, layers.py, gin/model.gin):
 * continuous inputs projected to d_model, fixed sinusoidal positions (sin in the first half,
 * cos in the second, timescales 1..10000) added in encoder and decoder, pre-norm RMSNorm
 * (eps 1e-6, scale only), no biases, gated-GELU MLP (tanh approximation; gelu(wi_0) * wi_1),
 * attention without the 1/sqrt(head_dim) scale, final norms, untied logits. Greedy decoding
 * from PAD (0) with a self-attention KV cache and cross-attention K/V computed once per segment.
 *
 * Weights file (kind SCRIBE_MODEL_MT3): config indices below; tensors (dense kernels are
 * [in, out] so that y = x W; any of f32, q8, f16 for dense kernels and the embedding, f32 for norms):
 *   enc.input_proj [F, D]                       dec.embed [V, D]
 *   enc.input_bias [D] (f32, only when config input_bias = 1)
 *   enc.L.attn_norm [D]                         dec.L.self_norm [D]
 *   enc.L.attn.{q,k,v} [D, H*Dh]  .o [H*Dh, D]  dec.L.self.{q,k,v} [D, H*Dh]  .o [H*Dh, D]
 *   enc.L.mlp_norm [D]                          dec.L.cross_norm [D]
 *   enc.L.mlp.{wi0,wi1} [D, M]  .wo [M, D]      dec.L.cross.{q,k,v} [D, H*Dh]  .o [H*Dh, D]
 *   enc.norm [D]                                dec.L.mlp_norm [D]; dec.L.mlp.{wi0,wi1,wo}
 *                                               dec.norm [D]; dec.logits [D, V]
 *   dec.L.cross.time_bias [H, 2T-1] (f32, only when config cross_time_bias > 0)
 *   dec.pointer_gain [1] (f32, only when config shift_pointer = 1)
 *   dec.copy_head [D (+ copy_skip), 272] dense, dec.copy_head.bias [272] and dec.copy_gain [4] (f32; only when config
 *   onset_copy > 0)
 * (L = layer index from 0.) The writer is tools/weights_format.py (tools/convert_mt3.py from PyTorch).
 * With config acoustic_features = 176 the file also embeds the acoustic (Basic Pitch) network:
 *   acoustic.config [64] f32 holding the bit patterns of basic-pitch.scrb's 64 config int32s
 *   acoustic.<name> for every tensor <name> of weights/basic-pitch.scrb (cqt.*, contour1.weight, ...)
 * and enc.input_proj is [mel_bins + 176, D] (rows: log-mel bins, then note and onset posteriors).
 *
 * All activations and caches live in an sc_t5_state allocated once; encode/decode allocate nothing. */
#ifndef SCRIBE_T5_H
#define SCRIBE_T5_H

#include "../music/mt3_grammar.h"
#include "weights.h"

/* Configuration indices in sc_weights.config (i32 unless noted "float bits"). */
enum {
    SC_T5_CFG_D_MODEL = 0,        /* 512 */
    SC_T5_CFG_HEADS = 1,          /* 6 */
    SC_T5_CFG_HEAD_DIM = 2,       /* 64 */
    SC_T5_CFG_MLP_DIM = 3,        /* 1024 */
    SC_T5_CFG_ENC_LAYERS = 4,     /* 8 */
    SC_T5_CFG_DEC_LAYERS = 5,     /* 8 */
    SC_T5_CFG_VOCAB = 6,          /* 1536 embedding rows / logits */
    SC_T5_CFG_INPUT_FEATURES = 7, /* 512 log-mel bins */
    SC_T5_CFG_SEGMENT_FRAMES = 8, /* 256 */
    SC_T5_CFG_MAX_DECODE = 9,     /* 1024 */
    SC_T5_CFG_INPUT_BIAS = 10,    /* 0 (MT3); 1: enc.input_bias [D] is added after the input projection
                                     (our trained models fold per-bin input normalisation into it) */
    SC_T5_CFG_ACOUSTIC_FEATURES = 11, /* 0 (MT3); 176: each frame also reads 88 note + 88 onset posteriors of
                                         the embedded Basic Pitch network (mt3_acoustic.h); then
                                         input_features = mel_bins + 176 */
    SC_T5_CFG_CROSS_TIME_BIAS = 12, /* 0 (MT3); > 0 (the training buckets): every decoder layer's cross-attention
                                       adds dec.L.cross.time_bias [H][2T-1] at (key frame - decoded frame + T-1),
                                       the decoded frame being that of the last shift token fed (0 before any) */
    SC_T5_CFG_SHIFT_POINTER = 13,   /* 0 (MT3); 1: the logit of every shift value v whose frame f(v) lies in the
                                       segment gets dec.pointer_gain * (pre-softmax score of frame f(v) in the last
                                       decoder layer's cross-attention head 0) added */
    SC_T5_CFG_ONSET_COPY = 14,      /* 0 (MT3); r = 1..64: note content copied from a frame-wise head. Per segment,
                                       A = enc_out dec.copy_head + bias ([T][272]: 128 pitch onset, 128 drum
                                       onset, 16 instrument class logits) max-pooled over frames f-r..f+r; at
                                       decoded frame f, pitch logits get copy_gain[0] * A[f][p] and drum logits
                                       copy_gain[1] * A[f][128+p] while the current velocity is > 0; program q
                                       gets copy_gain[2] * A[f][256 + q/8]; each in-segment shift value v
                                       gets copy_gain[3] * max_j<256 A[f(v)][j] */
    SC_T5_CFG_JOIN_MS = 15,         /* 0 (MT3); n = 1..1000: decoding joins note fragments, a note piece of at most
                                       n ms continuing a step later (sc_mt3_decoder_set_join) */
    SC_T5_CFG_REJOIN_MS = 23,       /* 0 (MT3); n = 1..1000 (needs acoustic_features): decoding continues a note
                                       whose pitch and program start again within n ms of its end when the
                                       acoustic onset posterior there stays below rejoin_onset / 1000
                                       (sc_mt3_decoder_set_rejoin) */
    SC_T5_CFG_REJOIN_ONSET = 24,    /* 1..1000 with rejoin_ms */
    SC_T5_CFG_ONSET_GATE = 25,      /* 0 (MT3); g = 1..1000 (needs acoustic_features): a new pitched note whose
                                       acoustic onset posterior (within +-3 frames) is below g / 1000 is
                                       dropped (sc_mt3_decoder_set_gate) */
    SC_T5_CFG_TIE_RECOVER = 26,     /* 0 (MT3); r = 1..1000 (needs acoustic_features): a tie for a pitch and program
                                       with no active note starts one at the latest onset posterior >= r / 1000
                                       of the previous segment (sc_mt3_decoder_set_tie_rules) */
    SC_T5_CFG_TIE_END = 27,         /* 0 (MT3); u = 1..1000 (needs acoustic_features): an active note the tie section
                                       does not continue ends where its note posterior first stays below
                                       u / 1000 for 2 frames in the previous segment (sc_mt3_decoder_set_tie_rules) */
    SC_T5_CFG_OFFSET_CLIP = 28,     /* 0 (MT3); c = 1..1000 (needs acoustic_features): a pitched note ends no later
                                       than where its note posterior first stays below c / 1000 for 3 frames,
                                       from 2 frames after its onset (sc_mt3_decoder_set_offset_clip) */
    SC_T5_CFG_ONSET_RECOVER = 29,   /* 0 (MT3); r = 1..1000 (needs acoustic_features): an acoustic onset posterior
                                       peak >= r / 1000 with no decoded onset of its pitch within 50 ms becomes
                                       a note (sc_mt3_decoder_set_onset_recovery) */
    SC_T5_CFG_COPY_SKIP = 22,       /* 0; k > 0 (needs onset_copy): dec.copy_head is [D + k, 272] and reads each
                                       frame's encoder output followed by its last k input features (the
                                       acoustic posteriors) */
    /* event codec (mt3_codec.h) */
    SC_T5_CFG_STEPS_PER_SECOND = 16, /* 100 */
    SC_T5_CFG_MAX_SHIFT_STEPS = 17,  /* 1000 */
    SC_T5_CFG_VELOCITY_BINS = 18,    /* 1 (mt3) or 127 (ismir2021) */
    SC_T5_CFG_USE_TIES = 19,         /* 1 */
    SC_T5_CFG_USE_PROGRAMS = 20,     /* 1 */
    SC_T5_CFG_USE_DRUMS = 21,        /* 1 */
    /* log-mel front end */
    SC_T5_CFG_SAMPLE_RATE = 32,   /* 16000 */
    SC_T5_CFG_FFT_SIZE = 33,      /* 2048 */
    SC_T5_CFG_HOP = 34,           /* 128 */
    SC_T5_CFG_MEL_BINS = 35,      /* 512 */
    SC_T5_CFG_FMIN = 36,          /* float bits: 20.0 */
    SC_T5_CFG_FMAX = 37           /* float bits: 7600.0 (ddsp compute_logmel hi_hz, as MT3 uses it) */
};

typedef struct sc_t5_config {
    int d_model, heads, head_dim, mlp_dim, enc_layers, dec_layers, vocab, input_features, segment_frames,
        max_decode, input_bias, cross_time_bias, shift_pointer, onset_copy, join_ms, copy_skip, rejoin_ms,
        rejoin_onset, onset_gate, tie_recover, tie_end, offset_clip, onset_recover;
    /* shift value -> encoder frame (time bias, shift pointer): round half up of value * frame_num / frame_den,
       frame_num = sample rate, frame_den = steps per second * hop (checked only when either is used) */
    int frame_num, frame_den;
} sc_t5_config;

#define SC_T5_COPY_OUT (128 + 128 + 16) /* onset_copy head: pitch onset, drum onset, instrument class */

/* A dense kernel [in, out]: f32 (w) or q8 (q + per-output-column scales). f16 is widened at load. */
typedef struct sc_t5_dense {
    int in, out;
    uint32_t dtype;          /* SC_DTYPE_F32 or SC_DTYPE_Q8 */
    const float *w;
    const int8_t *q;
    const float *scales;
} sc_t5_dense;

typedef struct sc_t5_attn { sc_t5_dense q, k, v, o; } sc_t5_attn;
typedef struct sc_t5_mlp { sc_t5_dense wi0, wi1, wo; } sc_t5_mlp;

typedef struct sc_t5_enc_layer {
    const float *attn_norm, *mlp_norm;
    sc_t5_attn attn;
    sc_t5_mlp mlp;
} sc_t5_enc_layer;

typedef struct sc_t5_dec_layer {
    const float *self_norm, *cross_norm, *mlp_norm;
    const float *cross_time_bias; /* [H][2T-1] or NULL */
    sc_t5_attn self, cross;
    sc_t5_mlp mlp;
} sc_t5_dec_layer;

typedef struct sc_t5_model {
    sc_t5_config cfg;
    sc_t5_dense input_proj, logits;
    sc_t5_dense embed;       /* [V, D], rows looked up */
    const float *enc_norm, *dec_norm;
    const float *input_bias; /* [D] or NULL */
    const float *pointer_gain; /* [1] or NULL (shift pointer) */
    int32_t *pointer_frame;  /* frame of shift values 0..n_pointer-1 (those inside the segment; shift
                                pointer or onset copy) */
    int n_pointer;
    sc_t5_dense copy_head;   /* onset_copy: [D, SC_T5_COPY_OUT] */
    const float *copy_bias, *copy_gain; /* [SC_T5_COPY_OUT], [4] or NULL */
    sc_t5_enc_layer *enc;
    sc_t5_dec_layer *dec;
    float *pos;              /* sinusoid table [pos_len, D] */
    int pos_len;
    float **owned;           /* f16 tensors widened to f32 */
    int n_owned;
    uint64_t n_params;
    uint32_t weight_dtype;   /* dtype of the big kernels (for describe) */
    sc_mt3_codec codec;      /* token layout, for the greedy decoding guard (mt3_grammar.h) */
} sc_t5_model;

/* Reads the config and binds every tensor, checking names, shapes and dtypes (messages name the tensor). */
scribe_status sc_t5_model_init(sc_t5_model *m, const sc_weights *w, scribe_error *err);
void sc_t5_model_free(sc_t5_model *m);
scribe_status sc_t5_config_read(const sc_weights *w, sc_t5_config *cfg, scribe_error *err);

/* Run state for `slots` segments decoded together and up to `max_tokens` tokens each.
 * With q8 weights the cross- and self-attention caches are kept in bfloat16 (round to nearest even):
 * batched decoding reads them once per token per segment, and they outweigh the weights. */
typedef struct sc_t5_state {
    const sc_t5_model *m;
    int slots, max_tokens;
    int kv_bf16;             /* attention caches in bfloat16 (compact q8 models): halves their reads */
    /* encoder scratch (one segment at a time) */
    float *ex, *eh, *eq, *ek, *ev, *eatt, *escore, *em0, *em1;
    float *enc_out;          /* [slots][T][D] */
    float *xk, *xv;          /* cross K [dec_layers][slots][H][Dh][T] (transposed), V [..][T][H*Dh] */
    float *ck, *cv;          /* self K cache [dec_layers][slots][H][Dh][max_tokens], V [..][max_tokens][H*Dh] */
    /* decoder scratch [slots][...] */
    float *dx, *dh, *dq, *dk, *dv, *datt, *dm0, *dm1, *dlogits, *dscore;
    float *panel;            /* dequantisation scratch [K_max][64] */
    int32_t *cur;            /* current input token per active row */
    int32_t *qframe;         /* decoded time (encoder frame) per active row, for cross_time_bias */
    float *dptr;             /* [slots][T] last decoder layer's cross-attention head-0 scores (shift pointer) */
    float *copy;             /* onset_copy: [slots][T][SC_T5_COPY_OUT] pooled copy-head logits */
    float *craw;             /* onset_copy scratch [T][SC_T5_COPY_OUT] before pooling */
    float *cin;              /* copy_skip scratch [T][D + copy_skip]: the copy head's input */
    float *copy_any;         /* onset_copy: [slots][T] max of each frame's 256 pooled onset logits */
    sc_mt3_grammar_row *grammar; /* decoding guard state per slot */
    int32_t *said;           /* [slots][max_tokens] its keys */
    int *active;             /* slot of each active row */
} sc_t5_state;

scribe_status sc_t5_state_init(sc_t5_state *s, const sc_t5_model *m, int slots, int max_tokens, scribe_error *err);
void sc_t5_state_free(sc_t5_state *s);

/* Encodes one segment (features [segment_frames][input_features]) into `slot`:
 * encoder output and the cross-attention K/V of every decoder layer. */
void sc_t5_encode(sc_t5_state *s, int slot, const float *features);
static inline const float *sc_t5_encoder_output(const sc_t5_state *s, int slot) {
    return s->enc_out + (size_t)slot * s->m->cfg.segment_frames * s->m->cfg.d_model;
}

/* Greedy decoding of slots 0..n-1 together (each must have been encoded), starting from PAD, with the
 * guard of mt3_grammar.h (tokens that would only restate the segment are never chosen).
 * tokens: [n][max_tokens] output ids (EOS included when produced); lengths[i]: tokens written.
 * ignore_eos: decode exactly max_tokens per slot. logits (optional): [n][max_tokens][vocab] raw logits
 * (before the guard). */
void sc_t5_decode(sc_t5_state *s, int n, int max_tokens, int ignore_eos, int32_t *tokens, int *lengths,
                  float *logits);

/* Multiply-add counts, for benchmarks: encoder (incl. cross K/V) per segment, decoder per token at step t. */
double sc_t5_encoder_flops(const sc_t5_config *c);
double sc_t5_decoder_flops_per_token(const sc_t5_config *c, int t);

/* y[M x out] (+)= x[M x in] W (the dense op used everywhere; q8 via a dequantisation panel). */
void sc_t5_dense_apply(const sc_t5_dense *d, int M, const float *x, int ldx, float *y, int ldy, int accumulate,
                       float *panel);

#endif
