/* The report as one self-contained HTML page: inline CSS, inline SVG charts,
 * no scripts, and a print style sheet. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/format.h"
#include "report/report.h"
#include "report/svg.h"

#define COLOR_PASSED "#2e7d32"
#define COLOR_DEVIATED "#ef6c00"
#define COLOR_FAILED "#c62828"
#define COLOR_INTERRUPTED "#9e9e9e"
#define COLOR_CURRENT "#1565c0"
#define COLOR_PREVIOUS "#90a4ae"

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;"
    "margin:2rem auto;padding:0 1rem;color:#212121;line-height:1.45}"
    "h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}"
    "th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-size:.85rem;word-break:break-word}.empty{color:#616161;font-style:italic}"
    ".high{color:#b71c1c;font-weight:bold}.medium{color:#e65100;font-weight:bold}"
    ".low{color:#455a64;font-weight:bold}"
    "svg.chart{width:100%;height:auto;max-width:720px;display:block;margin:.5rem 0}"
    "svg text{font-size:11px;fill:#424242}svg .grid{stroke:#e0e0e0}"
    "svg .line{stroke-width:2}"
    "@media print{body{margin:0;max-width:none;font-size:10pt}"
    "section{break-inside:avoid}h2{break-after:avoid}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* Appends formatted text, escaped. */
static void text(struct strbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text(struct strbuf *out, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    svg_escape(out, s);
    free(s);
}

/* Appends one table row; cells starting with '#' are right-aligned numbers (the '#' is dropped). */
static void row(struct strbuf *out, const char *tag, int n, ...)
{
    va_list ap;

    va_start(ap, n);
    strbuf_addstr(out, "<tr>");
    for (int i = 0; i < n; i++) {
        const char *cell = va_arg(ap, const char *);
        bool number = cell[0] == '#';
        strbuf_addf(out, "<%s%s>", tag, number ? " class=\"n\"" : "");
        svg_escape(out, number ? cell + 1 : cell);
        strbuf_addf(out, "</%s>", tag);
    }
    strbuf_addstr(out, "</tr>\n");
    va_end(ap);
}

static void section(struct strbuf *out, const char *id, const char *title)
{
    strbuf_addf(out, "<section id=\"%s\">\n<h2>", id);
    svg_escape(out, title);
    strbuf_addstr(out, "</h2>\n");
}

static void empty(struct strbuf *out, const char *message)
{
    strbuf_addstr(out, "<p class=\"empty\">");
    svg_escape(out, message);
    strbuf_addstr(out, "</p>\n</section>\n");
}

static void totals_row(struct strbuf *out, const char *label, int64_t a, int64_t b)
{
    char x[REPORT_FMT_MAX], y[REPORT_FMT_MAX], c[REPORT_FMT_MAX];

    snprintf(x, sizeof(x), "#%lld", (long long)a);
    snprintf(y, sizeof(y), "#%lld", (long long)b);
    c[0] = '#';
    report_fmt_count_change(a, b, c + 1, sizeof(c) - 1);
    row(out, "td", 4, label, x, y, c);
}

static void rate_row(struct strbuf *out, const char *label, double a, double b)
{
    char x[REPORT_FMT_MAX] = "#", y[REPORT_FMT_MAX] = "#", c[REPORT_FMT_MAX] = "#";

    report_fmt_percent(a, x + 1, sizeof(x) - 1);
    report_fmt_percent(b, y + 1, sizeof(y) - 1);
    report_fmt_rate_change(a, b, c + 1, sizeof(c) - 1);
    row(out, "td", 4, label, x, y, c);
}

static void write_totals(const struct report *r, struct strbuf *out)
{
    const struct report_totals *a = &r->totals[0], *b = &r->totals[1];

    section(out, "totals", "Totals");
    strbuf_addstr(out, "<table>\n");
    row(out, "th", 4, "", "#this period", "#previous period", "#change");
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
    strbuf_addstr(out, "</table>\n</section>\n");
}

/* Per-day labels ("03-01") and series for the trend and score charts. */
static void write_trend(const struct report *r, struct strbuf *out)
{
    size_t n = r->n_days;
    char (*labels)[16] = calloc(n ? n : 1, sizeof(*labels));
    const char **label_ptrs = calloc(n ? n : 1, sizeof(char *));
    double *values = calloc(5 * (n ? n : 1), sizeof(double));
    char date[REPORT_FMT_MAX];

    if (labels == NULL || label_ptrs == NULL || values == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct report_day *d = &r->days[i];
        report_fmt_date(d->day * REPORT_DAY_MS, date, sizeof(date));
        snprintf(labels[i], sizeof(labels[i]), "%.5s", date + 5);
        label_ptrs[i] = labels[i];
        values[i] = (double)d->totals.passed;
        values[n + i] = (double)d->totals.deviated;
        values[2 * n + i] = (double)d->totals.failed;
        values[3 * n + i] = (double)d->totals.interrupted;
        values[4 * n + i] = d->weight > 0 ? 100.0 * d->weight_passed / d->weight : NAN;
    }
    struct svg_series runs[] = {
        { "passed", COLOR_PASSED, values },
        { "deviated", COLOR_DEVIATED, values + n },
        { "failed", COLOR_FAILED, values + 2 * n },
        { "interrupted", COLOR_INTERRUPTED, values + 3 * n },
    };
    struct svg_series score = { "resilience score", COLOR_CURRENT, values + 4 * n };

    section(out, "trend", "Trend");
    strbuf_addstr(out, "<p>Runs per UTC day by outcome.</p>\n");
    svg_stacked_bars(out, "chart-trend", "Runs per day by outcome", label_ptrs, n, runs, 4);
    strbuf_addstr(out, "</section>\n");

    section(out, "resilience-score", "Resilience score");
    double now = report_score_value(&r->score[0]), before = report_score_value(&r->score[1]);
    if (isnan(now) && isnan(before)) {
        empty(out, "No objective results were recorded ('aftershock verify' records them).");
    } else {
        char a[REPORT_FMT_MAX] = "n/a", b[REPORT_FMT_MAX] = "n/a";
        if (!isnan(now))
            snprintf(a, sizeof(a), "%.1f", report_round(now, 1));
        if (!isnan(before))
            snprintf(b, sizeof(b), "%.1f", report_round(before, 1));
        strbuf_addstr(out, "<p>");
        text(out, "Weighted share of passed objectives, 0 to 100: %s this period over %lld "
             "objective results, %s in the period before.", a,
             (long long)r->score[0].objectives, b);
        strbuf_addstr(out, "</p>\n");
        svg_line(out, "chart-score", "Resilience score per day", label_ptrs, n, &score, 100);
        strbuf_addstr(out, "</section>\n");
    }
    free(labels);
    free(label_ptrs);
    free(values);
}

static void write_categories(const struct report *r, struct strbuf *out)
{
    size_t n = r->n_categories;
    const char **labels = calloc(n ? n : 1, sizeof(char *));
    double *values = calloc(2 * (n ? n : 1), sizeof(double));
    char count[32], share[32] = "#", previous[32], change[32] = "#";

    if (labels == NULL || values == NULL)
        abort();
    section(out, "failure-categories", "Failure categories");
    if (n == 0) {
        free(labels);
        free(values);
        empty(out, "No failures were recorded in either period.");
        return;
    }
    strbuf_addstr(out, "<table>\n");
    row(out, "th", 5, "category", "#failures", "#share", "#previous", "#change");
    for (size_t i = 0; i < n; i++) {
        const struct report_category *c = &r->categories[i];
        labels[i] = c->name;
        values[i] = (double)c->count[0];
        values[n + i] = (double)c->count[1];
        snprintf(count, sizeof(count), "#%lld", (long long)c->count[0]);
        report_fmt_percent(report_rate((double)c->count[0], (double)r->failures[0]), share + 1,
                           sizeof(share) - 1);
        snprintf(previous, sizeof(previous), "#%lld", (long long)c->count[1]);
        report_fmt_count_change(c->count[0], c->count[1], change + 1, sizeof(change) - 1);
        row(out, "td", 5, c->name, count, share, previous, change);
    }
    strbuf_addstr(out, "</table>\n");
    struct svg_series series[] = { { "this period", COLOR_CURRENT, values },
                                   { "previous period", COLOR_PREVIOUS, values + n } };
    svg_bar_groups(out, "chart-categories", "Failures per category", labels, n, series, 2,
                   false);
    strbuf_addstr(out, "</section>\n");
    free(labels);
    free(values);
}

static void write_signatures(const struct report *r, struct strbuf *out)
{
    char first[REPORT_FMT_MAX], last[REPORT_FMT_MAX];

    section(out, "top-failure-signatures", "Top failure signatures");
    if (r->n_signatures == 0) {
        empty(out, "No failures in this period.");
        return;
    }
    strbuf_addstr(out, "<table>\n");
    row(out, "th", 7, "signature", "category", "#count", "#previous", "#experiments",
        "first seen", "last seen");
    for (size_t i = 0; i < r->n_signatures; i++) {
        const struct report_signature *s = &r->signatures[i];
        report_fmt_datetime(s->first_seen_ms, first, sizeof(first));
        report_fmt_datetime(s->last_seen_ms, last, sizeof(last));
        strbuf_addstr(out, "<tr><td><code>");
        svg_escape(out, s->signature);
        strbuf_addstr(out, "</code></td><td>");
        svg_escape(out, s->category);
        strbuf_addf(out, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                    "<td class=\"n\">%lld</td><td>%s%s</td><td>%s</td></tr>\n",
                    (long long)s->count[0], (long long)s->count[1], (long long)s->experiments,
                    first, s->first_seen_ms >= r->period[0].since_ms ? " (new)" : "", last);
    }
    strbuf_addstr(out, "</table>\n</section>\n");
}

static void write_flaky(const struct report *r, struct strbuf *out)
{
    char a[32], b[32], c[32], d[32], rate[32] = "#";

    section(out, "flaky-experiments", "Flaky experiments");
    strbuf_addstr(out, "<p>");
    text(out, "%zu flaky experiment%s in this period, %zu in the period before. An experiment "
         "is flaky on a commit when it both passed and failed on it.", r->n_flaky,
         r->n_flaky == 1 ? "" : "s", r->n_flaky_previous);
    strbuf_addstr(out, "</p>\n");
    if (r->n_flaky == 0) {
        strbuf_addstr(out, "</section>\n");
        return;
    }
    strbuf_addstr(out, "<table>\n");
    row(out, "th", 6, "experiment", "#flaky commits", "#commits", "#runs on them", "#flips",
        "#flip rate");
    for (size_t i = 0; i < r->n_flaky; i++) {
        const struct flaky_experiment *f = &r->flaky[i];
        snprintf(a, sizeof(a), "#%d", f->flaky_commits);
        snprintf(b, sizeof(b), "#%d", f->commits);
        snprintf(c, sizeof(c), "#%d", f->runs);
        snprintf(d, sizeof(d), "#%d", f->flips);
        report_fmt_percent(f->flip_rate, rate + 1, sizeof(rate) - 1);
        row(out, "td", 6, report_experiment(r, f->experiment), a, b, c, d, rate);
    }
    strbuf_addstr(out, "</table>\n</section>\n");
}

static void write_healing(const struct report *r, struct strbuf *out)
{
    const struct report_healing *h = &r->healing[0];
    size_t n = r->n_strategies;
    char (*labels)[160] = calloc(n ? n : 1, sizeof(*labels));
    const char **label_ptrs = calloc(n ? n : 1, sizeof(char *));
    double *values = calloc(2 * (n ? n : 1), sizeof(double));
    char rate[REPORT_FMT_MAX], recovery[256];

    if (labels == NULL || label_ptrs == NULL || values == NULL)
        abort();
    section(out, "healing", "Healing");
    if (h->attempts == 0 && r->healing[1].attempts == 0) {
        empty(out, "No healing attempts were recorded ('aftershock heal' records them).");
        goto cleanup;
    }
    report_fmt_percent(report_rate((double)h->healed_sessions, (double)h->failed_sessions), rate,
                       sizeof(rate));
    strbuf_addstr(out, "<p>");
    text(out, "%lld healing sessions with %lld attempts; %lld sessions had a failed attempt and "
         "%lld of them were healed (%s). %lld attempts stopped at once because they were a "
         "verdict.", (long long)h->sessions, (long long)h->attempts,
         (long long)h->failed_sessions, (long long)h->healed_sessions, rate,
         (long long)h->stopped);
    report_fmt_healing_recovery(h, recovery, sizeof(recovery));
    if (recovery[0] != '\0')
        text(out, " %s", recovery);
    strbuf_addstr(out, "</p>\n");
    for (size_t i = 0; i < n; i++) {
        const struct report_strategy *s = &r->strategies[i];
        snprintf(labels[i], sizeof(labels[i]), "%s / %s", s->category, s->strategy);
        label_ptrs[i] = labels[i];
        values[i] = report_rate((double)s->succeeded[0], (double)s->attempts[0]);
        values[n + i] = report_rate((double)s->succeeded[1], (double)s->attempts[1]);
    }
    struct svg_series series[] = { { "this period", COLOR_CURRENT, values },
                                   { "previous period", COLOR_PREVIOUS, values + n } };
    svg_bar_groups(out, "chart-healing", "Healing success rate per category and strategy",
                   label_ptrs, n, series, 2, true);
    strbuf_addstr(out, "</section>\n");

cleanup:
    free(labels);
    free(label_ptrs);
    free(values);
}

static void write_recovery(const struct report *r, struct strbuf *out)
{
    char values[2][6][REPORT_FMT_MAX];

    section(out, "time-to-recovery", "Time to recovery");
    strbuf_addstr(out, "<p>From an experiment's first failing run to its next passing run.</p>\n"
                       "<table>\n");
    row(out, "th", 7, "period", "#incidents", "#recovered", "#still failing", "#mean",
        "#median", "#max");
    for (int p = 0; p < 2; p++) {
        const struct recovery_stats *s = &r->recovery[p];
        snprintf(values[p][0], REPORT_FMT_MAX, "#%d", s->incidents);
        snprintf(values[p][1], REPORT_FMT_MAX, "#%d", s->recovered);
        snprintf(values[p][2], REPORT_FMT_MAX, "#%d", s->open);
        values[p][3][0] = values[p][4][0] = values[p][5][0] = '#';
        report_fmt_duration(s->mean_seconds, values[p][3] + 1, REPORT_FMT_MAX - 1);
        report_fmt_duration(s->median_seconds, values[p][4] + 1, REPORT_FMT_MAX - 1);
        report_fmt_duration(s->max_seconds, values[p][5] + 1, REPORT_FMT_MAX - 1);
        row(out, "td", 7, p == 0 ? "this period" : "previous period", values[p][0],
            values[p][1], values[p][2], values[p][3], values[p][4], values[p][5]);
    }
    strbuf_addstr(out, "</table>\n</section>\n");
}

static void write_slowest(const struct report *r, struct strbuf *out)
{
    char runs[32], mean[REPORT_FMT_MAX] = "#", max[REPORT_FMT_MAX] = "#",
                   previous[REPORT_FMT_MAX] = "#";

    section(out, "slowest-experiments", "Slowest experiments");
    if (r->n_slowest == 0) {
        empty(out, "No completed runs in this period.");
        return;
    }
    strbuf_addstr(out, "<table>\n");
    row(out, "th", 5, "experiment", "#runs", "#mean duration", "#max duration", "#previous mean");
    for (size_t i = 0; i < r->n_slowest; i++) {
        const struct report_slow *s = &r->slowest[i];
        snprintf(runs, sizeof(runs), "#%lld", (long long)s->runs[0]);
        report_fmt_duration((double)s->total_ms[0] / (double)s->runs[0] / 1000.0, mean + 1,
                            sizeof(mean) - 1);
        report_fmt_duration((double)s->max_ms[0] / 1000.0, max + 1, sizeof(max) - 1);
        report_fmt_duration(report_rate((double)s->total_ms[1], (double)s->runs[1]) / 1000.0,
                            previous + 1, sizeof(previous) - 1);
        row(out, "td", 5, report_experiment(r, s->experiment), runs, mean, max, previous);
    }
    strbuf_addstr(out, "</table>\n</section>\n");
}

static void write_recommendations(const struct report *r, struct strbuf *out)
{
    section(out, "recommendations", "Recommendations");
    if (r->n_recommendations == 0) {
        empty(out, "None: no number crossed its threshold.");
        return;
    }
    strbuf_addstr(out, "<ol>\n");
    for (size_t i = 0; i < r->n_recommendations; i++) {
        const struct report_recommendation *rec = &r->recommendations[i];
        strbuf_addf(out, "<li><span class=\"%s\">%s</span> <code>%s</code>: ", rec->severity,
                    rec->severity, rec->id);
        svg_escape(out, rec->message);
        strbuf_addstr(out, "</li>\n");
    }
    strbuf_addstr(out, "</ol>\n</section>\n");
}

void report_write_html(const struct report *r, struct strbuf *out)
{
    char since[REPORT_FMT_MAX], until[REPORT_FMT_MAX], generated[REPORT_FMT_MAX];

    report_fmt_datetime(r->period[0].since_ms, since, sizeof(since));
    report_fmt_datetime(r->period[0].until_ms, until, sizeof(until));
    report_fmt_datetime(store_epoch_ms(r->generated_at), generated, sizeof(generated));
    strbuf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>");
    text(out, "Chaos engineering report %s to %s", since, until);
    strbuf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Chaos engineering report"
                "</h1>\n<p>", style);
    text(out, "Period: %s to %s, compared with the period of the same length before it. "
         "Generated %s.", since, until, generated);
    strbuf_addstr(out, "</p>\n");
    if (r->totals[0].runs == 0) {
        strbuf_addstr(out, "<p class=\"empty\">");
        text(out, "No runs were recorded in this period (%lld in the period before).",
             (long long)r->totals[1].runs);
        strbuf_addstr(out, "</p>\n");
    }
    write_totals(r, out);
    write_trend(r, out);
    write_categories(r, out);
    write_signatures(r, out);
    write_flaky(r, out);
    write_healing(r, out);
    write_recovery(r, out);
    write_slowest(r, out);
    write_recommendations(r, out);
    strbuf_addstr(out, "</body>\n</html>\n");
}
