/* SQLite backend of the history store: WAL, busy timeout, cached prepared statements. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/backend.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

/* How long one statement waits for another writer's lock before it gives
 * up with SQLITE_BUSY; the caller then retries the whole transaction. */
#define SQLITE_BUSY_TIMEOUT_MS 5000

/* Prepared statements kept per connection, keyed by the SQL text's address. */
#define STATEMENT_CACHE_SIZE 48

struct sqlite_rows {
    struct store_rows base;
    sqlite3_stmt *stmt;
    struct sqlite_store *owner;
    bool cached;  /* stmt belongs to the cache and is reset, not finalized */
    bool in_use;
};

struct cached_statement {
    const char *key; /* the caller's SQL pointer */
    struct sqlite_rows rows;
};

struct sqlite_store {
    sqlite3 *db;
    struct store *store;
    struct cached_statement cache[STATEMENT_CACHE_SIZE];
    int n_cached;
};

static const struct store_backend sqlite_backend;

static const struct store_dialect sqlite_dialect = {
    .id = "INTEGER PRIMARY KEY",
    .text = "TEXT",
    .real = "REAL",
};

/* Describes a failed SQLite call in err. Returns STORE_BUSY for a lock that
 * stayed taken, else -1. The message names the store and what to do. */
static int sqlite_fail(struct sqlite_store *s, int rc, const char *what, struct err *err)
{
    const char *where = s->store->display;
    const char *detail = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    int system_errno = s->db ? sqlite3_system_errno(s->db) : 0;

    /* An I/O error names its cause only through the system errno. */
    if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN) {
        if (system_errno == ENOSPC || system_errno == EDQUOT)
            rc = SQLITE_FULL;
        else if (system_errno == EROFS || system_errno == EACCES)
            rc = SQLITE_READONLY;
        if (system_errno != 0)
            detail = strerror(system_errno);
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        err_set(err, "history store '%s' stayed locked by another writer while %s: %s", where,
                what, detail);
        return STORE_BUSY;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return err_set(err, "history store '%s' is corrupt or not a SQLite database (%s while "
                       "%s): move it away to start a new store, or restore a backup", where,
                       detail, what);
    case SQLITE_READONLY:
        return err_set(err, "history store '%s' is read-only (%s while %s): make the file and "
                       "its folder writable, or pass --db to choose another store", where,
                       detail, what);
    case SQLITE_FULL:
        return err_set(err, "history store '%s' could not grow because the disk is full (%s "
                       "while %s): free disk space or pass --db to choose another store", where,
                       detail, what);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return err_set(err, "cannot open history store '%s': %s (while %s)", where, detail,
                       what);
    default:
        return err_set(err, "history store '%s' failed while %s: %s", where, what, detail);
    }
}

/* Copies sql with every $N parameter written as ?N, SQLite's numbered form. */
static char *rewrite_parameters(const char *sql)
{
    struct strbuf sb = STRBUF_INIT;

    for (const char *p = sql; *p != '\0'; p++) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9')
            strbuf_addch(&sb, '?');
        else
            strbuf_addch(&sb, *p);
    }
    return strbuf_detach(&sb);
}

static int rows_next(struct store_rows *base, struct err *err)
{
    struct sqlite_rows *rows = (struct sqlite_rows *)base;
    int rc = sqlite3_step(rows->stmt);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sqlite_fail(rows->owner, rc, "reading a query result", err);
}

static bool rows_is_null(const struct store_rows *base, int column)
{
    return sqlite3_column_type(((const struct sqlite_rows *)base)->stmt, column) == SQLITE_NULL;
}

static int64_t rows_int(const struct store_rows *base, int column)
{
    return sqlite3_column_int64(((const struct sqlite_rows *)base)->stmt, column);
}

static double rows_real(const struct store_rows *base, int column)
{
    return sqlite3_column_double(((const struct sqlite_rows *)base)->stmt, column);
}

static const char *rows_text(const struct store_rows *base, int column)
{
    return (const char *)sqlite3_column_text(((const struct sqlite_rows *)base)->stmt, column);
}

static void rows_release(struct store_rows *base)
{
    struct sqlite_rows *rows = (struct sqlite_rows *)base;

    if (rows->cached) {
        sqlite3_reset(rows->stmt);
        sqlite3_clear_bindings(rows->stmt);
        rows->in_use = false;
        return;
    }
    sqlite3_finalize(rows->stmt);
    free(rows);
}

static void rows_init(struct sqlite_rows *rows, struct sqlite_store *s, sqlite3_stmt *stmt,
                      bool cached)
{
    rows->base.backend = &sqlite_backend;
    rows->base.next = rows_next;
    rows->base.is_null = rows_is_null;
    rows->base.get_int = rows_int;
    rows->base.get_real = rows_real;
    rows->base.get_text = rows_text;
    rows->base.release = rows_release;
    rows->stmt = stmt;
    rows->owner = s;
    rows->cached = cached;
    rows->in_use = true;
}

/* Returns the rows object for sql: the cached one when it is free, else a
 * freshly prepared statement (cached when there is room). */
static int prepare_rows(struct sqlite_store *s, const char *sql, struct sqlite_rows **out,
                        struct err *err)
{
    sqlite3_stmt *stmt = NULL;
    char *rewritten;
    int rc;

    for (int i = 0; i < s->n_cached; i++) {
        if (s->cache[i].key == sql && !s->cache[i].rows.in_use) {
            s->cache[i].rows.in_use = true;
            *out = &s->cache[i].rows;
            return 0;
        }
    }
    rewritten = rewrite_parameters(sql);
    rc = sqlite3_prepare_v2(s->db, rewritten, -1, &stmt, NULL);
    free(rewritten);
    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "preparing a statement", err);

    if (s->n_cached < STATEMENT_CACHE_SIZE) {
        struct cached_statement *slot = &s->cache[s->n_cached++];
        slot->key = sql;
        rows_init(&slot->rows, s, stmt, true);
        *out = &slot->rows;
        return 0;
    }
    struct sqlite_rows *rows = calloc(1, sizeof(*rows));
    if (rows == NULL)
        abort();
    rows_init(rows, s, stmt, false);
    *out = rows;
    return 0;
}

static int bind_params(struct sqlite_store *s, sqlite3_stmt *stmt,
                       const struct store_value *params, int n, struct err *err)
{
    for (int i = 0; i < n; i++) {
        const struct store_value *v = &params[i];
        int rc;

        if (v->type == STORE_VALUE_INT)
            rc = sqlite3_bind_int64(stmt, i + 1, v->i);
        else if (v->type == STORE_VALUE_REAL)
            rc = sqlite3_bind_double(stmt, i + 1, v->r);
        else if (v->type == STORE_VALUE_TEXT && v->s != NULL)
            rc = sqlite3_bind_text(stmt, i + 1, v->s, -1, SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_null(stmt, i + 1);
        if (rc != SQLITE_OK)
            return sqlite_fail(s, rc, "binding a query parameter", err);
    }
    return 0;
}

static int sqlite_query(struct store *store, const char *sql, const struct store_value *params,
                        int n_params, struct store_rows **out, struct err *err)
{
    struct sqlite_store *s = store->impl;
    struct sqlite_rows *rows = NULL;
    int rc = prepare_rows(s, sql, &rows, err);

    if (rc != 0)
        return rc;
    rc = bind_params(s, rows->stmt, params, n_params, err);
    if (rc != 0) {
        rows_release(&rows->base);
        return rc;
    }
    *out = &rows->base;
    return 0;
}

static int sqlite_exec_script(struct store *store, const char *sql, struct err *err)
{
    struct sqlite_store *s = store->impl;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "changing the schema", err);
    return 0;
}

static int sqlite_begin(struct store *store, bool exclusive, struct err *err)
{
    struct sqlite_store *s = store->impl;
    int rc;

    /* IMMEDIATE takes the write lock now, so a transaction never has to
     * upgrade a read lock, which in WAL mode fails at once without waiting. */
    (void)exclusive;
    rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "starting a transaction", err);
    return 0;
}

static int sqlite_commit(struct store *store, struct err *err)
{
    struct sqlite_store *s = store->impl;
    int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "committing a transaction", err);
    return 0;
}

static void sqlite_rollback(struct store *store)
{
    struct sqlite_store *s = store->impl;

    if (sqlite3_get_autocommit(s->db))
        return;
    if (sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        log_warn("store", "rollback failed store=%s error=\"%s\"", store->display,
                 sqlite3_errmsg(s->db));
}

static int sqlite_read_version(struct store *store, int *version, struct err *err)
{
    struct sqlite_store *s = store->impl;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &stmt, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "reading the schema version", err);
    return 0;
}

static int sqlite_write_version(struct store *store, int version, struct err *err)
{
    struct sqlite_store *s = store->impl;
    char sql[64];

    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "writing the schema version", err);
    return 0;
}

static void sqlite_close(struct store *store)
{
    struct sqlite_store *s = store->impl;

    if (s == NULL)
        return;
    for (int i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cache[i].rows.stmt);
    if (sqlite3_close(s->db) != SQLITE_OK)
        log_warn("store", "close failed store=%s error=\"%s\"", store->display,
                 sqlite3_errmsg(s->db));
    free(s);
    store->impl = NULL;
}

static int sqlite_prepare_writes(struct store *store, struct err *err);

static const struct store_backend sqlite_backend = {
    .name = "sqlite",
    .dialect = &sqlite_dialect,
    .exec_script = sqlite_exec_script,
    .query = sqlite_query,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .read_version = sqlite_read_version,
    .write_version = sqlite_write_version,
    .prepare_writes = sqlite_prepare_writes,
    .close = sqlite_close,
};

static bool folder_is_read_only(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *folder = slash == NULL ? strdup(".") : strndup(path, (size_t)(slash - path + 1));
    bool read_only;

    if (folder == NULL)
        abort();
    read_only = access(folder, W_OK) != 0 && (errno == EROFS || errno == EACCES);
    free(folder);
    return read_only;
}

/* Returns "file:PATH?immutable=1" with the characters a URI reserves escaped. */
static char *immutable_uri(const char *path)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_addstr(&sb, "file:");
    for (const char *p = path; *p != '\0'; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            strbuf_addf(&sb, "%%%02X", (unsigned char)*p);
        else
            strbuf_addch(&sb, *p);
    }
    strbuf_addstr(&sb, "?immutable=1");
    return strbuf_detach(&sb);
}

/* Rejects a store whose file or folder cannot be written: SQLite needs the
 * folder too, for its WAL and shared-memory files. */
static int check_writable(struct store *store, const char *path, struct err *err)
{
    const char *slash = strrchr(path, '/');
    char *folder = slash == NULL ? strdup(".") : strndup(path, (size_t)(slash - path + 1));
    int file_errno = 0, folder_errno = 0;

    if (folder == NULL)
        abort();
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        file_errno = errno;
    else if (access(folder, W_OK) != 0)
        folder_errno = errno;
    free(folder);
    if (file_errno == 0 && folder_errno == 0)
        return 0;
    return err_set(err, "history store '%s' is read-only (%s%s): make the file and its folder "
                   "writable, or pass --db to choose another store", store->display,
                   folder_errno ? "its folder: " : "", strerror(file_errno ? file_errno
                                                                          : folder_errno));
}

/* Switches a writable store to WAL mode, retrying while another process
 * holds the lock that the switch needs (busy handlers do not cover it). */
static int enable_wal(struct sqlite_store *s, struct err *err)
{
    double deadline = time_monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000.0 * 4;

    for (;;) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            break;
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
            time_monotonic() > deadline)
            return sqlite_fail(s, rc, "switching to WAL mode", err);
        time_sleep(0.01, NULL);
    }
    /* In WAL mode NORMAL syncs at checkpoints, not at every commit: a
     * power loss may drop the last commits, an application crash does not. */
    int rc = sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "setting synchronous mode", err);
    return 0;
}

int store_sqlite_open(struct store *store, const char *path, enum store_mode mode,
                      struct err *err)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    struct stat st;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc;

    if (s == NULL)
        abort();
    s->store = store;
    store->impl = s;
    store->backend = &sqlite_backend;

    if (mode == STORE_READ && stat(path, &st) != 0) {
        err_set_errno(err, errno, "cannot open history store '%s'", store->display);
        goto fail;
    }
    if (mode == STORE_WRITE) {
        if (fs_mkdirs_for_file(path, err) != 0) {
            char detail[ERR_MSG_MAX];
            snprintf(detail, sizeof(detail), "%s", err->msg);
            err_set(err, "cannot create history store '%s': %s", store->display, detail);
            goto fail;
        }
        if (check_writable(store, path, err) != 0)
            goto fail;
        flags |= SQLITE_OPEN_CREATE;
    }
    if (mode == STORE_READ && folder_is_read_only(path)) {
        /* Without a writable folder SQLite cannot create the shared-memory
         * file that reading a WAL store needs, unless the URI marks the file
         * immutable. */
        char *uri = immutable_uri(path);
        rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
    } else {
        rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite_fail(s, rc, "opening it", err);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_TIMEOUT_MS);
    return 0;

fail:
    sqlite_close(store);
    return -1;
}

static int sqlite_prepare_writes(struct store *store, struct err *err)
{
    struct sqlite_store *s = store->impl;

    if (sqlite3_db_readonly(s->db, "main") == 1)
        return err_set(err, "history store '%s' is read-only: make the file and its folder "
                       "writable, or pass --db to choose another store", store->display);
    return enable_wal(s, err);
}
