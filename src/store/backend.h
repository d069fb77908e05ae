/* Private to src/store: what a storage backend provides to the shared store code. */
#ifndef AFTERSHOCK_STORE_BACKEND_H
#define AFTERSHOCK_STORE_BACKEND_H

#include "store/query.h"
#include "store/store.h"

/* Returned instead of -1 when the store was locked by another writer for
 * longer than the busy timeout: the caller may retry the transaction. */
#define STORE_BUSY (-2)

/* Type names a schema template uses, per backend. */
struct store_dialect {
    const char *id;   /* auto-numbered integer primary key */
    const char *text; /* text that compares bytewise */
    const char *real; /* 64-bit float */
};

struct store_backend {
    const char *name;
    const struct store_dialect *dialect;

    /* Runs one or more statements without parameters or results. */
    int (*exec_script)(struct store *store, const char *sql, struct err *err);
    int (*query)(struct store *store, const char *sql, const struct store_value *params,
                 int n_params, struct store_rows **rows, struct err *err);

    /* Starts a write transaction that holds the write lock from its start
     * (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN plus an advisory lock
     * when exclusive is set, for migrations). */
    int (*begin)(struct store *store, bool exclusive, struct err *err);
    int (*commit)(struct store *store, struct err *err);
    /* Rolls back a transaction in progress; errors are logged, not returned. */
    void (*rollback)(struct store *store);

    /* Reads and writes the schema version (0 for a new, empty store). */
    int (*read_version)(struct store *store, int *version, struct err *err);
    int (*write_version)(struct store *store, int version, struct err *err);

    /* Readies a store for writing after its version was checked, so a store
     * from a newer version is never changed (SQLite: WAL mode). May be NULL. */
    int (*prepare_writes)(struct store *store, struct err *err);

    void (*close)(struct store *store);
};

/* Invariant: backend and impl are set while the store is open. display is
 * the location with any password masked. version is the schema version
 * after migration. */
struct store {
    const struct store_backend *backend;
    void *impl;
    char display[512];
    enum store_mode mode;
    int version;
};

/* Invariant: backend is the backend that made the rows. */
struct store_rows {
    const struct store_backend *backend;
    int (*next)(struct store_rows *rows, struct err *err);
    bool (*is_null)(const struct store_rows *rows, int column);
    int64_t (*get_int)(const struct store_rows *rows, int column);
    double (*get_real)(const struct store_rows *rows, int column);
    const char *(*get_text)(const struct store_rows *rows, int column);
    void (*release)(struct store_rows *rows);
};

/* Opens a SQLite or PostgreSQL store and fills store->backend and impl
 * without touching the schema. */
int store_sqlite_open(struct store *store, const char *path, enum store_mode mode,
                      struct err *err);
int store_postgres_open(struct store *store, const char *url, struct err *err);

/* Brings the schema from its current version up to target in one
 * transaction. Rejects a store whose version is above STORE_SCHEMA_VERSION. */
int store_migrate(struct store *store, int target, struct err *err);

/* Runs body in a write transaction, retried while the store stays locked
 * (see record.c). what names the write in log lines. Returns 0 or -1. */
int store_transaction(struct store *store, int (*body)(struct store *, void *, struct err *),
                      void *arg, const char *what, struct err *err);

/* Formats epoch seconds as UTC ISO 8601 with microseconds into out (32 bytes). */
void store_format_time(double epoch, char *out, size_t size);

#endif
