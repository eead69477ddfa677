/* libFuzzer target: WAV decoding must return an error or valid audio, never crash. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "scribe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    scribe_audio a = {0};
    scribe_error err;
    if (scribe_wav_decode(data, size, &a, &err) == SCRIBE_OK) {
        if (a.frames && !a.samples) abort();
        for (size_t i = 0; i < a.frames; i++)
            if (!isfinite(a.samples[i])) abort(); /* the decoder promises finite samples */
        scribe_audio_free(&a);
    } else if (!err.message[0]) {
        abort(); /* every failure carries a message */
    }
    return 0;
}
