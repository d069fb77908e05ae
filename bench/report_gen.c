/* Benchmark data generator for bench/report: fills a history store with runs spread over a
 * period, through the store's own recording functions, and measures the insert rate.
 *
 * Usage: report_gen STORE RUNS DAYS END_EPOCH BATCH
 *   Records RUNS runs spread evenly over the DAYS days before END_EPOCH, BATCH runs per
 *   transaction (store_record_runs; 1 means store_record_run, one transaction per run),
 *   then adds healing attempts and objective results directly with SQLite.
 * Prints one JSON object: runs, seconds, runs_per_second, failures, activities.
 *
 * The data is deterministic because the xorshift seed is fixed. It has 40 experiments and a
 * new commit every two hours. Runs are 88% passed, 5% deviated, 5% failed and 2%
 * interrupted, with 3 activities each. Every failed run and 10% of the passed runs get a
 * failure whose message carries a varying address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "util/timeutil.h"

#define EXPERIMENTS 40

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const failure_texts[][2] = {
    { "network", "connection refused by 127.0.0.1:%d (http://127.0.0.1:%d/health)" },
    { "timeout", "connecting to 10.0.%d.%d:443 timed out (https://api.internal/)" },
    { "network", "connection reset by 127.0.0.1:%d (http://127.0.0.1:%d/orders)" },
    { "config", "'/srv/app-%d/bin/tool%d' does not exist: No such file or directory" },
    { "unknown", "unexpected response body from worker-%d at attempt %d" },
};

struct generated {
    struct store_run run;
    struct store_failure failure;
    struct store_activity activities[3];
    char experiment[32];
    char commit[16];
    char message[160];
};

static void make_run(struct generated *g, long i, long total, double start, double span)
{
    uint64_t r = next_random();
    int outcome = (int)(r % 100);
    int experiment = (int)((r >> 8) % EXPERIMENTS);
    double started = start + span * (double)i / (double)total;

    memset(g, 0, sizeof(*g));
    snprintf(g->experiment, sizeof(g->experiment), "experiment-%02d", experiment);
    snprintf(g->commit, sizeof(g->commit), "c%08lx", (unsigned long)(started / 7200));
    g->run = (struct store_run){
        .experiment = g->experiment, .experiment_file = "chaos/experiment.yaml",
        .journal_path = "journal.json", .status = "completed", .started = started,
        .duration = 5.0 + (double)(experiment % 7) * 3.0 + (double)((r >> 20) % 1000) / 100.0,
        .commit = g->commit, .branch = "main", .ci_job = "chaos", .heal_attempt = 1,
        .activities = g->activities, .n_activities = 3,
    };
    if (outcome >= 98) {
        g->run.status = "interrupted";
    } else if (outcome >= 93) {
        g->run.status = "failed";
    } else if (outcome >= 88) {
        g->run.deviated = true;
    }
    if (outcome < 88 && (r >> 32) % 100 < 3)
        g->run.heal_attempt = 2;

    static const char *const phases[] = { "before", "method", "after" };
    for (int a = 0; a < 3; a++)
        g->activities[a] = (struct store_activity){
            .phase = phases[a], .position = a, .name = a == 1 ? "inject-fault" : "health",
            .type = a == 1 ? "action" : "probe", .status = "succeeded",
            .tolerance_met = a == 1 ? -1 : 1, .started = started + a, .duration = 0.5,
        };

    bool failed = outcome >= 88 && outcome < 98;
    if (!failed && (r >> 40) % 100 >= 10)
        return;
    int kind = (int)((r >> 48) % 5);
    snprintf(g->message, sizeof(g->message), failure_texts[kind][1], (int)((r >> 24) % 60000),
             (int)((r >> 12) % 250));
    g->failure = (struct store_failure){
        .category = failure_texts[kind][0], .message = g->message, .phase = "method",
        .activity = "inject-fault",
    };
    if (failed) {
        g->failure.category = "verdict";
        g->failure.phase = g->run.deviated ? "after" : "before";
    }
    if (failed && g->run.deviated)
        snprintf(g->message, sizeof(g->message), "steady state deviated after the method: "
                 "probe 'health-%d' did not meet its tolerance", experiment % 5);
    else if (failed)
        snprintf(g->message, sizeof(g->message), "steady state not met before the method: "
                 "probe 'health-%d' failed: connection refused by 127.0.0.1:%d",
                 experiment % 5, (int)((r >> 24) % 60000));
    g->run.failures = &g->failure;
    g->run.n_failures = 1;
}

/* Healing attempts and objective results, straight into the tables. */
static int add_extras(const char *path, long runs, double start, double span)
{
    sqlite3 *db;
    sqlite3_stmt *heal, *objective;
    const char *heal_sql =
        "INSERT INTO chaos_heal_attempts (timestamp, session, attempt, command, exit_code, "
        "category, strategy, outcome, duration, started_ms, duration_ms) VALUES "
        "('', ?1, ?2, 'aftershock run chaos/x.yaml', ?3, ?4, ?5, ?6, 1.0, ?7, 1000)";
    const char *objective_sql =
        "INSERT INTO chaos_objectives (timestamp, experiment, name, kind, passed, weight, "
        "started_ms) VALUES ('', ?1, 'availability', 'availability', ?2, 1.0, ?3)";

    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, heal_sql, -1, &heal, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, objective_sql, -1, &objective, NULL) != SQLITE_OK) {
        fprintf(stderr, "report_gen: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    for (long i = 0; i < runs / 20; i++) {
        int64_t ms = (int64_t)((start + span * (double)i / (double)(runs / 20)) * 1000);
        char session[32];
        bool healed = next_random() % 4 != 0;
        snprintf(session, sizeof(session), "s%ld", i);
        for (int attempt = 1; attempt <= 2; attempt++) {
            const char *category = NULL, *strategy = NULL, *outcome = "retried";
            if (attempt == 1) {
                category = i % 3 ? "network" : "timeout";
                strategy = "retry";
            } else {
                outcome = healed ? "succeeded" : "gave_up";
            }
            sqlite3_bind_text(heal, 1, session, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(heal, 2, attempt);
            sqlite3_bind_int(heal, 3, attempt == 2 && healed ? 0 : 3);
            sqlite3_bind_text(heal, 4, category, -1, SQLITE_STATIC);
            sqlite3_bind_text(heal, 5, strategy, -1, SQLITE_STATIC);
            sqlite3_bind_text(heal, 6, outcome, -1, SQLITE_STATIC);
            sqlite3_bind_int64(heal, 7, ms + attempt * 1000);
            sqlite3_step(heal);
            sqlite3_reset(heal);
        }
        char experiment[32];
        snprintf(experiment, sizeof(experiment), "experiment-%02ld", i % EXPERIMENTS);
        sqlite3_bind_text(objective, 1, experiment, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(objective, 2, next_random() % 10 != 0);
        sqlite3_bind_int64(objective, 3, ms);
        sqlite3_step(objective);
        sqlite3_reset(objective);
    }
    sqlite3_finalize(heal);
    sqlite3_finalize(objective);
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct store *store;
    struct err err;
    long total, batch, failures = 0, activities = 0;
    double days, end, start, span;

    if (argc != 6) {
        fprintf(stderr, "usage: report_gen STORE RUNS DAYS END_EPOCH BATCH\n");
        return 2;
    }
    total = atol(argv[2]);
    days = atof(argv[3]);
    end = atof(argv[4]);
    batch = atol(argv[5]);
    span = days * 86400.0;
    start = end - span;
    if (total <= 0 || batch <= 0 || days <= 0) {
        fprintf(stderr, "report_gen: RUNS, DAYS and BATCH must be positive\n");
        return 2;
    }
    if (store_open(argv[1], STORE_WRITE, &store, &err) != 0) {
        fprintf(stderr, "report_gen: %s\n", err.msg);
        return 3;
    }

    struct generated *chunk = calloc((size_t)batch, sizeof(*chunk));
    struct store_run *runs = calloc((size_t)batch, sizeof(*runs));
    if (chunk == NULL || runs == NULL)
        abort();
    double elapsed = 0;
    for (long done = 0; done < total;) {
        long n = total - done < batch ? total - done : batch;
        for (long k = 0; k < n; k++) {
            make_run(&chunk[k], done + k, total, start, span);
            runs[k] = chunk[k].run;
            failures += (long)runs[k].n_failures;
            activities += (long)runs[k].n_activities;
        }
        /* Only the recording is timed, not the generation. */
        double t0 = time_monotonic();
        int rc = n == 1 && batch == 1 ? store_record_run(store, &runs[0], NULL, &err)
                                      : store_record_runs(store, runs, (size_t)n, &err);
        elapsed += time_monotonic() - t0;
        if (rc != 0) {
            fprintf(stderr, "report_gen: %s\n", err.msg);
            return 3;
        }
        done += n;
    }
    store_close(store);
    free(chunk);
    free(runs);
    if (add_extras(argv[1], total, start, span) != 0)
        return 3;
    printf("{\"runs\": %ld, \"seconds\": %.3f, \"runs_per_second\": %.0f, \"failures\": %ld, "
           "\"activities\": %ld}\n", total, elapsed, (double)total / elapsed, failures,
           activities);
    return 0;
}
