/* Verdicts as a table for people, JSON for machines and JUnit XML for CI servers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/resilience.h"
#include "traffic/traffic.h"
#include "util/fsutil.h"
#include "util/redact.h"
#include "util/strbuf.h"

static const char *limit_sign(enum objective_kind kind)
{
    return kind == OBJECTIVE_AVAILABILITY ? ">=" : "<=";
}

static void format_value(char *out, size_t size, double value, enum objective_kind kind)
{
    if (isnan(value))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.*f %s", kind == OBJECTIVE_RECOVERY ? 0 : 2, value,
                 objective_unit(kind));
}

void resilience_print_table(FILE *out, const struct judgement *j)
{
    size_t width = strlen("objective");

    fprintf(out, "%s (%s, status %s)\n", j->title[0] ? j->title : "(untitled)", j->journal_path,
            j->status);
    if (j->n == 0) {
        fprintf(out, "  no objectives declared\n");
        return;
    }
    for (size_t i = 0; i < j->n; i++) {
        if (strlen(j->objectives[i].name) > width)
            width = strlen(j->objectives[i].name);
    }
    fprintf(out, "  %-*s  %-12s  %-12s  %s\n", (int)width, "objective", "limit", "measured",
            "verdict");
    for (size_t i = 0; i < j->n; i++) {
        const struct verdict *v = &j->verdicts[i];
        const struct objective *o = v->objective;
        char limit[48], measured[48], value[40];

        format_value(value, sizeof(value), o->limit, o->kind);
        snprintf(limit, sizeof(limit), "%s %s", limit_sign(o->kind), value);
        format_value(measured, sizeof(measured), v->measured, o->kind);
        fprintf(out, "  %-*s  %-12s  %-12s  %s%s%s\n", (int)width, o->name, limit, measured,
                v->met ? "met" : "MISSED", v->reason[0] ? ": " : "", v->reason);
    }
    fprintf(out, "  resilience score: %.1f\n", j->score);
}

/* One objective in words: "availability during >= 99.5%". */
static void describe_objective(char *out, size_t size, const struct objective *o)
{
    const char *p = objective_percentile_name(o->percentile);

    if (o->kind == OBJECTIVE_AVAILABILITY)
        snprintf(out, size, "availability %s >= %g%%", o->phase, o->limit);
    else if (o->kind == OBJECTIVE_LATENCY)
        snprintf(out, size, "latency %s %s <= %g ms", o->phase, p, o->limit);
    else
        snprintf(out, size, "recovery within %g s", o->limit);
}

static void print_plan_traffic(FILE *out, json_t *traffic)
{
    const char *url = json_string_value(json_object_get(traffic, "url"));
    const char *method = json_string_value(json_object_get(traffic, "method"));
    json_t *connections = json_object_get(traffic, "connections");
    json_t *timeout = json_object_get(traffic, "timeout");
    json_t *tail = json_object_get(traffic, "tail");
    json_t *statuses = json_object_get(traffic, "expected_status");
    bool tcp = url != NULL && strncmp(url, "tcp://", 6) == 0;

    char *redacted_url = redact_text(url != NULL ? url : "?");
    const char *verb = method != NULL ? method : "GET";

    if (tcp)
        verb = "connect";
    fprintf(out, "  traffic: %s %s, %g requests/s, %lld connections, timeout %g s", verb,
            redacted_url,
            json_number_value(json_object_get(traffic, "rate")),
            json_is_integer(connections) ? (long long)json_integer_value(connections)
                                         : (long long)TRAFFIC_DEFAULT_CONNECTIONS,
            json_is_number(timeout) ? json_number_value(timeout) : TRAFFIC_DEFAULT_TIMEOUT);
    free(redacted_url);
    if (json_is_number(tail) && json_number_value(tail) > 0)
        fprintf(out, ", tail %g s", json_number_value(tail));
    if (statuses != NULL) {
        char *text = json_dumps(statuses, JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(out, ", expected status %s", text != NULL ? text : "?");
        free(text);
    }
    size_t headers = json_object_size(json_object_get(traffic, "headers"));
    if (headers > 0)
        fprintf(out, ", %zu header%s", headers, headers == 1 ? "" : "s");
    if (json_object_get(traffic, "body") != NULL)
        fprintf(out, ", with a body");
    fprintf(out, "\n");
}

void resilience_print_plan(FILE *out, json_t *experiment)
{
    json_t *traffic = json_object_get(experiment, "traffic");
    struct objective *list;
    size_t n;
    struct err err;

    if (json_is_object(traffic))
        print_plan_traffic(out, traffic);
    if (json_object_get(experiment, "objectives") == NULL ||
        objectives_parse(json_object_get(experiment, "objectives"), &list, &n, &err) != 0)
        return;
    fprintf(out, "  objectives: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        char text[160];
        describe_objective(text, sizeof(text), &list[i]);
        if (strcmp(text, list[i].name) == 0)
            fprintf(out, "    - %s", text);
        else
            fprintf(out, "    - %s: %s", list[i].name, text);
        if (list[i].kind == OBJECTIVE_RECOVERY)
            fprintf(out, ", window %g s", list[i].window);
        if (list[i].weight != 1)
            fprintf(out, " (weight %g)", list[i].weight);
        fprintf(out, "\n");
    }
    objectives_free(list, n);
}

static json_t *number_or_null(double value)
{
    return isnan(value) ? json_null() : json_real(value);
}

static json_t *experiment_json(const struct judgement *j)
{
    json_t *objectives = json_array();

    for (size_t i = 0; i < j->n; i++) {
        const struct verdict *v = &j->verdicts[i];
        const struct objective *o = v->objective;
        json_array_append_new(
            objectives,
            json_pack("{s:s, s:s, s:o, s:f, s:o, s:s, s:f, s:b, s:o}", "name", o->name, "kind",
                      objective_kind_name(o->kind), "phase",
                      o->kind == OBJECTIVE_RECOVERY ? json_null() : json_string(o->phase),
                      "limit", o->limit, "measured", number_or_null(v->measured), "unit",
                      objective_unit(o->kind), "weight", o->weight, "met", v->met, "reason",
                      v->reason[0] ? json_string(v->reason) : json_null()));
    }
    return json_pack("{s:s, s:s, s:s, s:f, s:b, s:o}", "journal", j->journal_path, "title",
                     j->title, "status", j->status, "score", j->score, "passed", j->passed,
                     "objectives", objectives);
}

json_t *resilience_to_json(const struct judgement *j, size_t n)
{
    json_t *experiments = json_array();
    bool passed = true;

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(experiments, experiment_json(&j[i]));
        passed = passed && j[i].passed;
    }
    return json_pack("{s:o, s:f, s:b}", "experiments", experiments, "score",
                     resilience_overall_score(j, n), "passed", passed);
}

/* Appends text with XML's special characters escaped and control characters
 * that XML 1.0 forbids replaced by a space. */
static void add_xml(struct strbuf *sb, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '&': strbuf_addstr(sb, "&amp;"); break;
        case '<': strbuf_addstr(sb, "&lt;"); break;
        case '>': strbuf_addstr(sb, "&gt;"); break;
        case '"': strbuf_addstr(sb, "&quot;"); break;
        case '\'': strbuf_addstr(sb, "&apos;"); break;
        default:
            strbuf_addch(sb, *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r' ? ' '
                                                                                 : (char)*p);
        }
    }
}

static size_t failures_of(const struct judgement *j)
{
    size_t failures = 0;

    for (size_t i = 0; i < j->n; i++)
        failures += !j->verdicts[i].met;
    return failures;
}

static void add_testcase(struct strbuf *sb, const struct judgement *j, const struct verdict *v)
{
    const struct objective *o = v->objective;
    char limit[48], measured[48], text[512];

    format_value(limit, sizeof(limit), o->limit, o->kind);
    format_value(measured, sizeof(measured), v->measured, o->kind);
    strbuf_addstr(sb, "    <testcase classname=\"aftershock.");
    add_xml(sb, j->title[0] ? j->title : "untitled");
    strbuf_addstr(sb, "\" name=\"");
    add_xml(sb, o->name);
    strbuf_addstr(sb, "\" time=\"0\"");
    if (v->met) {
        strbuf_addstr(sb, "/>\n");
        return;
    }
    snprintf(text, sizeof(text), "measured %s, limit %s %s", measured, limit_sign(o->kind),
             limit);
    strbuf_addf(sb, ">\n      <failure type=\"%s\" message=\"", objective_kind_name(o->kind));
    add_xml(sb, text);
    strbuf_addstr(sb, "\">");
    snprintf(text, sizeof(text), "objective %s: measured %s, limit %s %s, weight %g%s%s",
             objective_kind_name(o->kind), measured, limit_sign(o->kind), limit, o->weight,
             v->reason[0] ? "; " : "", v->reason);
    add_xml(sb, text);
    strbuf_addstr(sb, "</failure>\n    </testcase>\n");
}

/* The shortest decimal that reads back as exactly v, always with a '.' or
 * an exponent so it stays a real. */
static void add_real(struct strbuf *sb, double v)
{
    char text[40];

    /* %g would write 100 as 1e+02. */
    if (fabs(v) < 1e15 && v == trunc(v)) {
        strbuf_addf(sb, "%.1f", v);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(text, sizeof(text), "%.*g", p, v);
        if (strtod(text, NULL) == v)
            break;
    }
    strbuf_addstr(sb, text);
    if (strpbrk(text, ".eE") == NULL)
        strbuf_addstr(sb, ".0");
}

static void add_indent(struct strbuf *sb, int depth)
{
    strbuf_addch(sb, '\n');
    for (int i = 0; i < depth; i++)
        strbuf_addstr(sb, "  ");
}

static void add_value(struct strbuf *sb, json_t *value, int depth)
{
    const char *key;
    json_t *item;
    size_t i, count = 0;
    char *text;

    if (json_is_real(value)) {
        add_real(sb, json_real_value(value));
    } else if (json_is_object(value) && json_object_size(value) > 0) {
        strbuf_addch(sb, '{');
        json_object_foreach(value, key, item) {
            json_t *name = json_string(key);
            strbuf_addstr(sb, count++ > 0 ? "," : "");
            add_indent(sb, depth + 1);
            text = json_dumps(name, JSON_ENCODE_ANY);
            strbuf_addstr(sb, text != NULL ? text : "\"\"");
            strbuf_addstr(sb, ": ");
            free(text);
            json_decref(name);
            add_value(sb, item, depth + 1);
        }
        add_indent(sb, depth);
        strbuf_addch(sb, '}');
    } else if (json_is_array(value) && json_array_size(value) > 0) {
        strbuf_addch(sb, '[');
        json_array_foreach(value, i, item) {
            strbuf_addstr(sb, i > 0 ? "," : "");
            add_indent(sb, depth + 1);
            add_value(sb, item, depth + 1);
        }
        add_indent(sb, depth);
        strbuf_addch(sb, ']');
    } else {
        text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        strbuf_addstr(sb, text != NULL ? text : "null");
        free(text);
    }
}

char *resilience_json_text(json_t *doc)
{
    struct strbuf sb;

    strbuf_init(&sb);
    add_value(&sb, doc, 0);
    strbuf_addch(&sb, '\n');
    return strbuf_detach(&sb);
}

char *resilience_junit_text(const struct judgement *j, size_t n)
{
    struct strbuf sb = STRBUF_INIT;
    size_t tests = 0, failures = 0;

    for (size_t i = 0; i < n; i++) {
        tests += j[i].n;
        failures += failures_of(&j[i]);
    }
    strbuf_addstr(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    strbuf_addf(&sb, "<testsuites name=\"aftershock verify\" tests=\"%zu\" failures=\"%zu\" "
                "errors=\"0\" time=\"0\">\n", tests, failures);
    for (size_t i = 0; i < n; i++) {
        strbuf_addstr(&sb, "  <testsuite name=\"");
        add_xml(&sb, j[i].title[0] ? j[i].title : "untitled");
        strbuf_addf(&sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
                    "time=\"0\">\n", j[i].n, failures_of(&j[i]));
        strbuf_addstr(&sb, "    <properties>\n      <property name=\"journal\" value=\"");
        add_xml(&sb, j[i].journal_path);
        strbuf_addf(&sb, "\"/>\n      <property name=\"resilience_score\" value=\"%.1f\"/>\n"
                    "    </properties>\n", j[i].score);
        for (size_t k = 0; k < j[i].n; k++)
            add_testcase(&sb, &j[i], &j[i].verdicts[k]);
        strbuf_addstr(&sb, "  </testsuite>\n");
    }
    strbuf_addstr(&sb, "</testsuites>\n");
    return strbuf_detach(&sb);
}

int resilience_write_junit(const char *path, const struct judgement *j, size_t n,
                           struct err *err)
{
    char *text = resilience_junit_text(j, n);
    int rc = fs_write_atomic(path, text, strlen(text), err);

    free(text);
    return rc;
}
