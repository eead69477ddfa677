/* WAV reader and writer.
 *
 * Accepted: RIFF/WAVE, little-endian; format tags 1 (PCM: 8-bit unsigned, 16/24/32-bit signed,
 * container size = block_align / channels, valid bits <= container), 3 (IEEE float 32/64) and
 * 0xFFFE (WAVE_FORMAT_EXTENSIBLE with the PCM or IEEE float sub-format GUID); 1..65535 channels;
 * 1..768000 Hz. Chunks other than "fmt " and "data" are skipped (odd sizes padded to even).
 *
 * Decisions, applied consistently:
 *   - the RIFF size field is trusted only when it fits in the buffer; 0, 0xFFFFFFFF or any
 *     value that overruns the buffer (streaming writers) means "to the end of the buffer";
 *   - a data size of 0xFFFFFFFF (streaming writers) means "the rest of the file";
 *   - any other data size larger than the bytes present is a truncated file and is rejected;
 *   - a data size that is not a whole number of frames: the trailing partial frame is ignored;
 *   - byte_rate is not checked (writers often get it wrong; nothing depends on it);
 *   - NaN and +-Inf samples of float files are replaced by 0 before the downmix, so nothing
 *     downstream ever sees a non-finite value; float values beyond [-1, 1] are kept as they are
 *     up to +-1e4 (80 dB over full scale), where they saturate (no overflow downstream);
 *   - a data chunk with zero frames decodes to an empty (0-frame) audio.
 * Downmix: mean of the channels. Compressed formats (ADPCM, A-law...) give SCRIBE_ERR_UNSUPPORTED,
 * RIFX/RF64 too; everything malformed gives SCRIBE_ERR_BAD_AUDIO with a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"

#define SC_WAV_MAX_RATE 768000u
/* Float samples saturate here (80 dB above full scale): beyond it a file holds garbage, not audio,
 * and sums of squares downstream must stay finite. */
#define SC_WAV_FLOAT_LIMIT 1e4

static uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

typedef struct wav_fmt {
    int is_float;
    uint32_t channels, rate, block_align, container_bytes;
} wav_fmt;

static const uint8_t ksubformat_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

static scribe_status parse_fmt(const uint8_t *p, uint32_t size, wav_fmt *f, scribe_error *err) {
    if (size < 16) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV fmt chunk is %u bytes, expected at least 16", size);
    uint32_t tag = rd_u16(p);
    uint32_t channels = rd_u16(p + 2);
    uint32_t rate = rd_u32(p + 4);
    uint32_t block_align = rd_u16(p + 12);
    uint32_t bits = rd_u16(p + 14);
    if (tag == 0xFFFE) {
        if (size < 40)
            return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAVE_FORMAT_EXTENSIBLE fmt chunk is %u bytes, expected 40", size);
        uint32_t cb = rd_u16(p + 16);
        if (cb < 22) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAVE_FORMAT_EXTENSIBLE cbSize %u, expected >= 22", cb);
        uint32_t valid = rd_u16(p + 18);
        if (valid > bits)
            return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV valid bits per sample %u exceed the container's %u", valid, bits);
        if (memcmp(p + 26, ksubformat_tail, sizeof ksubformat_tail) != 0)
            return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a standard one");
        tag = rd_u16(p + 24);
        if (tag != 1 && tag != 3)
            return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "WAVE_FORMAT_EXTENSIBLE sub-format 0x%04X is not PCM or float", tag);
    }
    if (tag != 1 && tag != 3)
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "WAV format tag 0x%04X (compressed) is not supported; only PCM and IEEE float", tag);
    if (channels == 0) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV declares 0 channels");
    if (rate == 0) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV declares a sample rate of 0 Hz");
    if (rate > SC_WAV_MAX_RATE)
        return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV sample rate %u Hz is out of range (1..%u)", rate, SC_WAV_MAX_RATE);
    if (block_align == 0 || block_align % channels != 0)
        return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV block_align %u is not a multiple of the %u channels", block_align,
                       channels);
    uint32_t cbytes = block_align / channels;
    if (bits == 0 || bits > cbytes * 8)
        return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV bits per sample %u inconsistent with block_align %u for %u channels",
                       bits, block_align, channels);
    if (tag == 1 && (cbytes < 1 || cbytes > 4))
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "WAV PCM sample container of %u bytes (expected 1..4)", cbytes);
    if (tag == 3 && !((cbytes == 4 && bits == 32) || (cbytes == 8 && bits == 64)))
        return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV float samples of %u bits in %u-byte containers (expected 32 or 64)",
                       bits, cbytes);
    f->is_float = tag == 3;
    f->channels = channels;
    f->rate = rate;
    f->block_align = block_align;
    f->container_bytes = cbytes;
    return SCRIBE_OK;
}

static float read_sample(const uint8_t *p, const wav_fmt *f) {
    if (f->is_float) {
        double v;
        if (f->container_bytes == 4) {
            uint32_t u = rd_u32(p);
            float x;
            memcpy(&x, &u, 4);
            v = x;
        } else {
            uint64_t u = (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
            memcpy(&v, &u, 8);
        }
        if (!isfinite(v)) return 0.0f;
        return (float)(v > SC_WAV_FLOAT_LIMIT ? SC_WAV_FLOAT_LIMIT : (v < -SC_WAV_FLOAT_LIMIT ? -SC_WAV_FLOAT_LIMIT : v));
    }
    switch (f->container_bytes) {
    case 1: return ((int)p[0] - 128) * (1.0f / 128.0f);
    case 2: return (float)(int16_t)rd_u16(p) * (1.0f / 32768.0f);
    case 3: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24) >> 8;
        return (float)v * (1.0f / 8388608.0f);
    }
    default: return (float)((double)(int32_t)rd_u32(p) * (1.0 / 2147483648.0));
    }
}

scribe_status scribe_wav_decode(const uint8_t *bytes, size_t len, scribe_audio *out, scribe_error *err) {
    if (!out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_wav_decode: out is NULL");
    memset(out, 0, sizeof *out);
    if (!bytes && len) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_wav_decode: bytes is NULL");
    if (len == 0) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV input is empty (0 bytes)");
    if (len < 12) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV input of %zu bytes is too short for a RIFF header", len);
    if (!memcmp(bytes, "RIFX", 4) || !memcmp(bytes, "RF64", 4))
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "%.4s WAV files are not supported (only little-endian RIFF)",
                       (const char *)bytes);
    if (memcmp(bytes, "RIFF", 4) || memcmp(bytes + 8, "WAVE", 4))
        return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "not a WAV file: expected \"RIFF....WAVE\" at the start");
    uint32_t riff = rd_u32(bytes + 4);
    size_t end = (riff >= 4 && riff <= len - 8) ? (size_t)riff + 8 : len;

    wav_fmt fmt = {0};
    int have_fmt = 0, have_data = 0;
    size_t data_off = 0, data_len = 0;
    size_t pos = 12;
    while (end - pos >= 8) {
        const uint8_t *h = bytes + pos;
        uint32_t size = rd_u32(h + 4);
        size_t body = pos + 8, avail = end - body;
        if (!memcmp(h, "data", 4)) {
            if (have_data) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV has two data chunks");
            if (size == 0xFFFFFFFFu) {
                data_len = len - body; /* streaming writer: the rest of the file */
            } else if (size > avail) {
                return sc_fail(err, SCRIBE_ERR_BAD_AUDIO,
                               "WAV data chunk declares %u bytes but only %zu remain (truncated file)", size, avail);
            } else {
                data_len = size;
            }
            data_off = body;
            have_data = 1;
            if (size == 0xFFFFFFFFu) break;
        } else if (!memcmp(h, "fmt ", 4)) {
            if (have_fmt) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV has two fmt chunks");
            if (size > avail)
                return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV fmt chunk declares %u bytes but only %zu remain", size, avail);
            scribe_status st = parse_fmt(bytes + body, size, &fmt, err);
            if (st) return st;
            have_fmt = 1;
        } else if (size > avail) {
            break; /* a trailing unknown chunk cut short: nothing we need is in it */
        }
        size_t step = (size_t)size + (size & 1u);
        if (step > end - body) break;
        pos = body + step;
    }
    if (!have_fmt) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV has no fmt chunk");
    if (!have_data) return sc_fail(err, SCRIBE_ERR_BAD_AUDIO, "WAV has no data chunk");

    size_t frames = data_len / fmt.block_align;
    float *s = sc_malloc_array(frames ? frames : 1, sizeof(float));
    if (!s) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for %zu audio frames", frames);
    const uint8_t *d = bytes + data_off;
    const float inv = 1.0f / (float)fmt.channels;
    for (size_t i = 0; i < frames; i++) {
        const uint8_t *fp = d + i * fmt.block_align;
        if (fmt.channels == 1) {
            s[i] = read_sample(fp, &fmt);
        } else {
            float acc = 0.0f;
            for (uint32_t c = 0; c < fmt.channels; c++) acc += read_sample(fp + c * fmt.container_bytes, &fmt);
            s[i] = acc * inv;
        }
    }
    out->samples = s;
    out->frames = frames;
    out->sample_rate = fmt.rate;
    out->source_channels = fmt.channels;
    return sc_ok(err);
}

static void wr_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void wr_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

scribe_status scribe_wav_encode(const float *samples, size_t frames, uint32_t sample_rate, uint8_t **out,
                                size_t *out_len, scribe_error *err) {
    if (!out || !out_len || (!samples && frames))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_wav_encode: NULL argument");
    *out = NULL;
    *out_len = 0;
    if (sample_rate == 0 || sample_rate > SC_WAV_MAX_RATE)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sample rate %u Hz is out of range (1..%u)", sample_rate,
                       SC_WAV_MAX_RATE);
    if (frames > (0xFFFFFFFFu - 44u) / 2u)
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "%zu frames do not fit in a WAV file (4 GB limit)", frames);
    size_t total = 44 + frames * 2;
    uint8_t *b = malloc(total);
    if (!b) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for a %zu-byte WAV", total);
    memcpy(b, "RIFF", 4);
    wr_u32(b + 4, (uint32_t)(total - 8));
    memcpy(b + 8, "WAVEfmt ", 8);
    wr_u32(b + 16, 16);
    wr_u16(b + 20, 1);
    wr_u16(b + 22, 1);
    wr_u32(b + 24, sample_rate);
    wr_u32(b + 28, sample_rate * 2u);
    wr_u16(b + 32, 2);
    wr_u16(b + 34, 16);
    memcpy(b + 36, "data", 4);
    wr_u32(b + 40, (uint32_t)(frames * 2));
    for (size_t i = 0; i < frames; i++) {
        float x = samples[i];
        if (!(x == x)) x = 0.0f; /* NaN */
        x = x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
        long v = lrintf(x * 32768.0f);
        if (v > 32767) v = 32767;
        wr_u16(b + 44 + 2 * i, (uint32_t)(uint16_t)(int16_t)v);
    }
    *out = b;
    *out_len = total;
    return sc_ok(err);
}

void scribe_audio_free(scribe_audio *audio) {
    if (!audio) return;
    free(audio->samples);
    audio->samples = NULL;
    audio->frames = 0;
}
