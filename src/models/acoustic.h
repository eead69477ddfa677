/* Basic Pitch's acoustic network (Spotify, Apache-2.0; weights converted from the npm package
 * @spotify/basic-pitch 1.0.1 by tools/convert_basic_pitch.mjs) run on one analysis window.
 *
 * One window = 43844 samples at 22050 Hz -> 172 frames (hop 256) of three posteriorgrams:
 * contours [172 x 264] (3 bins per semitone from A0), notes [172 x 88], onsets [172 x 88].
 *
 * Graph (exactly the TF.js graph in the package):
 *   CQT (nnAudio CQT2010v2: 9 octaves of 36 bins, 256-tap complex kernels, reflect pad 128,
 *        octave-wise stride-2 low-pass downsampling with zero pad 127), keep the top 309 bins,
 *        scale per bin, magnitude
 *   -> 10*log10(|X|^2 + 1e-10), min/max normalisation over the whole window to [0, 1]
 *   -> batch norm (one scale, one offset)
 *   -> harmonic stacking: 8 channels shifted by round(36*log2(h)) bins, h in {0.5,1..7}, 264 bins
 *   -> contour: conv 3x39 (8->8) + ReLU, conv 5x5 (8->1) + sigmoid               = contours
 *   -> note: conv 7x7 stride (1,3) (1->32) + ReLU, conv 7x3 (32->1) + sigmoid       = notes
 *   -> onset: conv 5x5 stride (1,3) (8->32) + ReLU on the stack, concat [notes, it],
 *             conv 3x3 (33->1) + sigmoid                                           = onsets
 * All convolutions use TF "SAME" padding; weights are HWIO [kh][kw][cin][cout]. */
#ifndef SCRIBE_ACOUSTIC_H
#define SCRIBE_ACOUSTIC_H

#include "weights.h"
#include "../dsp/cqt.h"

/* Configuration indices in sc_weights.config for kind SCRIBE_MODEL_ACOUSTIC (2). */
enum {
    SC_AC_CFG_SAMPLE_RATE = 0,      /* 22050 */
    SC_AC_CFG_HOP = 1,              /* 256 */
    SC_AC_CFG_WINDOW = 2,           /* 43844 samples per window */
    SC_AC_CFG_FRAMES = 3,           /* 172 frames per window */
    SC_AC_CFG_OVERLAP_FRAMES = 4,   /* 30 frames of overlap between windows */
    SC_AC_CFG_CQT_BINS = 5,         /* 309 bins kept */
    SC_AC_CFG_BINS_PER_OCTAVE = 6,  /* 36 */
    SC_AC_CFG_OCTAVES = 7,          /* 9 */
    SC_AC_CFG_CQT_TAPS = 8,         /* 256 */
    SC_AC_CFG_CONTOUR_BINS = 9,     /* 264 */
    SC_AC_CFG_NOTE_BINS = 10,       /* 88 */
    SC_AC_CFG_HARMONICS = 11,       /* 8 */
    SC_AC_CFG_LOG_EPS = 12,         /* float 1e-10 */
    SC_AC_CFG_DB_SCALE = 13,        /* float 10/ln(10) */
    SC_AC_CFG_BN_SCALE = 14,        /* float */
    SC_AC_CFG_BN_OFFSET = 15,       /* float */
    SC_AC_CFG_HARMONIC_SHIFT0 = 16  /* 16..23: bin shift of each harmonic channel */
};

#define SC_AC_MAX_HARMONICS 8

typedef struct sc_conv_layer {
    int kh, kw, cin, cout, stride_w;
    const float *w; /* [kh*kw*cin][cout] (HWIO flattened) */
    const float *b; /* [cout] */
} sc_conv_layer;

typedef struct sc_acoustic_model {
    int sample_rate, hop, window, frames, overlap_frames;
    int cqt_bins, bins_per_octave, octaves, taps;
    int contour_bins, note_bins, harmonics;
    int shifts[SC_AC_MAX_HARMONICS];
    float log_eps, db_scale, bn_scale, bn_offset;
    float *cqt_kernels;      /* [taps][2*bins_per_octave]: real then imaginary (owned) */
    float *cqt_lowpass;      /* [taps] (owned copy) */
    float *cqt_lowpass_poly; /* polyphase decimation matrix (see cqt.h), in `owned` */
    float *cqt_group_store;  /* kernels trimmed per bin group (see cqt.h), in `owned` */
    sc_cqt cqt;              /* the front end over the tensors above */
    float *cqt_scale;        /* [cqt_bins] (owned copy) */
    float *owned;            /* f32 copies of every tensor (one block) */
    size_t owned_floats;     /* its size: the loaded tensors and derived tables only */
    sc_conv_layer contour1, contour2, note1, note2, onset1, onset2;
    sc_conv_layer onset2_notes, onset2_rest; /* onset2 split by input channel (1 + 32), weights in `owned` */
    long long n_params;
} sc_acoustic_model;

/* Per-window work buffers (allocated once per session). */
typedef struct sc_acoustic_work {
    float *sig;       /* padded signal scratch */
    float *sig2;      /* downsampled signal */
    float *cqt_out;   /* [frames][2*bins_per_octave] */
    float *spec;      /* [frames][cqt_bins] */
    float *stack;     /* [frames][contour_bins][harmonics] */
    float *c1;        /* [frames][contour_bins][8] */
    float *n1;        /* [frames][note_bins][32] */
    float *o1;        /* [frames][note_bins][32] */
    float *col;       /* im2col scratch */
    size_t col_cap;   /* floats */
    double flops_cqt, flops_conv; /* counted FLOPs (for benchmarks) */
    double sec_cqt, sec_conv;     /* wall time in the CQT (with log/normalisation) and the CNN */
} sc_acoustic_work;

scribe_status sc_acoustic_model_init(const sc_weights *w, sc_acoustic_model *m, scribe_error *err);
/* Binds from any weights file: `config` holds the 64 acoustic config values (SC_AC_CFG_*) and
 * every tensor is looked up as prefix + its name ("" for a basic-pitch.scrb; "acoustic." inside
 * an MT3 file with acoustic features, see t5.h). Only tensors under `prefix` are copied. */
scribe_status sc_acoustic_model_bind(const int32_t *config, const sc_weights *w, const char *prefix,
                                     sc_acoustic_model *m, scribe_error *err);
void sc_acoustic_model_free(sc_acoustic_model *m);

scribe_status sc_acoustic_work_init(const sc_acoustic_model *m, sc_acoustic_work *wk, scribe_error *err);
void sc_acoustic_work_free(sc_acoustic_work *wk);

/* Runs one window of m->window samples; writes rows [overlap_frames / 2, frames - overlap_frames / 2)
 * of each output (contours [frames][contour_bins], notes and onsets [frames][note_bins]): the
 * frames the package keeps. Layers compute only the rows those depend on. Allocates nothing. */
void sc_acoustic_forward(const sc_acoustic_model *m, sc_acoustic_work *wk, const float *audio, float *contours,
                         float *notes, float *onsets);

/* The network's windowing over a stream (basic-pitch-ts inference.ts), shared by the acoustic
 * session and MT3 sessions that read acoustic features: the signal is preceded by `lead` zeros
 * (half the overlap), a window of m->window samples starts every `step` samples (the last ones
 * zero-padded), each gives its middle `keep` rows (frames - overlap), and the whole is cut to
 * sc_acoustic_frames_of(signal length) rows. Use: take samples until the window is full, run it,
 * copy its new rows (rows trim .. trim + keep - 1 of wc / wn / wo); at the end of the signal run
 * while sc_acoustic_windower_more says so. */
typedef struct sc_acoustic_windower {
    const sc_acoustic_model *m;
    sc_acoustic_work wk;
    int lead, trim, step, keep;
    float *win;            /* [window] samples of the padded signal from `base` */
    int win_len;
    int64_t base;          /* padded-signal index of win[0] */
    int64_t n_audio;       /* signal samples taken */
    float *wc, *wn, *wo;   /* the last window's outputs: [frames][contour_bins], [frames][note_bins] x2 */
} sc_acoustic_windower;

scribe_status sc_acoustic_windower_init(sc_acoustic_windower *w, const sc_acoustic_model *m, scribe_error *err);
void sc_acoustic_windower_free(sc_acoustic_windower *w);
/* Takes up to n samples, stopping when the window is full (then run it before taking more);
 * returns the number taken. */
size_t sc_acoustic_windower_take(sc_acoustic_windower *w, const float *x, size_t n);
static inline int sc_acoustic_windower_full(const sc_acoustic_windower *w) { return w->win_len == w->m->window; }
/* At the end of the signal: whether a window covering it remains to run. */
static inline int sc_acoustic_windower_more(const sc_acoustic_windower *w) { return w->base < w->lead + w->n_audio; }
/* Runs the window (zero-padded past the samples taken) and advances one step. Allocates nothing. */
void sc_acoustic_windower_run(sc_acoustic_windower *w);
/* Rows of the whole posteriorgram of an n-sample signal: floor(n * floor(rate / hop) / rate). */
int64_t sc_acoustic_frames_of(const sc_acoustic_model *m, int64_t n);

/* Whole-signal posteriorgrams through the session's windowing (tests, benchmarks). The three
 * arrays ([n_frames][264], [n_frames][88] x2) are malloc'd; free them with free(). When `stats`
 * is non-NULL it receives {FLOPs in the CQT, FLOPs in the convolutions, seconds in the CQT front
 * end, seconds in the CNN}. */
scribe_status sc_acoustic_posteriorgrams(const scribe_model *model, const float *x, size_t n, float **contours,
                                         float **notes, float **onsets, int *n_frames, double *stats,
                                         scribe_error *err);

/* The same without the final trim to sc_acoustic_frames_of(n): every row the windows give, up to
 * a window past the signal's end. MT3 features (mt3_acoustic.h) read these: the trim, made for
 * the package's note timing, would cut the last 0.7 % of the signal. */
scribe_status sc_acoustic_window_rows(const scribe_model *model, const float *x, size_t n, float **contours,
                                      float **notes, float **onsets, int *n_frames, scribe_error *err);

/* Memory figures of an acoustic session (tests, benchmarks): posteriorgram rows held now and at
 * most, rows allocated, the bound on rows allocated that max_pending_seconds implies (0:
 * unlimited), the longest note-creation window (its scratch is about 16 bytes per cell, 1.4 KB per
 * row), the number of forced cuts made, bytes per held row. */
typedef struct sc_acoustic_session_stats {
    int rows_held, peak_rows_held;
    int rows_allocated, peak_rows_allocated, rows_bound;
    int peak_window_rows, forced_cuts, bytes_per_row;
    int peak_rows_ahead; /* rows held past the last one usable for notes (the trim point, or with a
                            limit at most the lookahead before the newest row) */
    int cut_frames[64]; /* the first 64 forced cuts (file frames) */
} sc_acoustic_session_stats;

scribe_status sc_acoustic_session_get_stats(const scribe_session *s, sc_acoustic_session_stats *out, scribe_error *err);

#endif
