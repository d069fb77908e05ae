/* Schema of the history store and its forward migrations, shared by both backends.
 *
 * Migration N brings a store from version N-1 to N. Each is a template in
 * which {id}, {text} and {real} become the backend's type names. Columns
 * are documented in docs/history.md. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/log.h"
#include "util/strbuf.h"

/* Version 1: runs, their failures and their activity results. Existing
 * queries rely on chaos_runs.timestamp and chaos_failures.category. */
static const char migration_1[] =
    "CREATE TABLE chaos_runs ("
    " id {id},"
    " timestamp {text} NOT NULL,"
    " experiment {text} NOT NULL,"
    " status {text} NOT NULL,"
    " deviated INTEGER NOT NULL,"
    " outcome {text} NOT NULL,"
    " duration {real} NOT NULL,"
    " experiment_file {text},"
    " journal_path {text},"
    " ended_at {text},"
    " commit_sha {text},"
    " branch {text},"
    " ci_job {text},"
    " ci_run {text},"
    " started_ms BIGINT NOT NULL,"
    " duration_ms BIGINT NOT NULL);"
    "CREATE INDEX chaos_runs_started ON chaos_runs (started_ms);"
    "CREATE INDEX chaos_runs_experiment ON chaos_runs (experiment, started_ms);"
    "CREATE TABLE chaos_failures ("
    " id {id},"
    " run_id BIGINT NOT NULL REFERENCES chaos_runs (id) ON DELETE CASCADE,"
    " timestamp {text} NOT NULL,"
    " experiment {text} NOT NULL,"
    " category {text} NOT NULL,"
    " message {text} NOT NULL,"
    " signature {text} NOT NULL,"
    " phase {text},"
    " activity {text},"
    " started_ms BIGINT NOT NULL);"
    "CREATE INDEX chaos_failures_started ON chaos_failures (started_ms);"
    "CREATE INDEX chaos_failures_signature ON chaos_failures (signature, started_ms);"
    "CREATE INDEX chaos_failures_run ON chaos_failures (run_id);"
    "CREATE TABLE chaos_activities ("
    " id {id},"
    " run_id BIGINT NOT NULL REFERENCES chaos_runs (id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " phase {text} NOT NULL,"
    " name {text},"
    " type {text},"
    " status {text},"
    " tolerance_met INTEGER,"
    " timestamp {text},"
    " duration {real},"
    " error {text});"
    "CREATE INDEX chaos_activities_run ON chaos_activities (run_id);";

/* Version 2: healing attempts and objective results, and the healing
 * session of each run, so reports can count runs that passed after healing. */
static const char migration_2[] =
    "ALTER TABLE chaos_runs ADD COLUMN heal_session {text};"
    "ALTER TABLE chaos_runs ADD COLUMN heal_attempt INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE chaos_runs ADD COLUMN healed INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE chaos_heal_attempts ("
    " id {id},"
    " timestamp {text} NOT NULL,"
    " session {text} NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " command {text} NOT NULL,"
    " experiment {text},"
    " exit_code INTEGER NOT NULL,"
    " category {text},"
    " strategy {text},"
    " strategy_ok INTEGER,"
    " outcome {text} NOT NULL,"
    " message {text},"
    " duration {real} NOT NULL,"
    " commit_sha {text},"
    " branch {text},"
    " ci_job {text},"
    " ci_run {text},"
    " started_ms BIGINT NOT NULL,"
    " duration_ms BIGINT NOT NULL);"
    "CREATE INDEX chaos_heal_attempts_started ON chaos_heal_attempts (started_ms);"
    "CREATE INDEX chaos_heal_attempts_session ON chaos_heal_attempts (session, attempt);"
    "CREATE TABLE chaos_objectives ("
    " id {id},"
    " run_id BIGINT REFERENCES chaos_runs (id) ON DELETE SET NULL,"
    " timestamp {text} NOT NULL,"
    " experiment {text} NOT NULL,"
    " journal_path {text},"
    " name {text} NOT NULL,"
    " kind {text} NOT NULL,"
    " target {real},"
    " measured {real},"
    " passed INTEGER NOT NULL,"
    " weight {real} NOT NULL,"
    " started_ms BIGINT NOT NULL);"
    "CREATE INDEX chaos_objectives_started ON chaos_objectives (started_ms);"
    "CREATE INDEX chaos_objectives_run ON chaos_objectives (run_id);";

/* Version 3: the fault ledger, one row per run that has faults not yet
 * undone. document is the run's ledger in the JSON format of
 * docs/rollback.md; the other columns repeat parts of it for queries. */
static const char migration_3[] =
    "CREATE TABLE chaos_fault_ledger ("
    " id {id},"
    " run_key {text} NOT NULL UNIQUE,"
    " host {text} NOT NULL,"
    " run_pid INTEGER NOT NULL,"
    " started_at {text} NOT NULL,"
    " fault_count INTEGER NOT NULL,"
    " kinds {text} NOT NULL,"
    " document {text} NOT NULL,"
    " updated_ms BIGINT NOT NULL);";

static const char *const migrations[STORE_SCHEMA_VERSION + 1] = {
    NULL,
    migration_1,
    migration_2,
    migration_3,
};

/* Expands the type placeholders of a migration for one backend. */
static char *expand_template(const char *sql, const struct store_dialect *dialect)
{
    struct strbuf sb = STRBUF_INIT;

    for (const char *p = sql; *p != '\0'; p++) {
        if (strncmp(p, "{id}", 4) == 0) {
            strbuf_addstr(&sb, dialect->id);
            p += 3;
        } else if (strncmp(p, "{text}", 6) == 0) {
            strbuf_addstr(&sb, dialect->text);
            p += 5;
        } else if (strncmp(p, "{real}", 6) == 0) {
            strbuf_addstr(&sb, dialect->real);
            p += 5;
        } else {
            strbuf_addch(&sb, *p);
        }
    }
    return strbuf_detach(&sb);
}

static int reject_newer(struct store *store, int version, struct err *err)
{
    return err_set(err, "history store '%s' has schema version %d, newer than version %d "
                   "that this aftershock understands: upgrade aftershock, or pass --db to "
                   "choose another store (the store was not changed)", store->display, version,
                   STORE_SCHEMA_VERSION);
}

/* Applies migrations from+1..target inside the current transaction. */
static int apply_migrations(struct store *store, int from, int target, struct err *err)
{
    for (int v = from + 1; v <= target; v++) {
        char *sql = expand_template(migrations[v], store->backend->dialect);
        int rc = store->backend->exec_script(store, sql, err);

        free(sql);
        if (rc != 0)
            return rc;
        if (from > 0)
            log_info("store", "migrated store=%s version=%d", store->display, v);
        else
            log_debug("store", "created schema store=%s version=%d", store->display, v);
    }
    return store->backend->write_version(store, target, err);
}

/* One attempt at migrating in a transaction. Returns 0, -1 or STORE_BUSY. */
static int migrate_once(struct store *store, int target, struct err *err)
{
    const struct store_backend *b = store->backend;
    int version = 0;
    int rc = b->begin(store, true, err);

    if (rc != 0)
        return rc;
    /* Another process may have migrated since the first look. */
    rc = b->read_version(store, &version, err);
    if (rc == 0 && version > STORE_SCHEMA_VERSION)
        rc = reject_newer(store, version, err);
    if (rc == 0 && version < target)
        rc = apply_migrations(store, version, target, err);
    if (rc == 0)
        rc = b->commit(store, err);
    if (rc != 0) {
        b->rollback(store);
        return rc;
    }
    store->version = version < target ? target : version;
    return 0;
}

int store_migrate(struct store *store, int target, struct err *err)
{
    int version = 0;
    int rc = store->backend->read_version(store, &version, err);

    if (rc != 0)
        return -1;
    if (version > STORE_SCHEMA_VERSION)
        return reject_newer(store, version, err);
    store->version = version;
    if (store->backend->prepare_writes != NULL && store->mode == STORE_WRITE &&
        store->backend->prepare_writes(store, err) != 0)
        return -1;
    if (version >= target)
        return 0;

    for (int attempt = 1;; attempt++) {
        rc = migrate_once(store, target, err);
        if (rc != STORE_BUSY || attempt >= 10)
            break;
        log_warn("store", "store busy during migration, retrying store=%s attempt=%d",
                 store->display, attempt);
    }
    return rc == 0 ? 0 : -1;
}
