/* The report as a JSON document for dashboards (layout in docs/reports.md).
 * Rates are fractions rounded to 4 decimals, seconds to 3, scores to 2, so
 * both store backends give byte-identical documents. */
#include <math.h>

#include "report/format.h"
#include "report/report.h"

static json_t *number(double x, int decimals)
{
    return isnan(x) ? json_null() : json_real(report_round(x, decimals));
}

static json_t *rate(double part, double whole)
{
    return number(report_rate(part, whole), 4);
}

static json_t *difference(double current, double previous, int decimals)
{
    if (isnan(current) || isnan(previous))
        return json_null();
    return json_real(report_round(current - previous, decimals));
}

static json_t *iso_time(int64_t ms)
{
    char text[REPORT_FMT_MAX];

    report_fmt_iso(ms, text, sizeof(text));
    return json_string(text);
}

static json_t *totals_json(const struct report_totals *t)
{
    return json_pack("{sIsIsIsIsIsIsoso}", "runs", (json_int_t)t->runs, "passed",
                     (json_int_t)t->passed, "deviated", (json_int_t)t->deviated, "failed",
                     (json_int_t)t->failed, "interrupted", (json_int_t)t->interrupted,
                     "healed", (json_int_t)t->healed, "pass_rate",
                     rate((double)t->passed, (double)t->runs), "healed_rate",
                     rate((double)t->healed, (double)t->runs));
}

static json_t *totals_section(const struct report *r)
{
    const struct report_totals *a = &r->totals[0], *b = &r->totals[1];
    json_t *change = json_pack(
        "{sIsIsIsIsIsIsoso}", "runs", (json_int_t)(a->runs - b->runs), "passed",
        (json_int_t)(a->passed - b->passed), "deviated", (json_int_t)(a->deviated - b->deviated),
        "failed", (json_int_t)(a->failed - b->failed), "interrupted",
        (json_int_t)(a->interrupted - b->interrupted), "healed",
        (json_int_t)(a->healed - b->healed), "pass_rate",
        difference(report_rate((double)a->passed, (double)a->runs),
                   report_rate((double)b->passed, (double)b->runs), 4),
        "healed_rate",
        difference(report_rate((double)a->healed, (double)a->runs),
                   report_rate((double)b->healed, (double)b->runs), 4));

    return json_pack("{sososo}", "current", totals_json(a), "previous", totals_json(b),
                     "change", change);
}

static json_t *trend_section(const struct report *r)
{
    json_t *days = json_array();
    char date[REPORT_FMT_MAX];

    for (size_t i = 0; i < r->n_days; i++) {
        const struct report_day *d = &r->days[i];
        json_t *day = json_object();
        json_t *totals = totals_json(&d->totals);
        report_fmt_date(d->day * REPORT_DAY_MS, date, sizeof(date));
        json_object_set_new(day, "date", json_string(date));
        json_object_update(day, totals);
        json_decref(totals);
        json_object_set_new(day, "objectives", json_integer(d->objectives));
        json_object_set_new(day, "score",
                            d->weight > 0 ? number(100.0 * d->weight_passed / d->weight, 2)
                                          : json_null());
        json_array_append_new(days, day);
    }
    return days;
}

static json_t *categories_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_categories; i++) {
        const struct report_category *c = &r->categories[i];
        json_array_append_new(
            list, json_pack("{sssIsosIsosI}", "category", c->name, "count",
                            (json_int_t)c->count[0], "share",
                            rate((double)c->count[0], (double)r->failures[0]), "previous_count",
                            (json_int_t)c->count[1], "previous_share",
                            rate((double)c->count[1], (double)r->failures[1]), "change",
                            (json_int_t)(c->count[0] - c->count[1])));
    }
    return json_pack("{sIsIso}", "failures", (json_int_t)r->failures[0], "previous_failures",
                     (json_int_t)r->failures[1], "categories", list);
}

static json_t *signatures_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_signatures; i++) {
        const struct report_signature *s = &r->signatures[i];
        json_array_append_new(
            list, json_pack("{sssssIsIsIsIsososbss}", "signature", s->signature, "category",
                            s->category, "count", (json_int_t)s->count[0], "previous_count",
                            (json_int_t)s->count[1], "change",
                            (json_int_t)(s->count[0] - s->count[1]), "experiments",
                            (json_int_t)s->experiments, "first_seen",
                            iso_time(s->first_seen_ms), "last_seen", iso_time(s->last_seen_ms),
                            "new", s->first_seen_ms >= r->period[0].since_ms, "example",
                            s->example));
    }
    return list;
}

static json_t *flaky_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_flaky; i++) {
        const struct flaky_experiment *f = &r->flaky[i];
        json_array_append_new(
            list, json_pack("{sssisisisisiso}", "experiment", report_experiment(r, f->experiment),
                            "commits", f->commits, "flaky_commits", f->flaky_commits, "runs",
                            f->runs, "flips", f->flips, "transitions", f->transitions,
                            "flip_rate", number(f->flip_rate, 4)));
    }
    return json_pack("{sIsIso}", "count", (json_int_t)r->n_flaky, "previous_count",
                     (json_int_t)r->n_flaky_previous, "experiments", list);
}

static json_t *recovery_stats_json(const struct recovery_stats *s)
{
    return json_pack("{sisisisososo}", "incidents", s->incidents, "recovered", s->recovered,
                     "open", s->open, "mean_seconds", number(s->mean_seconds, 3),
                     "median_seconds", number(s->median_seconds, 3), "max_seconds",
                     number(s->max_seconds, 3));
}

static json_t *recovery_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_recovery_experiments; i++) {
        const struct recovery_experiment *e = &r->recovery_experiments[i];
        double mean = e->recovered > 0 ? (double)e->total_ms / e->recovered / 1000.0 : NAN;
        json_array_append_new(
            list, json_pack("{sssisisisososo}", "experiment", report_experiment(r, e->experiment),
                            "incidents", e->incidents, "recovered", e->recovered, "open",
                            e->open, "mean_seconds", number(mean, 3), "max_seconds",
                            e->recovered > 0 ? number((double)e->max_ms / 1000.0, 3)
                                             : json_null(),
                            "failing_since", e->open ? iso_time(e->open_since_ms) : json_null()));
    }
    return json_pack("{sososo}", "current", recovery_stats_json(&r->recovery[0]), "previous",
                     recovery_stats_json(&r->recovery[1]), "experiments", list);
}

static json_t *healing_json(const struct report_healing *h)
{
    double max_seconds = h->recovered_sessions > 0 ? (double)h->recovery_max_ms / 1000.0 : NAN;

    return json_pack("{sIsIsIsIsIsIsosIsoso}", "attempts", (json_int_t)h->attempts,
                     "failed_attempts", (json_int_t)h->failed_attempts, "sessions",
                     (json_int_t)h->sessions, "failed_sessions", (json_int_t)h->failed_sessions,
                     "healed_sessions", (json_int_t)h->healed_sessions, "stopped",
                     (json_int_t)h->stopped, "healed_rate",
                     rate((double)h->healed_sessions, (double)h->failed_sessions),
                     "recovered_sessions", (json_int_t)h->recovered_sessions,
                     "mean_recovery_seconds", number(report_healing_mean_recovery(h), 3),
                     "max_recovery_seconds", number(max_seconds, 3));
}

static json_t *healing_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_strategies; i++) {
        const struct report_strategy *s = &r->strategies[i];
        json_array_append_new(
            list, json_pack("{sssssIsIsosIsIso}", "category", s->category, "strategy",
                            s->strategy, "attempts", (json_int_t)s->attempts[0], "succeeded",
                            (json_int_t)s->succeeded[0], "success_rate",
                            rate((double)s->succeeded[0], (double)s->attempts[0]),
                            "previous_attempts", (json_int_t)s->attempts[1],
                            "previous_succeeded", (json_int_t)s->succeeded[1],
                            "previous_success_rate",
                            rate((double)s->succeeded[1], (double)s->attempts[1])));
    }
    return json_pack("{sososo}", "current", healing_json(&r->healing[0]), "previous",
                     healing_json(&r->healing[1]), "strategies", list);
}

static json_t *slowest_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_slowest; i++) {
        const struct report_slow *s = &r->slowest[i];
        json_array_append_new(
            list,
            json_pack("{sssIsosIsoso}", "experiment", report_experiment(r, s->experiment),
                      "runs", (json_int_t)s->runs[0], "mean_seconds",
                      number(report_rate((double)s->total_ms[0], (double)s->runs[0]) / 1000.0, 3),
                      "previous_runs", (json_int_t)s->runs[1], "previous_mean_seconds",
                      number(report_rate((double)s->total_ms[1], (double)s->runs[1]) / 1000.0, 3),
                      "max_seconds", number((double)s->max_ms[0] / 1000.0, 3)));
    }
    return list;
}

static json_t *score_section(const struct report *r)
{
    double now = report_score_value(&r->score[0]), before = report_score_value(&r->score[1]);

    return json_pack("{sosososIsI}", "current", number(now, 2), "previous", number(before, 2),
                     "change", difference(now, before, 2), "objectives",
                     (json_int_t)r->score[0].objectives, "previous_objectives",
                     (json_int_t)r->score[1].objectives);
}

static json_t *recommendations_section(const struct report *r)
{
    json_t *list = json_array();

    for (size_t i = 0; i < r->n_recommendations; i++) {
        const struct report_recommendation *rec = &r->recommendations[i];
        json_array_append_new(list, json_pack("{sssssssO}", "id", rec->id, "severity",
                                              rec->severity, "message", rec->message,
                                              "evidence", rec->evidence));
    }
    return list;
}

static json_t *period_json(const struct report_period *p)
{
    return json_pack("{soso}", "since", iso_time(p->since_ms), "until", iso_time(p->until_ms));
}

json_t *report_to_json(const struct report *r)
{
    json_t *doc = json_object();
    json_t *period = period_json(&r->period[0]);

    json_object_set_new(period, "days",
                        number((double)(r->period[0].until_ms - r->period[0].since_ms) /
                                   (double)REPORT_DAY_MS, 3));
    json_object_set_new(doc, "schema", json_string(REPORT_JSON_SCHEMA));
    json_object_set_new(doc, "generated_at", iso_time(store_epoch_ms(r->generated_at)));
    json_object_set_new(doc, "period", period);
    json_object_set_new(doc, "previous_period", period_json(&r->period[1]));
    json_object_set_new(doc, "empty", json_boolean(r->totals[0].runs == 0));
    json_object_set_new(doc, "totals", totals_section(r));
    json_object_set_new(doc, "trend", trend_section(r));
    json_object_set_new(doc, "failure_categories", categories_section(r));
    json_object_set_new(doc, "top_signatures", signatures_section(r));
    json_object_set_new(doc, "flaky_experiments", flaky_section(r));
    json_object_set_new(doc, "recovery", recovery_section(r));
    json_object_set_new(doc, "healing", healing_section(r));
    json_object_set_new(doc, "slowest_experiments", slowest_section(r));
    json_object_set_new(doc, "resilience_score", score_section(r));
    json_object_set_new(doc, "recommendations", recommendations_section(r));
    return doc;
}
