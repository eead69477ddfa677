/* libFuzzer target: the weights loader (header, directory, shapes, model construction). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "scribe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Copy into an aligned buffer as the browser's ArrayBuffer would be. */
    uint8_t *buf = aligned_alloc(64, (size + 64) & ~(size_t)63);
    if (!buf) return 0;
    memcpy(buf, data, size);
    scribe_model *m = NULL;
    scribe_error err;
    if (scribe_model_init_from_buffer(buf, size, &m, &err) == SCRIBE_OK) {
        scribe_session_params p = scribe_session_default_params();
        scribe_session *s = NULL;
        if (scribe_session_init(m, &p, &s, &err) == SCRIBE_OK) {
            float x[4096] = {0};
            scribe_session_feed(s, x, 4096, &err);
            scribe_session_free(s);
        }
        scribe_model_free(m);
    } else if (!err.message[0]) {
        abort();
    }
    free(buf);
    return 0;
}
