/* Time to recovery: from an experiment's first failing run to its next passing run. */
#include <math.h>
#include <stdlib.h>

#include "report/analysis.h"

struct keyed_run {
    const struct report_run *run;
    size_t position;
};

static int compare_by_time(const void *a, const void *b)
{
    const struct keyed_run *x = a, *y = b;

    if (x->run->experiment != y->run->experiment)
        return x->run->experiment < y->run->experiment ? -1 : 1;
    if (x->run->started_ms != y->run->started_ms)
        return x->run->started_ms < y->run->started_ms ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

static int compare_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Walks one experiment's runs, keyed[start..end) in time order, appending
 * each recovery time to times. */
static void walk_experiment(const struct keyed_run *keyed, size_t start, size_t end,
                            struct recovery_experiment *e, int64_t *times, size_t *n_times)
{
    bool failing = false;
    int64_t failing_since = 0;

    for (size_t i = start; i < end; i++) {
        const struct report_run *run = keyed[i].run;
        if (run->outcome == OUTCOME_INTERRUPTED)
            continue;
        if (run->outcome != OUTCOME_PASSED) {
            if (!failing) {
                failing = true;
                failing_since = run->started_ms;
                e->incidents++;
            }
            continue;
        }
        if (failing) {
            int64_t took = run->started_ms - failing_since;
            failing = false;
            e->recovered++;
            e->total_ms += took;
            if (took > e->max_ms)
                e->max_ms = took;
            times[(*n_times)++] = took;
        }
    }
    if (failing) {
        e->open = 1;
        e->open_since_ms = failing_since;
    }
}

size_t report_recovery(const struct report_run *runs, size_t n, int64_t since_ms,
                       int64_t until_ms, struct recovery_stats *stats,
                       struct recovery_experiment **experiments)
{
    struct keyed_run *keyed = calloc(n ? n : 1, sizeof(*keyed));
    int64_t *times = calloc(n ? n : 1, sizeof(*times));
    struct recovery_experiment *found = NULL;
    size_t n_keyed = 0, n_times = 0, n_found = 0;

    if (keyed == NULL || times == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (runs[i].started_ms < since_ms || runs[i].started_ms >= until_ms)
            continue;
        keyed[n_keyed].run = &runs[i];
        keyed[n_keyed].position = i;
        n_keyed++;
    }
    qsort(keyed, n_keyed, sizeof(*keyed), compare_by_time);

    *stats = (struct recovery_stats){ .mean_seconds = NAN, .median_seconds = NAN,
                                      .max_seconds = NAN };
    for (size_t i = 0; i < n_keyed;) {
        size_t start = i;
        struct recovery_experiment e = { .experiment = keyed[i].run->experiment };
        while (i < n_keyed && keyed[i].run->experiment == e.experiment)
            i++;
        walk_experiment(keyed, start, i, &e, times, &n_times);
        if (e.incidents == 0)
            continue;
        stats->incidents += e.incidents;
        stats->recovered += e.recovered;
        stats->open += e.open;
        found = realloc(found, (n_found + 1) * sizeof(*found));
        if (found == NULL)
            abort();
        found[n_found++] = e;
    }

    if (n_times > 0) {
        int64_t total = 0;
        qsort(times, n_times, sizeof(*times), compare_ms);
        for (size_t i = 0; i < n_times; i++)
            total += times[i];
        stats->mean_seconds = (double)total / (double)n_times / 1000.0;
        stats->max_seconds = (double)times[n_times - 1] / 1000.0;
        if (n_times % 2 == 1)
            stats->median_seconds = (double)times[n_times / 2] / 1000.0;
        else
            stats->median_seconds =
                (double)(times[n_times / 2 - 1] + times[n_times / 2]) / 2.0 / 1000.0;
    }
    free(keyed);
    free(times);
    if (experiments != NULL)
        *experiments = found;
    else
        free(found);
    return n_found;
}
