/* Check 7: every experiment plans cleanly with `run --dry-run`, and no fault is left active. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "fault/ledger.h"
#include "store/store.h"
#include "util/spawn.h"
#include "util/strbuf.h"

/* Returns the ledger folder: $AFTERSHOCK_LEDGER_DIR, else the configured
 * one, else the default, made absolute against the root. */
static char *ledger_folder(const struct check_state *st)
{
    const char *env = getenv(LEDGER_ENV_DIR);
    const char *dir = env != NULL && env[0] != '\0' ? env
                      : st->cfg->ledger_dir != NULL ? st->cfg->ledger_dir
                                                    : LEDGER_DEFAULT_DIR;

    return check_absolute(st, dir);
}

/* Undoes the faults of runs that are gone with `rollback`, in the ledger
 * folder and the history store's ledger rows. Returns 0 when it succeeded. */
static int roll_back(struct check_state *st, const char *dir, struct check_result *r)
{
    char *location = check_store_location(st);
    const char *args[] = { "rollback", "--ledger-dir", dir, "--db", location, NULL };
    struct spawn_result res;
    struct err err;
    int rc;

    rc = check_run_self(st, args, &res, &err);
    free(location);
    if (rc != 0) {
        result_problem(r, "could not run 'aftershock rollback': %s", err.msg);
        return -1;
    }
    rc = res.exit_code == 0 ? 0 : -1;
    if (rc != 0)
        result_problem(r, "'aftershock rollback --ledger-dir %s' exited with code %d: %.300s",
                       dir, res.exit_code, res.err);
    spawn_result_release(&res);
    return rc;
}

/* Reports the active faults of one ledger, or rolls them back with --fix.
 * where names the ledger folder or store for messages; rc, found and
 * liveness are what ledger_find_faults or ledger_find_faults_store
 * returned. The repair goes to *fix. */
static void report_ledger(struct check_state *st, struct check_result *r, const char *dir,
                          const char *where, int rc, struct ledger_file *found,
                          enum ledger_liveness liveness, const struct err *err, char **fix)
{
    if (rc < 0) {
        result_problem(r, "%s", err->msg);
        free(*fix);
        *fix = strdup("check the ledger; remove an entry only when none of its faults is still "
                      "in effect");
    } else if (rc == 0) {
        /* The ledger is empty: no fault is active. */
    } else if (liveness == LEDGER_RUN_GONE && st->opts->fix && roll_back(st, dir, r) == 0) {
        result_change(r, "rolled back %zu fault%s left by run pid %d (started %s)", found->count,
                      found->count == 1 ? "" : "s", (int)found->run.pid, found->run.started_at);
    } else {
        result_problem(r, "the fault ledger %s contains %zu active fault%s of run pid %d "
                          "(started %s on '%s'), which %s",
                       where, found->count, found->count == 1 ? "" : "s", (int)found->run.pid,
                       found->run.started_at, found->run.host,
                       liveness == LEDGER_RUN_ALIVE  ? "is still running"
                       : liveness == LEDGER_RUN_GONE
                           ? (found->count == 1 ? "has ended without undoing it"
                                                : "has ended without undoing them")
                                                     : "ran on another host");
        free(*fix);
        if (liveness == LEDGER_RUN_GONE)
            *fix = strdup(found->count == 1
                              ? "aftershock check --fix (or 'aftershock rollback') undoes it"
                              : "aftershock check --fix (or 'aftershock rollback') undoes them");
        else if (liveness == LEDGER_RUN_ALIVE)
            *fix = strdup("wait for that run to end");
        else
            *fix = strdup("run 'aftershock rollback' on that host, or 'aftershock rollback "
                          "--force' here");
    }
    if (rc > 0)
        ledger_file_release(found);
}

static void check_ledger_folder(struct check_state *st, struct check_result *r, const char *dir,
                                char **fix)
{
    struct ledger_file found;
    enum ledger_liveness liveness = LEDGER_RUN_GONE;
    struct err err;
    char *shown = check_relative(st, dir);
    struct strbuf where = STRBUF_INIT;
    int rc = ledger_find_faults(dir, &found, &liveness, &err);

    strbuf_addf(&where, "'%s'", shown);
    report_ledger(st, r, dir, strbuf_str(&where), rc, &found, liveness, &err, fix);
    strbuf_release(&where);
    free(shown);
}

/* Checks the ledger rows that runs keep in the history store. A store
 * that does not exist, or whose schema is not current, is left to check 6
 * and never opened, so nothing is migrated. */
static void check_ledger_store(struct check_state *st, struct check_result *r, const char *dir,
                               char **fix)
{
    char *location = check_store_location(st);
    char *relative = check_relative(st, location);
    struct ledger_file found;
    enum ledger_liveness liveness = LEDGER_RUN_GONE;
    struct store *store = NULL;
    struct strbuf where = STRBUF_INIT;
    struct err err;
    char shown[512];
    int version = 0, rc;

    store_location_display(relative, shown, sizeof(shown));
    if ((!store_is_url(location) && access(location, F_OK) != 0) ||
        store_inspect(location, &version, &err) != 0 || version != STORE_SCHEMA_VERSION)
        goto done;
    if (store_open(location, STORE_READ, &store, &err) != 0) {
        result_problem(r, "%s", err.msg);
        goto done;
    }
    rc = ledger_find_faults_store(store, &found, &liveness, &err);
    store_close(store);
    strbuf_addf(&where, "in history store '%s'", shown);
    report_ledger(st, r, dir, strbuf_str(&where), rc, &found, liveness, &err, fix);

done:
    strbuf_release(&where);
    free(relative);
    free(location);
}

/* Adds each error line of `run --dry-run` as a problem. */
static void add_error_lines(struct check_result *r, const char *text)
{
    static const char prefix[] = "aftershock: error: ";

    while (*text != '\0') {
        size_t n = strcspn(text, "\n");

        if (n > sizeof(prefix) - 1 && strncmp(text, prefix, sizeof(prefix) - 1) == 0)
            result_problem(r, "%.*s", (int)(n - (sizeof(prefix) - 1)),
                           text + sizeof(prefix) - 1);
        text += n;
        if (*text == '\n')
            text++;
    }
}

/* Plans the experiments that no earlier check reported. Returns how many were left out. */
static size_t plan(struct check_state *st, struct check_result *r, size_t *planned)
{
    const char **args = calloc(st->n_files + 4, sizeof(*args));
    size_t n = 0, left_out = 0;
    struct spawn_result res;
    struct err err;

    if (args == NULL)
        abort();
    args[n++] = "run";
    args[n++] = "--dry-run";
    for (size_t i = 0; i < st->n_files; i++) {
        const struct check_file *f = &st->files[i];
        if (f->invalid || f->unresolved || f->bad_path)
            left_out++;
        else
            args[n++] = f->display;
    }
    args[n] = NULL;
    *planned = n - 2;
    if (*planned == 0) {
        free(args);
        return left_out;
    }

    if (check_run_self(st, args, &res, &err) != 0) {
        result_problem(r, "could not run 'aftershock run --dry-run': %s", err.msg);
    } else {
        if (res.exit_code != 0) {
            size_t before = r->problems.count;
            add_error_lines(r, res.err);
            if (r->problems.count == before)
                result_problem(r, "'aftershock run --dry-run' exited with code %d", res.exit_code);
        }
        spawn_result_release(&res);
    }
    free(args);
    return left_out;
}

void check_dry_run(struct check_state *st, struct check_result *r)
{
    char *dir = ledger_folder(st);
    char *fix = NULL;
    size_t planned = 0, left_out;
    check_ledger_folder(st, r, dir, &fix);
    check_ledger_store(st, r, dir, &fix);
    left_out = plan(st, r, &planned);
    if (r->problems.count > 0) {
        result_fail(r, fix != NULL ? fix : "correct the experiment; 'aftershock run --dry-run "
                                           "FILE' prints the plan and each problem",
                    "%s", r->problems.items[0]);
    } else {
        struct strbuf note = STRBUF_INIT;
        if (left_out > 0)
            strbuf_addf(&note, " (%zu with problems reported above not planned)", left_out);
        result_pass(r, "%zu experiment%s cleanly%s; %s", planned,
                    planned == 1 ? " plans" : "s plan",
                    strbuf_str(&note),
                    r->changes.count > 0 ? "rolled back the faults left active"
                                         : "no fault is left active");
        strbuf_release(&note);
    }
    free(fix);
    free(dir);
}
