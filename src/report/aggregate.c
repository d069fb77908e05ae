/* Reading the history store into a report: one scan of the runs of both
 * periods for totals, trend, flakiness, recovery and durations, and
 * aggregate queries for failures, healing and objectives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "store/query.h"

/* $1 start of the previous period, $2 end of the report's period. */
static const char runs_sql[] =
    "SELECT experiment, commit_sha, outcome, started_ms, duration_ms, healed FROM chaos_runs"
    " WHERE started_ms >= $1 AND started_ms < $2 ORDER BY started_ms, id";

/* $1 previous start, $2 report start, $3 report end. */
static const char categories_sql[] =
    "SELECT category, SUM(CASE WHEN started_ms >= $2 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN started_ms < $2 THEN 1 ELSE 0 END) FROM chaos_failures"
    " WHERE started_ms >= $1 AND started_ms < $3 GROUP BY category ORDER BY category";

/* $1 report start, $2 report end, $3 how many. */
static const char signatures_sql[] =
    "SELECT signature, MIN(category), COUNT(*), COUNT(DISTINCT experiment), MIN(message)"
    " FROM chaos_failures WHERE started_ms >= $1 AND started_ms < $2 GROUP BY signature"
    " ORDER BY COUNT(*) DESC, signature LIMIT $3";

static const char first_seen_sql[] =
    "SELECT MIN(started_ms) FROM chaos_failures WHERE signature = $1";

static const char last_seen_sql[] =
    "SELECT MAX(started_ms) FROM chaos_failures WHERE signature = $1 AND started_ms < $2";

static const char signature_count_sql[] =
    "SELECT COUNT(*) FROM chaos_failures WHERE signature = $1 AND started_ms >= $2"
    " AND started_ms < $3";

/* $1 previous start, $2 report start, $3 report end. */
static const char strategies_sql[] =
    "SELECT a.category, a.strategy,"
    " SUM(CASE WHEN a.started_ms >= $2 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN a.started_ms >= $2 AND b.exit_code = 0 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN a.started_ms < $2 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN a.started_ms < $2 AND b.exit_code = 0 THEN 1 ELSE 0 END)"
    " FROM chaos_heal_attempts a LEFT JOIN chaos_heal_attempts b"
    " ON b.session = a.session AND b.attempt = a.attempt + 1"
    " WHERE a.started_ms >= $1 AND a.started_ms < $3 AND a.strategy IS NOT NULL"
    " GROUP BY a.category, a.strategy ORDER BY a.category, a.strategy";

static const char healing_sql[] =
    "SELECT CASE WHEN started_ms >= $2 THEN 0 ELSE 1 END AS p, COUNT(*),"
    " SUM(CASE WHEN exit_code <> 0 THEN 1 ELSE 0 END), COUNT(DISTINCT session),"
    " COUNT(DISTINCT CASE WHEN exit_code <> 0 THEN session END),"
    " SUM(CASE WHEN exit_code = 0 AND attempt > 1 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN outcome = 'stopped' THEN 1 ELSE 0 END)"
    " FROM chaos_heal_attempts WHERE started_ms >= $1 AND started_ms < $3 GROUP BY p";

/* Healed sessions and how long each took from its first attempt to the
 * end of its passing one; ROUND before CAST, because SQLite's CAST
 * truncates and PostgreSQL's rounds. */
static const char healing_recovery_sql[] =
    "SELECT CASE WHEN f.started_ms >= $2 THEN 0 ELSE 1 END AS p, COUNT(*),"
    " SUM(CAST(ROUND(s.started_ms + s.duration * 1000 - f.started_ms) AS BIGINT)),"
    " MAX(CAST(ROUND(s.started_ms + s.duration * 1000 - f.started_ms) AS BIGINT))"
    " FROM chaos_heal_attempts f JOIN chaos_heal_attempts s ON s.session = f.session"
    " WHERE f.attempt = 1 AND s.attempt > 1 AND s.exit_code = 0"
    " AND f.started_ms >= $1 AND f.started_ms < $3 GROUP BY p";

/* Day -1 collects the previous period. */
static const char score_sql[] =
    "SELECT CASE WHEN started_ms < $2 THEN -1 ELSE started_ms / 86400000 END AS d,"
    " COUNT(*), SUM(weight * passed), SUM(weight) FROM chaos_objectives"
    " WHERE started_ms >= $1 AND started_ms < $3 GROUP BY d ORDER BY d";

static char *copy_text(const char *text)
{
    char *copy = strdup(text ? text : "");

    if (copy == NULL)
        abort();
    return copy;
}

static void *grow(void *array, size_t n, size_t item)
{
    void *grown = realloc(array, (n + 1) * item);

    if (grown == NULL)
        abort();
    return grown;
}

static enum report_outcome parse_outcome(const char *text)
{
    if (text == NULL)
        return OUTCOME_FAILED;
    if (strcmp(text, "passed") == 0)
        return OUTCOME_PASSED;
    if (strcmp(text, "deviated") == 0)
        return OUTCOME_DEVIATED;
    if (strcmp(text, "interrupted") == 0)
        return OUTCOME_INTERRUPTED;
    return OUTCOME_FAILED;
}

static void count_outcome(struct report_totals *t, const struct report_run *run)
{
    t->runs++;
    if (run->outcome == OUTCOME_PASSED)
        t->passed++;
    else if (run->outcome == OUTCOME_DEVIATED)
        t->deviated++;
    else if (run->outcome == OUTCOME_INTERRUPTED)
        t->interrupted++;
    else
        t->failed++;
    if (run->healed)
        t->healed++;
}

/* Reads the runs of both periods, interning experiment and commit names,
 * then renumbers both so indexes follow name order. */
static int read_runs(struct store *store, struct report *r, struct report_run **out, size_t *n,
                     struct err *err)
{
    struct store_value params[] = { STORE_INT(r->period[REPORT_PREVIOUS].since_ms),
                                    STORE_INT(r->period[REPORT_CURRENT].until_ms) };
    struct name_table commits = NAME_TABLE_INIT;
    struct report_run *runs = NULL;
    size_t count = 0, cap = 0;
    struct store_rows *rows;
    int rc;

    if (store_query(store, runs_sql, params, 2, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        const char *commit = store_rows_text(rows, 1);
        if (count == cap) {
            cap = cap ? cap * 2 : 1024;
            runs = realloc(runs, cap * sizeof(*runs));
            if (runs == NULL)
                abort();
        }
        runs[count++] = (struct report_run){
            .experiment = name_table_intern(&r->experiments, store_rows_text(rows, 0)),
            .commit = commit ? name_table_intern(&commits, commit) : -1,
            .outcome = parse_outcome(store_rows_text(rows, 2)),
            .started_ms = store_rows_int(rows, 3),
            .duration_ms = store_rows_int(rows, 4),
            .healed = store_rows_int(rows, 5) != 0,
        };
    }
    store_rows_free(rows);

    int *experiment_order = name_table_sort(&r->experiments);
    int *commit_order = name_table_sort(&commits);
    for (size_t i = 0; i < count; i++) {
        runs[i].experiment = experiment_order[runs[i].experiment];
        if (runs[i].commit >= 0)
            runs[i].commit = commit_order[runs[i].commit];
    }
    free(experiment_order);
    free(commit_order);
    name_table_release(&commits);
    *out = runs;
    *n = count;
    return rc < 0 ? -1 : 0;
}

static int compare_slow(const void *a, const void *b)
{
    const struct report_slow *x = a, *y = b;
    /* Compare means as cross products to stay in integers. */
    __int128 left = (__int128)x->total_ms[0] * y->runs[0];
    __int128 right = (__int128)y->total_ms[0] * x->runs[0];

    if (left != right)
        return left > right ? -1 : 1;
    return x->experiment < y->experiment ? -1 : x->experiment > y->experiment;
}

/* Totals, per-day trend and durations from the scanned runs. */
static void summarise_runs(struct report *r, const struct report_run *runs, size_t n)
{
    int64_t first_day = r->period[0].since_ms / REPORT_DAY_MS;
    int64_t last_day = (r->period[0].until_ms - 1) / REPORT_DAY_MS;
    struct report_slow *slow = calloc(r->experiments.n ? r->experiments.n : 1, sizeof(*slow));

    if (slow == NULL)
        abort();
    r->n_days = (size_t)(last_day - first_day + 1);
    r->days = calloc(r->n_days, sizeof(*r->days));
    if (r->days == NULL)
        abort();
    for (size_t d = 0; d < r->n_days; d++)
        r->days[d].day = first_day + (int64_t)d;
    for (size_t e = 0; e < r->experiments.n; e++)
        slow[e].experiment = (int)e;

    for (size_t i = 0; i < n; i++) {
        const struct report_run *run = &runs[i];
        int p = run->started_ms >= r->period[0].since_ms ? REPORT_CURRENT : REPORT_PREVIOUS;
        struct report_slow *s = &slow[run->experiment];

        count_outcome(&r->totals[p], run);
        if (p == REPORT_CURRENT)
            count_outcome(&r->days[run->started_ms / REPORT_DAY_MS - first_day].totals, run);
        if (run->outcome == OUTCOME_INTERRUPTED)
            continue;
        s->runs[p]++;
        s->total_ms[p] += run->duration_ms;
        if (run->duration_ms > s->max_ms[p])
            s->max_ms[p] = run->duration_ms;
    }

    size_t kept = 0;
    for (size_t e = 0; e < r->experiments.n; e++) {
        if (slow[e].runs[0] > 0)
            slow[kept++] = slow[e];
    }
    qsort(slow, kept, sizeof(*slow), compare_slow);
    r->n_slowest = kept < (size_t)r->top ? kept : (size_t)r->top;
    r->slowest = slow;
}

/* Flakiness and recovery, for each period on its own runs. */
static void analyse_runs(struct report *r, const struct report_run *runs, size_t n)
{
    size_t split = 0;
    struct flaky_experiment *previous_flaky = NULL;

    while (split < n && runs[split].started_ms < r->period[0].since_ms)
        split++;
    r->n_flaky = report_find_flaky(runs + split, n - split, &r->flaky);
    r->n_flaky_previous = report_find_flaky(runs, split, &previous_flaky);
    free(previous_flaky);
    r->n_recovery_experiments =
        report_recovery(runs, n, r->period[0].since_ms, r->period[0].until_ms, &r->recovery[0],
                        &r->recovery_experiments);
    report_recovery(runs, n, r->period[1].since_ms, r->period[1].until_ms, &r->recovery[1],
                    NULL);
}

static int read_categories(struct store *store, struct report *r,
                           const struct store_value *params, struct err *err)
{
    struct store_rows *rows;
    int rc;

    if (store_query(store, categories_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct report_category c = {
            .name = copy_text(store_rows_text(rows, 0)),
            .count = { store_rows_int(rows, 1), store_rows_int(rows, 2) },
        };
        r->failures[0] += c.count[0];
        r->failures[1] += c.count[1];
        r->categories = grow(r->categories, r->n_categories, sizeof(c));
        r->categories[r->n_categories++] = c;
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

static int compare_categories(const void *a, const void *b)
{
    const struct report_category *x = a, *y = b;

    if (x->count[0] != y->count[0])
        return x->count[0] > y->count[0] ? -1 : 1;
    if (x->count[1] != y->count[1])
        return x->count[1] > y->count[1] ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* First and last sighting and the previous period's count of one signature. */
static int read_signature_history(struct store *store, struct report *r,
                                  struct report_signature *s, struct err *err)
{
    struct store_value by_signature[] = { STORE_TEXT(s->signature) };
    struct store_value before_end[] = { STORE_TEXT(s->signature),
                                        STORE_INT(r->period[0].until_ms) };
    struct store_value previous[] = { STORE_TEXT(s->signature),
                                      STORE_INT(r->period[1].since_ms),
                                      STORE_INT(r->period[1].until_ms) };

    if (store_query_int(store, first_seen_sql, by_signature, 1, &s->first_seen_ms, err) != 0 ||
        store_query_int(store, last_seen_sql, before_end, 2, &s->last_seen_ms, err) != 0 ||
        store_query_int(store, signature_count_sql, previous, 3, &s->count[1], err) != 0)
        return -1;
    return 0;
}

static int read_signatures(struct store *store, struct report *r, struct err *err)
{
    struct store_value params[] = { STORE_INT(r->period[0].since_ms),
                                    STORE_INT(r->period[0].until_ms), STORE_INT(r->top) };
    struct store_rows *rows;
    int rc;

    if (store_query(store, signatures_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct report_signature s = {
            .signature = copy_text(store_rows_text(rows, 0)),
            .category = copy_text(store_rows_text(rows, 1)),
            .count = { store_rows_int(rows, 2), 0 },
            .experiments = store_rows_int(rows, 3),
            .example = copy_text(store_rows_text(rows, 4)),
        };
        r->signatures = grow(r->signatures, r->n_signatures, sizeof(s));
        r->signatures[r->n_signatures++] = s;
    }
    store_rows_free(rows);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < r->n_signatures; i++) {
        if (read_signature_history(store, r, &r->signatures[i], err) != 0)
            return -1;
    }
    return 0;
}

static int read_healing(struct store *store, struct report *r, const struct store_value *params,
                        struct err *err)
{
    struct store_rows *rows;
    int rc;

    if (store_query(store, strategies_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct report_strategy s = {
            .category = copy_text(store_rows_text(rows, 0)),
            .strategy = copy_text(store_rows_text(rows, 1)),
            .attempts = { store_rows_int(rows, 2), store_rows_int(rows, 4) },
            .succeeded = { store_rows_int(rows, 3), store_rows_int(rows, 5) },
        };
        r->strategies = grow(r->strategies, r->n_strategies, sizeof(s));
        r->strategies[r->n_strategies++] = s;
    }
    store_rows_free(rows);
    if (rc < 0 || store_query(store, healing_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct report_healing *h = &r->healing[store_rows_int(rows, 0) == 0 ? 0 : 1];
        h->attempts = store_rows_int(rows, 1);
        h->failed_attempts = store_rows_int(rows, 2);
        h->sessions = store_rows_int(rows, 3);
        h->failed_sessions = store_rows_int(rows, 4);
        h->healed_sessions = store_rows_int(rows, 5);
        h->stopped = store_rows_int(rows, 6);
    }
    store_rows_free(rows);
    if (rc < 0 || store_query(store, healing_recovery_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct report_healing *h = &r->healing[store_rows_int(rows, 0) == 0 ? 0 : 1];
        h->recovered_sessions = store_rows_int(rows, 1);
        h->recovery_total_ms = store_rows_int(rows, 2);
        h->recovery_max_ms = store_rows_int(rows, 3);
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

static int read_scores(struct store *store, struct report *r, const struct store_value *params,
                       struct err *err)
{
    int64_t first_day = r->period[0].since_ms / REPORT_DAY_MS;
    struct store_rows *rows;
    int rc;

    if (store_query(store, score_sql, params, 3, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        int64_t day = store_rows_int(rows, 0);
        struct report_score *s = &r->score[day < 0 ? 1 : 0];
        int64_t count = store_rows_int(rows, 1);
        double passed = store_rows_real(rows, 2), weight = store_rows_real(rows, 3);

        s->objectives += count;
        s->weight_passed += passed;
        s->weight += weight;
        if (day >= first_day && (size_t)(day - first_day) < r->n_days) {
            struct report_day *d = &r->days[day - first_day];
            d->objectives = count;
            d->weight_passed = passed;
            d->weight = weight;
        }
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

int report_build(struct store *store, const struct report_options *opts, struct report *r,
                 struct err *err)
{
    struct report_run *runs = NULL;
    size_t n_runs = 0;
    int64_t since = store_epoch_ms(opts->since), until = store_epoch_ms(opts->until);

    memset(r, 0, sizeof(*r));
    r->generated_at = opts->now;
    r->top = opts->top > 0 ? opts->top : 10;
    r->period[0] = (struct report_period){ since, until };
    r->period[1] = (struct report_period){ since - (until - since), since };
    struct store_value params[] = { STORE_INT(r->period[1].since_ms), STORE_INT(since),
                                    STORE_INT(until) };

    if (read_runs(store, r, &runs, &n_runs, err) != 0)
        goto fail;
    summarise_runs(r, runs, n_runs);
    analyse_runs(r, runs, n_runs);
    free(runs);
    runs = NULL;
    if (read_categories(store, r, params, err) != 0 || read_signatures(store, r, err) != 0 ||
        read_healing(store, r, params, err) != 0 || read_scores(store, r, params, err) != 0)
        goto fail;
    if (r->n_categories > 1)
        qsort(r->categories, r->n_categories, sizeof(*r->categories), compare_categories);
    report_recommend(r);
    return 0;

fail:
    free(runs);
    report_release(r);
    return -1;
}

double report_healing_mean_recovery(const struct report_healing *h)
{
    if (h->recovered_sessions == 0)
        return NAN;
    return (double)h->recovery_total_ms / 1000.0 / (double)h->recovered_sessions;
}
