/* Check 3: Python imports are declared, through `aftershock deps`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check_internal.h"
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

static const char *string_field(const json_t *obj, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        const char *value = json_string_value(json_object_get(obj, names[i]));
        if (value != NULL)
            return value;
    }
    return NULL;
}

static bool is_missing_finding(const json_t *finding)
{
    static const char *const kinds[] = { "code", "kind", "type", NULL };
    const char *kind = string_field(finding, kinds);

    return kind != NULL && strcasestr(kind, "missing") != NULL;
}

/* Adds one problem per missing import listed in the JSON output of
 * `deps --format json`: a "missing" list, or "findings" whose code or
 * kind names a missing import. Returns how many were found. */
static size_t add_missing(struct check_result *r, const char *output)
{
    static const char *const module_keys[] = { "module", "name", "import", "distribution", NULL };
    static const char *const file_keys[] = { "path", "file", NULL };
    json_t *doc = json_loads(output, 0, NULL);
    json_t *list, *item;
    size_t i, found = 0;

    if (doc == NULL)
        return 0;
    list = json_object_get(doc, "missing");
    if (!json_is_array(list))
        list = json_object_get(doc, "findings");
    json_array_foreach(list, i, item) {
        const char *module = json_is_string(item) ? json_string_value(item)
                                                  : string_field(item, module_keys);
        const char *file = string_field(item, file_keys);
        json_t *line = json_object_get(item, "line");

        if (module == NULL || (json_is_object(item) && list != json_object_get(doc, "missing") &&
                               !is_missing_finding(item)))
            continue;
        found++;
        if (file != NULL && json_is_integer(line))
            result_problem(r, "%s:%lld: '%s' is imported but not declared", file,
                           (long long)json_integer_value(line), module);
        else
            result_problem(r, "'%s' is imported but not declared", module);
    }
    json_decref(doc);
    return found;
}

/* Runs `deps` with the configured requirements files. Returns 0 with res
 * filled, or -1 after failing r. */
static int run_deps(struct check_state *st, bool fix, struct spawn_result *res,
                    struct check_result *r)
{
    const char *args[DEPS_ARGS_MAX + 8];
    size_t n = 0;
    struct err err;

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
    if (check_run_self(st, args, res, &err) != 0) {
        result_fail(r, "check that the aftershock binary can run", "could not run "
                    "'aftershock deps': %s", err.msg);
        return -1;
    }
    if (res->timed_out) {
        result_fail(r, "run 'aftershock deps' by hand to see where it stops",
                    "'aftershock deps' did not finish within %.0f s", CHECK_COMMAND_TIMEOUT);
        spawn_result_release(res);
        return -1;
    }
    if (res->exit_code != 0 && res->exit_code != 1) {
        char *line = first_line(res->err[0] != '\0' ? res->err : res->out);
        result_fail(r, "run 'aftershock deps' by hand and correct what it reports",
                    "could not run: 'aftershock deps' exited with code %d: %s", res->exit_code,
                    line);
        free(line);
        spawn_result_release(res);
        return -1;
    }
    return 0;
}

void check_imports(struct check_state *st, struct check_result *r)
{
    struct spawn_result res;
    size_t missing;

    if (run_deps(st, false, &res, r) != 0)
        return;
    if (res.exit_code == 0) {
        spawn_result_release(&res);
        result_pass(r, "every Python import is declared");
        return;
    }
    missing = add_missing(r, res.out);
    spawn_result_release(&res);

    if (st->opts->fix) {
        if (run_deps(st, true, &res, r) != 0)
            return;
        spawn_result_release(&res);
        if (run_deps(st, false, &res, r) != 0)
            return;
        if (res.exit_code == 0) {
            for (size_t i = 0; i < r->problems.count; i++)
                result_change(r, "declared: %s", r->problems.items[i]);
            for (size_t i = 0; i < r->problems.count; i++)
                free(r->problems.items[i]);
            r->problems.count = 0;
            if (r->changes.count == 0)
                result_change(r, "'aftershock deps --fix' declared the missing imports");
            spawn_result_release(&res);
            result_pass(r, "declared %zu missing import%s", missing > 0 ? missing : 1,
                        missing == 1 ? "" : "s");
            return;
        }
        spawn_result_release(&res);
    }
    if (missing == 0)
        result_problem(r, "'aftershock deps' exited with code 1 and listed no missing import "
                          "that this check could read");
    result_fail(r, "aftershock check --fix (or 'aftershock deps --fix') adds them to the "
                   "requirements file",
                "%zu Python import%s not declared: %s", missing, missing == 1 ? " is" : "s are",
                r->problems.count > 0 ? r->problems.items[0] : "");
}
