/* The fault ledger table: one row per run with faults not yet undone. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/timeutil.h"

static const char delete_sql[] = "DELETE FROM chaos_fault_ledger WHERE run_key = $1";

static const char insert_sql[] =
    "INSERT INTO chaos_fault_ledger (run_key, host, run_pid, started_at, fault_count, kinds,"
    " document, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

static const char list_sql[] =
    "SELECT run_key, document FROM chaos_fault_ledger ORDER BY run_key";

/* Deleting and inserting in one transaction works the same in both backends,
 * where an upsert would need each one's own syntax. */
static int put_body(struct store *store, void *arg, struct err *err)
{
    const struct store_ledger_row *row = arg;
    struct store_value key[] = { STORE_TEXT(row->run_key) };
    int rc = store_exec(store, delete_sql, key, 1, err);

    if (rc != 0 || row->fault_count == 0)
        return rc;
    struct store_value params[] = {
        STORE_TEXT(row->run_key), STORE_TEXT(row->host), STORE_INT(row->run_pid),
        STORE_TEXT(row->started_at), STORE_INT((int64_t)row->fault_count),
        STORE_TEXT(row->kinds), STORE_TEXT(row->document),
        STORE_INT(store_epoch_ms(time_wall())),
    };
    return store_exec(store, insert_sql, params, 8, err);
}

int store_ledger_put(struct store *store, const struct store_ledger_row *row, struct err *err)
{
    struct err inner;

    if (store_transaction(store, put_body, (void *)row, "fault ledger", &inner) != 0)
        return err_set(err, "cannot write the fault ledger in history store '%s': %s",
                       store->display, inner.msg);
    return 0;
}

static char *copy_text(const char *text)
{
    char *c = strdup(text != NULL ? text : "");

    if (c == NULL)
        abort();
    return c;
}

int store_ledger_list(struct store *store, char ***run_keys, char ***documents, struct err *err)
{
    struct store_rows *rows;
    struct err inner;
    int n = 0, rc;

    *run_keys = NULL;
    *documents = NULL;
    if (store_query(store, list_sql, NULL, 0, &rows, &inner) != 0)
        return err_set(err, "cannot read the fault ledger in history store '%s': %s",
                       store->display, inner.msg);
    while ((rc = store_rows_next(rows, &inner)) == 1) {
        char **keys = realloc(*run_keys, sizeof(char *) * (size_t)(n + 1));
        char **docs = realloc(*documents, sizeof(char *) * (size_t)(n + 1));

        if (keys == NULL || docs == NULL)
            abort();
        *run_keys = keys;
        *documents = docs;
        keys[n] = copy_text(store_rows_text(rows, 0));
        docs[n] = copy_text(store_rows_text(rows, 1));
        n++;
    }
    store_rows_free(rows);
    if (rc < 0) {
        for (int i = 0; i < n; i++) {
            free((*run_keys)[i]);
            free((*documents)[i]);
        }
        free(*run_keys);
        free(*documents);
        *run_keys = *documents = NULL;
        return err_set(err, "cannot read the fault ledger in history store '%s': %s",
                       store->display, inner.msg);
    }
    return n;
}
