/* `ci summary` as a whole: read the inputs, write the markdown, then the
 * pull request comment and the issues. */
#ifndef AFTERSHOCK_CI_REPORT_H
#define AFTERSHOCK_CI_REPORT_H

#include <stdbool.h>

#include "ci/summary.h"

#define CI_REPORT_TREND_MAX CI_TREND_MAX

struct ci_report_options {
    const char *const *journals; /* files, folders or globs; none means "journals" */
    int journal_count;
    const char *verify;          /* `verify --json` output, or NULL */
    const char *db;              /* history store, or NULL for the default */
    const char *output;          /* markdown file, or NULL */
    bool comment;
    int issue_after;             /* 0: no issues */
    const char *default_branch;  /* NULL: from the event, else "main" */
    int trend;
    int retries;
    double retry_delay;
    bool strict;
};

/* Runs `ci summary`. Returns an exit code: 0 written, 2 invalid input,
 * 3 the summary (or with strict, the comment or an issue) could not be written. */
int ci_report_run(const struct ci_report_options *opts);

#endif
