/* The weekly intelligence report: numbers for a period and the one before
 * it, read from the history store, and writers for markdown, HTML and JSON.
 * docs/reports.md explains every number. Index 0 of each two-element array
 * is the report's period, index 1 the period of the same length before it. */
#ifndef AFTERSHOCK_REPORT_REPORT_H
#define AFTERSHOCK_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "report/analysis.h"
#include "report/names.h"
#include "store/store.h"
#include "util/strbuf.h"

#define REPORT_CURRENT 0
#define REPORT_PREVIOUS 1
#define REPORT_DAY_MS 86400000LL

/* Version of the JSON document's layout, bumped when a field changes meaning or goes away. */
#define REPORT_JSON_SCHEMA "aftershock-report/1"

struct report_options {
    double now;   /* generation time, seconds since the epoch */
    double since; /* start of the period, inclusive */
    double until; /* end of the period, exclusive */
    int top;      /* rows kept in ranked tables (signatures, slowest experiments) */
};

/* [since_ms, until_ms) */
struct report_period {
    int64_t since_ms;
    int64_t until_ms;
};

struct report_totals {
    int64_t runs;
    int64_t passed;
    int64_t deviated;
    int64_t failed;
    int64_t interrupted;
    int64_t healed; /* passed on a healing attempt after the first */
};

/* One UTC day of the report's period; the first and last may be partial. */
struct report_day {
    int64_t day; /* days since the epoch */
    struct report_totals totals;
    int64_t objectives;
    double weight_passed; /* sum of the weights of passed objectives */
    double weight;        /* sum of all objective weights */
};

struct report_category {
    char *name;
    int64_t count[2];
};

struct report_signature {
    char *signature;
    char *category;
    char *example;        /* the bytewise smallest message with this signature in the period */
    int64_t count[2];
    int64_t experiments;  /* distinct experiments that hit it in the period */
    int64_t first_seen_ms; /* over the whole store */
    int64_t last_seen_ms;  /* before the end of the period */
};

/* Healing steps of one category and strategy: a step succeeds when the
 * attempt right after it exits with 0. */
struct report_strategy {
    char *category;
    char *strategy;
    int64_t attempts[2];
    int64_t succeeded[2];
};

struct report_healing {
    int64_t attempts;
    int64_t failed_attempts;
    int64_t sessions;
    int64_t failed_sessions; /* sessions with at least one failed attempt */
    int64_t healed_sessions; /* sessions that succeeded on an attempt after the first */
    int64_t stopped;         /* attempts stopped at once because they were a verdict */
    /* Time to recovery of the healed sessions whose first attempt started in
     * the period: from that start to the end of the passing attempt. */
    int64_t recovered_sessions;
    int64_t recovery_total_ms;
    int64_t recovery_max_ms;
};

struct report_slow {
    int experiment;
    int64_t runs[2]; /* runs that were not interrupted */
    int64_t total_ms[2];
    int64_t max_ms[2];
};

/* Resilience score = 100 * weight_passed / weight over the objective results. */
struct report_score {
    int64_t objectives;
    double weight_passed;
    double weight;
};

struct report_recommendation {
    const char *id;       /* stable rule name, e.g. "pass-rate-drop" */
    const char *severity; /* "high", "medium" or "low" */
    char *message;        /* one sentence with the numbers behind it */
    json_t *evidence;     /* those numbers, by name */
};

struct report {
    double generated_at;
    int top;
    struct report_period period[2];
    struct name_table experiments; /* sorted by name */
    struct report_totals totals[2];
    struct report_day *days;
    size_t n_days;
    int64_t failures[2];
    struct report_category *categories; /* by current count descending, then name */
    size_t n_categories;
    struct report_signature *signatures;
    size_t n_signatures;
    struct flaky_experiment *flaky;
    size_t n_flaky;
    size_t n_flaky_previous;
    struct recovery_stats recovery[2];
    struct recovery_experiment *recovery_experiments; /* current period */
    size_t n_recovery_experiments;
    struct report_slow *slowest; /* by current mean duration, descending */
    size_t n_slowest;
    struct report_healing healing[2];
    struct report_strategy *strategies;
    size_t n_strategies;
    struct report_score score[2];
    struct report_recommendation *recommendations;
    size_t n_recommendations;
};

/* Reads the store and computes every section, recommendations included.
 * Returns 0, or -1 with err set (report is then released). */
int report_build(struct store *store, const struct report_options *opts, struct report *report,
                 struct err *err);

/* Adds the recommendations that the report's numbers trigger. */
void report_recommend(struct report *report);

void report_release(struct report *report);

/* part / whole, or NAN when whole is 0. */
double report_rate(double part, double whole);

/* Resilience score of s in percent, or NAN without objective results. */
double report_score_value(const struct report_score *s);

/* The experiment name behind an index. */
const char *report_experiment(const struct report *report, int experiment);

/* Builds the JSON document described in docs/reports.md; the caller owns it. */
json_t *report_to_json(const struct report *report);

void report_write_markdown(const struct report *report, struct strbuf *out);

/* Writes one self-contained HTML page with inline CSS and SVG charts. */
void report_write_html(const struct report *report, struct strbuf *out);

/* Returns the mean time to recovery of healed sessions in seconds, or NAN
 * when no session was healed. */
double report_healing_mean_recovery(const struct report_healing *h);

#endif
