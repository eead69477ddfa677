/* libFuzzer target: the MT3 tokens -> notes decoder over several segments with hostile ids.
 *
 * Input layout: byte 0 picks the codec (mt3, ismir2021, or a small custom one from bytes 1..3);
 * then the rest is split into segments at 0xFFFF markers; each 16-bit little-endian word is a
 * token: words below 0x8000 are folded into the vocabulary (mostly valid ids), others are taken
 * as raw signed values (negative, huge, PAD/EOS/UNK, extra ids). Segment k starts at k * seg_s,
 * the last one has no next segment. Invariants: the decoder never fails except for memory,
 * every note has a pitch in 0..127, finite times, offset >= onset + 10 ms, velocity 1..127,
 * and nothing stays active after the flush. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "scribe.h"
#include "music/mt3_codec.h"
#include "music/mt3_tokens.h"

#define MAX_TOKENS 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4) return 0;
    sc_mt3_codec c;
    scribe_error err;
    scribe_status st;
    switch (data[0] % 3) {
    case 0: st = sc_mt3_codec_init_mt3(&c, &err); break;
    case 1: st = sc_mt3_codec_init_ismir2021(&c, &err); break;
    default:
        st = sc_mt3_codec_init(&c, 1 + data[1] % 200, 1 + data[2] * 4, 1 + data[3] % 127, data[3] & 1,
                               (data[3] >> 1) & 1, (data[3] >> 2) & 1, 0, &err);
        break;
    }
    if (st != SCRIBE_OK) {
        if (!err.message[0]) abort();
        return 0;
    }
    double seg_s = 2.048 + (data[1] % 4) * 0.5;
    data += 4;
    size -= 4;

    sc_mt3_decoder d;
    if (sc_mt3_decoder_init(&d, &c, &err) != SCRIBE_OK) return 0;
    scribe_notes out;
    scribe_notes_init(&out);
    int32_t *tok = malloc(MAX_TOKENS * sizeof *tok);
    size_t nw = size / 2, n = 0;
    int seg = 0;
    for (size_t i = 0; i <= nw; i++) {
        uint16_t w = i < nw ? (uint16_t)(data[2 * i] | (data[2 * i + 1] << 8)) : 0xFFFF;
        if (w != 0xFFFF && n < MAX_TOKENS) {
            tok[n++] = w < 0x8000 ? (int32_t)(w % (uint16_t)c.vocab_size) : (int32_t)(int16_t)w * 977;
            continue;
        }
        if (w != 0xFFFF) continue;
        double start = sc_mt3_segment_start_time(&c, seg * seg_s);
        double next = i == nw ? -1.0 : sc_mt3_segment_start_time(&c, (seg + 1) * seg_s);
        if (sc_mt3_decoder_segment(&d, tok, n, start, next, &out, &err) != SCRIBE_OK) abort();
        n = 0;
        seg++;
    }
    if (sc_mt3_decoder_flush(&d, &out, &err) != SCRIBE_OK) abort();
    if (d.n_active != 0) abort();
    for (size_t i = 0; i < out.count; i++) {
        const scribe_note *e = &out.notes[i];
        if (e->pitch < 0 || e->pitch > 127) abort();
        if (!isfinite(e->onset_s) || !isfinite(e->offset_s) || e->onset_s < 0) abort();
        if (e->offset_s < e->onset_s + SC_MT3_MIN_NOTE_DURATION - 1e-9) abort();
        if (e->velocity < 1 || e->velocity > 127) abort();
        if (e->program < 0 || e->program > 127 || (e->is_drum != 0 && e->is_drum != 1)) abort();
    }
    /* what was decoded must write as MIDI */
    uint8_t *midi = NULL;
    size_t midi_len = 0;
    if (scribe_midi_write(&out, &midi, &midi_len, &err) != SCRIBE_OK) abort();
    scribe_free(midi);
    free(tok);
    scribe_notes_free(&out);
    sc_mt3_decoder_free(&d);
    return 0;
}
