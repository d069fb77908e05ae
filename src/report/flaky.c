/* Flaky experiments: passed and failed on the same commit, with their flip rate. */
#include <stdlib.h>

#include "report/analysis.h"

struct keyed_run {
    const struct report_run *run;
    size_t position; /* input order, the last tie-breaker so sorting is stable */
};

static int compare_by_commit(const void *a, const void *b)
{
    const struct keyed_run *x = a, *y = b;

    if (x->run->experiment != y->run->experiment)
        return x->run->experiment < y->run->experiment ? -1 : 1;
    if (x->run->commit != y->run->commit)
        return x->run->commit < y->run->commit ? -1 : 1;
    if (x->run->started_ms != y->run->started_ms)
        return x->run->started_ms < y->run->started_ms ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

static int compare_flaky(const void *a, const void *b)
{
    const struct flaky_experiment *x = a, *y = b;

    if (x->flips != y->flips)
        return x->flips > y->flips ? -1 : 1;
    if (x->flip_rate != y->flip_rate)
        return x->flip_rate > y->flip_rate ? -1 : 1;
    return x->experiment < y->experiment ? -1 : x->experiment > y->experiment;
}

/* Adds the runs of one (experiment, commit) group, keyed[start..end), to f. */
static void add_commit_group(const struct keyed_run *keyed, size_t start, size_t end,
                             struct flaky_experiment *f)
{
    int passed = 0, failed = 0, flips = 0;

    for (size_t i = start; i < end; i++) {
        bool pass = keyed[i].run->outcome == OUTCOME_PASSED;
        if (pass)
            passed++;
        else
            failed++;
        if (i > start && pass != (keyed[i - 1].run->outcome == OUTCOME_PASSED))
            flips++;
    }
    f->commits++;
    if (passed == 0 || failed == 0)
        return;
    f->flaky_commits++;
    f->runs += (int)(end - start);
    f->flips += flips;
    f->transitions += (int)(end - start) - 1;
}

size_t report_find_flaky(const struct report_run *runs, size_t n, struct flaky_experiment **out)
{
    struct keyed_run *keyed = calloc(n ? n : 1, sizeof(*keyed));
    struct flaky_experiment *found = NULL;
    size_t n_keyed = 0, n_found = 0;

    if (keyed == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (runs[i].commit < 0 || runs[i].outcome == OUTCOME_INTERRUPTED)
            continue;
        keyed[n_keyed].run = &runs[i];
        keyed[n_keyed].position = i;
        n_keyed++;
    }
    qsort(keyed, n_keyed, sizeof(*keyed), compare_by_commit);

    size_t i = 0;
    while (i < n_keyed) {
        struct flaky_experiment f = { .experiment = keyed[i].run->experiment };
        while (i < n_keyed && keyed[i].run->experiment == f.experiment) {
            size_t start = i;
            while (i < n_keyed && keyed[i].run->experiment == f.experiment &&
                   keyed[i].run->commit == keyed[start].run->commit)
                i++;
            add_commit_group(keyed, start, i, &f);
        }
        if (f.flaky_commits == 0)
            continue;
        f.flip_rate = f.transitions > 0 ? (double)f.flips / f.transitions : 0.0;
        found = realloc(found, (n_found + 1) * sizeof(*found));
        if (found == NULL)
            abort();
        found[n_found++] = f;
    }
    free(keyed);
    if (n_found > 1)
        qsort(found, n_found, sizeof(*found), compare_flaky);
    *out = found;
    return n_found;
}
