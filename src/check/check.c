/* Running the selected checks in order and collecting their results. */
#include "check/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "util/log.h"
#include "util/spawn.h"
#include "util/strbuf.h"

struct check_entry {
    const char *name;
    void (*run)(struct check_state *st, struct check_result *r);
};

static const struct check_entry entries[CHECK_COUNT + 1] = {
    { NULL, NULL },
    { "experiments", check_experiments },
    { "references", check_references },
    { "imports", check_imports },
    { "paths", check_process_paths },
    { "workflow", check_workflow },
    { "store", check_history_store },
    { "dry-run", check_dry_run },
};

const char *check_name(int id)
{
    return id >= 1 && id <= CHECK_COUNT ? entries[id].name : NULL;
}

int check_parse_id(const char *text)
{
    for (int id = 1; id <= CHECK_COUNT; id++) {
        char number[4];

        snprintf(number, sizeof(number), "%d", id);
        if (strcmp(text, number) == 0 || strcmp(text, entries[id].name) == 0)
            return id;
    }
    return -1;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *text = NULL;

    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    return text;
}

static void list_add_owned(struct string_list *list, char *text)
{
    char **items = realloc(list->items, (list->count + 1) * sizeof(*items));

    if (items == NULL)
        abort();
    list->items = items;
    list->items[list->count++] = text;
}

void result_pass(struct check_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    free(r->reason);
    r->reason = vformat(fmt, ap);
    va_end(ap);
    r->status = r->changes.count > 0 ? CHECK_FIXED : CHECK_PASSED;
}

void result_fail(struct check_result *r, const char *fix, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    free(r->reason);
    r->reason = vformat(fmt, ap);
    va_end(ap);
    free(r->fix);
    r->fix = fix != NULL ? strdup(fix) : NULL;
    r->status = CHECK_FAILED;
}

void result_problem(struct check_result *r, const char *fmt, ...)
{
    va_list ap;

    if (r->problems.count >= CHECK_MAX_PROBLEMS)
        return;
    va_start(ap, fmt);
    list_add_owned(&r->problems, vformat(fmt, ap));
    va_end(ap);
}

void result_change(struct check_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    list_add_owned(&r->changes, vformat(fmt, ap));
    va_end(ap);
}

void result_take_problems(struct check_result *r, struct problems *list)
{
    for (size_t i = 0; i < list->count; i++)
        result_problem(r, "%s", list->items[i]);
}

int check_run_self(const struct check_state *st, const char *const *args,
                   struct spawn_result *res, struct err *err)
{
    const char *argv[64];
    size_t n = 0;

    argv[n++] = st->opts->self;
    for (size_t i = 0; args[i] != NULL && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    struct spawn_opts so = {
        .argv = (char *const *)argv,
        .cwd = st->root,
        .timeout = CHECK_COMMAND_TIMEOUT,
        .capture_max = 1024 * 1024,
        .stdin_null = true,
    };
    log_debug("check", "running command=%s %s", argv[0], argv[1]);
    return spawn_run(&so, res, err);
}

int check_run_all(const struct check_options *opts, struct check_result results[CHECK_COUNT + 1])
{
    struct check_state st = { .opts = opts, .cfg = opts->cfg };
    struct check_result collect = { 0 };
    int failed = 0;

    memset(results, 0, sizeof(*results) * (CHECK_COUNT + 1));
    for (int id = 1; id <= CHECK_COUNT; id++) {
        results[id].id = id;
        results[id].name = entries[id].name;
    }
    /* Listing the experiment files can fail (a folder that cannot be read);
     * every check that needs them then fails with that reason. */
    int listed = check_collect_files(&st, &collect);

    if (opts->selected[3])
        check_imports_start(&st);

    for (int id = 1; id <= CHECK_COUNT; id++) {
        struct check_result *r = &results[id];

        if (!opts->selected[id])
            continue;
        if (listed != 0 && (id == 1 || id == 2 || id == 4 || id == 7)) {
            result_fail(r, collect.fix, "%s", collect.reason);
        } else {
            entries[id].run(&st, r);
            if (r->status == CHECK_NOT_RUN)
                result_fail(r, NULL, "the check ended without a result");
        }
        log_debug("check", "finished check=%d status=%d problems=%zu changes=%zu", id,
                  (int)r->status, r->problems.count, r->changes.count);
        if (r->status == CHECK_FAILED)
            failed++;
    }
    /* A thread that check 3 did not wait for (never the case today) is joined here. */
    check_imports_wait(&st);
    if (st.deps_job.joined && st.deps_job.started == 0)
        spawn_result_release(&st.deps_job.res);
    check_result_release(&collect);
    check_state_release(&st);
    return failed;
}

static const char *status_name(enum check_status status)
{
    switch (status) {
    case CHECK_PASSED:
        return "passed";
    case CHECK_FIXED:
        return "fixed";
    case CHECK_FAILED:
        return "failed";
    case CHECK_NOT_RUN:
        break;
    }
    return "skipped";
}

static json_t *list_json(const struct string_list *list)
{
    json_t *array = json_array();

    for (size_t i = 0; i < list->count; i++)
        json_array_append_new(array, json_string(list->items[i]));
    return array;
}

json_t *check_results_json(const struct check_result results[CHECK_COUNT + 1])
{
    json_t *checks = json_array();
    bool passed = true;

    for (int id = 1; id <= CHECK_COUNT; id++) {
        const struct check_result *r = &results[id];
        json_t *item = json_pack("{s:i, s:s, s:s, s:s?, s:s?}", "id", id, "name", r->name,
                                 "status", status_name(r->status), "reason", r->reason, "fix",
                                 r->fix);

        json_object_set_new(item, "problems", list_json(&r->problems));
        json_object_set_new(item, "changes", list_json(&r->changes));
        json_array_append_new(checks, item);
        if (r->status == CHECK_FAILED)
            passed = false;
    }
    return json_pack("{s:b, s:o}", "passed", passed, "checks", checks);
}

static void list_release(struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void check_result_release(struct check_result *result)
{
    free(result->reason);
    free(result->fix);
    result->reason = NULL;
    result->fix = NULL;
    list_release(&result->problems);
    list_release(&result->changes);
}
