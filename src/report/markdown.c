/* The report as markdown, for pull requests and wikis. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/format.h"
#include "report/report.h"

/* Appends text escaped for a markdown table cell. */
static void md_text(struct strbuf *out, const char *text)
{
    for (const char *p = text ? text : ""; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            strbuf_addch(out, ' ');
        else if (*p == '<')
            strbuf_addstr(out, "&lt;");
        else if (*p == '>')
            strbuf_addstr(out, "&gt;");
        else if (strchr("\\|*_`[]#", *p) != NULL) {
            strbuf_addch(out, '\\');
            strbuf_addch(out, *p);
        } else {
            strbuf_addch(out, *p);
        }
    }
}

/* Appends text as an inline code span inside a table cell. */
static void md_code(struct strbuf *out, const char *text)
{
    strbuf_addch(out, '`');
    for (const char *p = text ? text : ""; *p != '\0'; p++) {
        if (*p == '|')
            strbuf_addstr(out, "\\|");
        else if (*p == '`')
            strbuf_addch(out, '\'');
        else if (*p == '\n' || *p == '\r')
            strbuf_addch(out, ' ');
        else
            strbuf_addch(out, *p);
    }
    strbuf_addch(out, '`');
}

static void totals_row(struct strbuf *out, const char *label, int64_t a, int64_t b)
{
    char change[REPORT_FMT_MAX];

    report_fmt_count_change(a, b, change, sizeof(change));
    strbuf_addf(out, "| %s | %lld | %lld | %s |\n", label, (long long)a, (long long)b, change);
}

static void rate_row(struct strbuf *out, const char *label, double a, double b)
{
    char x[REPORT_FMT_MAX], y[REPORT_FMT_MAX], change[REPORT_FMT_MAX];

    report_fmt_percent(a, x, sizeof(x));
    report_fmt_percent(b, y, sizeof(y));
    report_fmt_rate_change(a, b, change, sizeof(change));
    strbuf_addf(out, "| %s | %s | %s | %s |\n", label, x, y, change);
}

static void write_header(const struct report *r, struct strbuf *out)
{
    char since[REPORT_FMT_MAX], until[REPORT_FMT_MAX], psince[REPORT_FMT_MAX],
        generated[REPORT_FMT_MAX], days[REPORT_FMT_MAX];
    double length = (double)(r->period[0].until_ms - r->period[0].since_ms) / REPORT_DAY_MS;

    report_fmt_datetime(r->period[0].since_ms, since, sizeof(since));
    report_fmt_datetime(r->period[0].until_ms, until, sizeof(until));
    report_fmt_datetime(r->period[1].since_ms, psince, sizeof(psince));
    report_fmt_datetime(store_epoch_ms(r->generated_at), generated, sizeof(generated));
    snprintf(days, sizeof(days), "%.10g", report_round(length, 2));
    strbuf_addf(out, "# Chaos engineering report\n\n");
    strbuf_addf(out, "Period: %s to %s (%s days), compared with the %s days from %s. "
                "Generated %s.\n\n", since, until, days, days, psince, generated);
    if (r->totals[0].runs == 0)
        strbuf_addf(out, "> No runs were recorded in this period (%lld in the period before), "
                    "so every section below is empty.\n\n", (long long)r->totals[1].runs);
}

static void write_totals(const struct report *r, struct strbuf *out)
{
    const struct report_totals *a = &r->totals[0], *b = &r->totals[1];

    strbuf_addstr(out, "## Totals\n\n| | this period | previous period | change |\n"
                       "|---|---:|---:|---:|\n");
    totals_row(out, "runs", a->runs, b->runs);
    totals_row(out, "passed", a->passed, b->passed);
    totals_row(out, "deviated", a->deviated, b->deviated);
    totals_row(out, "failed", a->failed, b->failed);
    totals_row(out, "interrupted", a->interrupted, b->interrupted);
    totals_row(out, "healed", a->healed, b->healed);
    rate_row(out, "pass rate", report_rate((double)a->passed, (double)a->runs),
             report_rate((double)b->passed, (double)b->runs));
    rate_row(out, "healed rate", report_rate((double)a->healed, (double)a->runs),
             report_rate((double)b->healed, (double)b->runs));
    strbuf_addch(out, '\n');
}

static void write_trend(const struct report *r, struct strbuf *out)
{
    char date[REPORT_FMT_MAX], rate[REPORT_FMT_MAX];

    strbuf_addstr(out, "## Trend\n\n| date (UTC) | runs | passed | deviated | failed | healed "
                       "| pass rate | resilience score |\n"
                       "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n_days; i++) {
        const struct report_day *d = &r->days[i];
        report_fmt_date(d->day * REPORT_DAY_MS, date, sizeof(date));
        report_fmt_percent(report_rate((double)d->totals.passed, (double)d->totals.runs), rate,
                           sizeof(rate));
        strbuf_addf(out, "| %s | %lld | %lld | %lld | %lld | %lld | %s | ", date,
                    (long long)d->totals.runs, (long long)d->totals.passed,
                    (long long)d->totals.deviated, (long long)d->totals.failed,
                    (long long)d->totals.healed, rate);
        if (d->weight > 0)
            strbuf_addf(out, "%.1f |\n", report_round(100.0 * d->weight_passed / d->weight, 1));
        else
            strbuf_addstr(out, "n/a |\n");
    }
    strbuf_addch(out, '\n');
}

static void write_categories(const struct report *r, struct strbuf *out)
{
    char share[REPORT_FMT_MAX], previous[REPORT_FMT_MAX], change[REPORT_FMT_MAX];

    strbuf_addstr(out, "## Failure categories\n\n");
    if (r->n_categories == 0) {
        strbuf_addstr(out, "No failures were recorded in either period.\n\n");
        return;
    }
    strbuf_addf(out, "%lld failure%s in this period, %lld in the period before.\n\n"
                "| category | failures | share | previous | previous share | change |\n"
                "|---|---:|---:|---:|---:|---:|\n",
                (long long)r->failures[0], r->failures[0] == 1 ? "" : "s",
                (long long)r->failures[1]);
    for (size_t i = 0; i < r->n_categories; i++) {
        const struct report_category *c = &r->categories[i];
        report_fmt_percent(report_rate((double)c->count[0], (double)r->failures[0]), share,
                           sizeof(share));
        report_fmt_percent(report_rate((double)c->count[1], (double)r->failures[1]), previous,
                           sizeof(previous));
        report_fmt_count_change(c->count[0], c->count[1], change, sizeof(change));
        strbuf_addstr(out, "| ");
        md_text(out, c->name);
        strbuf_addf(out, " | %lld | %s | %lld | %s | %s |\n", (long long)c->count[0], share,
                    (long long)c->count[1], previous, change);
    }
    strbuf_addch(out, '\n');
}

static void write_signatures(const struct report *r, struct strbuf *out)
{
    char first[REPORT_FMT_MAX], last[REPORT_FMT_MAX];

    strbuf_addstr(out, "## Top failure signatures\n\n");
    if (r->n_signatures == 0) {
        strbuf_addstr(out, "No failures in this period.\n\n");
        return;
    }
    strbuf_addstr(out, "| # | signature | category | count | previous | experiments | first seen "
                       "| last seen |\n|---:|---|---|---:|---:|---:|---|---|\n");
    for (size_t i = 0; i < r->n_signatures; i++) {
        const struct report_signature *s = &r->signatures[i];
        report_fmt_datetime(s->first_seen_ms, first, sizeof(first));
        report_fmt_datetime(s->last_seen_ms, last, sizeof(last));
        strbuf_addf(out, "| %zu | ", i + 1);
        md_code(out, s->signature);
        strbuf_addstr(out, " | ");
        md_text(out, s->category);
        strbuf_addf(out, " | %lld | %lld | %lld | %s%s | %s |\n", (long long)s->count[0],
                    (long long)s->count[1], (long long)s->experiments, first,
                    s->first_seen_ms >= r->period[0].since_ms ? " (new)" : "", last);
    }
    strbuf_addch(out, '\n');
}

static void write_flaky(const struct report *r, struct strbuf *out)
{
    char rate[REPORT_FMT_MAX];

    strbuf_addf(out, "## Flaky experiments\n\n%zu flaky experiment%s in this period, %zu in the "
                "period before. An experiment is flaky on a commit when it both passed and "
                "failed on it.\n\n", r->n_flaky, r->n_flaky == 1 ? "" : "s",
                r->n_flaky_previous);
    if (r->n_flaky == 0)
        return;
    strbuf_addstr(out, "| experiment | flaky commits | commits | runs on them | flips "
                       "| flip rate |\n|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n_flaky; i++) {
        const struct flaky_experiment *f = &r->flaky[i];
        report_fmt_percent(f->flip_rate, rate, sizeof(rate));
        strbuf_addstr(out, "| ");
        md_text(out, report_experiment(r, f->experiment));
        strbuf_addf(out, " | %d | %d | %d | %d | %s |\n", f->flaky_commits, f->commits, f->runs,
                    f->flips, rate);
    }
    strbuf_addch(out, '\n');
}

static void write_healing(const struct report *r, struct strbuf *out)
{
    const struct report_healing *h = &r->healing[0], *p = &r->healing[1];
    char rate[REPORT_FMT_MAX], previous[REPORT_FMT_MAX], recovery[256];

    strbuf_addstr(out, "## Healing\n\n");
    if (h->attempts == 0 && p->attempts == 0) {
        strbuf_addstr(out, "No healing attempts were recorded ('aftershock heal' records "
                           "them).\n\n");
        return;
    }
    report_fmt_percent(report_rate((double)h->healed_sessions, (double)h->failed_sessions), rate,
                       sizeof(rate));
    report_fmt_percent(report_rate((double)p->healed_sessions, (double)p->failed_sessions),
                       previous, sizeof(previous));
    strbuf_addf(out, "%lld healing sessions with %lld attempts; %lld sessions had a failed "
                "attempt and %lld of them were healed (%s, previous period %s). %lld attempts "
                "stopped at once because they were a verdict.\n\n",
                (long long)h->sessions, (long long)h->attempts, (long long)h->failed_sessions,
                (long long)h->healed_sessions, rate, previous, (long long)h->stopped);
    report_fmt_healing_recovery(h, recovery, sizeof(recovery));
    if (recovery[0] != '\0')
        strbuf_addf(out, "%s\n\n", recovery);
    if (r->n_strategies == 0)
        return;
    strbuf_addstr(out, "| category | strategy | applied | next attempt passed | success rate "
                       "| previous success rate |\n|---|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n_strategies; i++) {
        const struct report_strategy *s = &r->strategies[i];
        report_fmt_percent(report_rate((double)s->succeeded[0], (double)s->attempts[0]), rate,
                           sizeof(rate));
        report_fmt_percent(report_rate((double)s->succeeded[1], (double)s->attempts[1]),
                           previous, sizeof(previous));
        strbuf_addstr(out, "| ");
        md_text(out, s->category);
        strbuf_addstr(out, " | ");
        md_text(out, s->strategy);
        strbuf_addf(out, " | %lld | %lld | %s | %s |\n", (long long)s->attempts[0],
                    (long long)s->succeeded[0], rate, previous);
    }
    strbuf_addch(out, '\n');
}

static void recovery_row(struct strbuf *out, const char *label, const struct recovery_stats *s)
{
    char mean[REPORT_FMT_MAX], median[REPORT_FMT_MAX], max[REPORT_FMT_MAX];

    report_fmt_duration(s->mean_seconds, mean, sizeof(mean));
    report_fmt_duration(s->median_seconds, median, sizeof(median));
    report_fmt_duration(s->max_seconds, max, sizeof(max));
    strbuf_addf(out, "| %s | %d | %d | %d | %s | %s | %s |\n", label, s->incidents, s->recovered,
                s->open, mean, median, max);
}

static void write_recovery(const struct report *r, struct strbuf *out)
{
    char mean[REPORT_FMT_MAX], since[REPORT_FMT_MAX];

    strbuf_addstr(out, "## Time to recovery\n\nFrom an experiment's first failing run to its "
                       "next passing run.\n\n| period | incidents | recovered | still failing "
                       "| mean | median | max |\n|---|---:|---:|---:|---:|---:|---:|\n");
    recovery_row(out, "this period", &r->recovery[0]);
    recovery_row(out, "previous period", &r->recovery[1]);
    strbuf_addch(out, '\n');
    if (r->n_recovery_experiments == 0)
        return;
    strbuf_addstr(out, "| experiment | incidents | recovered | mean | failing since |\n"
                       "|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < r->n_recovery_experiments; i++) {
        const struct recovery_experiment *e = &r->recovery_experiments[i];
        report_fmt_duration(e->recovered ? (double)e->total_ms / e->recovered / 1000.0 : NAN,
                            mean, sizeof(mean));
        if (e->open)
            report_fmt_datetime(e->open_since_ms, since, sizeof(since));
        strbuf_addstr(out, "| ");
        md_text(out, report_experiment(r, e->experiment));
        strbuf_addf(out, " | %d | %d | %s | %s |\n", e->incidents, e->recovered, mean,
                    e->open ? since : "-");
    }
    strbuf_addch(out, '\n');
}

static void write_slowest(const struct report *r, struct strbuf *out)
{
    char mean[REPORT_FMT_MAX], max[REPORT_FMT_MAX], previous[REPORT_FMT_MAX];

    strbuf_addstr(out, "## Slowest experiments\n\n");
    if (r->n_slowest == 0) {
        strbuf_addstr(out, "No completed runs in this period.\n\n");
        return;
    }
    strbuf_addstr(out, "| experiment | runs | mean duration | max duration | previous mean |\n"
                       "|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n_slowest; i++) {
        const struct report_slow *s = &r->slowest[i];
        report_fmt_duration((double)s->total_ms[0] / (double)s->runs[0] / 1000.0, mean,
                            sizeof(mean));
        report_fmt_duration((double)s->max_ms[0] / 1000.0, max, sizeof(max));
        report_fmt_duration(report_rate((double)s->total_ms[1], (double)s->runs[1]) / 1000.0,
                            previous, sizeof(previous));
        strbuf_addstr(out, "| ");
        md_text(out, report_experiment(r, s->experiment));
        strbuf_addf(out, " | %lld | %s | %s | %s |\n", (long long)s->runs[0], mean, max,
                    previous);
    }
    strbuf_addch(out, '\n');
}

static void write_score(const struct report *r, struct strbuf *out)
{
    double now = report_score_value(&r->score[0]), before = report_score_value(&r->score[1]);

    strbuf_addstr(out, "## Resilience score\n\n");
    if (isnan(now) && isnan(before)) {
        strbuf_addstr(out, "No objective results were recorded ('aftershock verify' records "
                           "them).\n\n");
        return;
    }
    strbuf_addstr(out, "Weighted share of passed objectives, 0 to 100; the trend table shows "
                       "it per day.\n\n| period | score | objective results |\n|---|---:|---:|\n");
    if (isnan(now))
        strbuf_addstr(out, "| this period | n/a | 0 |\n");
    else
        strbuf_addf(out, "| this period | %.1f | %lld |\n", report_round(now, 1),
                    (long long)r->score[0].objectives);
    if (isnan(before))
        strbuf_addstr(out, "| previous period | n/a | 0 |\n\n");
    else
        strbuf_addf(out, "| previous period | %.1f | %lld |\n\n", report_round(before, 1),
                    (long long)r->score[1].objectives);
}

static void write_recommendations(const struct report *r, struct strbuf *out)
{
    strbuf_addstr(out, "## Recommendations\n\n");
    if (r->n_recommendations == 0) {
        strbuf_addstr(out, "None: no number crossed its threshold.\n");
        return;
    }
    for (size_t i = 0; i < r->n_recommendations; i++) {
        const struct report_recommendation *rec = &r->recommendations[i];
        strbuf_addf(out, "%zu. **%s** (%s): ", i + 1, rec->severity, rec->id);
        md_text(out, rec->message);
        strbuf_addch(out, '\n');
    }
}

void report_write_markdown(const struct report *r, struct strbuf *out)
{
    write_header(r, out);
    write_totals(r, out);
    write_trend(r, out);
    write_categories(r, out);
    write_signatures(r, out);
    write_flaky(r, out);
    write_healing(r, out);
    write_recovery(r, out);
    write_slowest(r, out);
    write_score(r, out);
    write_recommendations(r, out);
}
