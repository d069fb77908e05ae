/* Check 3: Python imports are declared, through `aftershock deps`. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check_internal.h"
#include "check/deps_json.h"
#include "util/err.h"
#include "util/spawn.h"
#include "util/strbuf.h"

#define DEPS_ARGS_MAX 40

/* Returns the first non-empty line of text without a leading
 * "aftershock: error: ", or "" (caller frees). */
static char *first_line(const char *text)
{
    static const char prefix[] = "aftershock: error: ";
    struct strbuf line = STRBUF_INIT;

    while (*text == '\n' || *text == ' ')
        text++;
    if (strncmp(text, prefix, sizeof(prefix) - 1) == 0)
        text += sizeof(prefix) - 1;
    strbuf_add(&line, text, strcspn(text, "\n"));
    return strbuf_detach(&line);
}

/* Returns the first parse error in the JSON output of `deps`, as
 * "path:line:column: message", else the first line of the output (caller
 * frees). */
static char *first_error(const char *output)
{
    struct deps_report report;
    struct err err;
    char *line;

    if (deps_report_parse(output, strlen(output), &report, &err) != 0)
        return first_line(output);
    line = report.first_error != NULL ? strdup(report.first_error) : first_line(output);
    deps_report_release(&report);
    return line;
}

/* Appends name to a comma-separated list unless it is there already. */
static void add_name(struct strbuf *names, const char *name)
{
    struct strbuf quoted = STRBUF_INIT;

    strbuf_addf(&quoted, "'%s'", name);
    if (strstr(strbuf_str(names), strbuf_str(&quoted)) == NULL)
        strbuf_addf(names, "%s%s", names->len > 0 ? ", " : "", strbuf_str(&quoted));
    strbuf_release(&quoted);
}

/* Adds one problem per undeclared import in the JSON output of
 * `deps --format json`: its DEP001 findings with file and line, or else
 * the entries of "missing". Returns how many were found, or -1 after a
 * problem when the output does not follow the schema of docs/deps.md. */
static long add_missing(struct check_result *r, const char *output, struct strbuf *names)
{
    struct deps_report report;
    struct err err;
    long found;

    if (deps_report_parse(output, strlen(output), &report, &err) != 0) {
        result_problem(r, "cannot read the JSON output of 'aftershock deps': %s", err.msg);
        return -1;
    }
    for (size_t i = 0; i < report.count; i++) {
        const struct deps_missing *m = &report.missing[i];
        const char *name = m->distribution != NULL ? m->distribution : m->module;

        add_name(names, name);
        if (m->path != NULL)
            result_problem(r, "%s:%lld:%lld: %s", m->path, m->line, m->column, m->message);
        else if (m->declared)
            result_problem(r, "'%s' is declared but not installed", name);
        else
            result_problem(r, "'%s' is imported but not declared", name);
    }
    found = (long)report.count;
    deps_report_release(&report);
    return found;
}

/* Fills args (DEPS_ARGS_MAX + 8 entries) for `deps --format json`. */
static void deps_args(const struct check_state *st, bool fix, const char **args)
{
    size_t n = 0;

    args[n++] = "deps";
    args[n++] = "--format";
    args[n++] = "json";
    if (fix)
        args[n++] = "--fix";
    for (size_t i = 0; i < st->cfg->requirements.count && i < DEPS_ARGS_MAX / 2; i++) {
        args[n++] = "--requirements";
        args[n++] = st->cfg->requirements.items[i];
    }
    args[n++] = ".";
    args[n] = NULL;
}

/* Turns how `deps` ended into 0 (exit 0 or 1, res kept) or -1 after
 * failing r (res released). */
static int deps_outcome(int started, struct spawn_result *res, const struct err *err,
                        struct check_result *r)
{
    if (started != 0) {
        result_fail(r, "check that the aftershock binary can run", "could not run "
                    "'aftershock deps': %s", err->msg);
        return -1;
    }
    if (res->timed_out) {
        result_fail(r, "run 'aftershock deps' by hand to see where it stops",
                    "'aftershock deps' did not finish within %.0f s", CHECK_COMMAND_TIMEOUT);
        spawn_result_release(res);
        return -1;
    }
    if (res->exit_code != 0 && res->exit_code != 1) {
        char *line = res->err[0] != '\0' ? first_line(res->err) : first_error(res->out);
        result_fail(r, "run 'aftershock deps' by hand and correct what it reports",
                    "could not run: 'aftershock deps' exited with code %d: %s", res->exit_code,
                    line);
        free(line);
        spawn_result_release(res);
        return -1;
    }
    return 0;
}

/* Runs `deps` with the configured requirements files. Returns 0 with res
 * filled, or -1 after failing r. */
static int run_deps(struct check_state *st, bool fix, struct spawn_result *res,
                    struct check_result *r)
{
    const char *args[DEPS_ARGS_MAX + 8];
    struct err err;

    deps_args(st, fix, args);
    return deps_outcome(check_run_self(st, args, res, &err), res, &err, r);
}

static void *deps_thread(void *arg)
{
    struct check_state *st = arg;
    struct check_deps_job *job = &st->deps_job;
    const char *args[DEPS_ARGS_MAX + 8];

    deps_args(st, false, args);
    job->started = check_run_self(st, args, &job->res, &job->err);
    return NULL;
}

void check_imports_start(struct check_state *st)
{
    /* The scan takes the longest of all checks, so it runs while the
     * checks that work inside this process run. */
    if (pthread_create(&st->deps_job.thread, NULL, deps_thread, st) == 0)
        st->deps_job.running = true;
}

void check_imports_wait(struct check_state *st)
{
    if (!st->deps_job.running)
        return;
    pthread_join(st->deps_job.thread, NULL);
    st->deps_job.running = false;
    st->deps_job.joined = true;
}

/* Runs `deps --fix`, then `deps` again. Returns 0 when nothing is missing
 * any more; the problems then become one change. */
static int fix_imports(struct check_state *st, struct check_result *r, const char *names)
{
    struct spawn_result res;
    int rc;

    if (run_deps(st, true, &res, r) != 0)
        return -1;
    spawn_result_release(&res);
    if (run_deps(st, false, &res, r) != 0)
        return -1;
    rc = res.exit_code == 0 ? 0 : -1;
    spawn_result_release(&res);
    if (rc != 0)
        return -1;
    for (size_t i = 0; i < r->problems.count; i++)
        free(r->problems.items[i]);
    r->problems.count = 0;
    result_change(r, "added %s to the requirements file", names[0] ? names : "the missing imports");
    return 0;
}

void check_imports(struct check_state *st, struct check_result *r)
{
    struct strbuf names = STRBUF_INIT;
    struct spawn_result res;
    long missing;

    check_imports_wait(st);
    if (st->deps_job.joined) {
        st->deps_job.joined = false;
        res = st->deps_job.res;
        if (deps_outcome(st->deps_job.started, &res, &st->deps_job.err, r) != 0)
            return;
    } else if (run_deps(st, false, &res, r) != 0) {
        return;
    }
    if (res.exit_code == 0) {
        spawn_result_release(&res);
        result_pass(r, "every Python import is declared");
        return;
    }
    missing = add_missing(r, res.out, &names);
    spawn_result_release(&res);
    if (missing < 0) {
        result_fail(r, "use the 'deps' of the same aftershock build, or run 'aftershock deps' "
                       "by hand", "%s", r->problems.items[0]);
        strbuf_release(&names);
        return;
    }

    if (st->opts->fix && fix_imports(st, r, strbuf_str(&names)) == 0) {
        result_pass(r, "declared %s", strbuf_str(&names));
        strbuf_release(&names);
        return;
    }
    if (r->status == CHECK_FAILED) {
        strbuf_release(&names);
        return;
    }
    if (missing == 0)
        result_problem(r, "'aftershock deps' exited with code 1 and listed no missing import "
                          "that this check could read");
    result_fail(r, "aftershock check --fix (or 'aftershock deps --fix') adds them to the "
                   "requirements file",
                "%ld Python import%s not declared: %s", missing, missing == 1 ? " is" : "s are",
                r->problems.count > 0 ? r->problems.items[0] : "");
    strbuf_release(&names);
}
