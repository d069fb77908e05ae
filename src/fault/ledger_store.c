/* The fault ledger in the history store: each run's ledger document in one row of chaos_fault_ledger. */
#include <stdlib.h>
#include <string.h>

#include "fault/ledger.h"
#include "store/store.h"
#include "util/strbuf.h"

char *ledger_run_key(const struct ledger_run *run)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_addf(&sb, "%s/%s/%d-%llu", run->host, run->boot_id, (int)run->pid, run->start_ticks);
    return strbuf_detach(&sb);
}

char *ledger_store_path(struct store *store, const struct ledger_run *run)
{
    struct strbuf sb = STRBUF_INIT;
    char *key = ledger_run_key(run);

    strbuf_addf(&sb, "%s, run %s", store_display(store), key);
    free(key);
    return strbuf_detach(&sb);
}

/* The distinct kinds of the file's faults, comma-separated, for the kinds column. */
static void collect_kinds(const struct ledger_file *file, struct strbuf *out)
{
    bool seen[FAULT_FILL + 1] = { false };

    for (size_t i = 0; i < file->count; i++)
        seen[file->entries[i].kind] = true;
    for (int kind = 0; kind <= FAULT_FILL; kind++) {
        if (!seen[kind])
            continue;
        if (out->len > 0)
            strbuf_addch(out, ',');
        strbuf_addstr(out, fault_kind_name((enum fault_kind)kind));
    }
}

int ledger_store_save(struct store *store, const struct ledger_file *file, struct err *err)
{
    struct strbuf kinds = STRBUF_INIT;
    char *key = ledger_run_key(&file->run);
    char *document = file->count > 0 ? ledger_file_format(file) : NULL;
    struct store_ledger_row row = {
        .run_key = key, .host = file->run.host, .run_pid = (int)file->run.pid,
        .started_at = file->run.started_at, .fault_count = file->count,
    };
    int rc;

    collect_kinds(file, &kinds);
    row.kinds = strbuf_str(&kinds);
    row.document = document != NULL ? document : "";
    rc = store_ledger_put(store, &row, err);
    strbuf_release(&kinds);
    free(document);
    free(key);
    return rc;
}

int ledger_store_each(struct store *store,
                      void (*visit)(void *arg, struct ledger_file *file, const struct err *invalid),
                      void *arg, struct err *err)
{
    char **keys, **documents;
    int n = store_ledger_list(store, &keys, &documents, err);

    for (int i = 0; i < n; i++) {
        struct ledger_file file;
        struct err inner, invalid;

        if (ledger_file_parse(documents[i], strlen(documents[i]), &file, &inner) != 0) {
            err_set(&invalid, "fault ledger row '%s' in history store '%s' is not valid: %s",
                    keys[i], store_display(store), inner.msg);
            visit(arg, NULL, &invalid);
        } else {
            file.path = ledger_store_path(store, &file.run);
            visit(arg, &file, NULL);
        }
        free(keys[i]);
        free(documents[i]);
    }
    free(keys);
    free(documents);
    return n;
}

struct find_state {
    struct ledger_file *found;
    struct err invalid;
    int rc;     /* 0 nothing yet, 1 found, -1 an invalid row */
};

static void find_visit(void *arg, struct ledger_file *file, const struct err *invalid)
{
    struct find_state *st = arg;

    if (st->rc != 0) {
        if (file != NULL)
            ledger_file_release(file);
        return;
    }
    if (file == NULL) {
        st->invalid = *invalid;
        st->rc = -1;
    } else if (file->count == 0) {
        ledger_file_release(file);
    } else {
        *st->found = *file;
        st->rc = 1;
    }
}

int ledger_find_faults_store(struct store *store, struct ledger_file *found,
                             enum ledger_liveness *liveness, struct err *err)
{
    struct find_state st = { .found = found };

    memset(found, 0, sizeof(*found));
    if (ledger_store_each(store, find_visit, &st, err) < 0)
        return -1;
    if (st.rc < 0) {
        *err = st.invalid;
        return -1;
    }
    if (st.rc == 1)
        *liveness = ledger_run_liveness(&found->run);
    return st.rc;
}
