/* Unit tests for the SQLite history store: schema, migration, rejection of
 * newer and corrupt stores, and recording runs, healing attempts and objectives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/query.h"
#include "store/store.h"
#include "util/fsutil.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/nested/history.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char command[160];

    snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
    if (system(command) != 0)
        return -1;
    free(f);
    return 0;
}

static struct store *open_or_fail(const char *path)
{
    struct store *store = NULL;
    struct err err;

    if (store_open(path, STORE_WRITE, &store, &err) != 0)
        fail_msg("store_open: %s", err.msg);
    return store;
}

static int64_t count(struct store *store, const char *sql)
{
    int64_t value = -1;
    struct err err;

    if (store_query_int(store, sql, NULL, 0, &value, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    return value;
}

static const char *query_text(struct store *store, const char *sql, char *out, size_t size)
{
    struct store_rows *rows;
    struct err err;

    if (store_query(store, sql, NULL, 0, &rows, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    out[0] = '\0';
    if (store_rows_next(rows, &err) == 1 && !store_rows_is_null(rows, 0))
        snprintf(out, size, "%s", store_rows_text(rows, 0));
    store_rows_free(rows);
    return out;
}

static void test_store_creates_folder_and_schema(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    char text[64];

    assert_int_equal(store_version(store), STORE_SCHEMA_VERSION);
    assert_string_equal(store_backend_name(store), "sqlite");
    assert_string_equal(query_text(store, "PRAGMA journal_mode", text, sizeof(text)), "wal");
    assert_int_equal(count(store, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                  "name LIKE 'chaos_%'"), 6);
    store_close(store);
}

static void test_store_read_needs_existing_file(void **state)
{
    struct fixture *f = *state;
    struct store *store = NULL;
    struct err err;

    assert_int_equal(store_open(f->path, STORE_READ, &store, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open history store"));
    assert_non_null(strstr(err.msg, f->path));
}

/* A store left at version 1 keeps its rows and gains the tables of later versions. */
static void test_store_migrates_version_1(void **state)
{
    struct fixture *f = *state;
    struct store *store = NULL;
    struct err err;
    char text[64];

    assert_int_equal(store_open_at_version(f->path, STORE_WRITE, 1, &store, &err), 0);
    assert_int_equal(store_version(store), 1);
    assert_int_equal(store_exec(store, "INSERT INTO chaos_runs (timestamp, experiment, status,"
                                       " deviated, outcome, duration, started_ms, duration_ms)"
                                       " VALUES ('2026-03-01T00:00:00.000000Z', 'old', 'completed',"
                                       " 0, 'passed', 1.5, 1772323200000, 1500)",
                                NULL, 0, &err), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                                  "'chaos_heal_attempts'"), 0);
    store_close(store);

    store = open_or_fail(f->path);
    assert_int_equal(store_version(store), STORE_SCHEMA_VERSION);
    assert_int_equal(count(store, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_fault_ledger"), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 1);
    assert_string_equal(query_text(store, "SELECT experiment FROM chaos_runs", text,
                                   sizeof(text)), "old");
    assert_int_equal(count(store, "SELECT heal_attempt FROM chaos_runs"), 1);
    assert_int_equal(count(store, "SELECT healed FROM chaos_runs"), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_heal_attempts"), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_objectives"), 0);
    store_close(store);
}

static char *read_bytes(const char *path, size_t *len)
{
    struct err err;
    char *data = fs_read_file(path, 1 << 24, len, &err);

    if (data == NULL)
        fail_msg("%s", err.msg);
    return data;
}

/* A store written by a later version is rejected and left byte for byte as it was. */
static void test_store_rejects_newer_version(void **state)
{
    struct fixture *f = *state;
    char path[160], wal[170];
    sqlite3 *db;
    struct store *store = NULL;
    struct err err;
    size_t before_len, after_len;
    struct stat st;

    snprintf(path, sizeof(path), "%s/future.db", f->dir);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE chaos_runs (id INTEGER PRIMARY KEY);"
                                      "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char *before = read_bytes(path, &before_len);

    assert_int_equal(store_open(path, STORE_WRITE, &store, &err), -1);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_non_null(strstr(err.msg, "was not changed"));
    assert_int_equal(store_open(path, STORE_READ, &store, &err), -1);

    char *after = read_bytes(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    assert_int_equal(stat(wal, &st), -1);
    free(before);
    free(after);
}

static void test_store_rejects_corrupt_file(void **state)
{
    struct fixture *f = *state;
    char path[160];
    struct store *store = NULL;
    struct err err;
    char garbage[4096];

    snprintf(path, sizeof(path), "%s/corrupt.db", f->dir);
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 7 + 3);
    assert_int_equal(fs_write_atomic(path, garbage, sizeof(garbage), &err), 0);
    assert_int_equal(store_open(path, STORE_WRITE, &store, &err), -1);
    assert_non_null(strstr(err.msg, "is corrupt or not a SQLite database"));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(store_open(path, STORE_READ, &store, &err), -1);
    assert_non_null(strstr(err.msg, "is corrupt"));
}

static const struct store_failure failures[] = {
    { "network", "connection refused by 127.0.0.1:8080", "method", "call-api" },
    { "verdict", "steady state deviated after the method", "after", "health" },
};

static const struct store_activity activities[] = {
    { "before", 0, "health", "probe", "succeeded", 1, 1772323200.0, 0.25, NULL },
    { "method", 1, "call-api", "action", "failed", -1, 1772323200.5, 1.0,
      "connection refused by 127.0.0.1:8080" },
    { "after", 2, "health", "probe", "succeeded", 0, 1772323202.0, 0.5, NULL },
};

static struct store_run sample_run(double started)
{
    return (struct store_run){
        .experiment = "api survives latency", .experiment_file = "chaos/api.yaml",
        .journal_path = "journal.json", .status = "completed", .deviated = true,
        .started = started, .duration = 2.5, .commit = "abc123", .branch = "main",
        .ci_job = "chaos", .ci_run = "42", .heal_attempt = 1,
        .failures = failures, .n_failures = 2, .activities = activities, .n_activities = 3,
    };
}

static void test_store_records_run(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    struct store_run run = sample_run(1772323200.123456);
    int64_t id = 0;
    struct err err;
    char text[128];

    assert_int_equal(store_record_run(store, &run, &id, &err), 0);
    assert_true(id > 0);
    assert_string_equal(query_text(store, "SELECT timestamp FROM chaos_runs ORDER BY timestamp "
                                          "DESC LIMIT 10", text, sizeof(text)),
                        "2026-03-01T00:00:00.123456Z");
    assert_string_equal(query_text(store, "SELECT outcome FROM chaos_runs", text, sizeof(text)),
                        "deviated");
    assert_int_equal(count(store, "SELECT started_ms FROM chaos_runs"), 1772323200123LL);
    assert_int_equal(count(store, "SELECT duration_ms FROM chaos_runs"), 2500);
    assert_string_equal(query_text(store, "SELECT ended_at FROM chaos_runs", text, sizeof(text)),
                        "2026-03-01T00:00:02.623456Z");
    assert_string_equal(query_text(store, "SELECT commit_sha || ' ' || branch || ' ' || ci_job "
                                          "FROM chaos_runs", text, sizeof(text)),
                        "abc123 main chaos");
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_failures"), 2);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_activities"), 3);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_activities WHERE tolerance_met "
                                  "IS NULL"), 1);
    assert_string_equal(query_text(store, "SELECT signature FROM chaos_failures WHERE category ="
                                          " 'network'", text, sizeof(text)),
                        "connection refused by <addr>");
    /* The seed's query groups failures by category. */
    assert_int_equal(count(store, "SELECT COUNT(*) FROM (SELECT category, COUNT(*) FROM "
                                  "chaos_failures GROUP BY category)"), 2);
    store_close(store);
}

static void test_store_records_batch(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    struct store_run runs[100];
    struct err err;

    for (int i = 0; i < 100; i++)
        runs[i] = sample_run(1772323200.0 + i);
    assert_int_equal(store_record_runs(store, runs, 100, &err), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 100);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_failures"), 200);
    assert_int_equal(count(store, "SELECT COUNT(DISTINCT run_id) FROM chaos_activities"), 100);

    /* One invalid run keeps the whole batch out. */
    runs[50].status = NULL;
    assert_int_equal(store_record_runs(store, runs, 100, &err), -1);
    assert_non_null(strstr(err.msg, "without a status"));
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 100);
    store_close(store);
}

static void test_store_rejects_invalid_records(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    struct store_run run = sample_run(1772323200.0);
    struct store_objective objective = { .experiment = "x", .name = "availability",
                                         .kind = "availability", .started = 1772323200.0,
                                         .target = 0.99, .measured = 0.5, .weight = 0 };
    struct store_heal_attempt attempt = { .session = "s", .attempt = 0, .command = "c",
                                          .outcome = "failed", .started = 1772323200.0 };
    struct err err;

    run.experiment = "";
    assert_int_equal(store_record_run(store, &run, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "without an experiment title"));
    run = sample_run(1772323200.0);
    run.duration = -1;
    assert_int_equal(store_record_run(store, &run, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "valid start and duration"));
    assert_int_equal(store_record_objectives(store, &objective, 1, &err), -1);
    assert_non_null(strstr(err.msg, "weight must be a positive number"));
    assert_int_equal(store_record_heal_attempt(store, &attempt, &err), -1);
    assert_non_null(strstr(err.msg, "invalid number or time"));
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 0);
    store_close(store);
}

static void test_store_records_healing_and_objectives(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    struct store_run run = sample_run(1772323200.5);
    struct store_heal_attempt attempt = {
        .session = "heal-1", .attempt = 1, .command = "aftershock run chaos/api.yaml",
        .experiment = "api survives latency", .started = 1772323100.0, .duration = 3.25,
        .exit_code = 3, .category = "network", .strategy = "retry", .strategy_ok = 1,
        .outcome = "retried", .message = "connection refused", .commit = "abc123",
    };
    int64_t run_id = 0, found = 0;
    struct err err;
    char text[128];

    assert_int_equal(store_record_run(store, &run, &run_id, &err), 0);
    assert_int_equal(store_record_heal_attempt(store, &attempt, &err), 0);
    assert_int_equal(count(store, "SELECT duration_ms FROM chaos_heal_attempts"), 3250);
    assert_string_equal(query_text(store, "SELECT category || '/' || strategy || '/' || outcome "
                                          "FROM chaos_heal_attempts", text, sizeof(text)),
                        "network/retry/retried");

    assert_int_equal(store_find_run(store, "api survives latency", 1772323200.5004, &found, &err),
                     0);
    assert_int_equal(found, run_id);
    assert_int_equal(store_find_run(store, "api survives latency", 1772323210.0, &found, &err), 1);
    assert_int_equal(store_find_run(store, "other", 1772323200.5, &found, &err), 1);

    struct store_objective objectives[] = {
        { run_id, "api survives latency", "journal.json", 1772323200.5, "availability",
          "availability", 0.99, 0.995, true, 2.0 },
        { run_id, "api survives latency", "journal.json", 1772323200.5, "p99 latency",
          "latency", 0.5, NAN, false, 1.0 },
    };
    assert_int_equal(store_record_objectives(store, objectives, 2, &err), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_objectives WHERE run_id = "
                                  "(SELECT MAX(id) FROM chaos_runs)"), 2);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_objectives WHERE measured IS "
                                  "NULL"), 1);
    assert_int_equal(count(store, "SELECT SUM(passed) FROM chaos_objectives"), 1);
    store_close(store);
}

/* A journal as `run` writes it: steady state met before, a method action
 * refused, a rollback timed out, the steady state deviated after. */
static const char journal_text[] =
    "{\"experiment\": {\"title\": \"db failover\"}, \"status\": \"completed\","
    " \"deviated\": true, \"start\": \"2026-03-01T10:00:00.250000Z\", \"duration\": 4.5,"
    " \"steady_states\": {"
    "  \"before\": {\"steady_state_met\": true, \"probes\": [{\"activity\": {\"name\": \"up\","
    "   \"type\": \"probe\"}, \"status\": \"succeeded\", \"tolerance_met\": true,"
    "   \"start\": \"2026-03-01T10:00:00.300000Z\", \"duration\": 0.1}]},"
    "  \"during\": [],"
    "  \"after\": {\"steady_state_met\": false, \"probes\": [{\"activity\": {\"name\": \"up\","
    "   \"type\": \"probe\"}, \"status\": \"succeeded\", \"tolerance_met\": false,"
    "   \"start\": \"2026-03-01T10:00:04.000000Z\", \"duration\": 0.1}]}},"
    " \"run\": [{\"activity\": {\"name\": \"kill-primary\", \"type\": \"action\"},"
    "   \"status\": \"failed\", \"exception\": [\"connection refused by 10.0.0.5:5432\"],"
    "   \"start\": \"2026-03-01T10:00:01.000000Z\", \"duration\": 0.2}],"
    " \"rollbacks\": [{\"activity\": {\"name\": \"restore\", \"type\": \"action\"},"
    "   \"status\": \"failed\", \"exception\": [\"process 'restore' timed out after 3 s\"],"
    "   \"start\": \"2026-03-01T10:00:04.200000Z\", \"duration\": 3.0}]}";

static void test_store_records_journal(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    json_t *journal = json_loads(journal_text, 0, NULL);
    struct store_context ctx = { .commit = "c0ffee", .branch = "feature", .ci_job = "chaos",
                                 .heal_session = "heal-9", .heal_attempt = 2 };
    struct err err;
    char text[200];

    assert_non_null(journal);
    assert_int_equal(store_record_journal(store, journal, "chaos/db.yaml", "j.json", &ctx, NULL,
                                          &err), 0);
    assert_string_equal(query_text(store, "SELECT outcome || ' ' || experiment_file || ' ' || "
                                          "heal_session || ' ' || heal_attempt || ' ' || healed "
                                          "FROM chaos_runs", text, sizeof(text)),
                        "deviated chaos/db.yaml heal-9 2 0");
    assert_int_equal(count(store, "SELECT started_ms FROM chaos_runs"), 1772359200250LL);
    assert_string_equal(query_text(store, "SELECT group_concat(category, ',') FROM (SELECT "
                                          "category FROM chaos_failures ORDER BY id)", text,
                                   sizeof(text)), "verdict,network,timeout");
    assert_string_equal(query_text(store, "SELECT message FROM chaos_failures WHERE category = "
                                          "'verdict'", text, sizeof(text)),
                        "steady state deviated after the method: probe 'up' did not meet its "
                        "tolerance");
    assert_string_equal(query_text(store, "SELECT group_concat(phase, ',') FROM (SELECT phase "
                                          "FROM chaos_activities ORDER BY position)", text,
                                   sizeof(text)), "before,method,after,rollback");

    /* A journal without a start is rejected before anything is written. */
    json_object_del(journal, "start");
    assert_int_equal(store_record_journal(store, journal, NULL, "j.json", &ctx, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no valid start time"));
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 1);
    json_decref(journal);
    store_close(store);
}

static void test_store_records_journals_in_batches(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    json_t *journals[3];
    const char *paths[3] = { "a.json", "b.json", "c.json" };
    struct store_context ctx = { .commit = "feed", .heal_attempt = 1 };
    struct err err;

    for (int i = 0; i < 3; i++)
        journals[i] = json_loads(journal_text, 0, NULL);
    json_object_set_new(journals[1], "start", json_string("2026-03-02T00:00:00Z"));
    assert_int_equal(store_record_journals(store, journals, paths, 3, &ctx, &err), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs WHERE commit_sha = 'feed'"),
                     3);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_failures"), 9);
    assert_int_equal(count(store, "SELECT COUNT(DISTINCT journal_path) FROM chaos_runs"), 3);

    /* One journal without a status keeps all of them out. */
    json_object_del(journals[2], "status");
    assert_int_equal(store_record_journals(store, journals, paths, 3, &ctx, &err), -1);
    assert_non_null(strstr(err.msg, "journal 'c.json' has no valid status"));
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_runs"), 3);
    for (int i = 0; i < 3; i++)
        json_decref(journals[i]);
    store_close(store);
}

static void test_store_classifies_messages(void **state)
{
    static const struct { const char *message, *category; } cases[] = {
        { "connection refused by 127.0.0.1:1 (http://127.0.0.1:1/)", "network" },
        { "Connection reset by 127.0.0.1:80", "network" },
        { "cannot resolve host 'db.internal'", "network" },
        { "connecting to 127.0.0.1:80 timed out (x)", "timeout" },
        { "ModuleNotFoundError: No module named 'yaml'", "dependency" },
        { "write failed: No space left on device", "resource" },
        { "toxic 'latency' not found", "injection" },
        { "'/usr/bin/x' does not exist: No such file or directory", "config" },
        { "something odd", "unknown" },
        { NULL, "unknown" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = store_classify_failure(cases[i].message);
        if (strcmp(got, cases[i].category) != 0)
            fail_msg("\"%s\" classified as %s, expected %s", cases[i].message, got,
                     cases[i].category);
    }
}

static void test_store_parses_times(void **state)
{
    static const struct { const char *text; double expected; } valid[] = {
        { "2026-03-01", 1772323200.0 },
        { "2026-03-01T12:30", 1772368200.0 },
        { "2026-03-01 12:30:15Z", 1772368215.0 },
        { "2026-03-01T12:30:15.5+02:00", 1772361015.5 },
        { "2026-03-01T12:30:15-0130", 1772373615.0 },
        { "now", 1772323200.0 },
        { "7d", 1772323200.0 - 7 * 86400 },
        { "12h", 1772323200.0 - 12 * 3600 },
        { "30m", 1772323200.0 - 1800 },
        { "2w", 1772323200.0 - 14 * 86400 },
    };
    static const char *const invalid[] = {
        "", "2026-02-30", "2026-13-01", "2026-03-01T25:00", "yesterday", "7", "7x", "-7d",
        "2026-03-01T12:30:15+2", "2026-3-1",
    };
    struct err err;
    double epoch;

    (void)state;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        if (store_time_parse(valid[i].text, 1772323200.0, &epoch, &err) != 0)
            fail_msg("'%s' rejected: %s", valid[i].text, err.msg);
        if (fabs(epoch - valid[i].expected) > 1e-6)
            fail_msg("'%s' parsed as %.3f, expected %.3f", valid[i].text, epoch,
                     valid[i].expected);
    }
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (store_time_parse(invalid[i], 1772323200.0, &epoch, &err) == 0)
            fail_msg("'%s' accepted as %.3f", invalid[i], epoch);
    }
}

static void test_store_location_and_display(void **state)
{
    char out[256];

    (void)state;
    unsetenv(STORE_ENV_LOCATION);
    assert_string_equal(store_location(NULL), STORE_DEFAULT_LOCATION);
    setenv(STORE_ENV_LOCATION, "/data/h.db", 1);
    assert_string_equal(store_location(NULL), "/data/h.db");
    assert_string_equal(store_location("x.db"), "x.db");
    unsetenv(STORE_ENV_LOCATION);

    assert_true(store_is_url("postgresql://h/db"));
    assert_true(store_is_url("postgres://h/db"));
    assert_false(store_is_url("reports/postgresql.db"));
    store_location_display("postgresql://ci:s3cret@db.example:5432/chaos", out, sizeof(out));
    assert_string_equal(out, "postgresql://ci:***@db.example:5432/chaos");
    store_location_display("postgresql://ci@h/chaos?password=s3cret&sslmode=require", out,
                           sizeof(out));
    assert_string_equal(out, "postgresql://ci@h/chaos?password=***&sslmode=require");
    store_location_display("postgres://h/chaos", out, sizeof(out));
    assert_string_equal(out, "postgres://h/chaos");
    store_location_display("reports/a:b@c.db", out, sizeof(out));
    assert_string_equal(out, "reports/a:b@c.db");
}

/* Ledger rows are replaced by run key and deleted when no fault is left. */
static void test_store_ledger_rows(void **state)
{
    struct fixture *f = *state;
    struct store *store = open_or_fail(f->path);
    struct store_ledger_row row = { "vm/boot/10-20", "vm", 10, "2026-03-01T00:00:00.000000Z", 2,
                                    "pause,fill", "{\"first\": 1}" };
    struct store_ledger_row other = { "vm/boot/11-21", "vm", 11, "2026-03-01T00:00:01.000000Z", 1,
                                      "toxic", "{\"other\": 1}" };
    char **keys, **documents;
    struct err err;

    assert_int_equal(store_ledger_put(store, &row, &err), 0);
    assert_int_equal(store_ledger_put(store, &other, &err), 0);
    row.document = "{\"second\": 2}";
    row.fault_count = 1;
    assert_int_equal(store_ledger_put(store, &row, &err), 0);

    assert_int_equal(store_ledger_list(store, &keys, &documents, &err), 2);
    assert_string_equal(keys[0], "vm/boot/10-20");
    assert_string_equal(documents[0], "{\"second\": 2}");
    assert_string_equal(keys[1], "vm/boot/11-21");
    assert_int_equal(count(store, "SELECT fault_count FROM chaos_fault_ledger WHERE run_pid = 10"),
                     1);
    for (int i = 0; i < 2; i++) {
        free(keys[i]);
        free(documents[i]);
    }
    free(keys);
    free(documents);

    row.fault_count = 0;
    other.fault_count = 0;
    assert_int_equal(store_ledger_put(store, &row, &err), 0);
    assert_int_equal(store_ledger_put(store, &other, &err), 0);
    assert_int_equal(store_ledger_list(store, &keys, &documents, &err), 0);
    assert_int_equal(count(store, "SELECT COUNT(*) FROM chaos_fault_ledger"), 0);
    store_close(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_creates_folder_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_read_needs_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_ledger_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_migrates_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rejects_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rejects_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_records_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_records_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rejects_invalid_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_records_healing_and_objectives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_records_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_records_journals_in_batches, setup,
                                        teardown),
        cmocka_unit_test(test_store_classifies_messages),
        cmocka_unit_test(test_store_parses_times),
        cmocka_unit_test(test_store_location_and_display),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
