/* scribe-native: the native twin of `bin/scribe transcribe`, for measurements (memory, time).
 *
 *   scribe-native transcribe IN.wav --model FILE [--csv OUT] [--seconds N] [--block N]
 *                 [--fixed-tokens N] [--batch N] [--seed S] [--stream-notes 0|1]
 *
 * --block 0 feeds the whole input in one call (materialised); --block -N feeds random block
 * sizes in 1..N (xorshift, --seed S) as a microphone stream would arrive.
 * The WAV is decoded once and fed to a session in blocks of --block frames (default 4096) at its
 * own rate; with --seconds N the clip is looped (never materialised) until N seconds were fed, so
 * a 60-minute input costs no more memory than the clip. Prints one `key: value` line per figure:
 * audio_seconds, notes, wall_seconds, finish_seconds (the scribe_session_finish call alone),
 * realtime_factor, peak_rss_mb (getrusage ru_maxrss). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "scribe.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *read_file(const char *path, size_t *len, size_t align) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    void *buf = aligned_alloc(align, ((size_t)n + align) / align * align);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int fail(const char *what, const scribe_error *e) {
    fprintf(stderr, "scribe-native: %s: %s (%s)\n", what, e->message, scribe_status_name(e->code));
    return 1;
}

int main(int argc, char **argv) {
    const char *usage = "usage: scribe-native transcribe IN.wav --model FILE [--csv OUT] [--seconds N] [--block N] "
                        "[--fixed-tokens N] [--batch N] [--seed S] [--stream-notes 0|1] [--max-pending S]";
    if (argc < 3 || strcmp(argv[1], "transcribe") != 0) { fprintf(stderr, "%s\n", usage); return 2; }
    const char *in = argv[2], *model_path = NULL, *csv_path = NULL;
    double seconds = 0, max_pending = -1;
    long block = 4096, fixed = 0, batch = 0, stream_notes = 0;
    uint32_t seed = 12345;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) { fprintf(stderr, "option %s needs a value\n%s\n", argv[i], usage); return 2; }
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--model")) model_path = v;
        else if (!strcmp(k, "--csv")) csv_path = v;
        else if (!strcmp(k, "--seconds")) seconds = atof(v);
        else if (!strcmp(k, "--block")) block = atol(v);
        else if (!strcmp(k, "--fixed-tokens")) fixed = atol(v);
        else if (!strcmp(k, "--batch")) batch = atol(v);
        else if (!strcmp(k, "--stream-notes")) stream_notes = atol(v);
        else if (!strcmp(k, "--max-pending")) max_pending = atof(v);
        else if (!strcmp(k, "--seed")) seed = (uint32_t)strtoul(v, NULL, 10) | 1u;
        else { fprintf(stderr, "unknown option %s\n%s\n", k, usage); return 2; }
    }
    if (!model_path) { fprintf(stderr, "%s\n", usage); return 2; }

    scribe_error err = {0};
    size_t wlen = 0, mlen = 0;
    uint8_t *wav = read_file(in, &wlen, 16);
    if (!wav) { fprintf(stderr, "scribe-native: cannot read %s\n", in); return 1; }
    scribe_audio audio;
    if (scribe_wav_decode(wav, wlen, &audio, &err)) return fail(in, &err);
    free(wav);
    if (audio.frames == 0) { fprintf(stderr, "scribe-native: %s has no samples\n", in); return 1; }
    void *wbuf = read_file(model_path, &mlen, 64);
    if (!wbuf) { fprintf(stderr, "scribe-native: cannot read %s\n", model_path); return 1; }
    scribe_model *model;
    if (scribe_model_init_from_buffer(wbuf, mlen, &model, &err)) return fail(model_path, &err);

    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = audio.sample_rate;
    if (fixed > 0) p.fixed_decode_tokens = (int32_t)fixed;
    if (batch > 0) p.batch_segments = (int32_t)batch;
    p.stream_notes = (int32_t)stream_notes;
    if (max_pending >= 0) p.max_pending_seconds = (float)max_pending;
    scribe_session *s;
    if (scribe_session_init(model, &p, &s, &err)) return fail("session", &err);

    size_t total = seconds > 0 ? (size_t)(seconds * audio.sample_rate) : audio.frames;
    scribe_notes notes;
    scribe_notes_init(&notes);
    size_t n_notes = 0;
    float *whole = NULL;
    if (block == 0 && total > audio.frames) {
        whole = malloc(total * sizeof *whole);
        if (!whole) { fprintf(stderr, "scribe-native: out of memory for %zu samples\n", total); return 1; }
        for (size_t i = 0; i < total; i++) whole[i] = audio.samples[i % audio.frames];
    }
    const float *src = whole ? whole : audio.samples;
    size_t src_frames = whole ? total : audio.frames;
    double t0 = now_s();
    for (size_t done = 0, pos = 0; done < total;) {
        size_t k = block == 0 ? total : block > 0 ? (size_t)block : 0;
        if (block < 0) {
            seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
            k = 1 + seed % (size_t)(-block);
        }
        if (k > total - done) k = total - done;
        if (k > src_frames - pos) k = src_frames - pos;
        if (scribe_session_feed(s, src + pos, k, &err)) return fail("feed", &err);
        if (scribe_session_take_notes(s, &notes, &err)) return fail("take_notes", &err);
        if (!csv_path) { /* only counted: peak RSS is the engine's, not the caller's note list */
            n_notes += notes.count;
            scribe_notes_clear(&notes);
        }
        done += k;
        pos = (pos + k) % src_frames;
    }
    double t_fin = now_s();
    if (scribe_session_finish(s, &err)) return fail("finish", &err);
    t_fin = now_s() - t_fin;
    if (scribe_session_take_notes(s, &notes, &err)) return fail("take_notes", &err);
    n_notes += notes.count;
    double wall = now_s() - t0;

    if (csv_path) {
        char *text;
        size_t tlen;
        if (scribe_notes_write_csv(&notes, &text, &tlen, &err)) return fail("csv", &err);
        FILE *f = fopen(csv_path, "wb");
        if (!f || fwrite(text, 1, tlen, f) != tlen || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", csv_path); return 1; }
        scribe_free(text);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = (double)total / audio.sample_rate;
    printf("model: %s\n", scribe_model_describe(model));
    printf("audio_seconds: %.1f\nnotes: %zu\nwall_seconds: %.2f\nfinish_seconds: %.2f\nrealtime_factor: %.1f\n"
           "peak_rss_mb: %.1f\n", secs, n_notes, wall, t_fin, secs / wall, ru.ru_maxrss / 1024.0);
    free(whole);
    scribe_notes_free(&notes);
    scribe_session_free(s);
    scribe_model_free(model);
    free(wbuf);
    scribe_audio_free(&audio);
    return 0;
}
