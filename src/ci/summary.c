/* Collecting journals and verify results into a summary, and writing it as markdown. */
#include "ci/summary.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

static char *xstrdup(const char *s)
{
    char *copy;

    if (s == NULL)
        return NULL;
    copy = strdup(s);
    if (copy == NULL)
        abort();
    return copy;
}

void ci_summary_init(struct ci_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->score = -1;
    s->verify_passed = true;
}

static struct ci_experiment *add_experiment(struct ci_summary *s, const char *title)
{
    struct ci_experiment *items = realloc(s->experiments, (s->count + 1) * sizeof(*items));
    struct ci_experiment *e;

    if (items == NULL)
        abort();
    s->experiments = items;
    e = &s->experiments[s->count++];
    memset(e, 0, sizeof(*e));
    e->title = xstrdup(title);
    e->duration = -1;
    e->score = -1;
    e->objectives_passed = true;
    return e;
}

/* Takes the objectives of one verdicts object: a journal's "verdicts" or
 * one entry of verify's "experiments". */
static void apply_verdicts(struct ci_experiment *e, json_t *verdicts)
{
    json_t *objectives = json_object_get(verdicts, "objectives");
    json_t *score = json_object_get(verdicts, "score");
    json_t *objective;
    size_t j;

    if (!json_is_object(verdicts))
        return;
    e->objectives_passed = true;
    if (json_is_array(objectives)) {
        json_decref(e->objectives);
        e->objectives = json_incref(objectives);
    }
    if (json_is_number(score))
        e->score = json_number_value(score);
    json_array_foreach(objectives, j, objective) {
        if (!json_is_true(json_object_get(objective, "met")))
            e->objectives_passed = false;
    }
    if (json_is_false(json_object_get(verdicts, "passed")))
        e->objectives_passed = false;
}

int ci_summary_add_journal(struct ci_summary *s, json_t *journal, const char *path,
                           struct err *err)
{
    const char *title =
        json_string_value(json_object_get(json_object_get(journal, "experiment"), "title"));
    const char *status = json_string_value(json_object_get(journal, "status"));
    json_t *duration = json_object_get(journal, "duration");
    struct ci_experiment *e;

    if (title == NULL || status == NULL)
        return err_set(err, "journal '%s' has no experiment.title or status: pass journals "
                            "that 'aftershock run' wrote", path);
    e = add_experiment(s, title);
    e->journal_path = xstrdup(path);
    if (json_is_true(json_object_get(journal, "deviated")))
        e->verdict = xstrdup("deviated");
    else if (strcmp(status, "completed") == 0)
        e->verdict = xstrdup("passed");
    else
        e->verdict = xstrdup(status);
    if (json_is_number(duration))
        e->duration = json_number_value(duration);
    apply_verdicts(e, json_object_get(journal, "verdicts"));
    return 0;
}

static struct ci_experiment *match_experiment(struct ci_summary *s, const char *journal,
                                              const char *title)
{
    for (size_t i = 0; journal != NULL && i < s->count; i++) {
        const char *path = s->experiments[i].journal_path;
        if (path != NULL && strcmp(path, journal) == 0)
            return &s->experiments[i];
    }
    for (size_t i = 0; title != NULL && i < s->count; i++) {
        if (!s->experiments[i].verified && strcmp(s->experiments[i].title, title) == 0)
            return &s->experiments[i];
    }
    return NULL;
}

int ci_summary_add_verify(struct ci_summary *s, json_t *verify, struct err *err)
{
    json_t *list = json_object_get(verify, "experiments");
    json_t *item;
    size_t i;

    if (!json_is_object(verify) || !json_is_array(list))
        return err_set(err, "the verify results are not the output of 'aftershock verify "
                            "--json' (an object with an \"experiments\" list)");
    s->have_verify = true;
    s->verify_passed = !json_is_false(json_object_get(verify, "passed"));
    s->score = json_is_number(json_object_get(verify, "score"))
                   ? json_number_value(json_object_get(verify, "score"))
                   : -1;
    json_array_foreach(list, i, item) {
        const char *journal = json_string_value(json_object_get(item, "journal"));
        const char *title = json_string_value(json_object_get(item, "title"));
        struct ci_experiment *e = match_experiment(s, journal, title);

        if (e == NULL) {
            const char *name = title;
            if (name == NULL)
                name = journal != NULL ? journal : "?";
            e = add_experiment(s, name);
            e->journal_path = xstrdup(journal);
        }
        if (!json_is_object(item))
            continue;
        /* Verify judged the journal again: its verdicts replace the journal's own. */
        apply_verdicts(e, item);
        e->verified = true;
    }
    return 0;
}

void ci_summary_note(struct ci_summary *s, const char *fmt, ...)
{
    char **notes = realloc(s->notes, (s->note_count + 1) * sizeof(*notes));
    char *text = NULL;
    va_list ap;

    if (notes == NULL)
        abort();
    s->notes = notes;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    va_end(ap);
    s->notes[s->note_count++] = text;
}

bool ci_experiment_passed(const struct ci_experiment *e)
{
    return (e->verdict == NULL || strcmp(e->verdict, "passed") == 0) && e->objectives_passed;
}

bool ci_summary_passed(const struct ci_summary *s)
{
    if (s->count == 0)
        return false;
    for (size_t i = 0; i < s->count; i++) {
        if (!ci_experiment_passed(&s->experiments[i]))
            return false;
    }
    return s->verify_passed;
}

char *ci_experiment_verdict_text(const struct ci_experiment *e)
{
    const char *verdict = e->verdict != NULL ? e->verdict : "passed";
    char *text = NULL;

    if (e->objectives_passed)
        return xstrdup(e->verdict != NULL ? e->verdict : "passed");
    if (strcmp(verdict, "passed") == 0)
        return xstrdup("objectives missed");
    if (asprintf(&text, "%s, objectives missed", verdict) < 0)
        abort();
    return text;
}

/* Appends text for a table cell: '|' escaped, line breaks as spaces, and
 * '<' and '>' as entities, both alike, so that no text reads as HTML. */
static void add_cell(struct strbuf *sb, const char *text)
{
    for (const char *p = text != NULL ? text : ""; *p != '\0'; p++) {
        if (*p == '|')
            strbuf_addstr(sb, "\\|");
        else if (*p == '\n' || *p == '\r')
            strbuf_addch(sb, ' ');
        else if (*p == '<')
            strbuf_addstr(sb, "&lt;");
        else if (*p == '>')
            strbuf_addstr(sb, "&gt;");
        else
            strbuf_addch(sb, *p);
    }
}

static const char *mark(bool passed)
{
    return passed ? "✅" : "❌";
}

static void add_number(struct strbuf *sb, const json_t *value, const char *unit)
{
    if (json_is_number(value))
        strbuf_addf(sb, "%g%s%s", json_number_value(value), unit[0] ? " " : "", unit);
    else
        strbuf_addstr(sb, "–");
}

static void add_experiment_table(struct strbuf *sb, const struct ci_summary *s)
{
    strbuf_addstr(sb, "| Experiment | Verdict | Objectives met | Score | Duration | Last runs |\n"
                      "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->count; i++) {
        const struct ci_experiment *e = &s->experiments[i];
        size_t met = 0, total = json_array_size(e->objectives), j;
        json_t *objective;
        size_t passed_runs = 0;
        char *verdict;

        json_array_foreach(e->objectives, j, objective) {
            if (json_is_true(json_object_get(objective, "met")))
                met++;
        }
        strbuf_addstr(sb, "| ");
        add_cell(sb, e->title);
        verdict = ci_experiment_verdict_text(e);
        strbuf_addf(sb, " | %s %s | ", mark(ci_experiment_passed(e)), verdict);
        free(verdict);
        if (total > 0)
            strbuf_addf(sb, "%zu/%zu", met, total);
        else if (e->objectives != NULL)
            strbuf_addstr(sb, "none declared");
        else
            strbuf_addstr(sb, "–");
        strbuf_addstr(sb, " | ");
        if (e->score >= 0)
            strbuf_addf(sb, "%.1f", e->score);
        else
            strbuf_addstr(sb, "–");
        strbuf_addstr(sb, " | ");
        if (e->duration >= 0)
            strbuf_addf(sb, "%.1f s", e->duration);
        else
            strbuf_addstr(sb, "–");
        strbuf_addstr(sb, " | ");
        for (size_t t = 0; t < e->trend_count; t++) {
            bool ok = strcmp(e->trend[t], "passed") == 0;
            passed_runs += ok;
            strbuf_addstr(sb, mark(ok));
        }
        if (e->trend_count > 0)
            strbuf_addf(sb, " %zu of %zu passed", passed_runs, e->trend_count);
        else
            strbuf_addstr(sb, "–");
        strbuf_addstr(sb, " |\n");
    }
}

static void add_objectives_table(struct strbuf *sb, const struct ci_summary *s)
{
    bool any = false;

    for (size_t i = 0; i < s->count; i++) {
        const struct ci_experiment *e = &s->experiments[i];
        size_t j;
        json_t *o;

        json_array_foreach(e->objectives, j, o) {
            const char *unit = json_string_value(json_object_get(o, "unit"));
            const char *reason = json_string_value(json_object_get(o, "reason"));

            if (!any) {
                strbuf_addstr(sb, "\n### Objectives\n\n"
                                  "| Experiment | Objective | Kind | Phase | Limit | Measured "
                                  "| Met |\n|---|---|---|---|---|---|---|\n");
                any = true;
            }
            strbuf_addstr(sb, "| ");
            add_cell(sb, e->title);
            strbuf_addstr(sb, " | ");
            add_cell(sb, json_string_value(json_object_get(o, "name")));
            strbuf_addstr(sb, " | ");
            add_cell(sb, json_string_value(json_object_get(o, "kind")));
            strbuf_addstr(sb, " | ");
            add_cell(sb, json_is_string(json_object_get(o, "phase"))
                             ? json_string_value(json_object_get(o, "phase"))
                             : "–");
            strbuf_addstr(sb, " | ");
            add_number(sb, json_object_get(o, "limit"), unit != NULL ? unit : "");
            strbuf_addstr(sb, " | ");
            add_number(sb, json_object_get(o, "measured"), unit != NULL ? unit : "");
            strbuf_addf(sb, " | %s", mark(json_is_true(json_object_get(o, "met"))));
            if (reason != NULL) {
                strbuf_addch(sb, ' ');
                add_cell(sb, reason);
            }
            strbuf_addstr(sb, " |\n");
        }
    }
}

static void add_healing_table(struct strbuf *sb, const struct ci_summary *s)
{
    strbuf_addstr(sb, "\n### Healing\n\n");
    if (s->healing_count == 0) {
        strbuf_addstr(sb, "No healing attempt was recorded for this run.\n");
        return;
    }
    strbuf_addstr(sb, "| Attempt | Command | Failure | Strategy | Outcome |\n"
                      "|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->healing_count; i++) {
        const struct ci_healing *h = &s->healing[i];

        strbuf_addf(sb, "| %d | `", h->attempt);
        add_cell(sb, h->command);
        strbuf_addstr(sb, "` | ");
        if (h->category != NULL) {
            add_cell(sb, h->category);
            strbuf_addf(sb, " (exit %d)", h->exit_code);
        } else {
            strbuf_addstr(sb, "–");
        }
        strbuf_addstr(sb, " | ");
        add_cell(sb, h->strategy != NULL ? h->strategy : "–");
        strbuf_addstr(sb, " | ");
        add_cell(sb, h->outcome);
        strbuf_addstr(sb, " |\n");
    }
}

char *ci_summary_markdown(const struct ci_summary *s, const char *marker)
{
    struct strbuf sb = STRBUF_INIT;
    bool passed = ci_summary_passed(s);

    if (marker != NULL)
        strbuf_addf(&sb, "%s\n", marker);
    if (s->count == 0)
        strbuf_addstr(&sb, "## Chaos validation: ⚠️ nothing to judge\n\n");
    else
        strbuf_addf(&sb, "## Chaos validation: %s %s\n\n", mark(passed),
                    passed ? "passed" : "failed");
    strbuf_addf(&sb, "%zu experiment%s", s->count, s->count == 1 ? "" : "s");
    if (s->score >= 0)
        strbuf_addf(&sb, " · resilience score %.1f / 100", s->score);
    if (s->run_url != NULL)
        strbuf_addf(&sb, " · [workflow run](%s)", s->run_url);
    strbuf_addstr(&sb, "\n\n");

    if (s->count > 0)
        add_experiment_table(&sb, s);
    else
        strbuf_addstr(&sb, "No journal or verify result was found for this run: nothing was "
                          "validated.\n");
    add_objectives_table(&sb, s);
    add_healing_table(&sb, s);
    if (s->note_count > 0) {
        strbuf_addstr(&sb, "\n");
        for (size_t i = 0; i < s->note_count; i++)
            strbuf_addf(&sb, "> %s\n", s->notes[i]);
    }
    return strbuf_detach(&sb);
}

char *ci_issue_marker(const char *title)
{
    struct strbuf sb = STRBUF_INIT;

    /* "--" would end the HTML comment early, and '>' could too. */
    strbuf_addstr(&sb, "<!-- aftershock:issue experiment=\"");
    for (const char *p = title; *p != '\0'; p++) {
        if ((*p == '-' && p[1] == '-') || *p == '>' || *p == '"' || *p == '\n')
            strbuf_addch(&sb, '_');
        else
            strbuf_addch(&sb, *p);
    }
    strbuf_addstr(&sb, "\" -->");
    return strbuf_detach(&sb);
}

char *ci_issue_body(const struct ci_summary *s, const struct ci_experiment *e, int streak,
                    const char *branch)
{
    struct strbuf sb = STRBUF_INIT;
    char *marker = ci_issue_marker(e->title);
    char *verdict;
    size_t i;
    json_t *o;

    strbuf_addf(&sb, "%s\nThe chaos experiment **", marker);
    add_cell(&sb, e->title);
    strbuf_addf(&sb, "** failed in %d consecutive run%s on `%s`.\n\n", streak,
                streak == 1 ? "" : "s", branch);
    verdict = ci_experiment_verdict_text(e);
    strbuf_addf(&sb, "- Verdict of the latest run: %s\n", verdict);
    free(verdict);
    json_array_foreach(e->objectives, i, o) {
        if (json_is_true(json_object_get(o, "met")))
            continue;
        strbuf_addstr(&sb, "- Objective missed: ");
        add_cell(&sb, json_string_value(json_object_get(o, "name")));
        if (json_is_string(json_object_get(o, "reason"))) {
            strbuf_addstr(&sb, " (");
            add_cell(&sb, json_string_value(json_object_get(o, "reason")));
            strbuf_addstr(&sb, ")");
        }
        strbuf_addch(&sb, '\n');
    }
    if (s->run_url != NULL)
        strbuf_addf(&sb, "- Latest failing run: %s\n", s->run_url);
    strbuf_addstr(&sb, "\nThis issue is closed automatically when the experiment passes "
                       "again.\n");
    free(marker);
    return strbuf_detach(&sb);
}

void ci_summary_release(struct ci_summary *s)
{
    for (size_t i = 0; i < s->count; i++) {
        struct ci_experiment *e = &s->experiments[i];
        free(e->title);
        free(e->journal_path);
        free(e->verdict);
        json_decref(e->objectives);
        for (size_t t = 0; t < e->trend_count; t++)
            free(e->trend[t]);
    }
    free(s->experiments);
    for (size_t i = 0; i < s->healing_count; i++) {
        free(s->healing[i].command);
        free(s->healing[i].category);
        free(s->healing[i].strategy);
        free(s->healing[i].outcome);
    }
    free(s->healing);
    for (size_t i = 0; i < s->note_count; i++)
        free(s->notes[i]);
    free(s->notes);
    free(s->run_url);
    memset(s, 0, sizeof(*s));
}
