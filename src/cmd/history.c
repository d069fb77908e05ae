/* `aftershock history`: lists recorded runs, failures, healing attempts and
 * objective results, and imports journals into the store. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/command.h"
#include "report/history.h"
#include "store/store.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/ui.h"

#define HISTORY_DEFAULT_LIMIT 20
#define JOURNAL_MAX_BYTES (256L * 1024 * 1024)

static const struct opt_spec history_options[] = {
    { "db", 0, "PATH|URL", "history store: a SQLite file or a postgresql:// URL (default "
      "$AFTERSHOCK_DB, else reports/chaos_history.db)" },
    { "since", 0, "TIME", "only rows that started at or after TIME: YYYY-MM-DD[THH:MM[:SS]], "
      "or an age such as 7d or 12h" },
    { "until", 0, "TIME", "only rows that started before TIME" },
    { "now", 0, "TIME", "the time that ages are counted back from (default: the current time)" },
    { "experiment", 0, "TITLE", "only this experiment (exact title)" },
    { "status", 0, "STATUS", "runs and failures: passed, deviated, failed, interrupted or "
      "healed; healing: succeeded, retried, stopped or gave_up; objectives: passed or failed" },
    { "category", 0, "NAME", "failures and healing: only this category (network, timeout, "
      "verdict, ...)" },
    { "limit", 'n', "N", "print at most N rows, newest first; 0 for all (default 20)" },
    { "json", 0, NULL, "print the rows as JSON" },
    { NULL, 0, NULL, NULL },
};

/* Opens the store named by --db, $AFTERSHOCK_DB or the default. */
static struct store *open_store(const struct opt_values *opts, enum store_mode mode)
{
    struct store *store;
    struct err err;

    if (store_open(store_location(opt_get(opts, "db")), mode, &store, &err) != 0) {
        ui_error("%s", err.msg);
        if (mode == STORE_READ)
            ui_hint("runs are recorded by 'aftershock run'; pass --db or set AFTERSHOCK_DB to "
                    "read another store");
        return NULL;
    }
    return store;
}

/* Records the journal files given after `import`, STORE_BATCH_RUNS runs per
 * transaction. Every journal is read and checked before the first is recorded. */
static int import_journals(const struct command_args *args)
{
    int n = args->argc - 1;
    json_t **journals = calloc((size_t)(n > 0 ? n : 1), sizeof(json_t *));
    struct store *store = NULL;
    struct store_context ctx;
    struct err err;
    int code = EXIT_OK;

    if (journals == NULL)
        abort();
    if (n < 1) {
        ui_error("'history import' needs at least one journal file");
        code = EXIT_USAGE;
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        json_error_t error;
        journals[i] = json_load_file(args->argv[i + 1], 0, &error);
        if (journals[i] == NULL) {
            ui_error("cannot read journal '%s': %s (line %d)", args->argv[i + 1], error.text,
                     error.line);
            code = EXIT_USAGE;
            goto cleanup;
        }
        if (store_check_journal(journals[i], args->argv[i + 1], &err) != 0) {
            ui_error("%s", err.msg);
            code = EXIT_USAGE;
            goto cleanup;
        }
    }

    store = open_store(args->opts, STORE_WRITE);
    if (store == NULL) {
        code = EXIT_RUNFAIL;
        goto cleanup;
    }
    store_context_from_env(&ctx);
    if (store_record_journals(store, journals, (const char *const *)args->argv + 1, (size_t)n,
                              &ctx, &err) != 0) {
        ui_error("%s", err.msg);
        code = EXIT_RUNFAIL;
    }
    store_context_release(&ctx);
    if (code == EXIT_OK)
        printf("recorded %d journal%s in %s\n", n, n == 1 ? "" : "s", store_display(store));

cleanup:
    for (int i = 0; i < n; i++)
        json_decref(journals[i]);
    free(journals);
    store_close(store);
    return code;
}

/* Fills q from the options. Prints the error and returns -1 when one is invalid. */
static int read_query(const struct opt_values *opts, struct history_query *q)
{
    double now = time_wall();
    struct err err;
    long limit;

    if (opt_get(opts, "now") != NULL &&
        store_time_parse(opt_get(opts, "now"), now, &now, &err) != 0) {
        ui_error("--now: %s", err.msg);
        return -1;
    }
    q->since = 0;
    q->until = 253402300800.0; /* 10000-01-01, after any recorded run */
    if (opt_get(opts, "since") != NULL &&
        store_time_parse(opt_get(opts, "since"), now, &q->since, &err) != 0) {
        ui_error("--since: %s", err.msg);
        return -1;
    }
    if (opt_get(opts, "until") != NULL &&
        store_time_parse(opt_get(opts, "until"), now, &q->until, &err) != 0) {
        ui_error("--until: %s", err.msg);
        return -1;
    }
    q->experiment = opt_get(opts, "experiment");
    q->status = opt_get(opts, "status");
    q->category = opt_get(opts, "category");
    if (q->status != NULL && history_check_status(q->view, q->status, &err) != 0) {
        ui_error("--status: %s", err.msg);
        return -1;
    }
    if (q->category != NULL && q->view != HISTORY_FAILURES && q->view != HISTORY_HEALING) {
        ui_error("--category '%s' applies to failures and healing only", q->category);
        ui_hint("run 'aftershock history failures --category %s'", q->category);
        return -1;
    }
    if (opt_int(opts, "limit", HISTORY_DEFAULT_LIMIT, 0, 100000000, &limit) != 0)
        return -1;
    q->limit = limit;
    return 0;
}

static int history_main(const struct command_args *args)
{
    struct history_query q = { .view = HISTORY_RUNS };
    struct store *store;
    struct err err;
    int code = EXIT_OK;

    if (args->argc > 0 && strcmp(args->argv[0], "import") == 0)
        return import_journals(args);
    if (args->argc > 1 || (args->argc == 1 && history_parse_view(args->argv[0], &q.view) != 0)) {
        ui_error("unknown history view '%s': use runs, failures, healing, objectives or import",
                 args->argv[args->argc > 1 ? 1 : 0]);
        return EXIT_USAGE;
    }
    if (read_query(args->opts, &q) != 0)
        return EXIT_USAGE;
    store = open_store(args->opts, STORE_READ);
    if (store == NULL)
        return EXIT_RUNFAIL;
    if (history_list(store, &q, stdout, opt_has(args->opts, "json"), &err) != 0) {
        ui_error("%s", err.msg);
        code = EXIT_RUNFAIL;
    }
    store_close(store);
    return code;
}

const struct command command_history = {
    .name = "history",
    .summary = "list recorded runs, failures and healing attempts",
    .usage = "[options] [runs|failures|healing|objectives] | import JOURNAL...",
    .description =
        "Lists rows of the history store, newest first: runs (the default), failures\n"
        "with their category, healing attempts, or objective results.\n"
        "'history import JOURNAL...' records journals written elsewhere, for example\n"
        "with 'run --no-record' or on another CI runner, with the commit and CI job of\n"
        "the current environment.\n"
        "\n"
        "exit codes: 0 listed or imported; 2 invalid options or journal; 3 the store\n"
        "could not be opened, read or written.\n",
    .options = history_options,
    .min_args = 0,
    .handler = history_main,
};
