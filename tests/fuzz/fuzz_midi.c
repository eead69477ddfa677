/* libFuzzer target: MIDI reading, and writing back what was read. */
#include <stdint.h>
#include <stdlib.h>
#include "scribe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    scribe_notes notes;
    scribe_notes_init(&notes);
    scribe_error err;
    if (scribe_midi_read(data, size, &notes, &err) == SCRIBE_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (scribe_midi_write(&notes, &out, &len, &err) == SCRIBE_OK) scribe_free(out);
    } else if (!err.message[0]) {
        abort();
    }
    scribe_notes_free(&notes);
    return 0;
}
