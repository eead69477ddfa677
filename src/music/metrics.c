/* Transcription metrics compatible with mir_eval 0.7 and MT3's metrics.py.
 *
 * Note metrics follow mir_eval.transcription.precision_recall_f1_overlap:
 *   - onset distances |ref_on - est_on| and offset distances are rounded like
 *     np.around(d, 4) (rint(d * 1e4) / 1e4) before the `<=` comparison;
 *   - pitches are integer MIDI numbers, so mir_eval's 50-cent test on Hz values
 *     is exact pitch equality;
 *   - the offset tolerance is max(offset_ratio * ref_duration, offset_min_tolerance);
 *   - the matching replays mir_eval.util._bipartite_match (Eppstein's Hopcroft-Karp)
 *     step by step, with the same graph and iteration orders, so not only the
 *     matching size but the matched pairs (hence the average overlap ratio) agree;
 *   - empty reference or estimate: every value is 0 (mir_eval returns zeros).
 * Notes are first converted as note_seq's sequence_to_valued_intervals does: notes with
 * offset == onset are dropped (mir_eval rejects zero-length intervals).
 *
 * Velocity: mir_eval.transcription_velocity (reference velocities scaled to [0, 1] by
 * their min and max over all reference notes, estimated velocities of matched pairs
 * mapped by a least-squares line (minimum-norm solution when all are equal, as
 * numpy.linalg.lstsq), pairs kept when |fit - ref| < velocity_tolerance).
 *
 * Frame metrics follow MT3's metrics_utils.get_prettymidi_pianoroll + frame_metrics:
 * pitched notes shorter than 0.05 s are lengthened to 0.05 s (zero-length notes included),
 * pretty_midi's piano roll at `frame_rate` (columns int(start*fs) .. int(end*fs)-1,
 * velocities summed), reference cells active when the summed velocity > 30, estimated
 * cells when > 0, then precision/recall/F1 of the active cells (sklearn, 0 on 0/0).
 *
 * Multi-instrument F1 follows MT3's _program_aware_note_scores: notes grouped by
 * (mapped program, is_drum); flat maps every program to 0, midi_class to 8*(p/8),
 * full keeps it; every drum note belongs to one drum group (program ignored, as MT3's
 * codec decodes drums without a program); pitched groups use onset+offset matching,
 * the drum group onset-only; precision = sum(P_g * |est_g|) / sum |est_g|, recall
 * likewise over |ref_g|, F1 from those.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"

/* MT3 frame_metrics' velocity_threshold for reference piano-roll cells. */
#define SC_FRAME_REF_VELOCITY_THRESHOLD 30.0
/* MT3 get_prettymidi_pianoroll's minimum note length. */
#define SC_FRAME_MIN_NOTE_S 0.05

scribe_eval_params scribe_eval_default_params(void) {
    scribe_eval_params p;
    p.onset_tolerance = 0.05;
    p.offset_ratio = 0.2;
    p.offset_min_tolerance = 0.05;
    p.velocity_tolerance = 0.1;
    p.frame_rate = 62.5; /* MT3 transcription_metrics' frame_fps */
    return p;
}

typedef struct {
    double on, off;
    int32_t pitch, velocity;
} ev_note;

typedef struct {
    const ev_note *ref, *est;
    size_t n, m;
    double onset_tol, offset_ratio, offset_min; /* offset_ratio < 0: offsets ignored */
} match_problem;

static double round4(double d) { return rint(d * 10000.0) / 10000.0; }

static double f_measure(double p, double r) {
    if (p == 0.0 && r == 0.0) return 0.0;
    return 2.0 * p * r / (p + r);
}

static int is_hit(const match_problem *mp, size_t i, size_t j) {
    const ev_note *r = &mp->ref[i], *e = &mp->est[j];
    if (r->pitch != e->pitch) return 0;
    if (!(round4(fabs(r->on - e->on)) <= mp->onset_tol)) return 0;
    if (mp->offset_ratio >= 0) {
        double tol = mp->offset_ratio * fabs(r->off - r->on);
        if (tol < mp->offset_min) tol = mp->offset_min;
        if (!(round4(fabs(r->off - e->off)) <= tol)) return 0;
    }
    return 1;
}

enum { PRED_ABSENT = -2, PRED_UNMATCHED = -1 };

typedef struct {
    int32_t pitch, idx;
    double on;
} est_key;

static int cmp_est_key(const void *pa, const void *pb) {
    const est_key *a = pa, *b = pb;
    if (a->pitch != b->pitch) return a->pitch < b->pitch ? -1 : 1;
    if (a->on != b->on) return a->on < b->on ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_i32(const void *pa, const void *pb) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return (a > b) - (a < b);
}

typedef struct {
    int32_t v;      /* right vertex (reference note) being explored */
    size_t pos;     /* next entry of its preds list */
    int32_t u;      /* left vertex tried when descending */
} hk_frame;

/* Maximum bipartite matching replaying mir_eval.util._bipartite_match.
 * Left vertices U are estimated notes, right vertices V reference notes; the graph's
 * keys are estimated notes in order of first appearance in a row-major scan of the
 * hit matrix, each with its reference neighbours ascending (as match_notes builds it).
 * On return match_v[i] is the estimated note matched to reference i, or -1. */
static scribe_status bipartite_match(const match_problem *mp, int32_t *match_v, size_t *n_matched, scribe_error *err) {
    size_t n = mp->n, m = mp->m;
    scribe_status st = SCRIBE_OK;
    for (size_t i = 0; i < n; i++) match_v[i] = -1;
    *n_matched = 0;
    if (!n || !m) return SCRIBE_OK;

    int32_t *deg = calloc(m, sizeof *deg);
    int32_t *keys = sc_malloc_array(m, sizeof *keys);
    size_t *kstart = sc_malloc_array(m + 1, sizeof *kstart);
    size_t *kpos = sc_malloc_array(m, sizeof *kpos); /* est -> key position */
    size_t *fill = sc_malloc_array(m, sizeof *fill);
    int32_t *adj = NULL, *pred = NULL, *layer = NULL, *layer2 = NULL, *nl_order = NULL, *unmatched = NULL;
    uint8_t *in_preds = NULL, *nl_has = NULL, *alive = NULL;
    int32_t *pair_v = NULL, *pair_u = NULL, *plist = NULL;
    size_t *pstart = NULL, *pcount = NULL;
    struct { int32_t i, j; } *edges = NULL;
    hk_frame *stack = NULL;
    if (!deg || !keys || !kstart || !kpos || !fill) goto oom;

    /* Hits in row-major order (reference ascending, estimate ascending within a row), found
     * through the estimates sorted by (pitch, onset): only onsets within the tolerance plus a
     * margin wider than the 1e-4 rounding can hit; is_hit decides exactly. */
    size_t n_keys = 0, n_edges = 0, edge_cap = 0;
    est_key *sorted = sc_malloc_array(m, sizeof *sorted);
    int32_t *row = sc_malloc_array(m, sizeof *row);
    if (!sorted || !row) { free(sorted); free(row); goto oom; }
    for (size_t j = 0; j < m; j++) {
        sorted[j].pitch = mp->est[j].pitch;
        sorted[j].on = mp->est[j].on;
        sorted[j].idx = (int32_t)j;
    }
    qsort(sorted, m, sizeof *sorted, cmp_est_key);
    double margin = mp->onset_tol + 1e-3;
    for (size_t i = 0; i < n && st == SCRIBE_OK; i++) {
        const ev_note *r = &mp->ref[i];
        size_t lo = 0, hi = m; /* first entry >= (pitch, on - margin) */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sorted[mid].pitch < r->pitch || (sorted[mid].pitch == r->pitch && sorted[mid].on < r->on - margin))
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t nrow = 0;
        for (size_t q = lo; q < m && sorted[q].pitch == r->pitch && sorted[q].on <= r->on + margin; q++)
            if (is_hit(mp, i, (size_t)sorted[q].idx)) row[nrow++] = sorted[q].idx;
        if (nrow > 1) qsort(row, nrow, sizeof *row, cmp_i32);
        if (nrow && sc_grow((void **)&edges, &edge_cap, n_edges + nrow, sizeof *edges, err)) st = SCRIBE_ERR_OUT_OF_MEMORY;
        for (size_t q = 0; q < nrow && st == SCRIBE_OK; q++) {
            int32_t j = row[q];
            if (!deg[j]) keys[n_keys++] = j;
            deg[j]++;
            edges[n_edges].i = (int32_t)i;
            edges[n_edges].j = j;
            n_edges++;
        }
    }
    free(sorted);
    free(row);
    if (st) goto out;
    if (!n_edges) goto done;
    kstart[0] = 0;
    for (size_t k = 0; k < n_keys; k++) {
        kpos[keys[k]] = k;
        kstart[k + 1] = kstart[k] + (size_t)deg[keys[k]];
        fill[k] = kstart[k];
    }
    adj = sc_malloc_array(n_edges, sizeof *adj);
    pair_v = sc_malloc_array(n_edges, sizeof *pair_v);
    pair_u = sc_malloc_array(n_edges, sizeof *pair_u);
    plist = sc_malloc_array(n_edges, sizeof *plist);
    pred = sc_malloc_array(m, sizeof *pred);
    layer = sc_malloc_array(m, sizeof *layer);
    layer2 = sc_malloc_array(m, sizeof *layer2);
    nl_order = sc_malloc_array(n, sizeof *nl_order);
    unmatched = sc_malloc_array(n, sizeof *unmatched);
    in_preds = calloc(n, 1);
    nl_has = calloc(n, 1);
    alive = calloc(n, 1);
    pstart = sc_malloc_array(n + 1, sizeof *pstart);
    pcount = sc_malloc_array(n, sizeof *pcount);
    stack = sc_malloc_array(n + 1, sizeof *stack);
    if (!adj || !pair_v || !pair_u || !plist || !pred || !layer || !layer2 || !nl_order || !unmatched ||
        !in_preds || !nl_has || !alive || !pstart || !pcount || !stack)
        goto oom;
    for (size_t e = 0; e < n_edges; e++) adj[fill[kpos[edges[e].j]]++] = edges[e].i;

    /* Greedy start: each key takes its first free neighbour. */
    for (size_t k = 0; k < n_keys; k++)
        for (size_t e = kstart[k]; e < kstart[k + 1]; e++)
            if (match_v[adj[e]] < 0) { match_v[adj[e]] = keys[k]; break; }

    for (;;) {
        for (size_t j = 0; j < m; j++) pred[j] = PRED_ABSENT;
        for (size_t k = 0; k < n_keys; k++) pred[keys[k]] = PRED_UNMATCHED;
        for (size_t i = 0; i < n; i++) if (match_v[i] >= 0) pred[match_v[i]] = PRED_ABSENT;
        size_t layer_len = 0, n_unmatched = 0, n_pairs = 0;
        for (size_t k = 0; k < n_keys; k++) if (pred[keys[k]] == PRED_UNMATCHED) layer[layer_len++] = keys[k];
        memset(in_preds, 0, n);
        while (layer_len && !n_unmatched) {
            size_t nl = 0;
            for (size_t a = 0; a < layer_len; a++) {
                int32_t u = layer[a];
                size_t k = kpos[u];
                for (size_t e = kstart[k]; e < kstart[k + 1]; e++) {
                    int32_t v = adj[e];
                    if (in_preds[v]) continue;
                    if (!nl_has[v]) { nl_has[v] = 1; nl_order[nl++] = v; }
                    pair_v[n_pairs] = v;
                    pair_u[n_pairs] = u;
                    n_pairs++;
                }
            }
            size_t next_len = 0;
            for (size_t b = 0; b < nl; b++) {
                int32_t v = nl_order[b];
                nl_has[v] = 0;
                in_preds[v] = 1;
                if (match_v[v] >= 0) {
                    layer2[next_len++] = match_v[v];
                    pred[match_v[v]] = v;
                } else {
                    unmatched[n_unmatched++] = v;
                }
            }
            int32_t *t = layer; layer = layer2; layer2 = t;
            layer_len = next_len;
        }
        if (!n_unmatched) break;

        /* preds[v]: the layer-building pairs of v in insertion order. */
        for (size_t i = 0; i < n; i++) { pcount[i] = 0; alive[i] = in_preds[i]; }
        for (size_t p = 0; p < n_pairs; p++) pcount[pair_v[p]]++;
        pstart[0] = 0;
        for (size_t i = 0; i < n; i++) pstart[i + 1] = pstart[i] + pcount[i];
        for (size_t i = 0; i < n; i++) pcount[i] = pstart[i];
        for (size_t p = 0; p < n_pairs; p++) plist[pcount[pair_v[p]]++] = pair_u[p];

        for (size_t a = 0; a < n_unmatched; a++) {
            int32_t v0 = unmatched[a];
            if (!alive[v0]) continue;
            alive[v0] = 0;
            size_t sp = 0;
            stack[sp].v = v0; stack[sp].pos = pstart[v0]; stack[sp].u = -1;
            sp = 1;
            int result = -1; /* -1: descending, 0: child failed, 1: child succeeded */
            while (sp) {
                hk_frame *f = &stack[sp - 1];
                if (result == 1) { match_v[f->v] = f->u; sp--; continue; }
                result = -1;
                int pushed = 0, found = 0;
                while (f->pos < pstart[f->v + 1]) {
                    int32_t u = plist[f->pos++];
                    if (pred[u] == PRED_ABSENT) continue;
                    int32_t pu = pred[u];
                    pred[u] = PRED_ABSENT;
                    if (pu == PRED_UNMATCHED) { match_v[f->v] = u; found = 1; break; }
                    if (!alive[pu]) continue; /* recurse(pu) is False at once */
                    alive[pu] = 0;
                    f->u = u;
                    stack[sp].v = pu; stack[sp].pos = pstart[pu]; stack[sp].u = -1;
                    sp++;
                    pushed = 1;
                    break;
                }
                if (pushed) continue;
                sp--;
                result = found ? 1 : 0;
            }
        }
    }
done:
    for (size_t i = 0; i < n; i++) if (match_v[i] >= 0) (*n_matched)++;
    goto out;
oom:
    st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory matching %zu reference and %zu estimated notes", n, m);
out:
    free(deg); free(keys); free(kstart); free(kpos); free(fill); free(adj); free(pred); free(layer); free(layer2);
    free(nl_order); free(unmatched); free(in_preds); free(nl_has); free(alive); free(pair_v); free(pair_u);
    free(plist); free(pstart); free(pcount); free(stack); free(edges);
    return st;
}

static double overlap_ratio(const ev_note *r, const ev_note *e) {
    double lo = r->on > e->on ? r->on : e->on, hi = r->off < e->off ? r->off : e->off;
    double a = r->on < e->on ? r->on : e->on, b = r->off > e->off ? r->off : e->off;
    return (hi - lo) / (b - a);
}

/* mir_eval.transcription(_velocity).precision_recall_f1_overlap. velocity_tol < 0: no velocity. */
static scribe_status prf_notes(const ev_note *ref, size_t n, const ev_note *est, size_t m, double onset_tol,
                               double offset_ratio, double offset_min, double velocity_tol, scribe_prf *out,
                               size_t *matched_out, scribe_error *err) {
    memset(out, 0, sizeof *out);
    if (matched_out) *matched_out = 0;
    if (!n || !m) return SCRIBE_OK;
    match_problem mp = {ref, est, n, m, onset_tol, offset_ratio, offset_min};
    int32_t *match_v = sc_malloc_array(n, sizeof *match_v);
    if (!match_v) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory evaluating %zu notes", n);
    size_t k = 0;
    scribe_status st = bipartite_match(&mp, match_v, &k, err);
    if (st) { free(match_v); return st; }
    if (velocity_tol >= 0 && k) {
        int32_t vmin = ref[0].velocity, vmax = ref[0].velocity;
        for (size_t i = 1; i < n; i++) {
            if (ref[i].velocity < vmin) vmin = ref[i].velocity;
            if (ref[i].velocity > vmax) vmax = ref[i].velocity;
        }
        double range = (double)(vmax - vmin > 1 ? vmax - vmin : 1);
        double sx = 0, sy = 0;
        for (size_t i = 0; i < n; i++)
            if (match_v[i] >= 0) { sx += est[match_v[i]].velocity; sy += (ref[i].velocity - vmin) / range; }
        double mx = sx / (double)k, my = sy / (double)k, sxx = 0, sxy = 0;
        for (size_t i = 0; i < n; i++)
            if (match_v[i] >= 0) {
                double dx = est[match_v[i]].velocity - mx, dy = (ref[i].velocity - vmin) / range - my;
                sxx += dx * dx;
                sxy += dx * dy;
            }
        double slope, intercept;
        if (sxx > 0) {
            slope = sxy / sxx;
            intercept = my - slope * mx;
        } else { /* rank-deficient: minimum-norm least squares, as numpy.linalg.lstsq */
            slope = my * mx / (mx * mx + 1.0);
            intercept = my / (mx * mx + 1.0);
        }
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (match_v[i] < 0) continue;
            double fit = slope * est[match_v[i]].velocity + intercept;
            double rv = (ref[i].velocity - vmin) / range;
            if (fabs(fit - rv) < velocity_tol) kept++;
            else match_v[i] = -1;
        }
        k = kept;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (match_v[i] >= 0) sum += overlap_ratio(&ref[i], &est[match_v[i]]);
    out->precision = (double)k / (double)m;
    out->recall = (double)k / (double)n;
    out->f1 = f_measure(out->precision, out->recall);
    out->overlap = k ? sum / (double)k : 0.0;
    if (matched_out) *matched_out = k;
    free(match_v);
    return SCRIBE_OK;
}

static scribe_status check_notes(const scribe_notes *l, const char *what, scribe_error *err) {
    if (l->count && !l->notes) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "%s notes: NULL array", what);
    for (size_t i = 0; i < l->count; i++) {
        const scribe_note *n = &l->notes[i];
        if (!isfinite(n->onset_s) || !isfinite(n->offset_s) || n->onset_s < 0 || n->offset_s < n->onset_s)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "%s note %zu: bad interval %g..%g s", what, i,
                           n->onset_s, n->offset_s);
        if (n->pitch < 0 || n->pitch > 127)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "%s note %zu: pitch %d outside 0..127", what, i, n->pitch);
        if (!n->is_drum && (n->program < 0 || n->program > 127))
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "%s note %zu: program %d outside 0..127", what, i, n->program);
        if (n->velocity < 0 || n->velocity > 127)
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "%s note %zu: velocity %d outside 0..127", what, i, n->velocity);
    }
    return SCRIBE_OK;
}

enum { SEL_PITCHED, SEL_DRUMS };

/* Notes of one selection as mir_eval intervals (zero-length notes dropped). */
static size_t collect(const scribe_notes *l, int sel, int granularity, int32_t program, ev_note *out) {
    size_t k = 0;
    for (size_t i = 0; i < l->count; i++) {
        const scribe_note *n = &l->notes[i];
        if (n->offset_s == n->onset_s) continue;
        if (sel == SEL_DRUMS) {
            if (!n->is_drum) continue;
        } else {
            if (n->is_drum) continue;
            if (granularity >= 0) {
                int32_t p = granularity == 0 ? 0 : granularity == 1 ? 8 * (n->program / 8) : n->program;
                if (p != program) continue;
            }
        }
        out[k].on = n->onset_s;
        out[k].off = n->offset_s;
        out[k].pitch = n->pitch;
        out[k].velocity = n->velocity;
        k++;
    }
    return k;
}

/* Frame metrics on pitched notes (see the top of the file). */
static scribe_status frame_prf(const scribe_notes *ref, const scribe_notes *est, double fs, scribe_prf *out,
                               scribe_error *err) {
    memset(out, 0, sizeof *out);
    size_t nr = 0, ne = 0;
    double end = 0;
    const scribe_notes *lists[2] = {ref, est};
    for (int li = 0; li < 2; li++)
        for (size_t i = 0; i < lists[li]->count; i++) {
            const scribe_note *n = &lists[li]->notes[i];
            if (n->is_drum) continue;
            double off = n->offset_s - n->onset_s < SC_FRAME_MIN_NOTE_S ? n->onset_s + SC_FRAME_MIN_NOTE_S : n->offset_s;
            if (off > end) end = off;
            if (li == 0) nr++; else ne++;
        }
    if (!nr || !ne) return SCRIBE_OK;
    double wd = fs * end;
    if (!(wd < 134217728.0))
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "frame metrics: %.0f frames (notes up to %g s) is too many", wd, end);
    size_t w = (size_t)wd;
    int32_t *acc = sc_calloc_array(2 * (w + 1), sizeof *acc);
    if (!acc) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for %zu frames", w);
    int32_t *dr = acc, *de = acc + w + 1;
    uint64_t tp = 0, pos_r = 0, pos_e = 0;
    for (int pitch = 0; pitch < 128; pitch++) {
        int any = 0;
        for (int li = 0; li < 2; li++) {
            int32_t *d = li == 0 ? dr : de;
            for (size_t i = 0; i < lists[li]->count; i++) {
                const scribe_note *n = &lists[li]->notes[i];
                if (n->is_drum || n->pitch != pitch) continue;
                double off = n->offset_s - n->onset_s < SC_FRAME_MIN_NOTE_S ? n->onset_s + SC_FRAME_MIN_NOTE_S : n->offset_s;
                size_t a = (size_t)(n->onset_s * fs), b = (size_t)(off * fs);
                if (b > w) b = w;
                if (a >= b) continue;
                d[a] += n->velocity;
                d[b] -= n->velocity;
                any = 1;
            }
        }
        if (!any) continue;
        int64_t sr = 0, se = 0;
        for (size_t t = 0; t < w; t++) {
            sr += dr[t];
            se += de[t];
            int r = sr > SC_FRAME_REF_VELOCITY_THRESHOLD, e = se > 0;
            pos_r += (uint64_t)r;
            pos_e += (uint64_t)e;
            tp += (uint64_t)(r && e);
        }
        memset(acc, 0, 2 * (w + 1) * sizeof *acc);
    }
    free(acc);
    out->precision = pos_e ? (double)tp / (double)pos_e : 0.0;
    out->recall = pos_r ? (double)tp / (double)pos_r : 0.0;
    out->f1 = f_measure(out->precision, out->recall);
    return SCRIBE_OK;
}

/* MT3 _program_aware_note_scores at one granularity (0 flat, 1 midi_class, 2 full). */
static scribe_status multi_prf(const scribe_notes *ref, const scribe_notes *est, const scribe_eval_params *p,
                               int granularity, ev_note *rbuf, ev_note *ebuf, scribe_prf *out, scribe_error *err) {
    memset(out, 0, sizeof *out);
    uint8_t seen[128] = {0};
    const scribe_notes *lists[2] = {ref, est};
    for (int li = 0; li < 2; li++)
        for (size_t i = 0; i < lists[li]->count; i++) {
            const scribe_note *n = &lists[li]->notes[i];
            if (n->is_drum) continue;
            seen[granularity == 0 ? 0 : granularity == 1 ? 8 * (n->program / 8) : n->program] = 1;
        }
    double psum = 0, rsum = 0;
    size_t pcount = 0, rcount = 0;
    for (int g = 0; g <= 128; g++) {
        size_t nr, ne;
        scribe_prf r;
        scribe_status st;
        if (g < 128) {
            if (!seen[g]) continue;
            nr = collect(ref, SEL_PITCHED, granularity, g, rbuf);
            ne = collect(est, SEL_PITCHED, granularity, g, ebuf);
            st = prf_notes(rbuf, nr, ebuf, ne, p->onset_tolerance, p->offset_ratio, p->offset_min_tolerance, -1, &r, NULL, err);
        } else {
            nr = collect(ref, SEL_DRUMS, -1, 0, rbuf);
            ne = collect(est, SEL_DRUMS, -1, 0, ebuf);
            st = prf_notes(rbuf, nr, ebuf, ne, p->onset_tolerance, -1, 0, -1, &r, NULL, err);
        }
        if (st) return st;
        psum += r.precision * (double)ne;
        pcount += ne;
        rsum += r.recall * (double)nr;
        rcount += nr;
    }
    out->precision = pcount ? psum / (double)pcount : 0.0;
    out->recall = rcount ? rsum / (double)rcount : 0.0;
    out->f1 = f_measure(out->precision, out->recall);
    return SCRIBE_OK;
}

static scribe_status check_params(const scribe_eval_params *p, scribe_error *err) {
    if (!(p->onset_tolerance > 0) || !(p->offset_min_tolerance > 0) || !(p->offset_ratio > 0) ||
        !(p->velocity_tolerance > 0) || !(p->frame_rate > 0) || !(p->frame_rate <= 10000))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT,
                       "evaluation parameters must be positive (onset_tolerance %g, offset_ratio %g, "
                       "offset_min_tolerance %g, velocity_tolerance %g, frame_rate %g)",
                       p->onset_tolerance, p->offset_ratio, p->offset_min_tolerance, p->velocity_tolerance,
                       p->frame_rate);
    return SCRIBE_OK;
}

scribe_status scribe_evaluate(const scribe_notes *ref, const scribe_notes *est, const scribe_eval_params *params,
                              scribe_eval_result *out, scribe_error *err) {
    if (!ref || !est || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_evaluate: NULL argument");
    scribe_eval_params p = params ? *params : scribe_eval_default_params();
    scribe_status st = check_params(&p, err);
    if (!st) st = check_notes(ref, "reference", err);
    if (!st) st = check_notes(est, "estimated", err);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->ref_notes = (uint32_t)ref->count;
    out->est_notes = (uint32_t)est->count;
    ev_note *rbuf = sc_malloc_array(ref->count, sizeof *rbuf);
    ev_note *ebuf = sc_malloc_array(est->count, sizeof *ebuf);
    if (!rbuf || !ebuf) {
        free(rbuf); free(ebuf);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory evaluating %zu/%zu notes", ref->count, est->count);
    }
    size_t nr = collect(ref, SEL_PITCHED, -1, 0, rbuf), ne = collect(est, SEL_PITCHED, -1, 0, ebuf);
    st = prf_notes(rbuf, nr, ebuf, ne, p.onset_tolerance, -1, 0, -1, &out->onset, NULL, err);
    if (!st) st = prf_notes(rbuf, nr, ebuf, ne, p.onset_tolerance, p.offset_ratio, p.offset_min_tolerance, -1,
                            &out->onset_offset, NULL, err);
    if (!st) st = prf_notes(rbuf, nr, ebuf, ne, p.onset_tolerance, p.offset_ratio, p.offset_min_tolerance,
                            p.velocity_tolerance, &out->onset_offset_velocity, NULL, err);
    if (!st) st = frame_prf(ref, est, p.frame_rate, &out->frame, err);
    if (!st) st = multi_prf(ref, est, &p, 0, rbuf, ebuf, &out->multi_flat, err);
    if (!st) st = multi_prf(ref, est, &p, 1, rbuf, ebuf, &out->multi_midi_class, err);
    if (!st) st = multi_prf(ref, est, &p, 2, rbuf, ebuf, &out->multi_full, err);
    if (!st) {
        nr = collect(ref, SEL_DRUMS, -1, 0, rbuf);
        ne = collect(est, SEL_DRUMS, -1, 0, ebuf);
        st = prf_notes(rbuf, nr, ebuf, ne, p.onset_tolerance, -1, 0, -1, &out->drum_onset, NULL, err);
    }
    free(rbuf);
    free(ebuf);
    return st ? st : sc_ok(err);
}

scribe_status scribe_evaluate_onset_sweep(const scribe_notes *ref, const scribe_notes *est, const double *tolerances,
                                          size_t n, scribe_prf *out, scribe_error *err) {
    if (!ref || !est || (n && (!tolerances || !out)))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_evaluate_onset_sweep: NULL argument");
    scribe_status st = check_notes(ref, "reference", err);
    if (!st) st = check_notes(est, "estimated", err);
    if (st) return st;
    for (size_t k = 0; k < n; k++)
        if (!(tolerances[k] > 0))
            return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "onset tolerance %zu is %g, must be > 0", k, tolerances[k]);
    ev_note *rbuf = sc_malloc_array(ref->count, sizeof *rbuf);
    ev_note *ebuf = sc_malloc_array(est->count, sizeof *ebuf);
    if (!rbuf || !ebuf) {
        free(rbuf); free(ebuf);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory evaluating %zu/%zu notes", ref->count, est->count);
    }
    size_t nr = collect(ref, SEL_PITCHED, -1, 0, rbuf), ne = collect(est, SEL_PITCHED, -1, 0, ebuf);
    for (size_t k = 0; k < n && !st; k++)
        st = prf_notes(rbuf, nr, ebuf, ne, tolerances[k], -1, 0, -1, &out[k], NULL, err);
    free(rbuf);
    free(ebuf);
    return st ? st : sc_ok(err);
}
