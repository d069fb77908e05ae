/* History store: records runs, failures, activity results, healing attempts
 * and objective results in SQLite or PostgreSQL, behind one interface.
 *
 * A location is a file path (SQLite) or a postgresql:// or postgres:// URL.
 * Both backends hold the same tables (see schema.c and docs/history.md).
 * Times are stored twice: as UTC ISO 8601 text with microseconds in the
 * `timestamp` columns, which sorts in time order, and as integer
 * milliseconds since the Unix epoch in `started_ms`, for range scans and
 * day buckets. Durations are stored in seconds and in whole milliseconds.
 *
 * Every write runs in one transaction. A SQLite store waits for a lock up to
 * a busy timeout and then retries the whole transaction, so parallel
 * writers do not lose rows. Every error is reported through struct err and
 * means the command could not run (exit 3). */
#ifndef AFTERSHOCK_STORE_STORE_H
#define AFTERSHOCK_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

#define STORE_DEFAULT_LOCATION "reports/chaos_history.db"
#define STORE_ENV_LOCATION "AFTERSHOCK_DB"

/* Schema version this build writes; a store with a higher one is rejected. */
#define STORE_SCHEMA_VERSION 3

/* Environment variables a healer sets for the command it runs, so the runs
 * recorded by that command name their healing session and attempt. */
#define STORE_ENV_HEAL_SESSION "AFTERSHOCK_HEAL_SESSION"
#define STORE_ENV_HEAL_ATTEMPT "AFTERSHOCK_HEAL_ATTEMPT"

enum store_mode {
    STORE_READ,  /* the store must exist; an older schema is still migrated */
    STORE_WRITE, /* created, with its folder, when missing */
};

struct store;

/* One activity result of a run. */
struct store_activity {
    const char *phase;  /* "before", "during", "after" (steady state), "method" or "rollback" */
    int position;       /* order within the run, from 0 */
    const char *name;
    const char *type;   /* "probe" or "action" */
    const char *status; /* "succeeded" or "failed" */
    int tolerance_met;  /* 1 or 0 for steady state probes, -1 otherwise */
    double started;     /* seconds since the epoch, 0 when unknown */
    double duration;    /* seconds */
    const char *error;  /* first exception message, or NULL */
};

/* One failure of a run, in a healing category (see store_classify_failure). */
struct store_failure {
    const char *category;
    const char *message;
    const char *phase;    /* as in struct store_activity, or NULL */
    const char *activity; /* activity name, or NULL */
};

/* One experiment run. Strings may be NULL unless marked. */
struct store_run {
    const char *experiment;   /* title; required */
    const char *experiment_file;
    const char *journal_path;
    const char *status;       /* journal status: "completed", "failed" or "interrupted"; required */
    bool deviated;
    double started;           /* seconds since the epoch */
    double duration;          /* seconds */
    const char *commit;
    const char *branch;
    const char *ci_job;
    const char *ci_run;
    const char *heal_session; /* healing session that ran this, or NULL */
    int heal_attempt;         /* attempt number within that session, 1 without healing */
    const struct store_failure *failures;
    size_t n_failures;
    const struct store_activity *activities;
    size_t n_activities;
};

/* One attempt of a healed command, as `heal` records it. */
struct store_heal_attempt {
    const char *session;  /* id shared by the attempts of one heal invocation; required */
    int attempt;          /* from 1 */
    const char *command;  /* the command line, for display; required */
    const char *experiment;
    double started;       /* seconds since the epoch */
    double duration;      /* seconds */
    int exit_code;        /* 0 when this attempt succeeded */
    const char *category; /* failure category, or NULL when it succeeded */
    const char *strategy; /* strategy applied after this attempt, or NULL when none */
    int strategy_ok;      /* 1 or 0 when a strategy ran, -1 otherwise */
    const char *outcome;  /* "succeeded", "retried", "stopped" or "gave_up"; required */
    const char *message;  /* what the classification matched, or NULL */
    const char *commit;
    const char *branch;
    const char *ci_job;
    const char *ci_run;
};

/* One objective judged by `verify`. */
struct store_objective {
    int64_t run_id;       /* chaos_runs.id of the judged run, or 0 when unknown */
    const char *experiment; /* required */
    const char *journal_path;
    double started;       /* the run's start, seconds since the epoch */
    const char *name;     /* required */
    const char *kind;     /* "availability", "latency", "recovery", ...; required */
    double target;        /* NAN when there is none */
    double measured;      /* NAN when nothing was measured */
    bool passed;
    double weight;        /* share in the resilience score; > 0 */
};

/* CI and healing context of the current process, from the environment. */
struct store_context {
    char *commit;
    char *branch;
    char *ci_job;
    char *ci_run;
    char *heal_session;
    int heal_attempt;
};

/* Returns the location to use: option when not NULL, else $AFTERSHOCK_DB
 * when set and not empty, else STORE_DEFAULT_LOCATION. */
const char *store_location(const char *option);

/* True when location is a postgresql:// or postgres:// URL. */
bool store_is_url(const char *location);

/* Copies location into out for messages, with a URL's password replaced by ***. */
void store_location_display(const char *location, char *out, size_t size);

/* Opens the store at location and migrates its schema forward. A store
 * whose schema is newer than STORE_SCHEMA_VERSION is rejected before
 * anything is written to it. Returns 0 with *out set, or -1 with err set. */
int store_open(const char *location, enum store_mode mode, struct store **out, struct err *err);

/* Like store_open, but migrates only up to version (tests build old stores with it). */
int store_open_at_version(const char *location, enum store_mode mode, int version,
                          struct store **out, struct err *err);

/* Reads the schema version of an existing store without migrating or
 * writing anything (0 for a store without schema). Returns 0 with *version
 * set, or -1 with err set when the store cannot be opened or read. */
int store_inspect(const char *location, int *version, struct err *err);

void store_close(struct store *store);

/* "sqlite" or "postgresql". */
const char *store_backend_name(const struct store *store);

/* Schema version of the open store. */
int store_version(const struct store *store);

/* Location with any password masked, for messages. */
const char *store_display(const struct store *store);

/* Records one run with its failures and activities in one transaction.
 * Sets *run_id (may be NULL) to the new chaos_runs.id. */
int store_record_run(struct store *store, const struct store_run *run, int64_t *run_id,
                     struct err *err);

/* Records n runs in one transaction: the bulk path for imports and benchmarks. */
int store_record_runs(struct store *store, const struct store_run *runs, size_t n,
                      struct err *err);

/* Records one healing attempt in its own transaction. */
int store_record_heal_attempt(struct store *store, const struct store_heal_attempt *attempt,
                              struct err *err);

/* Records the objective results of one judged run in one transaction. */
int store_record_objectives(struct store *store, const struct store_objective *objectives,
                            size_t n, struct err *err);

/* Finds the run of experiment that started at `started` (within 1 ms), so
 * `verify` can link objective results to it. Returns 0 with *run_id set,
 * 1 when there is no such run, or -1 with err set. */
int store_find_run(struct store *store, const char *experiment, double started,
                   int64_t *run_id, struct err *err);

/* Fills ctx from the CI environment. GitHub Actions sets GITHUB_SHA,
 * GITHUB_REF_NAME, GITHUB_JOB and GITHUB_RUN_ID, and GitLab CI_COMMIT_SHA,
 * CI_COMMIT_REF_NAME, CI_JOB_ID and CI_PIPELINE_ID. Without either, the
 * commit and branch come from `git rev-parse` in the current folder when git
 * is installed. The healing session and attempt come from
 * STORE_ENV_HEAL_SESSION and STORE_ENV_HEAL_ATTEMPT. */
void store_context_from_env(struct store_context *ctx);

void store_context_release(struct store_context *ctx);

/* Runs per transaction on the bulk paths (store_record_journals). */
#define STORE_BATCH_RUNS 1000

/* Checks that a journal has what recording needs: experiment.title, a
 * status (completed, failed, interrupted, or Chaos Toolkit's aborted) and
 * an ISO 8601 start. journal_path names it in the message and may be NULL.
 * Returns 0, or -1 with err set. */
int store_check_journal(json_t *journal, const char *journal_path, struct err *err);

/* Builds a run from a Chaos Toolkit journal (see docs/running.md) with its
 * failures classified, and records it. experiment_file and journal_path may
 * be NULL. Returns -1 with err set for a journal that store_check_journal
 * rejects, or when the store cannot be written. */
int store_record_journal(struct store *store, json_t *journal, const char *experiment_file,
                         const char *journal_path, const struct store_context *ctx,
                         int64_t *run_id, struct err *err);

/* Converts seconds since the epoch to whole milliseconds, rounding down
 * after rounding to whole microseconds. */
int64_t store_epoch_ms(double epoch);

/* Parses a time and sets *epoch to seconds since the epoch. Accepted are
 * "now", an ISO 8601 date or date and time such as 2026-03-01 or
 * 2026-03-01T12:00:00+02:00 (UTC without a zone), and an age before now
 * such as 90s, 30m, 12h, 7d or 2w. Returns 0, or -1 with err set. */
int store_time_parse(const char *text, double now, double *epoch, struct err *err);

/* Records n journals as store_record_journal does, but STORE_BATCH_RUNS
 * runs per transaction: the bulk path of `history import`. Every journal
 * is checked before the first is recorded. A failure part way leaves the
 * batches already committed in the store. */
int store_record_journals(struct store *store, json_t *const *journals,
                          const char *const *journal_paths, size_t n,
                          const struct store_context *ctx, struct err *err);

/* Records the journals of one command, opening the store and reading the
 * environment's context on first use. Invariant: store is NULL until the
 * first successful open. After a failed open, open_error contains its
 * message and every later call fails with it without trying again. */
struct store_recorder {
    const char *location;
    struct store *store;
    struct store_context ctx;
    bool ctx_ready;
    bool open_failed;
    char open_error[ERR_MSG_MAX];
};

/* Records one journal (see store_record_journal). Returns 0 or -1 with err set. */
int store_recorder_record(struct store_recorder *rec, json_t *journal,
                          const char *experiment_file, const char *journal_path,
                          struct err *err);

/* Closes the store and frees the context. */
void store_recorder_close(struct store_recorder *rec);

/* One run's row in the fault ledger table: the run's ledger document (see
 * fault/ledger.h) and a summary of it. */
struct store_ledger_row {
    const char *run_key;    /* unique per run: host, boot id, pid and start time */
    const char *host;
    int run_pid;
    const char *started_at; /* ISO 8601 UTC */
    size_t fault_count;     /* 0 deletes the row */
    const char *kinds;      /* the kinds of the faults, comma-separated */
    const char *document;
};

/* Writes a run's ledger row in one transaction, replacing the row with the
 * same run_key, or deletes it when fault_count is 0. Returns 0 or -1. */
int store_ledger_put(struct store *store, const struct store_ledger_row *row, struct err *err);

/* Reads the run_key and document of every ledger row, in run_key order.
 * The caller frees each string and both arrays. Returns the row count, or
 * -1 with err set. */
int store_ledger_list(struct store *store, char ***run_keys, char ***documents, struct err *err);

/* Returns the healing category of a failure message: "network", "timeout",
 * "resource", "dependency", "config", "injection" or "unknown". Matching is
 * a small, case-insensitive substring list documented in docs/history.md. */
const char *store_classify_failure(const char *message);

#endif
