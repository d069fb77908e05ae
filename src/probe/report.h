/* Output of `aftershock probe`: progress lines while waiting, then one line
 * per target, or a JSON object with --json. */
#ifndef AFTERSHOCK_PROBE_REPORT_H
#define AFTERSHOCK_PROBE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe/wait.h"

/* Progress display on a terminal. Invariant: lines_drawn is the number of
 * lines printed by the last redraw that are still on screen. */
struct probe_progress {
    FILE *out;
    int lines_drawn;
};

/* A probe_progress_fn: redraws one line per target in place on p->out
 * (ctx is a struct probe_progress). Lines are cut to the terminal width so
 * that none wraps. */
void probe_progress_draw(void *ctx, const struct probe_status *statuses, size_t n, double left);

/* Erases the lines drawn so far. */
void probe_progress_clear(struct probe_progress *p);

/* Prints one line per target: "TARGET: healthy after N attempts in X s" or
 * "TARGET: still unhealthy after N attempts in X s: LAST ERROR", coloured
 * when out is a terminal and NO_COLOR is unset. */
void probe_print_summary(FILE *out, const struct probe_status *statuses, size_t n);

/* Prints {"healthy", "elapsed", "targets": [{"target", "healthy", "attempts",
 * "elapsed", "last_error"}]} to out; last_error is null for a healthy target
 * or one never attempted. Returns 0, or -1 with err set. */
int probe_print_json(FILE *out, const struct probe_status *statuses, size_t n, double elapsed,
                     struct err *err);

#endif
