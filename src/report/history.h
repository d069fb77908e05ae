/* Listing recorded runs, failures, healing attempts and objective results, newest first. */
#ifndef AFTERSHOCK_REPORT_HISTORY_H
#define AFTERSHOCK_REPORT_HISTORY_H

#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"
#include "util/err.h"

enum history_view {
    HISTORY_RUNS,
    HISTORY_FAILURES,
    HISTORY_HEALING,
    HISTORY_OBJECTIVES,
};

/* Filters; NULL strings and a limit of 0 mean no filter. */
struct history_query {
    enum history_view view;
    double since;           /* seconds since the epoch, inclusive */
    double until;           /* exclusive */
    const char *experiment; /* exact title */
    const char *status;     /* see history_check_status */
    const char *category;   /* failures and healing attempts only */
    long limit;
};

/* Parses "runs", "failures", "healing" or "objectives". Returns 0 or -1. */
int history_parse_view(const char *name, enum history_view *view);

/* Checks that status is valid for the view. Runs and failures take the
 * run's outcome (passed, deviated, failed, interrupted) or healed. Healing
 * takes succeeded, retried, stopped or gave_up, and objectives passed or
 * failed. Returns 0, or -1 with err listing the valid values. */
int history_check_status(enum history_view view, const char *status, struct err *err);

/* Prints the rows as an aligned table, or with json as {"VIEW": [...]}. */
int history_list(struct store *store, const struct history_query *query, FILE *out, bool json,
                 struct err *err);

#endif
