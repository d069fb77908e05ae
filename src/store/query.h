/* Backend-neutral SQL queries on an open history store.
 *
 * SQL is written once for both backends: parameters are $1, $2, ... (the
 * SQLite backend rewrites them as ?1, ?2, ...), booleans are integers 0 and
 * 1, and aggregates that must agree between backends are integer sums and
 * counts. Text columns compare bytewise in both backends (PostgreSQL columns
 * are created with COLLATE "C"), so ORDER BY gives the same order. */
#ifndef AFTERSHOCK_STORE_QUERY_H
#define AFTERSHOCK_STORE_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

enum store_value_type {
    STORE_VALUE_NULL,
    STORE_VALUE_INT,
    STORE_VALUE_REAL,
    STORE_VALUE_TEXT,
};

/* One query parameter. */
struct store_value {
    enum store_value_type type;
    int64_t i;
    double r;
    const char *s; /* NULL is bound as SQL NULL */
};

#define STORE_INT(x) ((struct store_value){ .type = STORE_VALUE_INT, .i = (x) })
#define STORE_REAL(x) ((struct store_value){ .type = STORE_VALUE_REAL, .r = (x) })
#define STORE_TEXT(x) ((struct store_value){ .type = STORE_VALUE_TEXT, .s = (x) })
#define STORE_NULL ((struct store_value){ .type = STORE_VALUE_NULL })

/* A result being read, row by row. Column indexes start at 0. Values read
 * from a row stay valid until the next store_rows_next or store_rows_free. */
struct store_rows;

/* Runs a query. sql must stay valid while the store is open, because the
 * SQLite backend keeps the prepared statement keyed by it. Returns 0 with
 * *rows set, or -1 with err set. */
int store_query(struct store *store, const char *sql, const struct store_value *params,
                int n_params, struct store_rows **rows, struct err *err);

/* Moves to the next row. Returns 1 on a row, 0 after the last one, -1 with err set. */
int store_rows_next(struct store_rows *rows, struct err *err);

bool store_rows_is_null(const struct store_rows *rows, int column);

/* Column value as an integer; 0 for NULL. */
int64_t store_rows_int(const struct store_rows *rows, int column);

/* Column value as a double; 0 for NULL. */
double store_rows_real(const struct store_rows *rows, int column);

/* Column value as text, or NULL for NULL. */
const char *store_rows_text(const struct store_rows *rows, int column);

/* Ends the query; rows may be NULL. */
void store_rows_free(struct store_rows *rows);

/* Runs a statement that returns no rows. */
int store_exec(struct store *store, const char *sql, const struct store_value *params,
               int n_params, struct err *err);

/* Runs a query that returns one integer (a count): *value gets it, 0 for no row or NULL. */
int store_query_int(struct store *store, const char *sql, const struct store_value *params,
                    int n_params, int64_t *value, struct err *err);

#endif
