/* Number and time formatting shared by the report writers and recommendations. */
#ifndef AFTERSHOCK_REPORT_FORMAT_H
#define AFTERSHOCK_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define REPORT_FMT_MAX 64

/* "92.5%" for 0.925, "n/a" for NAN. */
void report_fmt_percent(double rate, char *out, size_t size);

/* Change of a rate in percentage points: "+3.2 pp", "-0.5 pp", "0.0 pp", "n/a". */
void report_fmt_rate_change(double current, double previous, char *out, size_t size);

/* Change of a count: "+5", "-3" or "0". */
void report_fmt_count_change(int64_t current, int64_t previous, char *out, size_t size);

/* A duration for people: "850 ms", "12.3 s", "4 min 5 s", "2 h 10 min", "3 d 4 h", "n/a". */
void report_fmt_duration(double seconds, char *out, size_t size);

struct report_healing;

/* Writes the sentence on how long healed sessions took to recover, for the
 * markdown and HTML reports; empty when no session was healed. */
void report_fmt_healing_recovery(const struct report_healing *h, char *out, size_t size);

/* UTC date of ms since the epoch: "2026-03-01". */
void report_fmt_date(int64_t ms, char *out, size_t size);

/* UTC date and minute: "2026-03-01 14:05 UTC". */
void report_fmt_datetime(int64_t ms, char *out, size_t size);

/* UTC ISO 8601 with milliseconds: "2026-03-01T14:05:09.120Z". */
void report_fmt_iso(int64_t ms, char *out, size_t size);

/* x rounded to the given number of decimals (NAN stays NAN). */
double report_round(double x, int decimals);

#endif
