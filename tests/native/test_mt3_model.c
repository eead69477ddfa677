/* MT3 backend through the public API on a tiny random model: shape checks, streaming == whole file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "api/backend.h"
#include "models/t5.h"

/* The api layer refers to backends weakly: this strong reference pulls the MT3 backend out of libscribe.a. */
const sc_backend *const test_mt3_backend_ref = &sc_backend_mt3;

typedef struct { uint8_t *buf; size_t len, cap; uint32_t n; uint8_t *rec; } wbuf;

static uint32_t rng(uint32_t *s) { *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s; }
static float rnd(uint32_t *s) { return ((float)(rng(s) % 20001) / 10000.0f - 1.0f) * 1.7f; }

/* Tiny MT3-shaped config: d 16, 2 heads x 8, mlp 32, 1+1 layers, 64 mel bins. */
enum { D = 16, H = 2, DH = 8, MLP = 32, NL = 1, V = 1536, F = 64 };

static const char *names[64];
static uint32_t shapes[64][2], ndims[64];
static int n_t;

static void spec(const char *name, uint32_t a, uint32_t b, uint32_t nd) {
    names[n_t] = name; shapes[n_t][0] = a; shapes[n_t][1] = b; ndims[n_t] = nd; n_t++;
}

static int build_q8; /* write dense kernels as q8 (per-column int8 + scales) */
/* our trained models' extras: time-relative cross-attention bias, shift pointer, onset copy; EOS reachable so that
   segments decoded together finish at different steps */
static int build_extras;
/* non-zero: head dim, segment frames, hop instead of the tiny config's (buffer limit test) */
static uint32_t build_head_dim;
static int32_t build_frames, build_hop;

static uint8_t *build(size_t *len, uint32_t seed, int bad_tensor) {
    const uint32_t dh = build_head_dim ? build_head_dim : DH;
    n_t = 0;
    spec("enc.input_proj", F, D, 2);
    spec("enc.0.attn_norm", D, 0, 1);
    spec("enc.0.attn.q", D, H * dh, 2); spec("enc.0.attn.k", D, H * dh, 2); spec("enc.0.attn.v", D, H * dh, 2);
    spec("enc.0.attn.o", H * dh, D, 2);
    spec("enc.0.mlp_norm", D, 0, 1);
    spec("enc.0.mlp.wi0", D, MLP, 2); spec("enc.0.mlp.wi1", D, MLP, 2); spec("enc.0.mlp.wo", MLP, D, 2);
    spec("enc.norm", D, 0, 1);
    spec("dec.embed", V, D, 2);
    spec("dec.0.self_norm", D, 0, 1);
    spec("dec.0.self.q", D, H * dh, 2); spec("dec.0.self.k", D, H * dh, 2); spec("dec.0.self.v", D, H * dh, 2);
    spec("dec.0.self.o", H * dh, D, 2);
    spec("dec.0.cross_norm", D, 0, 1);
    spec("dec.0.cross.q", D, H * dh, 2); spec("dec.0.cross.k", D, H * dh, 2); spec("dec.0.cross.v", D, H * dh, 2);
    spec("dec.0.cross.o", H * dh, D, 2);
    spec("dec.0.mlp_norm", D, 0, 1);
    spec("dec.0.mlp.wi0", D, MLP, 2); spec("dec.0.mlp.wi1", D, MLP, 2); spec("dec.0.mlp.wo", MLP, D, 2);
    spec("dec.norm", D, 0, 1);
    spec("dec.logits", D, V, 2);
    if (build_extras) {
        spec("dec.0.cross.time_bias", H, 2 * 256 - 1, 2);
        spec("dec.pointer_gain", 1, 0, 1);
        spec("dec.copy_head", D, SC_T5_COPY_OUT, 2);
        spec("dec.copy_head.bias", SC_T5_COPY_OUT, 0, 1);
        spec("dec.copy_gain", 4, 0, 1);
    }
    size_t off = 512 + 128 * (size_t)n_t, total = off;
    size_t offs[64];
    for (int i = 0; i < n_t; i++) {
        total = (total + 63) & ~(size_t)63;
        offs[i] = total;
        size_t numel = (size_t)shapes[i][0] * (ndims[i] == 2 ? shapes[i][1] : 1);
        total += build_q8 && ndims[i] == 2 && !strstr(names[i], "time_bias") ? ((numel + 3) & ~(size_t)3) + 4 * shapes[i][1] : 4 * numel;
    }
    uint8_t *b = calloc(1, total);
    memcpy(b, "SCRIBEW", 8);
    uint32_t hdr[4] = {1, 1, (uint32_t)n_t, 512};
    memcpy(b + 8, hdr, 16);
    int32_t cfg[64] = {0};
    cfg[SC_T5_CFG_D_MODEL] = D; cfg[SC_T5_CFG_HEADS] = H; cfg[SC_T5_CFG_HEAD_DIM] = (int32_t)dh; cfg[SC_T5_CFG_MLP_DIM] = MLP;
    cfg[SC_T5_CFG_ENC_LAYERS] = NL; cfg[SC_T5_CFG_DEC_LAYERS] = NL; cfg[SC_T5_CFG_VOCAB] = V;
    cfg[SC_T5_CFG_INPUT_FEATURES] = F; cfg[SC_T5_CFG_SEGMENT_FRAMES] = build_frames ? build_frames : 256; cfg[SC_T5_CFG_MAX_DECODE] = 1024;
    cfg[SC_T5_CFG_STEPS_PER_SECOND] = 100; cfg[SC_T5_CFG_MAX_SHIFT_STEPS] = 1000; cfg[SC_T5_CFG_VELOCITY_BINS] = 1;
    cfg[SC_T5_CFG_USE_TIES] = 0; /* random output rarely closes a tie section */ cfg[SC_T5_CFG_USE_PROGRAMS] = 1; cfg[SC_T5_CFG_USE_DRUMS] = 1;
    cfg[SC_T5_CFG_SAMPLE_RATE] = 16000; cfg[SC_T5_CFG_FFT_SIZE] = 2048; cfg[SC_T5_CFG_HOP] = build_hop ? build_hop : 128;
    cfg[SC_T5_CFG_MEL_BINS] = F;
    if (build_extras) {
        cfg[SC_T5_CFG_CROSS_TIME_BIAS] = 32;
        cfg[SC_T5_CFG_SHIFT_POINTER] = 1;
        cfg[SC_T5_CFG_ONSET_COPY] = 2;
    }
    float fmin = 20.0f, fmax = 7600.0f;
    memcpy(&cfg[SC_T5_CFG_FMIN], &fmin, 4);
    memcpy(&cfg[SC_T5_CFG_FMAX], &fmax, 4);
    memcpy(b + 24, cfg, sizeof cfg);
    memcpy(b + 280, "tiny-mt3-test", 14);
    uint32_t s = seed;
    for (int i = 0; i < n_t; i++) {
        uint8_t *r = b + 512 + 128 * (size_t)i;
        strcpy((char *)r, names[i]);
        int q8 = build_q8 && ndims[i] == 2 && !strstr(names[i], "time_bias");
        uint32_t meta[6] = {q8 ? 2u : 0u, ndims[i], shapes[i][0], ndims[i] == 2 ? shapes[i][1] : 0, 0, 0};
        if (i == bad_tensor) meta[2] += 1;
        memcpy(r + 80, meta, 24);
        uint64_t numel = (uint64_t)shapes[i][0] * (ndims[i] == 2 ? shapes[i][1] : 1);
        uint64_t o = offs[i], nb = q8 ? ((numel + 3) & ~(uint64_t)3) + 4 * shapes[i][1] : 4 * numel;
        if (i == bad_tensor) nb = 4 * ((uint64_t)(shapes[i][0] + 1) * (ndims[i] == 2 ? shapes[i][1] : 1));
        memcpy(r + 104, &o, 8);
        memcpy(r + 112, &nb, 8);
        float *t = q8 ? malloc(numel * sizeof(float)) : (float *)(b + o);
        for (uint64_t k = 0; k < numel; k++) t[k] = ndims[i] == 1 ? 1.0f : rnd(&s);
        if (!strcmp(names[i], "dec.pointer_gain")) t[0] = 0.05f; /* shifts still compete with notes */
        if (!strcmp(names[i], "dec.copy_gain")) t[0] = t[1] = t[2] = t[3] = 0.05f; /* copied notes compete too */
        if (!strcmp(names[i], "dec.logits")) {
            /* keep only shifts 1..200, pitches 40..80, velocity 1, tie, program 0: random but note-rich output */
            for (uint64_t k = 0; k < numel; k++) {
                int id = (int)(k % V);
                int keep = (id >= 4 && id <= 203) || (id >= 1044 && id <= 1084) || (id >= 1133 && id <= 1135) ||
                           (build_extras && id == 1);
                if (!keep) t[k] = 0.0f;
                if (build_extras && id == 1) t[k] *= 2.0f; /* EOS: segments end at different steps */
                if (build_extras && ((id >= 1044 && id <= 1084) || id == 1133)) t[k] *= 1.5f; /* note-rich */
            }
        }
        if (q8) {
            uint32_t cols = shapes[i][1], rows = shapes[i][0];
            int8_t *qv = (int8_t *)(b + o);
            float *sc = (float *)(b + o + ((numel + 3) & ~(uint64_t)3));
            for (uint32_t c = 0; c < cols; c++) {
                float mx = 0;
                for (uint32_t r = 0; r < rows; r++) mx = fabsf(t[(size_t)r * cols + c]) > mx ? fabsf(t[(size_t)r * cols + c]) : mx;
                sc[c] = mx > 0 ? mx / 127.0f : 1.0f;
                for (uint32_t r = 0; r < rows; r++) qv[(size_t)r * cols + c] = (int8_t)lrintf(t[(size_t)r * cols + c] / sc[c]);
            }
            free(t);
        }
    }
    if (bad_tensor >= 0) { /* room for the enlarged tensor */
        size_t extra = 4 * (size_t)(ndims[bad_tensor] == 2 ? shapes[bad_tensor][1] : 1);
        b = realloc(b, total + extra);
        memset(b + total, 0, extra);
        total += extra;
    }
    *len = total;
    return b;
}

static int run_fixed_tokens = 128; /* tokens per segment (EOS ignored); 0: decode until EOS */

static scribe_status run(scribe_model *m, const float *x, size_t n, size_t block, int batch, scribe_notes *out,
                         int *progress_calls) {
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = 16000;
    p.fixed_decode_tokens = run_fixed_tokens;
    p.batch_segments = batch;
    scribe_session *s = NULL;
    scribe_error err = {0};
    scribe_status st = scribe_session_init(m, &p, &s, &err);
    if (st) { fprintf(stderr, "  %s\n", err.message); return st; }
    for (size_t i = 0; i < n && !st; i += block) {
        st = scribe_session_feed(s, x + i, n - i < block ? n - i : block, &err);
        if (!st) st = scribe_session_take_notes(s, out, &err);
    }
    if (!st) st = scribe_session_finish(s, &err);
    if (!st) st = scribe_session_take_notes(s, out, &err);
    if (st) fprintf(stderr, "  %s\n", err.message);
    *progress_calls = (int)(scribe_session_seconds_done(s) * 1000);
    scribe_session_free(s);
    return st;
}

TEST(mt3_model_rejects_wrong_tensor_shape_by_name) {
    size_t len;
    uint8_t *b = build(&len, 5, 14); /* dec.0.self.k */
    scribe_model *m = NULL;
    scribe_error err = {0};
    CHECK(scribe_model_init_from_buffer(b, len, &m, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    CHECK_MSG(strstr(err.message, "dec.0.self.k") != NULL, "message: %s", err.message);
    free(b);
}

TEST(mt3_session_streaming_equals_whole_file_and_batching) {
    size_t len;
    uint8_t *b = build(&len, 17, -1);
    scribe_model *m = NULL;
    scribe_error err = {0};
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, &err));
    if (!m) { fprintf(stderr, "  %s\n", err.message); free(b); return; }
    CHECK(scribe_model_get_kind(m) == SCRIBE_MODEL_MT3);
    CHECK(strstr(scribe_model_describe(m), "MT3") != NULL);
    size_t n = 16000 * 5 + 321; /* 3 segments, the last partial */
    float *x = malloc(n * sizeof *x);
    uint32_t s = 3;
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * sinf(0.05f * (float)i) * (float)((i / 4000) % 3) + 0.01f * rnd(&s);
    scribe_notes whole, stream, batched;
    scribe_notes_init(&whole); scribe_notes_init(&stream); scribe_notes_init(&batched);
    int pw = 0, ps = 0, pb = 0;
    CHECK_OK(run(m, x, n, n, 1, &whole, &pw));
    CHECK_OK(run(m, x, n, 777, 1, &stream, &ps));
    CHECK_OK(run(m, x, n, n, 4, &batched, &pb));
    scribe_notes_sort(&whole); scribe_notes_sort(&stream); scribe_notes_sort(&batched);
    CHECK_MSG(whole.count >= 3, "random model produced %zu notes", whole.count);
    CHECK(whole.count == stream.count && whole.count == batched.count);
    for (size_t i = 0; i < whole.count && i < stream.count && i < batched.count; i++) {
        CHECK(whole.notes[i].onset_s == stream.notes[i].onset_s && whole.notes[i].offset_s == stream.notes[i].offset_s);
        CHECK(whole.notes[i].pitch == stream.notes[i].pitch && whole.notes[i].program == stream.notes[i].program);
        CHECK(whole.notes[i].onset_s == batched.notes[i].onset_s && whole.notes[i].pitch == batched.notes[i].pitch);
        CHECK(whole.notes[i].offset_s > whole.notes[i].onset_s);
    }
    CHECK_MSG(pw == 6144, "seconds done %d ms", pw); /* 3 segments of 2.048 s */
    scribe_notes_free(&whole); scribe_notes_free(&stream); scribe_notes_free(&batched);
    free(x);
    scribe_model_free(m);
    free(b);
}

/* Time bias and shift pointer: each decoded row keeps its own decoded time; rows that end (EOS) at different
 * steps are compacted out of the batch, and the rows left must keep theirs. One segment at a time = batched. */
TEST(mt3_time_bias_pointer_and_copy_batched_equals_one_at_a_time) {
    build_extras = 1;
    size_t len;
    uint8_t *b = build(&len, 23, -1);
    build_extras = 0;
    scribe_model *m = NULL;
    scribe_error err = {0};
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, &err));
    if (!m) { fprintf(stderr, "  %s\n", err.message); free(b); return; }
    size_t n = 16000 * 9; /* 5 segments */
    float *x = malloc(n * sizeof *x);
    uint32_t s = 9;
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * sinf(0.03f * (float)i) * (float)((i / 3000) % 4) + 0.01f * rnd(&s);
    scribe_notes one, batched;
    scribe_notes_init(&one); scribe_notes_init(&batched);
    int p1 = 0, pb = 0;
    run_fixed_tokens = 0;
    CHECK_OK(run(m, x, n, n, 1, &one, &p1));
    CHECK_OK(run(m, x, n, n, 5, &batched, &pb));
    run_fixed_tokens = 128;
    scribe_notes_sort(&one); scribe_notes_sort(&batched);
    CHECK_MSG(one.count >= 3, "random model produced %zu notes", one.count);
    CHECK_MSG(one.count == batched.count, "%zu notes one at a time, %zu batched", one.count, batched.count);
    for (size_t i = 0; i < one.count && i < batched.count; i++)
        CHECK(one.notes[i].onset_s == batched.notes[i].onset_s && one.notes[i].pitch == batched.notes[i].pitch &&
              one.notes[i].offset_s == batched.notes[i].offset_s);
    scribe_notes_free(&one); scribe_notes_free(&batched);
    free(x);
    scribe_model_free(m);

    /* a file that declares the extras but lacks their tensors is refused by name */
    int32_t flag = 1;
    free(b);
    b = build(&len, 23, -1);
    memcpy(b + 24 + 4 * SC_T5_CFG_SHIFT_POINTER, &flag, 4);
    CHECK(scribe_model_init_from_buffer(b, len, &m, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    CHECK_MSG(strstr(err.message, "dec.pointer_gain") != NULL, "message: %s", err.message);
    free(b);
    b = build(&len, 23, -1);
    flag = 32;
    memcpy(b + 24 + 4 * SC_T5_CFG_CROSS_TIME_BIAS, &flag, 4);
    CHECK(scribe_model_init_from_buffer(b, len, &m, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    CHECK_MSG(strstr(err.message, "dec.0.cross.time_bias") != NULL, "message: %s", err.message);
    free(b);
    b = build(&len, 23, -1);
    flag = 2;
    memcpy(b + 24 + 4 * SC_T5_CFG_ONSET_COPY, &flag, 4);
    CHECK(scribe_model_init_from_buffer(b, len, &m, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    CHECK_MSG(strstr(err.message, "dec.copy_head") != NULL, "message: %s", err.message);
    free(b);
}

static int stop_after_first(void *user, double seconds) {
    int *calls = user;
    (*calls)++;
    return seconds > 2.0; /* cancel once the first segment (2.048 s) is done */
}

TEST(mt3_session_progress_per_segment_and_cancel) {
    size_t len;
    uint8_t *b = build(&len, 9, -1);
    scribe_model *m = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, NULL));
    if (!m) { free(b); return; }
    size_t n = 16000 * 7;
    float *x = calloc(n, sizeof *x);
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = 16000;
    p.fixed_decode_tokens = 8;
    p.batch_segments = 1;
    int calls = 0;
    p.progress = stop_after_first;
    p.progress_user = &calls;
    scribe_session *s = NULL;
    CHECK_OK(scribe_session_init(m, &p, &s, NULL));
    scribe_error err = {0};
    CHECK(scribe_session_feed(s, x, n, &err) == SCRIBE_ERR_CANCELLED);
    CHECK_MSG(calls == 1, "%d progress calls", calls);
    CHECK(scribe_session_finish(s, &err) == SCRIBE_ERR_CANCELLED);
    scribe_session_free(s);
    /* without cancelling: one progress call per segment (3 full + the padded last one) */
    calls = 0;
    p.progress = NULL;
    CHECK_OK(scribe_session_init(m, &p, &s, NULL));
    CHECK_OK(scribe_session_feed(s, x, n, NULL));
    CHECK_OK(scribe_session_finish(s, NULL));
    CHECK_NEAR(scribe_session_seconds_done(s), 4 * 2.048, 1e-9);
    scribe_session_free(s);
    free(x);
    scribe_model_free(m);
    free(b);
}

TEST(mt3_t5_q8_weights_and_bf16_caches_track_f32) {
    size_t len32, len8;
    build_q8 = 0;
    uint8_t *b32 = build(&len32, 9, -1);
    build_q8 = 1;
    uint8_t *b8 = build(&len8, 9, -1);
    build_q8 = 0;
    CHECK(len8 < len32);
    sc_weights w32, w8;
    sc_t5_model m32, m8;
    CHECK_OK(sc_weights_parse(b32, len32, &w32, NULL));
    CHECK_OK(sc_weights_parse(b8, len8, &w8, NULL));
    CHECK_OK(sc_t5_model_init(&m32, &w32, NULL));
    CHECK_OK(sc_t5_model_init(&m8, &w8, NULL));
    CHECK(m8.weight_dtype == SC_DTYPE_Q8 && m32.weight_dtype == SC_DTYPE_F32);
    sc_t5_state s32, s8;
    CHECK_OK(sc_t5_state_init(&s32, &m32, 5, 12, NULL)); /* 5 rows: 4-row tile + remainder */
    CHECK_OK(sc_t5_state_init(&s8, &m8, 5, 12, NULL));
    CHECK(s8.kv_bf16 == 1 && s32.kv_bf16 == 0);
    float *feat = malloc(256 * F * sizeof *feat);
    uint32_t r = 4;
    for (int slot = 0; slot < 5; slot++) {
        for (int i = 0; i < 256 * F; i++) feat[i] = rnd(&r) * 2.0f - 5.0f;
        sc_t5_encode(&s32, slot, feat);
        sc_t5_encode(&s8, slot, feat);
    }
    double num = 0, den = 0;
    for (int slot = 0; slot < 5; slot++) {
        const float *a = sc_t5_encoder_output(&s32, slot), *e = sc_t5_encoder_output(&s8, slot);
        for (int i = 0; i < 256 * D; i++) { num += (a[i] - e[i]) * (double)(a[i] - e[i]); den += (double)a[i] * a[i]; }
    }
    double rel = sqrt(num / den);
    CHECK_MSG(rel > 1e-5 && rel < 0.05, "q8 encoder rms relative error %g", rel);
    int32_t t32[5 * 12], t8[5 * 12];
    int l32[5], l8[5];
    float *lg32 = malloc(5 * 12 * V * sizeof(float)), *lg8 = malloc(5 * 12 * V * sizeof(float));
    sc_t5_decode(&s32, 5, 12, 1, t32, l32, lg32);
    sc_t5_decode(&s8, 5, 12, 1, t8, l8, lg8);
    double dmax = 0, amax = 0;
    for (int slot = 0; slot < 5; slot++)
        for (int v = 0; v < V; v++) { /* first step: same input token (PAD) */
            double d = fabs(lg32[(size_t)slot * 12 * V + v] - lg8[(size_t)slot * 12 * V + v]);
            dmax = d > dmax ? d : dmax;
            amax = fabs(lg32[(size_t)slot * 12 * V + v]) > amax ? fabs(lg32[(size_t)slot * 12 * V + v]) : amax;
        }
    CHECK(l32[0] == 12 && l8[4] == 12);
    CHECK_MSG(dmax < 0.1 * amax, "first-step logits differ by %g (max %g)", dmax, amax);
    free(lg32); free(lg8); free(feat);
    sc_t5_state_free(&s32); sc_t5_state_free(&s8);
    sc_t5_model_free(&m32); sc_t5_model_free(&m8);
    sc_weights_free(&w32); sc_weights_free(&w8);
    free(b32); free(b8);
}

/* Activation sizes are computed in 64 bits and each buffer is held to the engine's 2 GiB limit (common.h).
 * Here the config passes every range check (segment frames 8192, 2 heads x 1024) but at batch 64 the cross-attention
 * keys need 64 x 8192 x 2048 floats = 2^32 bytes, which a 32-bit size_t (wasm32) wrapped to 0: an empty buffer
 * the encoder then wrote through. The session is refused by name, before anything is allocated. */
TEST(mt3_session_refuses_buffers_above_the_engine_limit) {
    build_head_dim = 1024;
    build_frames = 8192;
    size_t len;
    uint8_t *b = build(&len, 3, -1);
    scribe_model *m = NULL;
    scribe_error err = {0};
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, &err));
    if (!m) fprintf(stderr, "  %s\n", err.message);
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = 16000;
    p.fixed_decode_tokens = 8;
    p.batch_segments = 64;
    scribe_session *s = NULL;
    if (m) {
        scribe_status st = scribe_session_init(m, &p, &s, &err);
        CHECK_MSG(st == SCRIBE_ERR_TOO_LARGE, "batch 64: %s (%s)", scribe_status_name(st), err.message);
        CHECK_MSG(strstr(err.message, "cross-attention keys") && strstr(err.message, "2 GiB"), "message: %s", err.message);
        CHECK(s == NULL);
        scribe_session_free(s);
        s = NULL;
    }
    scribe_model_free(m);
    m = NULL;
    free(b);
    /* the pending samples of a batch: 64 segments of 8192 frames x hop 2048 = 2^30 samples (4 GiB) */
    build_hop = 2048;
    b = build(&len, 3, -1);
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, &err));
    if (m) {
        scribe_status st = scribe_session_init(m, &p, &s, &err);
        CHECK_MSG(st == SCRIBE_ERR_TOO_LARGE, "hop 2048: %s (%s)", scribe_status_name(st), err.message);
        CHECK_MSG(strstr(err.message, "samples") && strstr(err.message, "2 GiB"), "message: %s", err.message);
        scribe_session_free(s);
    }
    scribe_model_free(m);
    free(b);
    build_head_dim = 0;
    build_frames = build_hop = 0;
}
