/* Formatting of rates, changes, durations and dates for reports. */
#include "report/format.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

#include "report/report.h"

void report_fmt_percent(double rate, char *out, size_t size)
{
    if (isnan(rate))
        snprintf(out, size, "n/a");
    else
        snprintf(out, size, "%.1f%%", report_round(rate * 100.0, 1));
}

void report_fmt_rate_change(double current, double previous, char *out, size_t size)
{
    if (isnan(current) || isnan(previous)) {
        snprintf(out, size, "n/a");
        return;
    }
    double points = report_round((current - previous) * 100.0, 1);
    snprintf(out, size, "%s%.1f pp", points > 0 ? "+" : "", points == 0 ? 0.0 : points);
}

void report_fmt_count_change(int64_t current, int64_t previous, char *out, size_t size)
{
    int64_t change = current - previous;

    snprintf(out, size, "%s%lld", change > 0 ? "+" : "", (long long)change);
}

void report_fmt_duration(double seconds, char *out, size_t size)
{
    if (isnan(seconds) || seconds < 0) {
        snprintf(out, size, "n/a");
    } else if (seconds < 1.0) {
        snprintf(out, size, "%.0f ms", seconds * 1000.0);
    } else if (seconds < 60.0) {
        snprintf(out, size, "%.1f s", seconds);
    } else if (seconds < 3600.0) {
        long s = lround(seconds);
        snprintf(out, size, "%ld min %ld s", s / 60, s % 60);
    } else if (seconds < 86400.0) {
        long m = lround(seconds / 60.0);
        snprintf(out, size, "%ld h %ld min", m / 60, m % 60);
    } else {
        long h = lround(seconds / 3600.0);
        snprintf(out, size, "%ld d %ld h", h / 24, h % 24);
    }
}

static void format_utc(int64_t ms, const char *pattern, char *out, size_t size)
{
    time_t seconds = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;

    gmtime_r(&seconds, &tm);
    strftime(out, size, pattern, &tm);
}

void report_fmt_date(int64_t ms, char *out, size_t size)
{
    format_utc(ms, "%Y-%m-%d", out, size);
}

void report_fmt_datetime(int64_t ms, char *out, size_t size)
{
    format_utc(ms, "%Y-%m-%d %H:%M UTC", out, size);
}

void report_fmt_iso(int64_t ms, char *out, size_t size)
{
    char seconds[32];
    int64_t fraction = ms % 1000;

    if (fraction < 0)
        fraction += 1000;
    format_utc(ms, "%Y-%m-%dT%H:%M:%S", seconds, sizeof(seconds));
    snprintf(out, size, "%s.%03lldZ", seconds, (long long)fraction);
}

double report_round(double x, int decimals)
{
    double scale = pow(10.0, decimals);

    if (!isfinite(x))
        return x;
    return round(x * scale) / scale;
}

void report_fmt_healing_recovery(const struct report_healing *h, char *out, size_t size)
{
    char mean[REPORT_FMT_MAX], longest[REPORT_FMT_MAX];

    out[0] = '\0';
    if (h->recovered_sessions == 0)
        return;
    report_fmt_duration(report_healing_mean_recovery(h), mean, sizeof(mean));
    report_fmt_duration((double)h->recovery_max_ms / 1000.0, longest, sizeof(longest));
    snprintf(out, size, "Healed sessions took %s on average from their first attempt to the end "
             "of the passing one (longest %s, %lld %s).", mean, longest,
             (long long)h->recovered_sessions, h->recovered_sessions == 1 ? "session" : "sessions");
}
