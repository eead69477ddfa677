/* Standard MIDI File writer and reader.
 *
 * Writer (SMF type 1, 480 ticks per quarter, 120 bpm => 960 ticks per second):
 *   track 0: tempo 500000 us/quarter and a 4/4 time signature;
 *   then one track per General MIDI program present among pitched notes (ascending
 *   program, named with the GM program name, program change at tick 0), then one
 *   "Drums" track on channel 10 (index 9). Note times are rounded to the nearest tick;
 *   a note shorter than one tick keeps one tick.
 *   Channels: the 15 non-drum channels go to programs in order. With more than 15
 *   programs, tracks share channels round-robin and every note-on of a shared channel
 *   is preceded by a program change. Channels left over serve pitch-bent notes (split
 *   among the tracks that have bends): a bent note that overlaps another note of its
 *   track's channel moves to one of its track's spare channels that is silent at that
 *   time (program change before its note-on); when none is free it stays, and its bends
 *   then also bend the notes it overlaps (pitch bend is per channel).
 *   Bends: each scribe_bend point becomes a pitch-bend message at its tick (clamped
 *   into the note; points at or after the note-off tick are dropped), value
 *   8192 + semitones / 2 * 8192 (a +-2 semitone range) clamped to 0..16383; the
 *   channel is reset to centre right after the note-off.
 *   Same-tick order: note-offs, bend resets, program changes, bends, note-ons.
 *   Same pitch on one channel: a note still sounding when the next one starts is cut at
 *   that onset; two notes with the same onset tick become one (the longer).
 *
 * Reader (SMF type 0 and 1; type 2 is unsupported):
 *   the tempo map is gathered from set-tempo events of every track, and ticks become
 *   seconds piecewise across tempo changes (SMPTE divisions use frames x ticks per
 *   frame, 29 meaning 29.97 fps). Running status, note-on velocity 0 as note-off,
 *   sysex and meta events skipped. Program, pitch-bend and open-note state are kept
 *   per track and channel (as pretty_midi does); channel 10 is drums (program 0).
 *   A note-off closes every open note of its channel and pitch that started at an
 *   earlier tick (pretty_midi's rule); unmatched note-offs are ignored; notes still on
 *   at the end of a track end at the track's last event. A pitch bend is attached
 *   (in semitones, +-2 range) to every note sounding on its channel; a note starting
 *   while its channel is bent, or right after a bend at the same tick, gets a first
 *   point at its onset.
 *   Malformed input (truncated chunk, bad lengths, a VLQ longer than 4 bytes, running
 *   status with no previous status, data bytes >= 0x80) returns SCRIBE_ERR_BAD_MIDI.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"

#define SC_MIDI_TPQ 480
#define SC_MIDI_TICKS_PER_S 960.0
#define SC_MIDI_MAX_SECONDS 1.0e6
#define SC_MIDI_DRUM_CHANNEL 9
/* Bend points attached to notes (each bend event counts once per sounding note of its channel). */
#define SC_MIDI_MAX_BENDS (1 << 24)

static const char *const gm_program_names[128] = {
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica",
    "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp",
    "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs", "Voice Oohs",
    "Synth Choir", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1",
    "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter", "Applause",
    "Gunshot",
};

/* ------------------------------------------------------------------ byte buffer */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int oom;
} bytebuf;

static void bb_put(bytebuf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (sc_grow((void **)&b->data, &b->cap, b->len + n, 1, NULL)) { b->oom = 1; return; }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static void bb_u8(bytebuf *b, uint8_t v) { bb_put(b, &v, 1); }
static void bb_u16(bytebuf *b, uint32_t v) { uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v}; bb_put(b, t, 2); }
static void bb_u32(bytebuf *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bb_put(b, t, 4);
}
static void bb_vlq(bytebuf *b, uint32_t v) {
    uint8_t t[4];
    int n = 0;
    t[n++] = v & 0x7f;
    while ((v >>= 7) && n < 4) t[n++] = (uint8_t)(0x80 | (v & 0x7f));
    while (n) bb_u8(b, t[--n]);
}

/* ------------------------------------------------------------------ writer */

enum { EV_OFF = 0, EV_BEND_RESET = 1, EV_PROGRAM = 2, EV_BEND = 3, EV_ON = 4 };

typedef struct {
    uint32_t tick;
    uint8_t klass;
    uint32_t seq;
    uint8_t msg[3];
    uint8_t len;
} wevent;

typedef struct {
    uint32_t on, off;
    size_t idx;      /* index in the input list */
    int channel;
    int dropped;
} wnote;

static int cmp_wevent(const void *pa, const void *pb) {
    const wevent *a = pa, *b = pb;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    if (a->klass != b->klass) return a->klass < b->klass ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static uint32_t to_tick(double t) { return (uint32_t)llround(t * SC_MIDI_TICKS_PER_S); }

/* Context for sorting wnotes by (on, pitch) without globals. */
typedef struct {
    wnote w;
    int32_t pitch;
} wnote_key;

static int cmp_wnote_key(const void *pa, const void *pb) {
    const wnote_key *a = pa, *b = pb;
    if (a->w.on != b->w.on) return a->w.on < b->w.on ? -1 : 1;
    if (a->w.channel != b->w.channel) return a->w.channel - b->w.channel;
    if (a->pitch != b->pitch) return a->pitch - b->pitch;
    if (a->w.off != b->w.off) return a->w.off > b->w.off ? -1 : 1; /* longer first */
    return (a->w.idx > b->w.idx) - (a->w.idx < b->w.idx);
}

static int ev_push(wevent **evs, size_t *n, size_t *cap, uint32_t tick, int klass, uint8_t s, uint8_t d1, uint8_t d2,
                   int len) {
    if (sc_grow((void **)evs, cap, *n + 1, sizeof **evs, NULL)) return -1;
    wevent *e = &(*evs)[*n];
    e->tick = tick;
    e->klass = (uint8_t)klass;
    e->seq = (uint32_t)*n;
    e->msg[0] = s; e->msg[1] = d1; e->msg[2] = d2;
    e->len = (uint8_t)len;
    (*n)++;
    return 0;
}

static uint16_t bend_value(float semitones) {
    double v = 8192.0 + (double)semitones / 2.0 * 8192.0;
    if (!(v >= 0)) v = 0; /* also NaN */
    if (v > 16383) v = 16383;
    return (uint16_t)lround(v);
}

/* Writes one instrument track. `ks` are its notes with channels assigned. */
static scribe_status write_track(bytebuf *out, const scribe_notes *list, wnote_key *ks, size_t nk, const char *name,
                                 int program, int default_channel, int reprogram_default, scribe_error *err) {
    /* Same pitch on one channel: merge equal onsets, cut overlaps. */
    if (nk > 1) qsort(ks, nk, sizeof *ks, cmp_wnote_key);
    for (size_t i = 0; i < nk; i++) {
        if (ks[i].w.dropped) continue;
        for (size_t j = i + 1; j < nk && ks[j].w.on < ks[i].w.off; j++) {
            if (ks[j].w.dropped || ks[j].w.channel != ks[i].w.channel || ks[j].pitch != ks[i].pitch) continue;
            if (ks[j].w.on == ks[i].w.on) { ks[j].w.dropped = 1; continue; }
            ks[i].w.off = ks[j].w.on;
            break;
        }
    }
    wevent *evs = NULL;
    size_t ne = 0, ecap = 0;
    int bad = 0;
    if (program >= 0) bad |= ev_push(&evs, &ne, &ecap, 0, EV_PROGRAM, (uint8_t)(0xC0 | default_channel), (uint8_t)program, 0, 2);
    for (size_t i = 0; i < nk && !bad; i++) {
        const wnote *w = &ks[i].w;
        if (w->dropped) continue;
        const scribe_note *n = &list->notes[w->idx];
        uint8_t ch = (uint8_t)w->channel;
        int vel = n->velocity < 1 ? 1 : n->velocity > 127 ? 127 : n->velocity;
        if (program >= 0 && (reprogram_default || w->channel != default_channel))
            bad |= ev_push(&evs, &ne, &ecap, w->on, EV_PROGRAM, (uint8_t)(0xC0 | ch), (uint8_t)program, 0, 2);
        bad |= ev_push(&evs, &ne, &ecap, w->on, EV_ON, (uint8_t)(0x90 | ch), (uint8_t)n->pitch, (uint8_t)vel, 3);
        bad |= ev_push(&evs, &ne, &ecap, w->off, EV_OFF, (uint8_t)(0x80 | ch), (uint8_t)n->pitch, 0, 3);
        if (n->bend_count && program >= 0) {
            int any = 0;
            for (uint32_t b = 0; b < n->bend_count; b++) {
                const scribe_bend *bp = &list->bends[n->bend_index + b];
                double t = isfinite(bp->time_s) ? bp->time_s : n->onset_s;
                uint32_t tick = t <= n->onset_s ? w->on : t >= SC_MIDI_MAX_SECONDS ? w->off : to_tick(t);
                if (tick < w->on) tick = w->on;
                if (tick >= w->off) continue;
                uint16_t v = bend_value(bp->semitones);
                bad |= ev_push(&evs, &ne, &ecap, tick, EV_BEND, (uint8_t)(0xE0 | ch), (uint8_t)(v & 0x7f),
                               (uint8_t)(v >> 7), 3);
                any = 1;
            }
            if (any) bad |= ev_push(&evs, &ne, &ecap, w->off, EV_BEND_RESET, (uint8_t)(0xE0 | ch), 0, 64, 3);
        }
    }
    if (bad) { free(evs); return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory writing MIDI events"); }
    if (ne > 1) qsort(evs, ne, sizeof *evs, cmp_wevent);

    bytebuf t = {0};
    size_t nl = strlen(name);
    bb_vlq(&t, 0); bb_u8(&t, 0xFF); bb_u8(&t, 0x03); bb_vlq(&t, (uint32_t)nl); bb_put(&t, name, nl);
    uint32_t last = 0;
    for (size_t i = 0; i < ne; i++) {
        uint32_t delta = evs[i].tick - last;
        if (delta > 0x0FFFFFFF) {
            free(evs); free(t.data);
            return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "gap of %u ticks between MIDI events is too long", delta);
        }
        bb_vlq(&t, delta);
        bb_put(&t, evs[i].msg, evs[i].len);
        last = evs[i].tick;
    }
    bb_vlq(&t, 0); bb_u8(&t, 0xFF); bb_u8(&t, 0x2F); bb_u8(&t, 0x00);
    free(evs);
    if (t.oom) { free(t.data); return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory writing a MIDI track"); }
    bb_put(out, "MTrk", 4);
    bb_u32(out, (uint32_t)t.len);
    bb_put(out, t.data, t.len);
    free(t.data);
    return SCRIBE_OK;
}

scribe_status scribe_midi_write(const scribe_notes *list, uint8_t **out, size_t *out_len, scribe_error *err) {
    if (!list || !out || !out_len) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_midi_write: NULL argument");
    if (list->count && !list->notes) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_midi_write: NULL notes");
    int has_program[128] = {0}, has_drums = 0;
    for (size_t i = 0; i < list->count; i++) {
        const scribe_note *n = &list->notes[i];
        if (!isfinite(n->onset_s) || !isfinite(n->offset_s) || n->onset_s < 0 || n->offset_s < n->onset_s)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note %zu: bad interval %g..%g s", i, n->onset_s, n->offset_s);
        if (n->offset_s > SC_MIDI_MAX_SECONDS)
            return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "note %zu ends at %g s, beyond the %g s MIDI limit", i,
                           n->offset_s, SC_MIDI_MAX_SECONDS);
        if (n->pitch < 0 || n->pitch > 127)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note %zu: pitch %d outside 0..127", i, n->pitch);
        if (!n->is_drum && (n->program < 0 || n->program > 127))
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note %zu: program %d outside 0..127", i, n->program);
        if (n->bend_count > list->bend_count || n->bend_index > list->bend_count - n->bend_count)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note %zu refers to bends outside the list", i);
        if (n->is_drum) has_drums = 1; else has_program[n->program] = 1;
    }
    static const int free_channels[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15};
    int programs[128], np = 0;
    for (int p = 0; p < 128; p++) if (has_program[p]) programs[np++] = p;
    int shared = np > 15, n_spare = shared ? 0 : 15 - np;

    /* Spare channels are split among the pitched tracks that have bent notes. */
    int bent_program[128] = {0}, n_bent_tracks = 0, bent_rank[128];
    for (size_t i = 0; i < list->count; i++)
        if (!list->notes[i].is_drum && list->notes[i].bend_count) bent_program[list->notes[i].program] = 1;
    for (int k = 0; k < np; k++) bent_rank[k] = bent_program[programs[k]] ? n_bent_tracks++ : -1;

    wnote_key *ks = sc_malloc_array(list->count, sizeof *ks);
    if (!ks) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory writing %zu notes as MIDI", list->count);
    bytebuf b = {0};
    bb_put(&b, "MThd", 4);
    bb_u32(&b, 6);
    bb_u16(&b, 1);
    bb_u16(&b, (uint32_t)(1 + np + has_drums));
    bb_u16(&b, SC_MIDI_TPQ);
    /* Tempo track. */
    static const uint8_t tempo_track[] = {
        0x00, 0xFF, 0x03, 0x06, 's', 'c', 'r', 'i', 'b', 'e',
        0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,             /* 500000 us per quarter: 120 bpm */
        0x00, 0xFF, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08,       /* 4/4 */
        0x00, 0xFF, 0x2F, 0x00};
    bb_put(&b, "MTrk", 4);
    bb_u32(&b, sizeof tempo_track);
    bb_put(&b, tempo_track, sizeof tempo_track);

    scribe_status st = SCRIBE_OK;
    for (int ti = 0; ti < np + has_drums && !st; ti++) {
        int drums = ti == np;
        int program = drums ? -1 : programs[ti];
        int channel = drums ? SC_MIDI_DRUM_CHANNEL : free_channels[ti % 15];
        size_t nk = 0;
        for (size_t i = 0; i < list->count; i++) {
            const scribe_note *n = &list->notes[i];
            if (drums ? !n->is_drum : (n->is_drum || n->program != program)) continue;
            wnote_key *k = &ks[nk++];
            k->pitch = n->pitch;
            k->w.on = to_tick(n->onset_s);
            k->w.off = to_tick(n->offset_s);
            if (k->w.off <= k->w.on) k->w.off = k->w.on + 1;
            k->w.idx = i;
            k->w.channel = channel;
            k->w.dropped = 0;
        }
        /* Bent notes that overlap another note of the channel move to a free spare channel
         * of this track (notes in onset order; a spare is free once its last note ended). */
        if (!drums && n_spare && bent_rank[ti] >= 0) {
            int spares[15], ns = 0;
            uint32_t spare_off[15] = {0};
            for (int sidx = 0; sidx < n_spare; sidx++)
                if (sidx % n_bent_tracks == bent_rank[ti]) spares[ns++] = free_channels[np + sidx];
            if (nk > 1) qsort(ks, nk, sizeof *ks, cmp_wnote_key);
            uint32_t max_off = 0;
            for (size_t a = 0; a < nk; a++) {
                wnote *w = &ks[a].w;
                int moved = 0;
                if (list->notes[w->idx].bend_count) {
                    int clash = max_off > w->on;
                    for (size_t c = a + 1; c < nk && !clash && ks[c].w.on < w->off; c++) clash = 1;
                    for (int k = 0; clash && k < ns && !moved; k++)
                        if (spare_off[k] <= w->on) {
                            w->channel = spares[k];
                            spare_off[k] = w->off;
                            moved = 1;
                        }
                }
                if (!moved && w->off > max_off) max_off = w->off;
            }
        }
        char name[64];
        snprintf(name, sizeof name, "%s", drums ? "Drums" : gm_program_names[program]);
        st = write_track(&b, list, ks, nk, name, program, channel, shared, err);
    }
    free(ks);
    if (!st && b.oom) st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory writing MIDI");
    if (st) { free(b.data); return st; }
    *out = b.data;
    *out_len = b.len;
    return sc_ok(err);
}

/* ------------------------------------------------------------------ reader */

typedef struct {
    uint64_t tick;
    uint32_t usec; /* microseconds per quarter from this tick on */
    size_t order;
    double sec;    /* seconds at `tick` */
} tempo_pt;

typedef struct {
    double on, off;
    int32_t pitch, velocity, program, is_drum;
    size_t order;
} rnote;

typedef struct {
    size_t note;
    double time;
    float semitones;
} rbend;

typedef struct {
    size_t note;      /* index in rd->notes */
    uint64_t tick;    /* note-on tick */
    uint8_t channel, pitch;
} open_note;

typedef struct {
    const uint8_t *p;
    size_t len;
    /* timing */
    int smpte;
    double sec_per_tick_smpte;
    uint32_t tpq;
    tempo_pt *tempo;
    size_t n_tempo, tempo_cap;
    /* output */
    rnote *notes;
    size_t n_notes, notes_cap;
    rbend *bends;
    size_t n_bends, bends_cap;
    open_note *open;
    size_t n_open, open_cap;
} midi_reader;

static double tick_seconds(const midi_reader *rd, uint64_t tick, size_t *hint) {
    if (rd->smpte) return (double)tick * rd->sec_per_tick_smpte;
    size_t k = *hint;
    if (k >= rd->n_tempo || rd->tempo[k].tick > tick) k = 0;
    while (k + 1 < rd->n_tempo && rd->tempo[k + 1].tick <= tick) k++;
    *hint = k;
    const tempo_pt *t = &rd->tempo[k];
    return t->sec + (double)(tick - t->tick) * (double)t->usec / (1e6 * (double)rd->tpq);
}

static int cmp_tempo(const void *pa, const void *pb) {
    const tempo_pt *a = pa, *b = pb;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static scribe_status rd_vlq(const uint8_t *p, size_t end, size_t *pos, uint32_t *v, int track, scribe_error *err) {
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        if (*pos >= end)
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: variable-length number runs past the end of the track", track);
        uint8_t c = p[(*pos)++];
        x = (x << 7) | (c & 0x7f);
        if (!(c & 0x80)) { *v = x; return SCRIBE_OK; }
    }
    return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: variable-length number longer than 4 bytes at byte %zu", track,
                   *pos);
}

/* Parses one track. pass 0 gathers tempo events; pass 1 builds notes. */
static scribe_status parse_track(midi_reader *rd, size_t start, size_t end, int track, int pass, scribe_error *err) {
    const uint8_t *p = rd->p;
    size_t pos = start, hint = 0;
    uint64_t tick = 0;
    uint8_t status = 0;
    int32_t program[16] = {0};
    float bend[16] = {0};
    uint64_t bend_tick[16];
    for (int c = 0; c < 16; c++) bend_tick[c] = UINT64_MAX;
    rd->n_open = 0;
    scribe_status st;
    while (pos < end) {
        uint32_t delta = 0;
        if ((st = rd_vlq(p, end, &pos, &delta, track, err))) return st;
        tick += delta;
        if (pos >= end) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: event missing after a delta time", track);
        uint8_t b0 = p[pos];
        if (b0 == 0xFF) {
            pos++;
            if (pos >= end) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: truncated meta event", track);
            uint8_t type = p[pos++];
            uint32_t mlen = 0;
            if ((st = rd_vlq(p, end, &pos, &mlen, track, err))) return st;
            if (mlen > end - pos)
                return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: meta event of %u bytes runs past the track end", track, mlen);
            if (type == 0x51 && pass == 0) {
                if (mlen != 3) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: set-tempo event of length %u", track, mlen);
                uint32_t usec = ((uint32_t)p[pos] << 16) | ((uint32_t)p[pos + 1] << 8) | p[pos + 2];
                if (usec == 0) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: tempo of 0 microseconds per quarter", track);
                if (sc_grow((void **)&rd->tempo, &rd->tempo_cap, rd->n_tempo + 1, sizeof *rd->tempo, err))
                    return SCRIBE_ERR_OUT_OF_MEMORY;
                tempo_pt *t = &rd->tempo[rd->n_tempo];
                t->tick = tick; t->usec = usec; t->order = rd->n_tempo; t->sec = 0;
                rd->n_tempo++;
            }
            pos += mlen;
            if (type == 0x2F) break;
            continue;
        }
        if (b0 == 0xF0 || b0 == 0xF7) {
            pos++;
            uint32_t slen = 0;
            if ((st = rd_vlq(p, end, &pos, &slen, track, err))) return st;
            if (slen > end - pos)
                return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: sysex of %u bytes runs past the track end", track, slen);
            pos += slen;
            continue;
        }
        if (b0 >= 0xF1)
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: system message 0x%02X is not allowed in a file", track, b0);
        if (b0 & 0x80) {
            status = b0;
            pos++;
        } else if (!status) {
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: data byte 0x%02X with no running status at byte %zu",
                           track, b0, pos);
        }
        int kind = status >> 4, ch = status & 15;
        int need = (kind == 0xC || kind == 0xD) ? 1 : 2;
        if (end - pos < (size_t)need)
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: channel message truncated at the end of the track", track);
        uint8_t d1 = p[pos], d2 = need == 2 ? p[pos + 1] : 0;
        if ((d1 | d2) & 0x80)
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "track %d: data byte above 127 in a 0x%02X message at byte %zu",
                           track, status, pos);
        pos += (size_t)need;
        if (pass == 0) continue;
        double now = tick_seconds(rd, tick, &hint);
        if (kind == 0xC) {
            program[ch] = d1;
        } else if (kind == 0xE) {
            float semis = (float)(((int)d2 << 7 | d1) - 8192) / 8192.0f * 2.0f;
            bend[ch] = semis;
            bend_tick[ch] = tick;
            for (size_t i = 0; i < rd->n_open; i++) {
                if (rd->open[i].channel != ch) continue;
                if (rd->n_bends >= SC_MIDI_MAX_BENDS)
                    return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "track %d: more than %d pitch-bend points on sounding notes",
                                   track, SC_MIDI_MAX_BENDS);
                if (sc_grow((void **)&rd->bends, &rd->bends_cap, rd->n_bends + 1, sizeof *rd->bends, err))
                    return SCRIBE_ERR_OUT_OF_MEMORY;
                rd->bends[rd->n_bends++] = (rbend){rd->open[i].note, now, semis};
            }
        } else if (kind == 0x9 && d2 > 0) {
            if (sc_grow((void **)&rd->notes, &rd->notes_cap, rd->n_notes + 1, sizeof *rd->notes, err) ||
                sc_grow((void **)&rd->open, &rd->open_cap, rd->n_open + 1, sizeof *rd->open, err))
                return SCRIBE_ERR_OUT_OF_MEMORY;
            rnote *n = &rd->notes[rd->n_notes];
            n->on = now; n->off = -1; n->pitch = d1; n->velocity = d2;
            n->is_drum = ch == SC_MIDI_DRUM_CHANNEL;
            n->program = n->is_drum ? 0 : program[ch];
            n->order = rd->n_notes;
            rd->open[rd->n_open++] = (open_note){rd->n_notes, tick, (uint8_t)ch, d1};
            if (!n->is_drum && (bend[ch] != 0 || bend_tick[ch] == tick)) {
                if (sc_grow((void **)&rd->bends, &rd->bends_cap, rd->n_bends + 1, sizeof *rd->bends, err))
                    return SCRIBE_ERR_OUT_OF_MEMORY;
                rd->bends[rd->n_bends++] = (rbend){rd->n_notes, now, bend[ch]};
            }
            rd->n_notes++;
        } else if (kind == 0x8 || kind == 0x9) {
            /* pretty_midi's rule: close the notes of this key that started earlier; notes
             * that started at this very tick stay open if some were closed, else are dropped. */
            size_t closed = 0, same = 0;
            for (size_t i = 0; i < rd->n_open; i++)
                if (rd->open[i].channel == ch && rd->open[i].pitch == d1) {
                    if (rd->open[i].tick != tick) closed++; else same++;
                }
            if (!closed && !same) continue;
            size_t w = 0;
            for (size_t i = 0; i < rd->n_open; i++) {
                open_note o = rd->open[i];
                if (o.channel == ch && o.pitch == d1) {
                    if (o.tick != tick) { rd->notes[o.note].off = now; continue; }
                    if (!closed) { rd->notes[o.note].off = -2; continue; } /* dropped: zero length */
                }
                rd->open[w++] = o;
            }
            rd->n_open = w;
        }
    }
    /* Notes still sounding end at the track's last event. */
    if (pass == 1) {
        double t_end = tick_seconds(rd, tick, &hint);
        for (size_t i = 0; i < rd->n_open; i++) {
            if (rd->open[i].tick == tick) rd->notes[rd->open[i].note].off = -2;
            else rd->notes[rd->open[i].note].off = t_end;
        }
        rd->n_open = 0;
    }
    return SCRIBE_OK;
}

static int cmp_rnote(const void *pa, const void *pb) {
    const rnote *a = pa, *b = pb;
    if (a->on != b->on) return a->on < b->on ? -1 : 1;
    if (a->is_drum != b->is_drum) return a->is_drum - b->is_drum;
    if (a->program != b->program) return a->program - b->program;
    if (a->pitch != b->pitch) return a->pitch - b->pitch;
    if (a->off != b->off) return a->off < b->off ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

scribe_status scribe_midi_read(const uint8_t *bytes, size_t len, scribe_notes *out, scribe_error *err) {
    if (!bytes || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_midi_read: NULL argument");
    if (len < 14 || memcmp(bytes, "MThd", 4) != 0)
        return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "not a Standard MIDI File (no MThd header in the first 14 of %zu bytes)", len);
    uint32_t hlen = be32(bytes + 4);
    if (hlen < 6 || hlen > len - 8)
        return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "MIDI header length %u is invalid for a %zu-byte file", hlen, len);
    unsigned format = (unsigned)(bytes[8] << 8 | bytes[9]), ntrks = (unsigned)(bytes[10] << 8 | bytes[11]);
    unsigned division = (unsigned)(bytes[12] << 8 | bytes[13]);
    if (format > 2) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "MIDI format %u is not 0, 1 or 2", format);
    if (format == 2) return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "MIDI format 2 (independent sequences) is not supported");
    midi_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.p = bytes;
    rd.len = len;
    if (division & 0x8000) {
        int fps = -(int)(int8_t)(division >> 8), tpf = (int)(division & 0xff);
        if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || tpf == 0)
            return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "SMPTE division with %d frames/s and %d ticks/frame is invalid", fps, tpf);
        rd.smpte = 1;
        rd.sec_per_tick_smpte = 1.0 / ((fps == 29 ? 29.97 : (double)fps) * tpf);
    } else {
        if (division == 0) return sc_fail(err, SCRIBE_ERR_BAD_MIDI, "MIDI division of 0 ticks per quarter");
        rd.tpq = division;
    }
    /* Locate the track chunks. */
    size_t pos = 8 + (size_t)hlen;
    size_t *tstart = NULL, *tend = NULL, nt = 0, tcap = 0, tcap2 = 0;
    scribe_status st = SCRIBE_OK;
    while (pos < len) {
        if (len - pos < 8) { st = sc_fail(err, SCRIBE_ERR_BAD_MIDI, "truncated chunk header at byte %zu", pos); break; }
        uint32_t clen = be32(bytes + pos + 4);
        if (clen > len - pos - 8) {
            st = sc_fail(err, SCRIBE_ERR_BAD_MIDI, "chunk at byte %zu claims %u bytes but only %zu remain", pos, clen,
                         len - pos - 8);
            break;
        }
        if (memcmp(bytes + pos, "MTrk", 4) == 0) {
            if (sc_grow((void **)&tstart, &tcap, nt + 1, sizeof *tstart, err) ||
                sc_grow((void **)&tend, &tcap2, nt + 1, sizeof *tend, err)) { st = SCRIBE_ERR_OUT_OF_MEMORY; break; }
            tstart[nt] = pos + 8;
            tend[nt] = pos + 8 + clen;
            nt++;
        }
        pos += 8 + (size_t)clen;
    }
    if (!st && nt == 0 && ntrks > 0) st = sc_fail(err, SCRIBE_ERR_BAD_MIDI, "MIDI file declares %u tracks but has none", ntrks);
    /* Pass 0: tempo map. */
    for (size_t t = 0; t < nt && !st; t++) st = parse_track(&rd, tstart[t], tend[t], (int)t, 0, err);
    if (!st && !rd.smpte) {
        if (sc_grow((void **)&rd.tempo, &rd.tempo_cap, rd.n_tempo + 1, sizeof *rd.tempo, err)) st = SCRIBE_ERR_OUT_OF_MEMORY;
        else {
            /* The default 120 bpm sorts first; a file tempo at tick 0 replaces it below. */
            for (size_t i = 0; i < rd.n_tempo; i++) rd.tempo[i].order++;
            rd.tempo[rd.n_tempo] = (tempo_pt){0, 500000, 0, 0};
            rd.n_tempo++;
            qsort(rd.tempo, rd.n_tempo, sizeof *rd.tempo, cmp_tempo);
            /* Keep the last tempo of each tick, then accumulate seconds. */
            size_t w = 0;
            for (size_t i = 0; i < rd.n_tempo; i++) {
                if (w && rd.tempo[w - 1].tick == rd.tempo[i].tick) rd.tempo[w - 1] = rd.tempo[i];
                else rd.tempo[w++] = rd.tempo[i];
            }
            rd.n_tempo = w;
            rd.tempo[0].sec = 0;
            for (size_t i = 1; i < rd.n_tempo; i++)
                rd.tempo[i].sec = rd.tempo[i - 1].sec + (double)(rd.tempo[i].tick - rd.tempo[i - 1].tick) *
                                                            (double)rd.tempo[i - 1].usec / (1e6 * (double)rd.tpq);
        }
    }
    /* Pass 1: notes. */
    for (size_t t = 0; t < nt && !st; t++) st = parse_track(&rd, tstart[t], tend[t], (int)t, 1, err);
    if (!st) {
        /* Sort notes, then push each with its bends (grouped per note, in time order). */
        size_t *bstart = sc_calloc_array(rd.n_notes + 1, sizeof *bstart);
        scribe_bend *bsorted = sc_malloc_array(rd.n_bends, sizeof *bsorted);
        size_t *bfill = sc_malloc_array(rd.n_notes + 1, sizeof *bfill);
        if (!bstart || !bsorted || !bfill) st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory reading MIDI");
        else {
            for (size_t i = 0; i < rd.n_bends; i++) bstart[rd.bends[i].note + 1]++;
            for (size_t i = 0; i < rd.n_notes; i++) bstart[i + 1] += bstart[i];
            memcpy(bfill, bstart, (rd.n_notes + 1) * sizeof *bfill);
            for (size_t i = 0; i < rd.n_bends; i++)
                bsorted[bfill[rd.bends[i].note]++] = (scribe_bend){rd.bends[i].time, rd.bends[i].semitones};
            if (rd.n_notes) qsort(rd.notes, rd.n_notes, sizeof *rd.notes, cmp_rnote);
            for (size_t i = 0; i < rd.n_notes && !st; i++) {
                const rnote *r = &rd.notes[i];
                if (r->off < 0) continue; /* dropped (zero length) */
                scribe_note n = {0};
                n.onset_s = r->on;
                n.offset_s = r->off;
                n.pitch = r->pitch;
                n.velocity = r->velocity;
                n.program = r->program;
                n.is_drum = r->is_drum;
                size_t b0 = bstart[r->order], nb = bstart[r->order + 1] - b0;
                st = scribe_notes_push(out, &n, nb ? bsorted + b0 : NULL, nb, err);
            }
        }
        free(bstart); free(bsorted); free(bfill);
    }
    free(tstart); free(tend); free(rd.tempo); free(rd.notes); free(rd.bends); free(rd.open);
    return st ? st : sc_ok(err);
}
