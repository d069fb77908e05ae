/* Backoff schedules: exponential growth with a cap and jitter, or a fixed list of delays. */
#ifndef AFTERSHOCK_UTIL_BACKOFF_H
#define AFTERSHOCK_UTIL_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define BACKOFF_SCHEDULE_MAX 64

/* How long to wait before each retry. Invariant: 0 <= jitter <= 1 and
 * schedule_len <= BACKOFF_SCHEDULE_MAX. Without a schedule, initial > 0,
 * max >= initial and factor >= 1; with one, every entry is > 0 and initial,
 * max and factor are ignored. backoff_check tests it. */
struct backoff {
    double initial;   /* seconds before the first retry */
    double max;       /* cap in seconds on every exponential delay, jitter included */
    double factor;    /* growth per retry; 1 keeps the delay constant */
    double jitter;    /* fraction: each delay is scaled by a uniform value in
                       * [1 - jitter, 1 + jitter] */
    size_t schedule_len;                   /* 0: exponential; else the fixed list is used */
    double schedule[BACKOFF_SCHEDULE_MAX]; /* delays in seconds; the last one repeats */
};

/* Source of uniform random numbers in [0, 1); state is the caller's. */
typedef double (*backoff_random_fn)(void *state);

/* Returns the delay in seconds before retry number `retry` (0 for the wait
 * after the first failed attempt). Without a schedule the delay is
 * min(initial * factor^retry, max) scaled by jitter, then capped at max
 * again, so at the cap delays fall in [max * (1 - jitter), max]. With a
 * schedule it is schedule[retry] (the last entry once the list runs out)
 * scaled by jitter, with no cap. Jitter draws one number from random(state);
 * random may be NULL for no jitter. */
double backoff_delay(const struct backoff *b, unsigned retry, backoff_random_fn random,
                     void *state);

/* Checks the invariant of struct backoff. Returns 0, or -1 with err naming
 * the field that is out of range. */
int backoff_check(const struct backoff *b, struct err *err);

/* Parses a comma-separated list of durations, e.g. "2,4,8,10" or "500ms,1s,2s"
 * (each as time_parse_duration reads it, greater than zero), into b->schedule
 * and b->schedule_len. Spaces around entries are allowed. Returns 0, or -1 with
 * err naming the bad entry; b is unchanged on failure. */
int backoff_parse_schedule(const char *text, struct backoff *b, struct err *err);

/* A small xorshift generator for backoff_delay; *state must not be 0.
 * Seed it with backoff_seed. Not for cryptographic use. */
double backoff_random_xorshift(void *state);

/* Returns a non-zero seed from the clock and the process id. */
uint64_t backoff_seed(void);

#endif
