/* The note list: growable arrays of notes and their pitch bends, plus CSV I/O. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"

void scribe_notes_init(scribe_notes *list) {
    if (list) memset(list, 0, sizeof *list);
}

void scribe_notes_free(scribe_notes *list) {
    if (!list) return;
    free(list->notes);
    free(list->bends);
    memset(list, 0, sizeof *list);
}

void scribe_notes_clear(scribe_notes *list) {
    if (!list) return;
    list->count = 0;
    list->bend_count = 0;
}

scribe_status scribe_notes_push(scribe_notes *list, const scribe_note *note, const scribe_bend *bends,
                                size_t n_bends, scribe_error *err) {
    if (!list || !note || (n_bends && !bends))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_notes_push: NULL argument");
    if (n_bends > UINT32_MAX - list->bend_count)
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "too many pitch bends (%zu)", n_bends);
    scribe_status st = sc_grow((void **)&list->notes, &list->capacity, list->count + 1, sizeof *list->notes, err);
    if (st) return st;
    if (n_bends) {
        st = sc_grow((void **)&list->bends, &list->bend_capacity, list->bend_count + n_bends, sizeof *list->bends, err);
        if (st) return st;
        memcpy(list->bends + list->bend_count, bends, n_bends * sizeof *bends);
    }
    scribe_note n = *note;
    n.bend_index = (uint32_t)list->bend_count;
    n.bend_count = (uint32_t)n_bends;
    list->notes[list->count++] = n;
    list->bend_count += n_bends;
    return SCRIBE_OK;
}

scribe_status scribe_notes_append(scribe_notes *dst, const scribe_notes *src, scribe_error *err) {
    if (!dst || !src) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_notes_append: NULL argument");
    /* Everything is checked and room reserved before the first push, so the pushes below never reallocate:
       with dst == src (a list appended to itself) its original notes are copied once, and on an error
       nothing is appended. */
    const size_t n = src->count;
    uint64_t bends = dst->bend_count;
    for (size_t i = 0; i < n; i++) {
        const scribe_note *nt = &src->notes[i];
        if (nt->bend_count > src->bend_count || nt->bend_index > src->bend_count - nt->bend_count)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note %zu refers to bends outside the list", i);
        bends += nt->bend_count;
        if (bends > UINT32_MAX) return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "too many pitch bends appending note %zu", i);
    }
    if (n > SIZE_MAX - dst->count)
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "too many notes (%zu + %zu)", dst->count, n);
    scribe_status st = sc_grow((void **)&dst->notes, &dst->capacity, dst->count + n, sizeof *dst->notes, err);
    if (!st) st = sc_grow((void **)&dst->bends, &dst->bend_capacity, (size_t)bends, sizeof *dst->bends, err);
    if (st) return st;
    for (size_t i = 0; i < n; i++) {
        const scribe_note *nt = &src->notes[i];
        st = scribe_notes_push(dst, nt, nt->bend_count ? src->bends + nt->bend_index : NULL, nt->bend_count, err);
        if (st) return st;
    }
    return SCRIBE_OK;
}

static int cmp_note(const void *pa, const void *pb) {
    const scribe_note *a = pa, *b = pb;
    if (a->onset_s != b->onset_s) return a->onset_s < b->onset_s ? -1 : 1;
    if (a->is_drum != b->is_drum) return a->is_drum - b->is_drum;
    if (a->program != b->program) return a->program - b->program;
    if (a->pitch != b->pitch) return a->pitch - b->pitch;
    if (a->offset_s != b->offset_s) return a->offset_s < b->offset_s ? -1 : 1;
    if (a->velocity != b->velocity) return a->velocity - b->velocity;
    return (a->bend_index > b->bend_index) - (a->bend_index < b->bend_index);
}

void scribe_notes_sort(scribe_notes *list) {
    if (list && list->count > 1) qsort(list->notes, list->count, sizeof *list->notes, cmp_note);
}

/* Shortest text that reads back as the same double (tests compare exactly). */
static int fmt_time(char *buf, size_t cap, double t) {
    for (int prec = 6; prec <= 17; prec++) {
        int n = snprintf(buf, cap, "%.*g", prec, t);
        if (strtod(buf, NULL) == t) return n;
    }
    return snprintf(buf, cap, "%.17g", t);
}

scribe_status scribe_notes_write_csv(const scribe_notes *list, char **out, size_t *out_len, scribe_error *err) {
    if (!list || !out || !out_len) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_notes_write_csv: NULL argument");
    static const char header[] = "onset_s,offset_s,pitch,velocity,program,is_drum\n";
    size_t cap = sizeof header + list->count * 96, len = 0;
    char *buf = malloc(cap);
    if (!buf) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory writing CSV");
    memcpy(buf, header, sizeof header - 1);
    len = sizeof header - 1;
    for (size_t i = 0; i < list->count; i++) {
        const scribe_note *n = &list->notes[i];
        char a[32], b[32];
        fmt_time(a, sizeof a, n->onset_s);
        fmt_time(b, sizeof b, n->offset_s);
        len += (size_t)snprintf(buf + len, cap - len, "%s,%s,%d,%d,%d,%d\n", a, b, n->pitch, n->velocity,
                                n->program, n->is_drum ? 1 : 0);
    }
    *out = buf;
    *out_len = len;
    return SCRIBE_OK;
}

/* Parses one numeric field ending at ',' or end of line; advances *p past the separator. */
static int csv_field(const char **p, const char *end, double *v) {
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    char tmp[64];
    size_t k = 0;
    while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
        if (k + 1 >= sizeof tmp) return 0;
        tmp[k++] = *s++;
    }
    while (k && (tmp[k - 1] == ' ' || tmp[k - 1] == '\t')) k--;
    tmp[k] = '\0';
    if (!k) return 0;
    char *e;
    *v = strtod(tmp, &e);
    if (*e || !isfinite(*v)) return 0;
    if (s < end && *s == ',') s++;
    *p = s;
    return 1;
}

scribe_status scribe_notes_read_csv(const char *text, size_t len, scribe_notes *out, scribe_error *err) {
    if (!text || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_notes_read_csv: NULL argument");
    const char *p = text, *end = text + len;
    size_t line = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        line++;
        const char *q = p;
        while (q < eol && (*q == ' ' || *q == '\r' || *q == '\t')) q++;
        if (q == eol || *q == '#') { p = eol + (eol < end); continue; }
        if ((*q < '0' || *q > '9') && *q != '.' && *q != '-' && *q != '+') {
            if (line == 1) { p = eol + (eol < end); continue; } /* header */
            return sc_fail(err, SCRIBE_ERR_BAD_CSV, "CSV line %zu: expected a number, got '%c'", line, *q);
        }
        double f[6] = {0, 0, 0, 100, 0, 0};
        int nf = 0;
        while (nf < 6 && q < eol && csv_field(&q, eol, &f[nf])) nf++;
        if (nf < 3)
            return sc_fail(err, SCRIBE_ERR_BAD_CSV, "CSV line %zu: need at least onset_s,offset_s,pitch (got %d fields)", line, nf);
        if (f[2] < 0 || f[2] > 127 || f[2] != floor(f[2]))
            return sc_fail(err, SCRIBE_ERR_BAD_CSV, "CSV line %zu: pitch %g is not an integer in 0..127", line, f[2]);
        if (f[1] < f[0] || f[0] < 0)
            return sc_fail(err, SCRIBE_ERR_BAD_CSV, "CSV line %zu: offset %g before onset %g", line, f[1], f[0]);
        if (f[3] < 0 || f[3] > 127 || f[4] < 0 || f[4] > 127)
            return sc_fail(err, SCRIBE_ERR_BAD_CSV, "CSV line %zu: velocity %g or program %g outside 0..127", line, f[3], f[4]);
        scribe_note n = {0};
        n.onset_s = f[0];
        n.offset_s = f[1];
        n.pitch = (int32_t)f[2];
        n.velocity = (int32_t)f[3];
        n.program = (int32_t)f[4];
        n.is_drum = f[5] != 0;
        scribe_status st = scribe_notes_push(out, &n, NULL, 0, err);
        if (st) return st;
        p = eol + (eol < end);
    }
    return SCRIBE_OK;
}
