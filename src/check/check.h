/* The seven pre-push checks of `aftershock check`, and what each found or fixed. */
#ifndef AFTERSHOCK_CHECK_CHECK_H
#define AFTERSHOCK_CHECK_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/project.h"

#define CHECK_COUNT 7

enum check_status {
    CHECK_NOT_RUN, /* not selected by --only or --skip */
    CHECK_PASSED,
    CHECK_FIXED,   /* failed, then repaired by --fix; a second run passes */
    CHECK_FAILED,  /* a problem was found, or the check could not run */
};

/* Outcome of one check. reason is one line: what passed, what is wrong, or
 * why the check could not run. fix is the command or edit that repairs it
 * (NULL when passed). problems lists every problem found and changes every
 * change --fix made, one line each. All strings are owned. */
struct check_result {
    int id;                 /* 1 to CHECK_COUNT */
    const char *name;       /* short name: "experiments", "references", ... */
    enum check_status status;
    char *reason;
    char *fix;
    struct string_list problems;
    struct string_list changes;
};

/* Settings of one run of the checks. */
struct check_options {
    const struct project_config *cfg;
    bool fix;
    bool selected[CHECK_COUNT + 1]; /* index 1 to CHECK_COUNT */
    const char *self;               /* this binary, to run `deps`, `run` and `rollback` */
};

/* Returns the short name of check id, or NULL for an id out of range. */
const char *check_name(int id);

/* Returns the check id for a number ("3") or a short name ("imports"), or -1. */
int check_parse_id(const char *text);

/* Runs the selected checks in order, with fixes when opts->fix is set,
 * and fills results[1..CHECK_COUNT]. Returns the number of failed checks. */
int check_run_all(const struct check_options *opts, struct check_result results[CHECK_COUNT + 1]);

/* Returns the results as the JSON document `check --json` prints. */
json_t *check_results_json(const struct check_result results[CHECK_COUNT + 1]);

void check_result_release(struct check_result *result);

#endif
