/* Fault windows from a journal's method records, and the phases they mark on traffic timelines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/resilience.h"
#include "store/store.h"

static double record_time(json_t *record, const char *key)
{
    const char *text = json_string_value(json_object_get(record, key));
    double epoch = NAN;
    struct err err;

    if (text == NULL || store_time_parse(text, 0, &epoch, &err) != 0)
        return NAN;
    return epoch;
}

static json_t *record_provider(json_t *record)
{
    return json_object_get(json_object_get(record, "activity"), "provider");
}

static bool provider_is(json_t *provider, const char *type)
{
    const char *t = json_string_value(json_object_get(provider, "type"));

    return t != NULL && strcmp(t, type) == 0;
}

/* The end of the run's faults that nothing in the method undid: the end of
 * the last rollback, else of the last method activity. */
static double run_fault_end(json_t *journal)
{
    double end = NAN;
    size_t i;
    json_t *record;
    const char *lists[] = { "run", "rollbacks" };

    for (int l = 0; l < 2; l++) {
        json_array_foreach(json_object_get(journal, lists[l]), i, record) {
            double t = record_time(record, "end");
            if (!isnan(t) && (isnan(end) || t > end))
                end = t;
        }
    }
    return end;
}

/* True when a toxic or signal action leaves its fault in place after it ends. */
static bool lasts(json_t *provider)
{
    const char *action = json_string_value(json_object_get(provider, "action"));
    const char *signal = json_string_value(json_object_get(provider, "signal"));

    if (provider_is(provider, "toxic"))
        return action == NULL || strcmp(action, "remove") != 0;
    if (provider_is(provider, "signal"))
        return signal != NULL && (strcmp(signal, "STOP") == 0 || strcmp(signal, "SIGSTOP") == 0) &&
               json_object_get(provider, "duration") == NULL;
    return false;
}

/* The start of a later method record that undoes a lasting fault, or NAN. */
static double undone_at(json_t *records, size_t from, json_t *provider)
{
    const char *proxy = json_string_value(json_object_get(provider, "proxy"));
    size_t i;
    json_t *record;

    json_array_foreach(records, i, record) {
        json_t *p = record_provider(record);
        const char *action = json_string_value(json_object_get(p, "action"));
        const char *signal = json_string_value(json_object_get(p, "signal"));
        if (i <= from)
            continue;
        if (provider_is(provider, "toxic") && provider_is(p, "toxic") && action != NULL &&
            strcmp(action, "remove") == 0 && proxy != NULL &&
            json_string_value(json_object_get(p, "proxy")) != NULL &&
            strcmp(proxy, json_string_value(json_object_get(p, "proxy"))) == 0)
            return record_time(record, "end");
        if (provider_is(provider, "signal") && provider_is(p, "signal") && signal != NULL &&
            (strcmp(signal, "CONT") == 0 || strcmp(signal, "SIGCONT") == 0))
            return record_time(record, "end");
    }
    return NAN;
}

size_t resilience_fault_windows(json_t *journal, struct fault_window **out)
{
    json_t *records = json_object_get(journal, "run"), *record;
    struct fault_window *windows = calloc(json_array_size(records) + 1, sizeof(*windows));
    double run_end = run_fault_end(journal);
    size_t i, n = 0;

    if (windows == NULL)
        abort();
    json_array_foreach(records, i, record) {
        json_t *activity = json_object_get(record, "activity");
        json_t *provider = record_provider(record);
        const char *type = json_string_value(json_object_get(activity, "type"));
        const char *action = json_string_value(json_object_get(provider, "action"));
        struct fault_window w;

        if (type == NULL || strcmp(type, "action") != 0 || provider_is(provider, "traffic"))
            continue;
        /* Removing a toxic ends a fault; it does not start one. */
        if (provider_is(provider, "toxic") && action != NULL && strcmp(action, "remove") == 0)
            continue;
        w.name = json_string_value(json_object_get(activity, "name"));
        w.start = record_time(record, "start");
        w.end = record_time(record, "end");
        if (isnan(w.start) || isnan(w.end))
            continue;
        if (lasts(provider)) {
            double undone = undone_at(records, i, provider);
            w.end = !isnan(undone) ? undone : !isnan(run_end) && run_end > w.end ? run_end : w.end;
        }
        if (w.name == NULL)
            w.name = "fault";
        windows[n++] = w;
    }
    if (n == 0) {
        free(windows);
        windows = NULL;
    }
    *out = windows;
    return n;
}

bool resilience_fault_in_second(const struct fault_window *w, double from)
{
    double to = from + 1, overlap = fmin(w->end, to) - fmax(w->start, from);
    double middle = w->start + (w->end - w->start) / 2;

    if (overlap <= 0)
        return false;
    /* A sliver of a fault at the edge of a second (the start of a pause
     * timed on a second boundary) barely touches its requests. The second
     * holding the middle of the fault always counts, so a short fault is
     * never lost. */
    return overlap >= RESILIENCE_MIN_OVERLAP || (middle >= from && middle < to);
}

/* Marks one traffic document's timeline. */
static void mark_traffic(json_t *traffic, const struct fault_window *w, size_t n)
{
    json_t *start = json_object_get(traffic, "start_epoch");
    json_t *faults = json_array(), *second;
    double t0, first = INFINITY, last = -INFINITY;
    size_t i;

    if (!json_is_number(start)) {
        json_decref(faults);
        return;
    }
    t0 = json_number_value(start);
    for (size_t f = 0; f < n; f++) {
        json_array_append_new(faults, json_pack("{s:s, s:f, s:f}", "name", w[f].name,
                                                "start_offset", w[f].start - t0, "end_offset",
                                                w[f].end - t0));
        first = fmin(first, w[f].start);
        last = fmax(last, w[f].end);
    }
    json_object_set_new(traffic, "faults", faults);

    json_array_foreach(json_object_get(traffic, "timeline"), i, second) {
        json_t *index = json_object_get(second, "second");
        if (!json_is_integer(index))
            continue;
        double from = t0 + (double)json_integer_value(index), to = from + 1;
        json_t *names = json_array();
        for (size_t f = 0; f < n; f++) {
            if (resilience_fault_in_second(&w[f], from))
                json_array_append_new(names, json_string(w[f].name));
        }
        const char *phase = json_array_size(names) > 0 ? "during"
                            : n == 0 || from < first   ? "before"
                            : to > last                ? "after"
                                                       : "between";
        json_object_set_new(second, "phase", json_string(phase));
        if (json_array_size(names) > 0)
            json_object_set_new(second, "faults", names);
        else
            json_decref(names);
    }
}

void resilience_mark_phases(json_t *journal)
{
    struct fault_window *windows;
    size_t n = resilience_fault_windows(journal, &windows), i;
    json_t *record;

    if (json_is_object(json_object_get(journal, "traffic")))
        mark_traffic(json_object_get(journal, "traffic"), windows, n);
    json_array_foreach(json_object_get(journal, "run"), i, record) {
        if (provider_is(record_provider(record), "traffic") &&
            json_is_object(json_object_get(record, "output")))
            mark_traffic(json_object_get(record, "output"), windows, n);
    }
    free(windows);
}

/* TODO: objectives are judged on one traffic only; a key naming which
 * traffic activity an objective reads is missing. */
json_t *resilience_traffic(json_t *journal)
{
    json_t *traffic = json_object_get(journal, "traffic"), *record;
    size_t i;

    if (json_is_object(traffic) && json_object_get(traffic, "timeline") != NULL)
        return traffic;
    json_array_foreach(json_object_get(journal, "run"), i, record) {
        json_t *output = json_object_get(record, "output");
        if (provider_is(record_provider(record), "traffic") && json_is_object(output) &&
            json_object_get(output, "timeline") != NULL)
            return output;
    }
    return NULL;
}
