/* `aftershock rollback`: undoes the faults that runs which are gone left in the fault ledger. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/command.h"
#include "fault/ledger.h"
#include "store/store.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"
#include "util/ui.h"

static const struct opt_spec rollback_options[] = {
    { "ledger-dir", 0, "DIR", "fault ledger folder (default $AFTERSHOCK_LEDGER_DIR, else "
      "reports/.ledger)" },
    { "db", 0, "PATH|URL", "history store whose fault ledger is rolled back too (default "
      "$AFTERSHOCK_DB, else reports/chaos_history.db; a SQLite file that does not exist has "
      "no ledger)" },
    { "force", 0, NULL, "also undo the faults of runs that are still running, or that ran on "
      "another host" },
    { "dry-run", 0, NULL, "list the faults and what would be done; change nothing" },
    { "json", 0, NULL, "print the faults and outcomes as JSON" },
    { NULL, 0, NULL, NULL },
};

struct rollback_state {
    struct store *store; /* where the file being rolled back is saved; NULL: its state file */
    bool dry_run;
    bool force;
    json_t *faults;   /* outcome records for --json; NULL for text output */
    int code;
    int seen;         /* faults listed */
};

static const char *outcome_name(enum undo_outcome outcome, bool dry_run)
{
    switch (outcome) {
    case UNDO_DONE:
        return dry_run ? "would-undo" : "undone";
    case UNDO_GONE:
        return "gone";
    case UNDO_DROPPED:
        return "dropped";
    case UNDO_FAILED:
        break;
    }
    return "failed";
}

/* Prints or records one fault's line. */
static void report_fault(struct rollback_state *st, const struct ledger_file *file,
                         const struct fault_entry *e, const char *outcome, const char *message)
{
    json_t *record;

    st->seen++;
    if (st->faults == NULL) {
        printf("run %d, %s: %s\n", (int)file->run.pid,
               e->experiment != NULL ? e->experiment : "(no experiment)", message);
        return;
    }
    record = json_pack("{s:s, s:i, s:s, s:s?, s:I, s:s, s:s, s:s, s:s}", "ledger_file",
                       file->path, "run_pid", (int)file->run.pid, "run_started_at",
                       file->run.started_at, "experiment", e->experiment, "id",
                       (json_int_t)e->id, "kind", fault_kind_name(e->kind), "applied_at",
                       e->applied_at, "outcome", outcome, "message", message);
    ledger_entry_fields(record, e);
    json_array_append_new(st->faults, record);
}

static void raise_code(struct rollback_state *st, int code)
{
    if (code > st->code)
        st->code = code;
}

/* Undoes the faults of one run file, newest first, and rewrites or removes the file. */
static void roll_back_file(struct rollback_state *st, struct ledger_file *file)
{
    enum ledger_liveness liveness = ledger_run_liveness(&file->run);
    char message[1024];
    struct err err;

    if (liveness != LEDGER_RUN_GONE && !st->force) {
        snprintf(message, sizeof(message), "skipped: run pid %d %s; pass --force to undo its "
                 "faults anyway", (int)file->run.pid,
                 liveness == LEDGER_RUN_ALIVE ? "is still running" : "ran on another host");
        for (size_t i = file->count; i-- > 0;)
            report_fault(st, file, &file->entries[i], "skipped", message);
        raise_code(st, EXIT_FINDING);
        return;
    }
    for (size_t i = file->count; i-- > 0;) {
        enum undo_outcome outcome =
            ledger_undo(&file->run, &file->entries[i], st->dry_run, message, sizeof(message));

        report_fault(st, file, &file->entries[i], outcome_name(outcome, st->dry_run), message);
        if (outcome == UNDO_FAILED) {
            log_error("rollback", "%s file=%s", message, file->path);
            raise_code(st, EXIT_FINDING);
        } else if (!st->dry_run) {
            log_debug("rollback", "%s run=%d", message, (int)file->run.pid);
            ledger_file_drop(file, i);
        }
    }
    if (!st->dry_run && (st->store != NULL ? ledger_store_save(st->store, file, &err)
                                           : ledger_file_save(file, &err)) != 0) {
        ui_error("%s", err.msg);
        ui_hint("the faults above were undone; remove the file by hand once you have checked it");
        raise_code(st, EXIT_FINDING);
    }
}

static void visit_store_row(void *arg, struct ledger_file *file, const struct err *invalid)
{
    struct rollback_state *st = arg;

    if (file == NULL) {
        ui_error("%s", invalid->msg);
        ui_hint("delete the row from chaos_fault_ledger once you have undone its faults by hand");
        raise_code(st, EXIT_USAGE);
        return;
    }
    roll_back_file(st, file);
    ledger_file_release(file);
}

/* Rolls back the ledger rows of the history store at location. A store the
 * user chose (--db or $AFTERSHOCK_DB) that cannot be opened fails the
 * command; the default one only gets a warning. Sets display to the store's
 * name for output, or to "" when there is no store there. */
static void roll_back_store(struct rollback_state *st, const char *location, bool chosen,
                            char *display, size_t size)
{
    struct store *store = NULL;
    struct err err;

    display[0] = '\0';
    if (!store_is_url(location) && access(location, F_OK) != 0)
        return;
    if (store_open(location, STORE_READ, &store, &err) != 0 && !chosen) {
        /* The default store may be one no run of this checkout uses for its ledger. */
        ui_warning("the fault ledger in the history store was not checked: %s", err.msg);
        return;
    }
    if (store == NULL) {
        /* The store the user chose must be checked, or faults could be missed. */
        ui_error("%s", err.msg);
        ui_hint("pass --db to choose the store the runs were recorded in");
        raise_code(st, EXIT_RUNFAIL);
        return;
    }
    snprintf(display, size, "%s", store_display(store));
    st->store = store;
    if (ledger_store_each(store, visit_store_row, st, &err) < 0) {
        ui_error("%s", err.msg);
        raise_code(st, EXIT_RUNFAIL);
    }
    st->store = NULL;
    store_close(store);
}

static void print_json(struct rollback_state *st, const char *dir, const char *store)
{
    json_t *doc = json_pack("{s:s, s:s?, s:b, s:O}", "ledger", dir, "store",
                            store[0] != '\0' ? store : NULL, "dry_run", st->dry_run, "faults",
                            st->faults);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);

    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(doc);
}

static int rollback_main(const struct command_args *args)
{
    const char *dir = ledger_dir(opt_get(args->opts, "ledger-dir"));
    char store[512];
    struct rollback_state st = { .dry_run = opt_has(args->opts, "dry-run"),
                                 .force = opt_has(args->opts, "force") };
    struct err err;
    char **paths;
    int n;

    if (args->argc > 0) {
        ui_error("'rollback' takes no arguments, got '%s'", args->argv[0]);
        ui_hint("run 'aftershock rollback --help' for usage");
        return EXIT_USAGE;
    }
    n = ledger_list(dir, &paths, &err);
    if (n < 0) {
        ui_error("%s", err.msg);
        return EXIT_RUNFAIL;
    }
    if (opt_has(args->opts, "json"))
        st.faults = json_array();
    http_global_init();

    for (int i = 0; i < n; i++) {
        struct ledger_file file;

        if (ledger_file_load(paths[i], &file, &err) != 0) {
            ui_error("%s", err.msg);
            ui_hint("fix or remove the file once you have undone its faults by hand");
            raise_code(&st, EXIT_USAGE);
        } else {
            roll_back_file(&st, &file);
            ledger_file_release(&file);
        }
        free(paths[i]);
    }
    free(paths);
    if (!st.dry_run)
        ledger_remove_stale_temp(dir);
    roll_back_store(&st, store_location(opt_get(args->opts, "db")),
                    opt_get(args->opts, "db") != NULL || getenv(STORE_ENV_LOCATION) != NULL,
                    store, sizeof(store));

    if (st.faults != NULL)
        print_json(&st, dir, store);
    else if (st.seen == 0 && st.code == EXIT_OK && store[0] != '\0')
        printf("the fault ledger in '%s' and in '%s' is empty: nothing to roll back\n", dir,
               store);
    else if (st.seen == 0 && st.code == EXIT_OK)
        printf("the fault ledger '%s' is empty: nothing to roll back\n", dir);
    json_decref(st.faults);
    return st.code;
}

const struct command command_rollback = {
    .name = "rollback",
    .summary = "undo faults left in the fault ledger by runs that were killed",
    .usage = "[options]",
    .description =
        "Reads the fault ledger (one state file per run, and one row per run in the\n"
        "history store) and undoes every fault that a run which is no longer running\n"
        "left behind: paused processes get SIGCONT and stress workers SIGKILL (only\n"
        "when the pid still belongs to the recorded process), toxics are deleted\n"
        "through the API they were added with, and fill files are removed. A\n"
        "process, toxic, proxy or file that is already gone counts as undone.\n"
        "Prints one line per fault.\n"
        "\n"
        "exit codes: 0 every fault was undone (or there was none); 1 a fault could\n"
        "not be undone, or belongs to a run that is still running (it stays in the\n"
        "ledger); 2 invalid options or a ledger file that is not valid; 3 the\n"
        "ledger folder or the history store cannot be read.\n",
    .options = rollback_options,
    .min_args = 0,
    .handler = rollback_main,
};
