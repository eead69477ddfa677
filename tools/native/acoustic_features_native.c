/* scribe-acoustic-features: the acoustic (Basic Pitch) features an MT3 model with
 * acoustic_features = 176 reads beside the log-mel, for a whole file (training data).
 *
 *   scribe-acoustic-features IN.wav --model weights/basic-pitch.scrb --out OUT.f32
 *
 * IN.wav at any rate is resampled to 16 kHz (the MT3 rate), then to 22050 Hz for the acoustic
 * network, exactly as an MT3 session does; OUT.f32 is little-endian float32 [rows][176] (88 note
 * then 88 onset posteriors per MT3 frame, src/models/mt3_acoustic.h), with rows up to the first
 * MT3 frame whose features are all zero (later frames are zero too). Prints `rows: N`. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scribe.h"
#include "models/acoustic.h"
#include "models/mt3_acoustic.h"

static void *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    void *buf = aligned_alloc(64, ((size_t)n + 64) / 64 * 64);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int fail(const char *what, const scribe_error *e) {
    fprintf(stderr, "scribe-acoustic-features: %s: %s\n", what, e->message);
    return 1;
}

int main(int argc, char **argv) {
    const char *usage = "usage: scribe-acoustic-features IN.wav --model BASIC_PITCH.scrb --out OUT.f32";
    const char *in = argc > 1 ? argv[1] : NULL, *model_path = NULL, *out_path = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model_path = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out_path = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n%s\n", argv[i], usage); return 2; }
    }
    if (!in || !model_path || !out_path || argc % 2 != 0) { fprintf(stderr, "%s\n", usage); return 2; }
    scribe_error err = {0};
    size_t len = 0, mlen = 0;
    uint8_t *wav = read_file(in, &len);
    if (!wav) { fprintf(stderr, "scribe-acoustic-features: cannot read %s\n", in); return 1; }
    scribe_audio audio;
    if (scribe_wav_decode(wav, len, &audio, &err)) return fail(in, &err);
    free(wav);
    void *wbuf = read_file(model_path, &mlen);
    if (!wbuf) { fprintf(stderr, "scribe-acoustic-features: cannot read %s\n", model_path); return 1; }
    scribe_model *model;
    if (scribe_model_init_from_buffer(wbuf, mlen, &model, &err)) return fail(model_path, &err);

    float *x16 = audio.samples;
    size_t n16 = audio.frames;
    if (audio.sample_rate != 16000 &&
        scribe_resample(audio.samples, audio.frames, audio.sample_rate, 16000, &x16, &n16, &err))
        return fail("resample to 16 kHz", &err);
    float *feat = NULL;
    int64_t rows = 0;
    if (sc_mt3_ac_whole(model, x16, n16, -1, &feat, &rows, &err)) return fail("acoustic features", &err);
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(feat, sizeof *feat, (size_t)rows * SC_MT3_AC_FEATURES, f) != (size_t)rows * SC_MT3_AC_FEATURES ||
        fclose(f) != 0) {
        fprintf(stderr, "scribe-acoustic-features: cannot write %s\n", out_path);
        return 1;
    }
    printf("rows: %lld\n", (long long)rows);
    free(feat);
    if (x16 != audio.samples) scribe_free(x16);
    scribe_model_free(model);
    free(wbuf);
    scribe_audio_free(&audio);
    return 0;
}
