/* WASM exports for note lists, CSV, MIDI and metrics. Bindings contain no logic:
 * JS (web/engine/music.js) reads and writes the structs through the layout sizes below. */
#include <emscripten/emscripten.h>
#include <stddef.h>
#include <stdlib.h>
#include "../common/common.h"

/* web/engine/music.js reads these structs with fixed offsets. */
_Static_assert(sizeof(scribe_note) == 40 && offsetof(scribe_note, pitch) == 16 &&
               offsetof(scribe_note, bend_index) == 32, "scribe_note layout: update web/engine/music.js");
_Static_assert(sizeof(scribe_bend) == 16 && offsetof(scribe_bend, semitones) == 8, "scribe_bend layout");
_Static_assert(sizeof(scribe_eval_params) == 40, "scribe_eval_params layout: update web/engine/music.js");
_Static_assert(sizeof(scribe_prf) == 32 && sizeof(scribe_eval_result) == 264 &&
               offsetof(scribe_eval_result, ref_notes) == 256, "scribe_eval_result layout: update web/engine/music.js");

EMSCRIPTEN_KEEPALIVE size_t wasm_note_size(void) { return sizeof(scribe_note); }
EMSCRIPTEN_KEEPALIVE size_t wasm_bend_size(void) { return sizeof(scribe_bend); }
EMSCRIPTEN_KEEPALIVE size_t wasm_eval_params_size(void) { return sizeof(scribe_eval_params); }
EMSCRIPTEN_KEEPALIVE size_t wasm_eval_result_size(void) { return sizeof(scribe_eval_result); }

EMSCRIPTEN_KEEPALIVE scribe_notes *wasm_notes_new(void) { return calloc(1, sizeof(scribe_notes)); }
EMSCRIPTEN_KEEPALIVE void wasm_notes_free(scribe_notes *l) { scribe_notes_free(l); free(l); }
EMSCRIPTEN_KEEPALIVE void wasm_notes_clear(scribe_notes *l) { scribe_notes_clear(l); }
EMSCRIPTEN_KEEPALIVE size_t wasm_notes_count(const scribe_notes *l) { return l->count; }
EMSCRIPTEN_KEEPALIVE scribe_note *wasm_notes_data(const scribe_notes *l) { return l->notes; }
EMSCRIPTEN_KEEPALIVE scribe_bend *wasm_notes_bends(const scribe_notes *l) { return l->bends; }
EMSCRIPTEN_KEEPALIVE size_t wasm_notes_bend_count(const scribe_notes *l) { return l->bend_count; }
EMSCRIPTEN_KEEPALIVE void wasm_notes_sort(scribe_notes *l) { scribe_notes_sort(l); }

EMSCRIPTEN_KEEPALIVE int wasm_notes_push(scribe_notes *l, const scribe_note *note, const scribe_bend *bends,
                                         size_t n_bends, scribe_error *err) {
    return scribe_notes_push(l, note, bends, n_bends, err);
}

EMSCRIPTEN_KEEPALIVE int wasm_notes_write_csv(const scribe_notes *l, char **out, size_t *out_len, scribe_error *err) {
    return scribe_notes_write_csv(l, out, out_len, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_notes_read_csv(const char *text, size_t len, scribe_notes *out, scribe_error *err) {
    return scribe_notes_read_csv(text, len, out, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_midi_write(const scribe_notes *l, uint8_t **out, size_t *out_len, scribe_error *err) {
    return scribe_midi_write(l, out, out_len, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_midi_read(const uint8_t *bytes, size_t len, scribe_notes *out, scribe_error *err) {
    return scribe_midi_read(bytes, len, out, err);
}

EMSCRIPTEN_KEEPALIVE void wasm_eval_default_params(scribe_eval_params *p) { *p = scribe_eval_default_params(); }
EMSCRIPTEN_KEEPALIVE int wasm_evaluate(const scribe_notes *ref, const scribe_notes *est, const scribe_eval_params *p,
                                       scribe_eval_result *out, scribe_error *err) {
    return scribe_evaluate(ref, est, p, out, err);
}
EMSCRIPTEN_KEEPALIVE int wasm_evaluate_onset_sweep(const scribe_notes *ref, const scribe_notes *est,
                                                   const double *tolerances, size_t n, scribe_prf *out,
                                                   scribe_error *err) {
    return scribe_evaluate_onset_sweep(ref, est, tolerances, n, out, err);
}
