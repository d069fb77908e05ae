/* Line-buffered log writer; one write(2) per line so lines from child processes do not interleave. */
#include "util/log.h"

#include <stdlib.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/redact.h"

int log_threshold = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
    char line[2048];
    struct timeval now;
    struct tm tm;
    size_t len;
    va_list ap;

    gettimeofday(&now, NULL);
    gmtime_r(&now.tv_sec, &tm);
    len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    len += snprintf(line + len, sizeof(line) - len, ".%03ldZ %s %s: ",
                    (long)(now.tv_usec / 1000), level_names[level], module);

    va_start(ap, fmt);
    if (len < sizeof(line))
        vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);

    char *masked = redact_text(line);
    len = strlen(masked);
    if (len >= sizeof(line) - 1)
        len = sizeof(line) - 2;
    memcpy(line, masked, len);
    free(masked);
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nothing sensible remains to report a failed write of a log line to. */
    }
}
