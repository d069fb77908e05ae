/* Waiting for several targets at once: one thread per target polls it with
 * backoff until it is healthy or the shared deadline passes. */
#ifndef AFTERSHOCK_PROBE_WAIT_H
#define AFTERSHOCK_PROBE_WAIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "probe/attempt.h"
#include "probe/target.h"
#include "util/backoff.h"
#include "util/err.h"

struct probe_config {
    double timeout;                 /* seconds for the whole wait, > 0 */
    double attempt_timeout;         /* seconds per attempt, > 0; cut to the time left */
    struct backoff backoff;         /* delay after each failed attempt */
    const struct probe_check *check;
    volatile sig_atomic_t *stop;    /* set by a signal handler to end the wait early */
};

/* Progress and outcome of one target. */
struct probe_status {
    const struct probe_target *target;
    bool done;                      /* healthy, deadline passed, or stopped */
    bool healthy;
    unsigned attempts;
    double elapsed;                 /* seconds from the start to the healthy answer, or to
                                     * the end of polling */
    char last_error[ERR_MSG_MAX];   /* the latest failed attempt's reason; "" before one */
};

/* Called about every progress_interval seconds while targets are pending,
 * from the thread that called probe_wait, with a consistent copy of every
 * status and the seconds left before the deadline. */
typedef void (*probe_progress_fn)(void *ctx, const struct probe_status *statuses, size_t n,
                                  double left);

/* Polls every target until all are healthy, the deadline passes or *stop is
 * set. statuses must hold n entries and receives the outcome. progress may be
 * NULL. Returns 0 when the wait ran (healthy or not), or -1 with err set when
 * a polling thread could not be started. */
int probe_wait(const struct probe_config *config, const struct probe_target *targets, size_t n,
               struct probe_status *statuses, probe_progress_fn progress,
               double progress_interval, void *ctx, struct err *err);

#endif
