/*
 * scribe: music transcription engine (MT3 and Basic Pitch networks) in C.
 *
 * This is the only public header. Every call that can fail returns a
 * scribe_status and, when `err` is non-NULL, fills it with a readable
 * message naming the offending value. The library never calls exit(),
 * keeps no mutable global state, and any number of models and sessions
 * can live side by side.
 *
 * Usage (whole file or live input; the same session type serves both):
 *
 *     scribe_error err;
 *     scribe_model *model;
 *     if (scribe_model_init_from_buffer(buf, len, &model, &err)) { puts(err.message); ... }
 *     scribe_session_params p = scribe_session_default_params();
 *     p.input_sample_rate = 44100;
 *     scribe_session *s;
 *     scribe_session_init(model, &p, &s, &err);
 *     scribe_notes notes; scribe_notes_init(&notes);
 *     while (have_audio) {
 *         scribe_session_feed(s, block, block_len, &err);   // any block size
 *         scribe_session_take_notes(s, &notes, &err);      // notes that can no longer change
 *     }
 *     scribe_session_finish(s, &err);
 *     scribe_session_take_notes(s, &notes, &err);
 *     scribe_session_free(s); scribe_model_free(model); scribe_notes_free(&notes);
 *
 * `buf` must outlive the model: tensors point into it.
 */
#ifndef SCRIBE_H
#define SCRIBE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCRIBE_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ errors */

typedef enum scribe_status {
    SCRIBE_OK = 0,
    SCRIBE_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, a value out of range */
    SCRIBE_ERR_OUT_OF_MEMORY = 2,
    SCRIBE_ERR_BAD_AUDIO = 3,        /* audio bytes that cannot be decoded */
    SCRIBE_ERR_BAD_WEIGHTS = 4,      /* weights file malformed or inconsistent */
    SCRIBE_ERR_BAD_MIDI = 5,         /* MIDI bytes that cannot be parsed */
    SCRIBE_ERR_BAD_CSV = 6,          /* note CSV that cannot be parsed */
    SCRIBE_ERR_UNSUPPORTED = 7,      /* well-formed but not supported */
    SCRIBE_ERR_CANCELLED = 8,        /* the caller cancelled */
    SCRIBE_ERR_STATE = 9,            /* call not allowed in this state */
    SCRIBE_ERR_IO = 10,              /* file could not be read or written */
    SCRIBE_ERR_TOO_LARGE = 11        /* input exceeds a documented limit */
} scribe_status;

#define SCRIBE_ERROR_MESSAGE_SIZE 256

typedef struct scribe_error {
    scribe_status code;
    char message[SCRIBE_ERROR_MESSAGE_SIZE];
} scribe_error;

/* Short constant name of a status, e.g. "bad_audio". */
const char *scribe_status_name(scribe_status code);

/* Frees any buffer the library handed to the caller (MIDI bytes, CSV text, audio). */
void scribe_free(void *p);

/* ------------------------------------------------------------------ audio */

/* Mono float32 audio in [-1, 1] (not clipped) at `sample_rate`. */
typedef struct scribe_audio {
    float *samples;
    size_t frames;
    uint32_t sample_rate;
    uint32_t source_channels; /* channel count of the decoded file before downmix */
} scribe_audio;

/* Decodes a RIFF/RIFX-free little-endian WAV (PCM 8/16/24/32-bit, IEEE float 32/64,
 * WAVE_FORMAT_EXTENSIBLE, any channel count and rate) and downmixes it to mono. */
scribe_status scribe_wav_decode(const uint8_t *bytes, size_t len, scribe_audio *out, scribe_error *err);

/* Writes mono float audio as a 16-bit PCM WAV (for tools and tests). */
scribe_status scribe_wav_encode(const float *samples, size_t frames, uint32_t sample_rate,
                                uint8_t **out, size_t *out_len, scribe_error *err);

void scribe_audio_free(scribe_audio *audio);

/* Streaming band-limited resampler (windowed-sinc, stopband below -80 dB). */
typedef struct scribe_resampler scribe_resampler;

scribe_status scribe_resampler_init(uint32_t in_rate, uint32_t out_rate, scribe_resampler **out,
                                    scribe_error *err);
/* Upper bound of output frames produced by feeding `in_frames` more frames. */
size_t scribe_resampler_max_output(const scribe_resampler *r, size_t in_frames);
/* Consumes all `n` input frames; writes up to `out_cap` frames, count in *out_n. */
scribe_status scribe_resampler_process(scribe_resampler *r, const float *in, size_t n, float *out,
                                       size_t out_cap, size_t *out_n, scribe_error *err);
/* Frames scribe_resampler_flush would produce now. */
size_t scribe_resampler_pending(const scribe_resampler *r);
/* Flushes the filter tail (call once at the end of the stream). */
scribe_status scribe_resampler_flush(scribe_resampler *r, float *out, size_t out_cap, size_t *out_n,
                                     scribe_error *err);
void scribe_resampler_free(scribe_resampler *r);

/* One-shot convenience; *out is freed with scribe_free. */
scribe_status scribe_resample(const float *in, size_t n, uint32_t in_rate, uint32_t out_rate,
                              float **out, size_t *out_n, scribe_error *err);

/* ------------------------------------------------------------------ notes */

/* A pitch bend point: time in seconds and offset from the note's pitch in semitones. */
typedef struct scribe_bend {
    double time_s;
    float semitones;
} scribe_bend;

typedef struct scribe_note {
    double onset_s;
    double offset_s;
    int32_t pitch;      /* MIDI 0..127 */
    int32_t velocity;   /* 1..127 */
    int32_t program;    /* General MIDI program 0..127 (ignored for drums) */
    int32_t is_drum;    /* 0 or 1 */
    uint32_t bend_index; /* first bend in scribe_notes.bends */
    uint32_t bend_count;
} scribe_note;

/* A growable note list. Zero-initialised (or scribe_notes_init) is empty. */
typedef struct scribe_notes {
    scribe_note *notes;
    size_t count, capacity;
    scribe_bend *bends;
    size_t bend_count, bend_capacity;
} scribe_notes;

void scribe_notes_init(scribe_notes *list);
void scribe_notes_free(scribe_notes *list);
void scribe_notes_clear(scribe_notes *list);
/* Appends a copy of `note` with `n_bends` bends (note->bend_index/count are ignored). */
scribe_status scribe_notes_push(scribe_notes *list, const scribe_note *note, const scribe_bend *bends,
                                size_t n_bends, scribe_error *err);
/* Appends all notes of `src` (bends re-indexed). `src` may be `dst`: the list's notes are then appended
 * once more (a copy of each, with its bends). On an error nothing is appended. */
scribe_status scribe_notes_append(scribe_notes *dst, const scribe_notes *src, scribe_error *err);
/* Sorts by onset, then is_drum, program, pitch, offset. */
void scribe_notes_sort(scribe_notes *list);

/* CSV with header exactly `onset_s,offset_s,pitch,velocity,program,is_drum`. */
scribe_status scribe_notes_write_csv(const scribe_notes *list, char **out, size_t *out_len, scribe_error *err);
scribe_status scribe_notes_read_csv(const char *text, size_t len, scribe_notes *out, scribe_error *err);

/* ------------------------------------------------------------------ MIDI */

/* Standard MIDI File type 1: a tempo track, then one track per instrument
 * (program, or drums on channel 10), 480 ticks per quarter at 120 bpm.
 * More than 15 pitched instruments share channels by reprogramming. */
scribe_status scribe_midi_write(const scribe_notes *list, uint8_t **out, size_t *out_len, scribe_error *err);
/* Reads SMF type 0/1 (tempo map, running status, note-on velocity 0 as note-off,
 * program changes, pitch bends, channel 10 as drums). Appends to `out`. */
scribe_status scribe_midi_read(const uint8_t *bytes, size_t len, scribe_notes *out, scribe_error *err);

/* ------------------------------------------------------------------ metrics */

typedef struct scribe_prf {
    double precision, recall, f1, overlap;
} scribe_prf;

typedef struct scribe_eval_params {
    double onset_tolerance;       /* 0.05 s */
    double offset_ratio;          /* 0.2 */
    double offset_min_tolerance;  /* 0.05 s */
    double velocity_tolerance;    /* 0.1 */
    double frame_rate;            /* 62.5 frames/s for frame metrics (MT3's frame_fps) */
} scribe_eval_params;

scribe_eval_params scribe_eval_default_params(void);

typedef struct scribe_eval_result {
    /* mir_eval.transcription on pitched notes (drums excluded) */
    scribe_prf onset, onset_offset, onset_offset_velocity, frame;
    /* MT3 program-aware multi-instrument F1 (drums onset-only) */
    scribe_prf multi_flat, multi_midi_class, multi_full;
    /* drums alone, onset-only */
    scribe_prf drum_onset;
    uint32_t ref_notes, est_notes;
} scribe_eval_result;

scribe_status scribe_evaluate(const scribe_notes *ref, const scribe_notes *est, const scribe_eval_params *p,
                              scribe_eval_result *out, scribe_error *err);
/* Onset-only P/R/F1 (drums excluded) at each of `n` tolerances. */
scribe_status scribe_evaluate_onset_sweep(const scribe_notes *ref, const scribe_notes *est,
                                          const double *tolerances, size_t n, scribe_prf *out,
                                          scribe_error *err);

/* ------------------------------------------------------------------ models */

typedef struct scribe_model scribe_model;

typedef enum scribe_model_kind {
    SCRIBE_MODEL_MT3 = 1,      /* T5 encoder-decoder over log-mel, event tokens */
    SCRIBE_MODEL_ACOUSTIC = 2  /* Basic Pitch CNN over CQT, posteriorgrams */
} scribe_model_kind;

/* Parses a scribe weights file. `bytes` must outlive the model. */
scribe_status scribe_model_init_from_buffer(const void *bytes, size_t len, scribe_model **out,
                                            scribe_error *err);
/* Reads the file into a buffer the model owns (native builds). */
scribe_status scribe_model_init_from_file(const char *path, scribe_model **out, scribe_error *err);
void scribe_model_free(scribe_model *model);
scribe_model_kind scribe_model_get_kind(const scribe_model *model);
/* Sample rate the model's front end runs at (16000 MT3, 22050 acoustic). */
uint32_t scribe_model_sample_rate(const scribe_model *model);
/* Human-readable one-line description (kind, sizes, parameter count). */
const char *scribe_model_describe(const scribe_model *model);

/* ------------------------------------------------------------------ sessions */

typedef struct scribe_session scribe_session;

/* Called after each segment/window; return non-zero to cancel. */
typedef int (*scribe_progress_fn)(void *user, double seconds_done);

typedef struct scribe_session_params {
    uint32_t input_sample_rate;   /* rate of the samples fed; resampled internally */
    scribe_progress_fn progress;  /* optional */
    void *progress_user;

    /* MT3 */
    int32_t max_decode_tokens;    /* per segment, <= 1024 */
    int32_t fixed_decode_tokens;  /* >0: decode exactly this many, ignoring EOS (benchmarks) */
    int32_t batch_segments;       /* segments decoded together (whole-file throughput) */

    /* acoustic (Basic Pitch note creation) */
    float onset_threshold;        /* 0.5 */
    float frame_threshold;        /* 0.3 */
    int32_t min_note_frames;      /* 11 (frames of 256/22050 s) */
    float min_frequency_hz;       /* <= 0: no limit */
    float max_frequency_hz;       /* <= 0: no limit */
    int32_t infer_onsets;         /* 1 */
    int32_t melodia_trick;        /* 1 */
    int32_t pitch_bends;          /* 1 */
    int32_t energy_tolerance;     /* 11 frames */
    int32_t stream_notes;         /* 0 (default): notes at finish, exactly the package's whole-file
                                     result; 1: while feeding, hand out the notes before each quiet
                                     stretch (live input). Streamed notes use the inferred-onset
                                     scaling seen so far and can differ slightly from the
                                     whole-file result (see src/models/acoustic_backend.c). */
    float max_pending_seconds;    /* 300: bounded memory. When the posteriorgram held for notes not
                                     yet made exceeds this many seconds (dense music without quiet
                                     stretches, or any file longer than it with stream_notes 0),
                                     the notes before a cut at a frame of low activation are made
                                     anyway, so the session holds at most about 2.3 KB per
                                     frame (86 per second) of this length plus 20 s (300 s:
                                     about 65 MB) however long the input. Notes near a cut, and
                                     weak inferred onsets before the file's maxima are seen, can
                                     differ slightly from the whole-file result; inputs shorter
                                     than the limit are exactly the package's. 0: unlimited
                                     (exact whole-file notes at any length; memory grows with
                                     it: 0.7 GB native, 1.3 GB WASM heap for an hour);
                                     otherwise 2..86400.
                                     (acoustic only; MT3 sessions always stream) */
} scribe_session_params;

scribe_session_params scribe_session_default_params(void);

/* The model must outlive the session. A session whose single largest buffer (for MT3: an attention
 * cache, batch_segments segments of the model's size) would exceed 2 GiB is refused with
 * SCRIBE_ERR_TOO_LARGE, on every platform; the published MT3 size stays below it at batch 64. */
scribe_status scribe_session_init(const scribe_model *model, const scribe_session_params *params,
                                  scribe_session **out, scribe_error *err);
/* Feeds `n` mono samples at params.input_sample_rate. Runs every segment that became complete.
 * Samples are sanitised on the way in: NaN counts as 0, values (and +-Inf) are clamped to +-16. */
scribe_status scribe_session_feed(scribe_session *s, const float *samples, size_t n, scribe_error *err);
/* Ends the stream: pads and runs the last partial segment. */
scribe_status scribe_session_finish(scribe_session *s, scribe_error *err);
/* Moves the notes that can no longer change into `out` (appended, sorted by onset). */
scribe_status scribe_session_take_notes(scribe_session *s, scribe_notes *out, scribe_error *err);
/* Thread-safe request to stop at the next segment boundary; later calls return SCRIBE_ERR_CANCELLED. */
void scribe_session_cancel(scribe_session *s);
/* Seconds of input audio consumed so far / already transcribed. */
double scribe_session_seconds_fed(const scribe_session *s);
double scribe_session_seconds_done(const scribe_session *s);
void scribe_session_free(scribe_session *s);

#ifdef __cplusplus
}
#endif
#endif /* SCRIBE_H */
