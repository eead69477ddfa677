/* libFuzzer target: note CSV reading and writing. */
#include <stdint.h>
#include <stdlib.h>
#include "scribe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    scribe_notes notes;
    scribe_notes_init(&notes);
    scribe_error err;
    if (scribe_notes_read_csv((const char *)data, size, &notes, &err) == SCRIBE_OK) {
        char *out;
        size_t len;
        if (scribe_notes_write_csv(&notes, &out, &len, &err) == SCRIBE_OK) scribe_free(out);
    } else if (!err.message[0]) {
        abort();
    }
    scribe_notes_free(&notes);
    return 0;
}
