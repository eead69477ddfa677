/* Models: parse the weights file, pick the model family by its kind, build it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "session_internal.h"

/* Both model families are part of the library. Strong references: with weak ones, a program linking
 * the static libscribe.a that names no backend symbol itself (a native CLI, the fuzzers) silently
 * got no backend object from the archive and every weights file failed as "not built in". */
extern const sc_backend sc_backend_mt3;
extern const sc_backend sc_backend_acoustic;

const sc_backend *sc_backend_for_kind(uint32_t kind) {
    if (kind == SCRIBE_MODEL_MT3) return &sc_backend_mt3;
    if (kind == SCRIBE_MODEL_ACOUSTIC) return &sc_backend_acoustic;
    return NULL;
}

scribe_status scribe_model_init_from_buffer(const void *bytes, size_t len, scribe_model **out, scribe_error *err) {
    if (!bytes || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_model_init_from_buffer: NULL argument");
    *out = NULL;
    scribe_model *m = calloc(1, sizeof *m);
    if (!m) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory creating a model");
    scribe_status st = sc_weights_parse(bytes, len, &m->weights, err);
    if (st) { free(m); return st; }
    m->backend = sc_backend_for_kind(m->weights.kind);
    if (!m->backend) {
        st = sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "model kind %u is not built into this engine", m->weights.kind);
        scribe_model_free(m);
        return st;
    }
    st = m->backend->model_init(&m->weights, &m->impl, err);
    if (st) { m->impl = NULL; scribe_model_free(m); return st; }
    m->backend->describe(m->impl, m->description, sizeof m->description);
    *out = m;
    return sc_ok(err);
}

scribe_status scribe_model_init_from_file(const char *path, scribe_model **out, scribe_error *err) {
    if (!path || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_model_init_from_file: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sc_fail(err, SCRIBE_ERR_IO, "cannot open weights file '%s'", path);
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return sc_fail(err, SCRIBE_ERR_IO, "cannot read '%s'", path); }
    /* 64-byte alignment so tensors can be read with aligned SIMD loads. */
    void *buf = sc_aligned_alloc((size_t)n + 1);
    if (!buf) { fclose(f); return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory reading '%s' (%ld bytes)", path, n); }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) { sc_aligned_free(buf); return sc_fail(err, SCRIBE_ERR_IO, "short read of '%s'", path); }
    scribe_status st = scribe_model_init_from_buffer(buf, (size_t)n, out, err);
    if (st) { sc_aligned_free(buf); return st; }
    (*out)->owned_buffer = buf;
    return SCRIBE_OK;
}

void scribe_model_free(scribe_model *m) {
    if (!m) return;
    if (m->impl && m->backend) m->backend->model_free(m->impl);
    sc_weights_free(&m->weights);
    sc_aligned_free(m->owned_buffer);
    free(m);
}

scribe_model_kind scribe_model_get_kind(const scribe_model *m) { return m ? (scribe_model_kind)m->weights.kind : (scribe_model_kind)0; }

uint32_t scribe_model_sample_rate(const scribe_model *m) { return m ? m->backend->sample_rate(m->impl) : 0; }

const char *scribe_model_describe(const scribe_model *m) { return m ? m->description : ""; }
