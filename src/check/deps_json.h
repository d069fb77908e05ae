/* Reading the JSON that `aftershock deps --format json` prints (schema
 * version 1, documented in docs/deps.md), for check 3. */
#ifndef AFTERSHOCK_CHECK_DEPS_JSON_H
#define AFTERSHOCK_CHECK_DEPS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The schema version this reader supports. */
#define CHECK_DEPS_JSON_VERSION 1

/* One import that no requirements file declares: a DEP001 finding, or,
 * when there is none, one entry of "missing". */
struct deps_missing {
    char *path;          /* NULL for an entry of "missing" */
    long long line;      /* 0 when unknown */
    long long column;    /* 0 when unknown */
    char *module;        /* the module imported (the first of "modules" for "missing") */
    char *distribution;  /* NULL when deps did not name one */
    char *message;       /* deps' own message, or NULL */
    bool declared;       /* from "missing": declared but not installed */
};

struct deps_report {
    struct deps_missing *missing;
    size_t count;
    char *first_error;   /* errors[0] as "path:line:column: message", else the first
                          * error-severity finding as "path:line: message", or NULL */
};

/* Parses the output of `deps --format json`. Returns 0 with report
 * filled, or -1 with err naming the key that does not follow the schema
 * (report is then empty). */
int deps_report_parse(const char *text, size_t len, struct deps_report *report,
                      struct err *err);

void deps_report_release(struct deps_report *report);

#endif
