/* Judging a journal's objectives from its traffic timeline, and the resilience score. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resilience/resilience.h"
#include "store/store.h"
#include "traffic/histogram.h"

/* Totals of the seconds an objective looks at. */
struct aggregate {
    uint64_t succeeded, completed;
    struct histogram hist;
    uint64_t max_us;      /* exact maximum from the seconds' summaries */
    size_t seconds;
};

static const char *type_name(json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: break;
    }
    return "null";
}

/* Reads a count: a whole number of 0 or more. */
static int read_count(json_t *value, size_t i, const char *what, uint64_t *out, struct err *err)
{
    if (value == NULL)
        return err_set(err, "traffic timeline entry %zu lacks '%s'", i, what);
    if (!json_is_integer(value))
        return err_set(err, "traffic timeline entry %zu: '%s' must be a whole number, not %s", i,
                       what, type_name(value));
    if (json_integer_value(value) < 0)
        return err_set(err, "traffic timeline entry %zu: '%s' is %lld; a count cannot be "
                       "negative", i, what, (long long)json_integer_value(value));
    *out = (uint64_t)json_integer_value(value);
    return 0;
}

/* Checks one timeline entry; fills succeeded and completed. */
static int read_second(json_t *second, size_t i, uint64_t *succeeded, uint64_t *completed,
                       struct err *err)
{
    json_t *failed = json_object_get(second, "failed"), *count;
    json_t *histogram = json_object_get(second, "histogram");
    uint64_t sent, n;
    const char *key;
    char what[80];

    if (!json_is_object(second))
        return err_set(err, "traffic timeline entry %zu must be an object, not %s", i,
                       type_name(second));
    if (read_count(json_object_get(second, "second"), i, "second", &n, err) != 0 ||
        read_count(json_object_get(second, "sent"), i, "sent", &sent, err) != 0 ||
        read_count(json_object_get(second, "succeeded"), i, "succeeded", succeeded, err) != 0)
        return -1;
    if (failed == NULL)
        return err_set(err, "traffic timeline entry %zu lacks 'failed'", i);
    if (!json_is_object(failed))
        return err_set(err, "traffic timeline entry %zu: 'failed' must be an object of counts "
                       "by kind, not %s", i, type_name(failed));
    *completed = *succeeded;
    json_object_foreach(failed, key, count) {
        snprintf(what, sizeof(what), "failed.%s", key);
        if (read_count(count, i, what, &n, err) != 0)
            return -1;
        *completed += n;
    }
    if (*completed > sent)
        return err_set(err, "traffic timeline entry %zu: succeeded and failed add up to %llu, "
                       "more than the %llu sent", i, (unsigned long long)*completed,
                       (unsigned long long)sent);
    if (histogram == NULL)
        return err_set(err, "traffic timeline entry %zu lacks 'histogram'", i);
    if (!json_is_array(histogram))
        return err_set(err, "traffic timeline entry %zu: 'histogram' must be a list of [bucket, "
                       "count] pairs, not %s", i, type_name(histogram));
    return 0;
}

/* Checks the whole timeline, so judging can trust it. */
static int check_timeline(json_t *traffic, struct err *err)
{
    json_t *timeline = json_object_get(traffic, "timeline"), *second;
    struct histogram *h = malloc(sizeof(*h));
    uint64_t s, c;
    size_t i;
    int rc = 0;

    if (h == NULL)
        abort();
    if (!json_is_array(timeline))
        rc = err_set(err, "the traffic's 'timeline' must be a list, not %s",
                     timeline == NULL ? "missing" : type_name(timeline));
    else if (!json_is_number(json_object_get(traffic, "start_epoch")))
        rc = err_set(err, "the traffic lacks a numeric 'start_epoch'");
    json_array_foreach(timeline, i, second) {
        if (rc != 0)
            break;
        histogram_init(h);
        if (read_second(second, i, &s, &c, err) != 0)
            rc = -1;
        else if (histogram_add_json(h, json_object_get(second, "histogram")) != 0)
            rc = err_set(err, "traffic timeline entry %zu: 'histogram' has an entry that is not "
                         "a [bucket, count] pair of whole numbers (bucket below %d)", i,
                         (int)HIST_BUCKETS);
        else if (h->total != c)
            rc = err_set(err, "traffic timeline entry %zu: 'histogram' holds %llu requests, but "
                         "succeeded and failed add up to %llu", i, (unsigned long long)h->total,
                         (unsigned long long)c);
    }
    free(h);
    return rc;
}

static bool in_phase(json_t *second, const char *phase)
{
    const char *p = json_string_value(json_object_get(second, "phase"));
    json_t *name;
    size_t i;

    if (strcmp(phase, "overall") == 0)
        return true;
    if (p != NULL && strcmp(p, phase) == 0)
        return true;
    json_array_foreach(json_object_get(second, "faults"), i, name) {
        if (json_is_string(name) && strcmp(json_string_value(name), phase) == 0)
            return true;
    }
    return false;
}

static void add_second(struct aggregate *a, json_t *second)
{
    uint64_t succeeded, completed;
    struct err err;
    json_t *max = json_object_get(json_object_get(second, "latency_ms"), "max");

    read_second(second, 0, &succeeded, &completed, &err);
    a->succeeded += succeeded;
    a->completed += completed;
    a->seconds++;
    histogram_add_json(&a->hist, json_object_get(second, "histogram"));
    if (json_is_number(max) && json_number_value(max) * 1000.0 > (double)a->max_us)
        a->max_us = (uint64_t)llround(json_number_value(max) * 1000.0);
}

static void aggregate_phase(json_t *traffic, const char *phase, struct aggregate *a)
{
    json_t *second;
    size_t i;

    memset(a, 0, sizeof(*a));
    json_array_foreach(json_object_get(traffic, "timeline"), i, second) {
        if (in_phase(second, phase))
            add_second(a, second);
    }
    /* Bucket bounds overstate the maximum; the seconds' exact maxima do not. */
    if (a->max_us > 0 && a->max_us < a->hist.max)
        a->hist.max = a->max_us;
}

static void judge_share(struct verdict *v, json_t *traffic)
{
    const struct objective *o = v->objective;
    struct aggregate *a = malloc(sizeof(*a));

    if (a == NULL)
        abort();
    aggregate_phase(traffic, o->phase, a);
    if (a->completed == 0) {
        snprintf(v->reason, sizeof(v->reason), "no request finished in phase '%s'", o->phase);
    } else if (o->kind == OBJECTIVE_AVAILABILITY) {
        v->measured = 100.0 * (double)a->succeeded / (double)a->completed;
        v->met = v->measured >= o->limit;
        if (!v->met)
            snprintf(v->reason, sizeof(v->reason), "%llu of %llu requests failed in phase '%s'",
                     (unsigned long long)(a->completed - a->succeeded),
                     (unsigned long long)a->completed, o->phase);
    } else {
        v->measured = (double)histogram_percentile(&a->hist, o->percentile) / 1000.0;
        v->met = v->measured <= o->limit;
        if (!v->met)
            snprintf(v->reason, sizeof(v->reason),
                     "%s was %.1f ms, over the %g ms limit, in phase '%s' (%llu requests)",
                     objective_percentile_name(o->percentile), v->measured, o->limit, o->phase,
                     (unsigned long long)a->completed);
    }
    free(a);
}

/* True when one second meets every availability and latency limit. */
static bool second_healthy(json_t *second, const struct objective *all, size_t n,
                           struct histogram *h)
{
    uint64_t succeeded, completed;
    struct err err;
    double required = -1;

    if (read_second(second, 0, &succeeded, &completed, &err) != 0 || completed == 0)
        return false;
    histogram_init(h);
    histogram_add_json(h, json_object_get(second, "histogram"));
    for (size_t i = 0; i < n; i++) {
        if (all[i].kind == OBJECTIVE_AVAILABILITY && all[i].limit > required)
            required = all[i].limit;
        if (all[i].kind == OBJECTIVE_LATENCY &&
            (double)histogram_percentile(h, all[i].percentile) / 1000.0 > all[i].limit)
            return false;
    }
    if (required < 0)
        required = 100;
    return 100.0 * (double)succeeded / (double)completed >= required;
}

static void judge_recovery(struct verdict *v, json_t *journal, json_t *traffic,
                           const struct objective *all, size_t n)
{
    const struct objective *o = v->objective;
    struct fault_window *w;
    size_t nw = resilience_fault_windows(journal, &w);
    json_t *timeline = json_object_get(traffic, "timeline");
    double t0 = json_number_value(json_object_get(traffic, "start_epoch")), end = -INFINITY;
    size_t len = json_array_size(timeline), need = (size_t)ceil(o->window), run = 0;
    struct histogram *h = malloc(sizeof(*h));

    if (h == NULL)
        abort();
    for (size_t i = 0; i < nw; i++)
        end = fmax(end, w[i].end);
    free(w);
    if (nw == 0) {
        v->measured = 0;
        v->met = true;
        snprintf(v->reason, sizeof(v->reason), "the run had no fault to recover from");
        free(h);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        json_t *second = json_array_get(timeline, i);
        double from = t0 + (double)json_integer_value(json_object_get(second, "second"));
        if (from + 1 <= end)
            continue;
        run = second_healthy(second, all, n, h) ? run + 1 : 0;
        if (run < need)
            continue;
        double recovered = t0 + (double)json_integer_value(json_object_get(
                                    json_array_get(timeline, i + 1 - need), "second"));
        v->measured = fmax(0, recovered - end);
        v->met = v->measured <= o->limit;
        if (!v->met)
            snprintf(v->reason, sizeof(v->reason), "healthy for %g s in a row only %.0f s after "
                     "the last fault ended", o->window, v->measured);
        free(h);
        return;
    }
    snprintf(v->reason, sizeof(v->reason), "not healthy for %g s in a row before the traffic "
             "ended (%.0f s after the last fault)", o->window,
             fmax(0, t0 + (double)len - end));
    free(h);
}

static double score_of(const struct verdict *v, size_t n)
{
    double total = 0, met = 0;

    for (size_t i = 0; i < n; i++) {
        total += v[i].objective->weight;
        if (v[i].met)
            met += v[i].objective->weight;
    }
    return total > 0 ? 100.0 * met / total : 100.0;
}

int resilience_judge(json_t *journal, const char *path, struct judgement *out, struct err *err)
{
    json_t *experiment = json_object_get(journal, "experiment"), *traffic;
    const char *status = json_string_value(json_object_get(journal, "status"));
    const char *start = json_string_value(json_object_get(journal, "start"));

    memset(out, 0, sizeof(*out));
    if (!json_is_object(journal) || !json_is_object(experiment) || status == NULL) {
        out->problem = JUDGE_NOT_JOURNAL;
        return err_set(err, "'%s' is not a journal: it needs experiment and status", path);
    }
    if (objectives_parse(json_object_get(experiment, "objectives"), &out->objectives, &out->n,
                         err) != 0) {
        out->problem = JUDGE_BAD_OBJECTIVES;
        return -1;
    }
    if (objectives_check_phases(out->objectives, out->n, experiment, err) != 0) {
        judgement_release(out);
        out->problem = JUDGE_BAD_OBJECTIVES;
        return -1;
    }
    traffic = resilience_traffic(journal);
    if (traffic != NULL && check_timeline(traffic, err) != 0) {
        judgement_release(out);
        out->problem = JUDGE_BAD_TIMELINE;
        return -1;
    }
    if (traffic != NULL && json_object_get(traffic, "faults") == NULL)
        resilience_mark_phases(journal);

    out->journal_path = strdup(path);
    out->title = strdup(json_string_value(json_object_get(experiment, "title")) != NULL
                            ? json_string_value(json_object_get(experiment, "title"))
                            : "");
    out->status = strdup(status);
    if (start != NULL && store_time_parse(start, 0, &out->started, err) != 0)
        out->started = 0;
    out->verdicts = calloc(out->n + 1, sizeof(struct verdict));
    if (out->verdicts == NULL)
        abort();
    for (size_t i = 0; i < out->n; i++) {
        struct verdict *v = &out->verdicts[i];
        v->objective = &out->objectives[i];
        v->measured = NAN;
        if (traffic == NULL)
            snprintf(v->reason, sizeof(v->reason), "the journal has no traffic to judge");
        else if (v->objective->kind == OBJECTIVE_RECOVERY)
            judge_recovery(v, journal, traffic, out->objectives, out->n);
        else
            judge_share(v, traffic);
    }
    out->score = score_of(out->verdicts, out->n);
    out->passed = true;
    for (size_t i = 0; i < out->n; i++)
        out->passed = out->passed && out->verdicts[i].met;
    return 0;
}

int resilience_judge_file(const char *path, struct judgement *out, struct err *err)
{
    json_error_t jerr;
    json_t *journal = json_load_file(path, 0, &jerr);
    int rc;

    memset(out, 0, sizeof(*out));
    if (journal == NULL) {
        struct stat st;
        out->problem = JUDGE_NO_FILE;
        if (stat(path, &st) != 0 && errno == ENOENT)
            return err_set(err, "the journal '%s' was not found", path);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return err_set(err, "'%s' is a folder; pass the journal file itself (such as "
                           "'%s/journal.json')", path, path);
        if (access(path, R_OK) != 0)
            return err_set_errno(err, errno, "cannot read the journal '%s'", path);
        out->problem = JUDGE_NOT_JOURNAL;
        if (jerr.line > 0)
            return err_set(err, "'%s' is not valid JSON: %s (line %d)", path, jerr.text,
                           jerr.line);
        return err_set(err, "'%s' is not valid JSON: %s", path, jerr.text);
    }
    rc = resilience_judge(journal, path, out, err);
    json_decref(journal);
    return rc;
}

void judgement_release(struct judgement *j)
{
    objectives_free(j->objectives, j->n);
    free(j->verdicts);
    free(j->journal_path);
    free(j->title);
    free(j->status);
    memset(j, 0, sizeof(*j));
}

double resilience_overall_score(const struct judgement *j, size_t n)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += j[i].score;
    return n > 0 ? sum / (double)n : 100.0;
}
