/* Writing runs, healing attempts and objective results, one transaction each, with retries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/signature.h"
#include "store/backend.h"
#include "util/log.h"
#include "util/timeutil.h"

/* A transaction that found the store locked past the busy timeout is
 * retried with a growing wait until this many seconds have passed. */
#define RETRY_DEADLINE_SECONDS 120.0
#define RETRY_FIRST_WAIT 0.01
#define RETRY_MAX_WAIT 0.5

static const char insert_run_sql[] =
    "INSERT INTO chaos_runs (timestamp, experiment, status, deviated, outcome, duration,"
    " experiment_file, journal_path, ended_at, commit_sha, branch, ci_job, ci_run,"
    " started_ms, duration_ms, heal_session, heal_attempt, healed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    " RETURNING id";

static const char insert_failure_sql[] =
    "INSERT INTO chaos_failures (run_id, timestamp, experiment, category, message, signature,"
    " phase, activity, started_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

static const char insert_activity_sql[] =
    "INSERT INTO chaos_activities (run_id, position, phase, name, type, status, tolerance_met,"
    " timestamp, duration, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

static const char insert_heal_sql[] =
    "INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command, experiment,"
    " exit_code, category, strategy, strategy_ok, outcome, message, duration, commit_sha,"
    " branch, ci_job, ci_run, started_ms, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

static const char insert_objective_sql[] =
    "INSERT INTO chaos_objectives (run_id, timestamp, experiment, journal_path, name, kind,"
    " target, measured, passed, weight, started_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
    " $9, $10, $11)";

static const char find_run_sql[] =
    "SELECT id FROM chaos_runs WHERE experiment = $1 AND started_ms >= $2 AND started_ms <= $3"
    " ORDER BY started_ms, id LIMIT 1";

/* Outcome of a run as reports count it: passed, deviated, failed or interrupted. */
static const char *run_outcome(const struct store_run *run)
{
    if (strcmp(run->status, "interrupted") == 0)
        return "interrupted";
    if (run->deviated)
        return "deviated";
    if (strcmp(run->status, "completed") == 0)
        return "passed";
    return "failed";
}

static struct store_value text_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? STORE_TEXT(s) : STORE_NULL;
}

static struct store_value real_or_null(double x)
{
    return isfinite(x) ? STORE_REAL(x) : STORE_NULL;
}

static int check_run(const struct store_run *run, struct err *err)
{
    if (run->experiment == NULL || run->experiment[0] == '\0')
        return err_set(err, "cannot record a run without an experiment title");
    if (run->status == NULL || run->status[0] == '\0')
        return err_set(err, "cannot record run of '%s' without a status", run->experiment);
    if (!isfinite(run->started) || !isfinite(run->duration) || run->duration < 0)
        return err_set(err, "cannot record run of '%s' without a valid start and duration",
                       run->experiment);
    return 0;
}

static int insert_failures(struct store *store, const struct store_run *run, int64_t run_id,
                           const char *timestamp, int64_t started_ms, struct err *err)
{
    char signature[SIGNATURE_MAX];

    for (size_t i = 0; i < run->n_failures; i++) {
        const struct store_failure *f = &run->failures[i];
        const char *message = f->message ? f->message : "";
        signature_normalize(message, signature, sizeof(signature));
        struct store_value params[] = {
            STORE_INT(run_id), STORE_TEXT(timestamp), STORE_TEXT(run->experiment),
            STORE_TEXT(f->category ? f->category : "unknown"), STORE_TEXT(message),
            STORE_TEXT(signature), text_or_null(f->phase), text_or_null(f->activity),
            STORE_INT(started_ms),
        };
        int rc = store_exec(store, insert_failure_sql, params, 9, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int insert_activities(struct store *store, const struct store_run *run, int64_t run_id,
                             struct err *err)
{
    char timestamp[40];

    for (size_t i = 0; i < run->n_activities; i++) {
        const struct store_activity *a = &run->activities[i];
        if (a->started > 0)
            store_format_time(a->started, timestamp, sizeof(timestamp));
        struct store_value params[] = {
            STORE_INT(run_id), STORE_INT(a->position), STORE_TEXT(a->phase ? a->phase : "method"),
            text_or_null(a->name), text_or_null(a->type), text_or_null(a->status),
            a->tolerance_met < 0 ? STORE_NULL : STORE_INT(a->tolerance_met),
            a->started > 0 ? STORE_TEXT(timestamp) : STORE_NULL, real_or_null(a->duration),
            text_or_null(a->error),
        };
        int rc = store_exec(store, insert_activity_sql, params, 10, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Inserts one run and its rows inside the current transaction. */
static int insert_run(struct store *store, const struct store_run *run, int64_t *run_id,
                      struct err *err)
{
    char timestamp[40], ended[40];
    int64_t started_ms = store_epoch_ms(run->started);
    int64_t duration_ms = (int64_t)llround(run->duration * 1000.0);
    const char *outcome = run_outcome(run);
    int attempt = run->heal_attempt > 0 ? run->heal_attempt : 1;
    int64_t id = 0;
    int rc;

    store_format_time(run->started, timestamp, sizeof(timestamp));
    store_format_time(run->started + run->duration, ended, sizeof(ended));
    struct store_value params[] = {
        STORE_TEXT(timestamp), STORE_TEXT(run->experiment), STORE_TEXT(run->status),
        STORE_INT(run->deviated ? 1 : 0), STORE_TEXT(outcome), STORE_REAL(run->duration),
        text_or_null(run->experiment_file), text_or_null(run->journal_path), STORE_TEXT(ended),
        text_or_null(run->commit), text_or_null(run->branch), text_or_null(run->ci_job),
        text_or_null(run->ci_run), STORE_INT(started_ms), STORE_INT(duration_ms),
        text_or_null(run->heal_session), STORE_INT(attempt),
        STORE_INT(strcmp(outcome, "passed") == 0 && attempt > 1 ? 1 : 0),
    };
    rc = store_query_int(store, insert_run_sql, params, 18, &id, err);
    if (rc == 0)
        rc = insert_failures(store, run, id, timestamp, started_ms, err);
    if (rc == 0)
        rc = insert_activities(store, run, id, err);
    if (rc == 0 && run_id != NULL)
        *run_id = id;
    return rc;
}

/* Runs body in a write transaction and retries the whole transaction while
 * the store stays locked, so parallel writers wait instead of failing. */
static int in_transaction(struct store *store, int (*body)(struct store *, void *, struct err *),
                          void *arg, const char *what, struct err *err)
{
    const struct store_backend *b = store->backend;
    double deadline = time_monotonic() + RETRY_DEADLINE_SECONDS;
    double wait = RETRY_FIRST_WAIT;
    int rc;

    if (store->version != STORE_SCHEMA_VERSION)
        return err_set(err, "internal: history store '%s' is at schema version %d, not %d",
                       store->display, store->version, STORE_SCHEMA_VERSION);
    for (int attempt = 1;; attempt++) {
        rc = b->begin(store, false, err);
        if (rc == 0)
            rc = body(store, arg, err);
        if (rc == 0)
            rc = b->commit(store, err);
        if (rc == 0)
            return 0;
        b->rollback(store);
        if (rc != STORE_BUSY || time_monotonic() + wait > deadline)
            break;
        log_warn("store", "store busy, retrying %s store=%s attempt=%d wait=%.3f", what,
                 store->display, attempt, wait);
        /* Jitter spreads writers that gave up at the same moment. */
        time_sleep(wait * (0.5 + (double)rand() / RAND_MAX), NULL);
        wait = fmin(wait * 2, RETRY_MAX_WAIT);
    }
    return -1;
}

int store_transaction(struct store *store, int (*body)(struct store *, void *, struct err *),
                      void *arg, const char *what, struct err *err)
{
    return in_transaction(store, body, arg, what, err);
}

struct runs_arg {
    const struct store_run *runs;
    size_t n;
    int64_t *first_id;
};

static int record_runs_body(struct store *store, void *arg, struct err *err)
{
    struct runs_arg *a = arg;

    for (size_t i = 0; i < a->n; i++) {
        int rc = insert_run(store, &a->runs[i], i == 0 ? a->first_id : NULL, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int store_record_runs(struct store *store, const struct store_run *runs, size_t n,
                      struct err *err)
{
    struct runs_arg arg = { runs, n, NULL };

    for (size_t i = 0; i < n; i++) {
        if (check_run(&runs[i], err) != 0)
            return -1;
    }
    return in_transaction(store, record_runs_body, &arg, "recording runs", err);
}

int store_record_run(struct store *store, const struct store_run *run, int64_t *run_id,
                     struct err *err)
{
    struct runs_arg arg = { run, 1, run_id };

    if (check_run(run, err) != 0)
        return -1;
    if (in_transaction(store, record_runs_body, &arg, "recording a run", err) != 0)
        return -1;
    log_debug("store", "recorded run experiment=\"%s\" store=%s", run->experiment,
              store->display);
    return 0;
}

static int record_heal_body(struct store *store, void *arg, struct err *err)
{
    const struct store_heal_attempt *h = arg;
    char timestamp[40];

    store_format_time(h->started, timestamp, sizeof(timestamp));
    struct store_value params[] = {
        STORE_TEXT(timestamp), STORE_TEXT(h->session), STORE_INT(h->attempt),
        STORE_TEXT(h->command), text_or_null(h->experiment), STORE_INT(h->exit_code),
        text_or_null(h->category), text_or_null(h->strategy),
        h->strategy_ok < 0 ? STORE_NULL : STORE_INT(h->strategy_ok), STORE_TEXT(h->outcome),
        text_or_null(h->message), STORE_REAL(h->duration), text_or_null(h->commit),
        text_or_null(h->branch), text_or_null(h->ci_job), text_or_null(h->ci_run),
        STORE_INT(store_epoch_ms(h->started)), STORE_INT((int64_t)llround(h->duration * 1000)),
    };
    return store_exec(store, insert_heal_sql, params, 18, err);
}

int store_record_heal_attempt(struct store *store, const struct store_heal_attempt *attempt,
                              struct err *err)
{
    if (attempt->session == NULL || attempt->command == NULL || attempt->outcome == NULL)
        return err_set(err, "cannot record a healing attempt without session, command and "
                       "outcome");
    if (attempt->attempt < 1 || !isfinite(attempt->started) || !isfinite(attempt->duration))
        return err_set(err, "cannot record healing attempt %d of session '%s': invalid "
                       "number or time", attempt->attempt, attempt->session);
    return in_transaction(store, record_heal_body, (void *)attempt, "recording a healing attempt",
                          err);
}

struct objectives_arg {
    const struct store_objective *objectives;
    size_t n;
};

static int record_objectives_body(struct store *store, void *arg, struct err *err)
{
    struct objectives_arg *a = arg;
    char timestamp[40];

    for (size_t i = 0; i < a->n; i++) {
        const struct store_objective *o = &a->objectives[i];
        store_format_time(o->started, timestamp, sizeof(timestamp));
        struct store_value params[] = {
            o->run_id > 0 ? STORE_INT(o->run_id) : STORE_NULL, STORE_TEXT(timestamp),
            STORE_TEXT(o->experiment), text_or_null(o->journal_path), STORE_TEXT(o->name),
            STORE_TEXT(o->kind), real_or_null(o->target), real_or_null(o->measured),
            STORE_INT(o->passed ? 1 : 0), STORE_REAL(o->weight),
            STORE_INT(store_epoch_ms(o->started)),
        };
        int rc = store_exec(store, insert_objective_sql, params, 11, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int store_record_objectives(struct store *store, const struct store_objective *objectives,
                            size_t n, struct err *err)
{
    struct objectives_arg arg = { objectives, n };

    for (size_t i = 0; i < n; i++) {
        const struct store_objective *o = &objectives[i];
        if (o->experiment == NULL || o->name == NULL || o->kind == NULL)
            return err_set(err, "cannot record an objective without experiment, name and kind");
        if (!(o->weight > 0) || !isfinite(o->weight) || !isfinite(o->started))
            return err_set(err, "cannot record objective '%s': weight must be a positive "
                           "number and the start a valid time", o->name);
    }
    return in_transaction(store, record_objectives_body, &arg, "recording objectives", err);
}

int store_find_run(struct store *store, const char *experiment, double started,
                   int64_t *run_id, struct err *err)
{
    int64_t ms = store_epoch_ms(started);
    struct store_value params[] = { STORE_TEXT(experiment), STORE_INT(ms - 1), STORE_INT(ms + 1) };
    int64_t id = 0;

    if (store_query_int(store, find_run_sql, params, 3, &id, err) != 0)
        return -1;
    if (id == 0)
        return 1;
    *run_id = id;
    return 0;
}
