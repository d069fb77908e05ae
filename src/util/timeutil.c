/* Clock and duration helpers. */
#include "util/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double time_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double time_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void time_format_iso8601(double wall, char *out, size_t size)
{
    time_t seconds = (time_t)wall;
    long micros = (long)((wall - (double)seconds) * 1e6);
    struct tm tm;
    char date[32];

    if (micros < 0)
        micros = 0;
    if (micros > 999999)
        micros = 999999;
    gmtime_r(&seconds, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%06ldZ", date, micros);
}

int time_parse_duration(const char *text, double *seconds)
{
    static const struct { const char *suffix; double scale; } units[] = {
        { "", 1.0 }, { "ms", 0.001 }, { "s", 1.0 }, { "m", 60.0 }, { "h", 3600.0 },
    };
    char *end;
    double value;

    if (text == NULL || *text == '\0')
        return -1;
    errno = 0;
    value = strtod(text, &end);
    if (end == text || errno != 0 || !isfinite(value) || value < 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            *seconds = value * units[i].scale;
            return 0;
        }
    }
    return -1;
}

int time_sleep(double seconds, volatile sig_atomic_t *stop)
{
    double deadline = time_monotonic() + seconds;

    for (;;) {
        if (stop != NULL && *stop)
            return 1;
        double left = deadline - time_monotonic();
        if (left <= 0)
            return 0;
        /* Sleep in short slices so a signal handler setting *stop is noticed
         * within 50 ms even when the signal arrived just before nanosleep. */
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
        nanosleep(&ts, NULL);
    }
}
