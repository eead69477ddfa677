/* MT3 event vocabulary and codec (see mt3_codec.h). */
#include "mt3_codec.h"

#include <string.h>

scribe_status sc_mt3_codec_init(sc_mt3_codec *c, int steps_per_second, int max_shift_steps, int num_velocity_bins,
                                int use_ties, int use_programs, int use_drums, int vocab_size, scribe_error *err) {
    if (!c) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_codec_init: NULL codec");
    if (steps_per_second < 1 || steps_per_second > 10000)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "codec steps_per_second %d outside 1..10000", steps_per_second);
    if (max_shift_steps < 1 || max_shift_steps > 100000)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "codec max_shift_steps %d outside 1..100000", max_shift_steps);
    if (num_velocity_bins < 1 || num_velocity_bins > 127)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "codec num_velocity_bins %d outside 1..127", num_velocity_bins);
    memset(c, 0, sizeof *c);
    c->steps_per_second = steps_per_second;
    c->max_shift_steps = max_shift_steps;
    c->num_velocity_bins = num_velocity_bins;
    c->use_ties = use_ties != 0;
    c->use_programs = use_programs != 0;
    c->use_drums = use_drums != 0;
    /* build_codec always lists every range, whatever the encoding spec uses. */
    const int mins[SC_MT3_EV_COUNT] = {0, 0, 0, 0, 0, 0};
    const int maxs[SC_MT3_EV_COUNT] = {max_shift_steps, 127, num_velocity_bins, 0, 127, 127};
    int off = 0;
    for (int t = 0; t < SC_MT3_EV_COUNT; t++) {
        c->range_lo[t] = off;
        c->range_min[t] = mins[t];
        c->range_max[t] = maxs[t];
        off += maxs[t] - mins[t] + 1;
    }
    c->num_classes = off;
    int need = SC_MT3_NUM_SPECIAL + off;
    int rounded = 128 * ((need + SC_MT3_EXTRA_IDS + 127) / 128);
    if (vocab_size <= 0) vocab_size = rounded;
    if (vocab_size < need)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "vocabulary size %d smaller than the %d ids the codec needs",
                       vocab_size, need);
    c->vocab_size = vocab_size;
    return sc_ok(err);
}

scribe_status sc_mt3_codec_init_mt3(sc_mt3_codec *c, scribe_error *err) {
    return sc_mt3_codec_init(c, 100, 1000, 1, 1, 1, 1, 0, err);
}

scribe_status sc_mt3_codec_init_ismir2021(sc_mt3_codec *c, scribe_error *err) {
    return sc_mt3_codec_init(c, 100, 1000, 127, 0, 0, 0, 0, err);
}

int sc_mt3_codec_encode(const sc_mt3_codec *c, int type, int value) {
    if (type < 0 || type >= SC_MT3_EV_COUNT) return -1;
    if (value < c->range_min[type] || value > c->range_max[type]) return -1;
    return SC_MT3_NUM_SPECIAL + c->range_lo[type] + value - c->range_min[type];
}

sc_mt3_event sc_mt3_codec_decode(const sc_mt3_codec *c, int token) {
    sc_mt3_event e = {SC_MT3_EV_INVALID, 0};
    if (token == SC_MT3_EOS) {
        e.type = SC_MT3_EV_EOS;
        return e;
    }
    int id = token - SC_MT3_NUM_SPECIAL;
    if (token < SC_MT3_NUM_SPECIAL || id >= c->num_classes) return e;
    for (int t = SC_MT3_EV_COUNT - 1; t >= 0; t--) {
        if (id >= c->range_lo[t]) {
            e.type = t;
            e.value = c->range_min[t] + id - c->range_lo[t];
            return e;
        }
    }
    return e;
}

int sc_mt3_velocity_to_bin(int velocity, int num_velocity_bins) {
    if (velocity <= 0) return 0;
    /* math.ceil(bins * velocity / 127) in exact integer arithmetic */
    return (num_velocity_bins * velocity + 126) / 127;
}

int sc_mt3_bin_to_velocity(int velocity_bin, int num_velocity_bins) {
    if (velocity_bin <= 0) return 0;
    return (127 * velocity_bin) / num_velocity_bins;
}
