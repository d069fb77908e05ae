/* Writing journals, and printing their summaries and dry-run plans. */
#ifndef AFTERSHOCK_EXPERIMENT_JOURNAL_H
#define AFTERSHOCK_EXPERIMENT_JOURNAL_H

#include <jansson.h>
#include <stdio.h>

#include "experiment/runner.h"
#include "util/err.h"

/* Writes the journal as indented JSON, atomically. Returns 0 or -1 with err set. */
int journal_write(json_t *journal, const char *path, struct err *err);

/* Prints a short summary of a journal: status, each steady state, method
 * and rollback activity counts, failed activities. */
void journal_print_summary(FILE *out, json_t *journal, const char *journal_path);

/* Prints the plan of a prepared experiment for --dry-run. */
void journal_print_plan(FILE *out, json_t *experiment, const char *file,
                        const struct runner_opts *strategies);

#endif
