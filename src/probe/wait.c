/* The polling threads and the shared deadline behind `aftershock probe`. */
#include "probe/wait.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/timeutil.h"

/* An attempt needs at least this many seconds to be worth starting. */
#define PROBE_MIN_ATTEMPT 0.001

/* State shared by the polling threads and the waiting thread. Invariant:
 * pending is the number of statuses with done == false; statuses and pending
 * change only under lock, and every change signals `changed`. */
struct wait_shared {
    const struct probe_config *config;
    struct probe_status *statuses;
    size_t pending;
    double start;
    double deadline;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

struct poller {
    struct wait_shared *shared;
    size_t index;
    uint64_t seed;
    pthread_t thread;
};

static bool stopped(const struct probe_config *config)
{
    return config->stop != NULL && *config->stop;
}

/* Records one attempt's outcome under the lock. */
static void record_attempt(struct wait_shared *s, size_t index, int rc, const struct err *reason,
                           bool cut_by_deadline)
{
    struct probe_status *st = &s->statuses[index];

    pthread_mutex_lock(&s->lock);
    st->attempts++;
    if (rc == 0) {
        st->healthy = true;
        st->elapsed = time_monotonic() - s->start;
    } else if (!cut_by_deadline || st->last_error[0] == '\0') {
        /* A failed attempt that the deadline shortened mostly reports a
         * timeout, so the error of the full attempt before it is kept. */
        snprintf(st->last_error, sizeof(st->last_error), "%s", reason->msg);
    }
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

static void finish_target(struct wait_shared *s, size_t index)
{
    struct probe_status *st = &s->statuses[index];

    pthread_mutex_lock(&s->lock);
    if (!st->healthy)
        st->elapsed = time_monotonic() - s->start;
    st->done = true;
    s->pending--;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

/* Polls one target: attempt, then back off, until healthy, past the
 * deadline, or stopped. Every sleep and attempt ends by the deadline. */
static void *poll_target(void *arg)
{
    struct poller *p = arg;
    struct wait_shared *s = p->shared;
    const struct probe_config *config = s->config;
    const struct probe_target *target = s->statuses[p->index].target;
    unsigned retry = 0;

    for (;;) {
        double left = s->deadline - time_monotonic();
        double attempt_timeout = config->attempt_timeout < left ? config->attempt_timeout : left;
        struct err reason;
        int rc;

        if (left < PROBE_MIN_ATTEMPT || stopped(config))
            break;
        err_clear(&reason);
        rc = probe_attempt(target, config->check, attempt_timeout, config->stop, &reason);
        record_attempt(s, p->index, rc, &reason, attempt_timeout < config->attempt_timeout);
        if (rc == 0) {
            log_debug("probe", "healthy target=%s attempt=%u", target->display, retry + 1);
            break;
        }

        double delay = backoff_delay(&config->backoff, retry, backoff_random_xorshift, &p->seed);
        left = s->deadline - time_monotonic();
        if (delay > left)
            delay = left > 0 ? left : 0;
        log_debug("probe", "retry target=%s attempt=%u delay=%.3f error=%s", target->display,
                  retry + 1, delay, reason.msg);
        retry++;
        if (time_sleep(delay, config->stop) != 0)
            break;
    }
    finish_target(s, p->index);
    return NULL;
}

/* Waits on `changed` for up to seconds; the lock is held on entry and exit. */
static void wait_changed(struct wait_shared *s, double seconds)
{
    struct timespec until;
    long nanos;

    clock_gettime(CLOCK_MONOTONIC, &until);
    nanos = until.tv_nsec + (long)(seconds * 1e9);
    until.tv_sec += nanos / 1000000000L;
    until.tv_nsec = nanos % 1000000000L;
    pthread_cond_timedwait(&s->changed, &s->lock, &until);
}

/* Sleeps until every poller is done, reporting progress in between. */
static void watch(struct wait_shared *s, size_t n, probe_progress_fn progress,
                  double interval, void *ctx)
{
    struct probe_status *snapshot = progress != NULL ? calloc(n, sizeof(*snapshot)) : NULL;

    pthread_mutex_lock(&s->lock);
    while (s->pending > 0) {
        if (snapshot == NULL) {
            pthread_cond_wait(&s->changed, &s->lock);
            continue;
        }
        wait_changed(s, interval);
        if (s->pending == 0)
            break;
        memcpy(snapshot, s->statuses, n * sizeof(*snapshot));
        double left = s->deadline - time_monotonic();
        pthread_mutex_unlock(&s->lock);
        progress(ctx, snapshot, n, left > 0 ? left : 0);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    free(snapshot);
}

int probe_wait(const struct probe_config *config, const struct probe_target *targets, size_t n,
               struct probe_status *statuses, probe_progress_fn progress,
               double progress_interval, void *ctx, struct err *err)
{
    struct wait_shared s;
    struct poller *pollers = calloc(n, sizeof(*pollers));
    pthread_condattr_t attr;
    size_t started = 0;
    int rc = 0;

    if (pollers == NULL)
        return err_set(err, "out of memory starting %zu probes", n);
    memset(&s, 0, sizeof(s));
    s.config = config;
    s.statuses = statuses;
    s.start = time_monotonic();
    s.deadline = s.start + config->timeout;
    pthread_mutex_init(&s.lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s.changed, &attr);
    pthread_condattr_destroy(&attr);

    memset(statuses, 0, n * sizeof(*statuses));
    for (size_t i = 0; i < n; i++)
        statuses[i].target = &targets[i];
    s.pending = n;

    uint64_t seed = backoff_seed();
    for (size_t i = 0; i < n; i++) {
        pollers[i].shared = &s;
        pollers[i].index = i;
        /* Distinct seeds keep the targets' jitter independent. */
        pollers[i].seed = (seed ^ (0x9e3779b97f4a7c15ULL * (i + 1))) | 1;
        if (pthread_create(&pollers[i].thread, NULL, poll_target, &pollers[i]) != 0) {
            rc = err_set(err, "cannot start a thread to poll '%s'", targets[i].display);
            break;
        }
        started++;
    }

    if (rc != 0) {
        /* Ask the running threads to stop early, and count the others as done. */
        if (config->stop != NULL)
            *config->stop = 1;
        pthread_mutex_lock(&s.lock);
        s.pending -= n - started;
        pthread_mutex_unlock(&s.lock);
    }
    watch(&s, n, rc == 0 ? progress : NULL, progress_interval, ctx);
    for (size_t i = 0; i < started; i++)
        pthread_join(pollers[i].thread, NULL);

    pthread_cond_destroy(&s.changed);
    pthread_mutex_destroy(&s.lock);
    free(pollers);
    return rc;
}
