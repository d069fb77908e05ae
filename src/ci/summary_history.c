/* Reading trends, failure streaks and healing attempts for the summary from the history store. */
#include <stdlib.h>
#include <string.h>

#include "ci/summary.h"
#include "store/query.h"
#include "store/store.h"

static const char trend_sql[] =
    "SELECT outcome FROM chaos_runs WHERE experiment = $1 ORDER BY started_ms DESC, id DESC "
    "LIMIT $2";

static const char streak_sql[] =
    "SELECT outcome FROM chaos_runs WHERE experiment = $1 AND branch = $2 "
    "ORDER BY started_ms DESC, id DESC LIMIT 1000";

static const char healing_sql[] =
    "SELECT attempt, command, category, strategy, outcome, exit_code FROM chaos_heal_attempts "
    "WHERE ci_run = $1 ORDER BY started_ms, id";

static char *copy_text(const struct store_rows *rows, int column)
{
    const char *text = store_rows_text(rows, column);
    char *copy;

    if (text == NULL)
        return NULL;
    copy = strdup(text);
    if (copy == NULL)
        abort();
    return copy;
}

static int read_trend(struct store *store, struct ci_experiment *e, int trend_n, struct err *err)
{
    struct store_value params[] = { STORE_TEXT(e->title), STORE_INT(trend_n) };
    struct store_rows *rows;
    int rc;

    if (store_query(store, trend_sql, params, 2, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        if (e->trend_count < CI_TREND_MAX && store_rows_text(rows, 0) != NULL)
            e->trend[e->trend_count++] = copy_text(rows, 0);
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

/* Counts the failed runs on branch since the last one that passed. */
static int read_streak(struct store *store, struct ci_experiment *e, const char *branch,
                       struct err *err)
{
    struct store_value params[] = { STORE_TEXT(e->title), STORE_TEXT(branch) };
    struct store_rows *rows;
    int rc;
    bool counting = true;

    if (store_query(store, streak_sql, params, 2, &rows, err) != 0)
        return -1;
    e->failure_streak = 0;
    while ((rc = store_rows_next(rows, err)) == 1) {
        const char *outcome = store_rows_text(rows, 0);
        e->streak_known = true;
        if (counting && outcome != NULL && strcmp(outcome, "passed") != 0)
            e->failure_streak++;
        else
            counting = false;
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

static int read_healing(struct store *store, struct ci_summary *s, const char *ci_run,
                        struct err *err)
{
    struct store_value params[] = { STORE_TEXT(ci_run) };
    struct store_rows *rows;
    int rc;

    if (store_query(store, healing_sql, params, 1, &rows, err) != 0)
        return -1;
    while ((rc = store_rows_next(rows, err)) == 1) {
        struct ci_healing *items = realloc(s->healing, (s->healing_count + 1) * sizeof(*items));
        struct ci_healing *h;

        if (items == NULL)
            abort();
        s->healing = items;
        h = &s->healing[s->healing_count++];
        h->attempt = (int)store_rows_int(rows, 0);
        h->command = copy_text(rows, 1);
        h->category = copy_text(rows, 2);
        h->strategy = copy_text(rows, 3);
        h->outcome = copy_text(rows, 4);
        h->exit_code = (int)store_rows_int(rows, 5);
    }
    store_rows_free(rows);
    return rc < 0 ? -1 : 0;
}

int ci_summary_add_history(struct ci_summary *s, const char *location, int trend_n,
                           const char *default_branch, const char *ci_run, struct err *err)
{
    struct store *store;
    int rc = 0;

    if (store_open(location, STORE_READ, &store, err) != 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < s->count; i++) {
        rc = read_trend(store, &s->experiments[i], trend_n, err);
        if (rc == 0 && default_branch != NULL)
            rc = read_streak(store, &s->experiments[i], default_branch, err);
    }
    if (rc == 0 && ci_run != NULL)
        rc = read_healing(store, s, ci_run, err);
    store_close(store);
    return rc;
}
