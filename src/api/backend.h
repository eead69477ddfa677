/* The contract between the api layer (sessions) and a model family (MT3, acoustic).
 * The api layer resamples input to the model's rate and hands over samples; the backend
 * runs every complete segment/window and appends the notes that can no longer change. */
#ifndef SCRIBE_BACKEND_H
#define SCRIBE_BACKEND_H

#include "../common/common.h"
#include "../models/weights.h"

typedef struct sc_session_io {
    scribe_notes *done;                 /* append final notes here */
    const volatile int *cancel;         /* non-zero: stop at the next segment boundary */
    scribe_progress_fn progress;        /* may be NULL; called with seconds transcribed */
    void *progress_user;
} sc_session_io;

typedef struct sc_backend {
    const char *name;                   /* "mt3", "acoustic" */
    uint32_t kind;                      /* scribe_model_kind */
    /* Builds the model from parsed weights (tensors stay in the caller's buffer). */
    scribe_status (*model_init)(const sc_weights *w, void **model, scribe_error *err);
    void (*model_free)(void *model);
    uint32_t (*sample_rate)(const void *model);
    /* Writes a one-line description into buf. */
    void (*describe)(const void *model, char *buf, size_t cap);
    scribe_status (*session_init)(const void *model, const scribe_session_params *p, void **session,
                                  scribe_error *err);
    /* Samples at the model's rate; runs every complete segment. */
    scribe_status (*session_feed)(void *session, const float *samples, size_t n, sc_session_io *io,
                                  scribe_error *err);
    /* End of stream: pad, run the remainder, flush all notes. */
    scribe_status (*session_finish)(void *session, sc_session_io *io, scribe_error *err);
    void (*session_free)(void *session);
} sc_backend;

/* Defined by each model family (src/models/mt3_backend.c, src/models/acoustic_backend.c). */
extern const sc_backend sc_backend_mt3;
extern const sc_backend sc_backend_acoustic;

#endif
