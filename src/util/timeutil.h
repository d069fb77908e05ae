/* Clocks, timestamps, durations and interruptible sleeps. */
#ifndef AFTERSHOCK_UTIL_TIMEUTIL_H
#define AFTERSHOCK_UTIL_TIMEUTIL_H

#include <signal.h>
#include <stddef.h>

/* Seconds on the monotonic clock; for measuring intervals. */
double time_monotonic(void);

/* Seconds since the Unix epoch on the wall clock; for timestamps. */
double time_wall(void);

/* Formats a wall-clock time as ISO 8601 UTC with microseconds, e.g. 2026-12-04T19:46:28.123456Z. */
void time_format_iso8601(double wall, char *out, size_t size);

/* Parses a duration: a number of seconds ("1.5") or a number with a unit
 * ("250ms", "2s", "1m", "1h"). Returns 0, or -1 for text that is not a
 * non-negative duration. */
int time_parse_duration(const char *text, double *seconds);

/* Sleeps up to seconds, returning early (1) once *stop becomes non-zero,
 * else 0. stop may be NULL. */
int time_sleep(double seconds, volatile sig_atomic_t *stop);

#endif
