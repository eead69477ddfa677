#ifndef SCRIBE_SESSION_INTERNAL_H
#define SCRIBE_SESSION_INTERNAL_H
#include "backend.h"

struct scribe_model {
    sc_weights weights;
    const sc_backend *backend;
    void *impl;
    void *owned_buffer; /* set by scribe_model_init_from_file */
    char description[256];
};

const sc_backend *sc_backend_for_kind(uint32_t kind);
/* The backend's session state when the session runs `backend`, else NULL (tests, statistics). */
void *sc_session_backend_impl(const scribe_session *s, const sc_backend *backend);
#endif
