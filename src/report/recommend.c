/* Recommendations: rules over the report's numbers, each message citing the
 * numbers that triggered it. Thresholds are listed in docs/reports.md. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "report/report.h"

#define MIN_RUNS_FOR_RATES 10
#define PASS_RATE_DROP 0.05
#define DOMINANT_SHARE 0.40
#define DOMINANT_MIN_COUNT 5
#define RISING_MIN_INCREASE 5
#define NEW_SIGNATURE_MIN_COUNT 3
#define HEALED_RATE_LIMIT 0.10
#define WEAK_STRATEGY_MIN_ATTEMPTS 3
#define WEAK_STRATEGY_RATE 0.5
#define SLOWDOWN_FACTOR 1.5
#define SLOWDOWN_MIN_RUNS 3
#define SLOWDOWN_MIN_SECONDS 1.0
#define SCORE_DROP_POINTS 5.0
#define MAX_PER_RULE 3

static void add(struct report *r, const char *id, const char *severity, json_t *evidence,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct report *r, const char *id, const char *severity, json_t *evidence,
                const char *fmt, ...)
{
    va_list ap;
    char *message = NULL;

    va_start(ap, fmt);
    if (vasprintf(&message, fmt, ap) < 0)
        abort();
    va_end(ap);
    r->recommendations = realloc(r->recommendations,
                                 (r->n_recommendations + 1) * sizeof(*r->recommendations));
    if (r->recommendations == NULL)
        abort();
    r->recommendations[r->n_recommendations++] = (struct report_recommendation){
        .id = id, .severity = severity, .message = message, .evidence = evidence,
    };
}

static json_t *rounded(double x, int decimals)
{
    return isnan(x) ? json_null() : json_real(report_round(x, decimals));
}

static void check_runs(struct report *r)
{
    const struct report_totals *now = &r->totals[0], *before = &r->totals[1];
    double rate = report_rate((double)now->passed, (double)now->runs);
    double previous = report_rate((double)before->passed, (double)before->runs);
    char a[REPORT_FMT_MAX], b[REPORT_FMT_MAX], change[REPORT_FMT_MAX];

    if (now->runs == 0) {
        add(r, "no-runs", "high", json_pack("{sIsI}", "runs", (json_int_t)0, "previous_runs",
                                            (json_int_t)before->runs),
            "No runs were recorded in this period (%lld in the one before): check that the CI "
            "jobs still run 'aftershock run' and record into the same store (--db)",
            (long long)before->runs);
        return;
    }
    if (now->runs >= MIN_RUNS_FOR_RATES && before->runs >= MIN_RUNS_FOR_RATES &&
        previous - rate >= PASS_RATE_DROP - 1e-9) {
        report_fmt_percent(previous, a, sizeof(a));
        report_fmt_percent(rate, b, sizeof(b));
        report_fmt_rate_change(rate, previous, change, sizeof(change));
        add(r, "pass-rate-drop", "high",
            json_pack("{soso}", "pass_rate", rounded(rate, 4), "previous_pass_rate",
                      rounded(previous, 4)),
            "Pass rate fell from %s (%lld of %lld runs) to %s (%lld of %lld runs), %s: start "
            "with the top failure signatures", a, (long long)before->passed,
            (long long)before->runs, b, (long long)now->passed, (long long)now->runs, change);
    }
    if (now->deviated > 0) {
        report_fmt_percent(report_rate((double)now->deviated, (double)now->runs), a, sizeof(a));
        add(r, "deviations", "high",
            json_pack("{sIsI}", "deviated", (json_int_t)now->deviated, "runs",
                      (json_int_t)now->runs),
            "%lld of %lld runs (%s) deviated: a steady state did not hold under a fault. These "
            "are findings about the service, not pipeline noise: fix the service or the "
            "hypothesis", (long long)now->deviated, (long long)now->runs, a);
    }
    double healed = report_rate((double)now->healed, (double)now->runs);
    if (now->runs >= MIN_RUNS_FOR_RATES && now->healed > 0 && healed >= HEALED_RATE_LIMIT) {
        report_fmt_percent(healed, a, sizeof(a));
        add(r, "healed-rate", "medium",
            json_pack("{sIsIso}", "healed", (json_int_t)now->healed, "runs",
                      (json_int_t)now->runs, "healed_rate", rounded(healed, 4)),
            "%s of runs (%lld of %lld) passed only after healing: the pipeline stays green but "
            "the causes remain, so fix the categories that healing handles most",
            a, (long long)now->healed, (long long)now->runs);
    }
}

static void check_incidents(struct report *r)
{
    int shown = 0;

    for (size_t i = 0; i < r->n_recovery_experiments && shown < MAX_PER_RULE; i++) {
        const struct recovery_experiment *e = &r->recovery_experiments[i];
        char since[REPORT_FMT_MAX], iso[REPORT_FMT_MAX], length[REPORT_FMT_MAX];
        if (!e->open)
            continue;
        double seconds = (double)(r->period[0].until_ms - e->open_since_ms) / 1000.0;
        report_fmt_datetime(e->open_since_ms, since, sizeof(since));
        report_fmt_iso(e->open_since_ms, iso, sizeof(iso));
        report_fmt_duration(seconds, length, sizeof(length));
        add(r, "open-incident", "high",
            json_pack("{sssssf}", "experiment", report_experiment(r, e->experiment),
                      "failing_since", iso, "failing_seconds", report_round(seconds, 3)),
            "'%s' has not passed since %s (%s before the end of the period): it is still "
            "failing", report_experiment(r, e->experiment), since, length);
        shown++;
    }
}

static void check_flaky(struct report *r)
{
    char rate[REPORT_FMT_MAX];

    for (size_t i = 0; i < r->n_flaky && i < MAX_PER_RULE; i++) {
        const struct flaky_experiment *f = &r->flaky[i];
        report_fmt_percent(f->flip_rate, rate, sizeof(rate));
        add(r, "flaky", "medium",
            json_pack("{sssisisisiso}", "experiment", report_experiment(r, f->experiment),
                      "flaky_commits", f->flaky_commits, "commits", f->commits, "flips",
                      f->flips, "transitions", f->transitions, "flip_rate",
                      rounded(f->flip_rate, 4)),
            "'%s' passed and failed on the same commit on %d of %d commits (%d flips in %d "
            "consecutive runs, flip rate %s): make it deterministic, or quarantine it until "
            "it is", report_experiment(r, f->experiment), f->flaky_commits, f->commits,
            f->flips, f->transitions, rate);
    }
}

static const char *category_advice(const char *category)
{
    static const struct { const char *category, *advice; } advice[] = {
        { "network", "check the service is reachable before the method (aftershock probe), or "
                     "let 'aftershock heal' retry network failures" },
        { "timeout", "raise the activity timeouts, or find what makes the service slow" },
        { "dependency", "declare the missing packages (aftershock deps --fix)" },
        { "config", "run 'aftershock check --fix' before pushing" },
        { "resource", "free disk and memory on the runners, and check that stress faults end" },
        { "injection", "check that the proxy is reachable and that no fault is left over "
                       "(aftershock rollback)" },
        { "health", "wait for the service with 'aftershock probe' before the run" },
    };

    for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
        if (strcmp(advice[i].category, category) == 0)
            return advice[i].advice;
    }
    return "add healing rules that classify these messages";
}

static void check_categories(struct report *r)
{
    char share[REPORT_FMT_MAX];

    for (size_t i = 0; i < r->n_categories; i++) {
        const struct report_category *c = &r->categories[i];
        double part = report_rate((double)c->count[0], (double)r->failures[0]);
        if (strcmp(c->name, "verdict") == 0)
            continue;
        if (c->count[0] >= DOMINANT_MIN_COUNT && part >= DOMINANT_SHARE) {
            report_fmt_percent(part, share, sizeof(share));
            add(r, "dominant-category", "medium",
                json_pack("{sssIsIso}", "category", c->name, "count", (json_int_t)c->count[0],
                          "failures", (json_int_t)r->failures[0], "share", rounded(part, 4)),
                "%s failures are %s of all failures (%lld of %lld): %s", c->name, share,
                (long long)c->count[0], (long long)r->failures[0], category_advice(c->name));
        }
        if (c->count[0] - c->count[1] >= RISING_MIN_INCREASE && c->count[0] >= 2 * c->count[1])
            add(r, "rising-category", "medium",
                json_pack("{sssIsI}", "category", c->name, "count", (json_int_t)c->count[0],
                          "previous_count", (json_int_t)c->count[1]),
                "%s failures rose from %lld to %lld (+%lld) compared with the period before",
                c->name, (long long)c->count[1], (long long)c->count[0],
                (long long)(c->count[0] - c->count[1]));
    }
}

static void check_signatures(struct report *r)
{
    int shown = 0;
    char first[REPORT_FMT_MAX], iso[REPORT_FMT_MAX];

    for (size_t i = 0; i < r->n_signatures && shown < MAX_PER_RULE; i++) {
        const struct report_signature *s = &r->signatures[i];
        if (s->first_seen_ms < r->period[0].since_ms || s->count[0] < NEW_SIGNATURE_MIN_COUNT)
            continue;
        report_fmt_datetime(s->first_seen_ms, first, sizeof(first));
        report_fmt_iso(s->first_seen_ms, iso, sizeof(iso));
        add(r, "new-signature", "medium",
            json_pack("{sssssIsI}", "signature", s->signature, "first_seen", iso, "count",
                      (json_int_t)s->count[0], "experiments", (json_int_t)s->experiments),
            "a new failure first seen %s occurred %lld times in %lld experiment%s: \"%s\"",
            first, (long long)s->count[0], (long long)s->experiments,
            s->experiments == 1 ? "" : "s", s->signature);
        shown++;
    }
}

static void check_healing(struct report *r)
{
    char rate[REPORT_FMT_MAX];

    for (size_t i = 0; i < r->n_strategies; i++) {
        const struct report_strategy *s = &r->strategies[i];
        double success = report_rate((double)s->succeeded[0], (double)s->attempts[0]);
        if (s->attempts[0] < WEAK_STRATEGY_MIN_ATTEMPTS || success >= WEAK_STRATEGY_RATE)
            continue;
        report_fmt_percent(success, rate, sizeof(rate));
        add(r, "weak-strategy", "medium",
            json_pack("{sssssIsIso}", "category", s->category, "strategy", s->strategy,
                      "attempts", (json_int_t)s->attempts[0], "succeeded",
                      (json_int_t)s->succeeded[0], "success_rate", rounded(success, 4)),
            "the '%s' strategy for %s failures succeeded %lld of %lld times (%s): change the "
            "strategy or the rule that picks it", s->strategy, s->category,
            (long long)s->succeeded[0], (long long)s->attempts[0], rate);
    }
}

static void check_recovery_and_speed(struct report *r)
{
    const struct recovery_stats *now = &r->recovery[0], *before = &r->recovery[1];
    char a[REPORT_FMT_MAX], b[REPORT_FMT_MAX];

    if (now->recovered >= 2 && before->recovered >= 2 &&
        now->mean_seconds >= SLOWDOWN_FACTOR * before->mean_seconds &&
        now->mean_seconds > before->mean_seconds) {
        report_fmt_duration(before->mean_seconds, a, sizeof(a));
        report_fmt_duration(now->mean_seconds, b, sizeof(b));
        add(r, "slow-recovery", "medium",
            json_pack("{sosofsisi}", "mean_seconds", rounded(now->mean_seconds, 3),
                      "previous_mean_seconds", rounded(before->mean_seconds, 3), "factor",
                      report_round(now->mean_seconds / before->mean_seconds, 2), "recovered",
                      now->recovered, "previous_recovered", before->recovered),
            "mean time to recovery rose from %s (%d incidents) to %s (%d incidents)", a,
            before->recovered, b, now->recovered);
    }
    for (size_t i = 0; i < r->n_slowest; i++) {
        const struct report_slow *s = &r->slowest[i];
        if (s->runs[0] < SLOWDOWN_MIN_RUNS || s->runs[1] < SLOWDOWN_MIN_RUNS)
            continue;
        double mean = (double)s->total_ms[0] / (double)s->runs[0] / 1000.0;
        double previous = (double)s->total_ms[1] / (double)s->runs[1] / 1000.0;
        if (mean < SLOWDOWN_FACTOR * previous || mean - previous < SLOWDOWN_MIN_SECONDS)
            continue;
        report_fmt_duration(mean, a, sizeof(a));
        report_fmt_duration(previous, b, sizeof(b));
        add(r, "slower-experiment", "low",
            json_pack("{sssosofsIsI}", "experiment", report_experiment(r, s->experiment),
                      "mean_seconds", rounded(mean, 3), "previous_mean_seconds",
                      rounded(previous, 3), "factor", report_round(mean / previous, 2), "runs",
                      (json_int_t)s->runs[0], "previous_runs", (json_int_t)s->runs[1]),
            "'%s' took %.2f times as long on average: %s over %lld runs, against %s over %lld "
            "runs before", report_experiment(r, s->experiment), report_round(mean / previous, 2),
            a, (long long)s->runs[0], b, (long long)s->runs[1]);
    }
}

static void check_score(struct report *r)
{
    double now = report_score_value(&r->score[0]), before = report_score_value(&r->score[1]);

    if (isnan(now) || isnan(before) || before - now < SCORE_DROP_POINTS)
        return;
    add(r, "score-drop", "high",
        json_pack("{sososIsI}", "score", rounded(now, 2), "previous_score", rounded(before, 2),
                  "objectives", (json_int_t)r->score[0].objectives, "previous_objectives",
                  (json_int_t)r->score[1].objectives),
        "the resilience score fell from %.1f to %.1f (%.1f points) over %lld objective results",
        report_round(before, 1), report_round(now, 1), report_round(now - before, 1),
        (long long)r->score[0].objectives);
}

void report_recommend(struct report *r)
{
    check_runs(r);
    if (r->totals[0].runs == 0)
        return;
    check_score(r);
    check_incidents(r);
    check_flaky(r);
    check_categories(r);
    check_signatures(r);
    check_healing(r);
    check_recovery_and_speed(r);
}
