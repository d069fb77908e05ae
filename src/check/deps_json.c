/* Reading the JSON of `aftershock deps --format json` by its documented schema. */
#include "check/deps_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *copy(const char *s)
{
    char *c;

    if (s == NULL)
        return NULL;
    c = strdup(s);
    if (c == NULL)
        abort();
    return c;
}

static struct deps_missing *add(struct deps_report *report)
{
    struct deps_missing *items =
        realloc(report->missing, (report->count + 1) * sizeof(*items));

    if (items == NULL)
        abort();
    report->missing = items;
    memset(&items[report->count], 0, sizeof(items[0]));
    return &items[report->count++];
}

/* A string, or null when allowed. Returns -1 for any other type. */
static int optional_string(json_t *value, const char **out)
{
    *out = NULL;
    if (value == NULL || json_is_null(value))
        return 0;
    if (!json_is_string(value))
        return -1;
    *out = json_string_value(value);
    return 0;
}

static int read_finding(json_t *item, size_t i, struct deps_report *report, struct err *err)
{
    const char *code = json_string_value(json_object_get(item, "code"));
    const char *path = json_string_value(json_object_get(item, "path"));
    const char *message = json_string_value(json_object_get(item, "message"));
    const char *severity = json_string_value(json_object_get(item, "severity"));
    json_t *line = json_object_get(item, "line");
    json_t *column = json_object_get(item, "column");
    const char *module, *distribution;
    struct deps_missing *m;

    if (!json_is_object(item) || code == NULL || severity == NULL || path == NULL ||
        message == NULL || !json_is_integer(line) || !json_is_integer(column))
        return err_set(err, "findings[%zu] lacks code, severity, path, line, column or message",
                       i);
    /* Without a parse error, the first error-severity finding gives the cause of the deps failure. */
    if (report->first_error == NULL && strcmp(severity, "error") == 0 &&
        asprintf(&report->first_error, "%s:%lld: %s", path, (long long)json_integer_value(line),
                 message) < 0)
        abort();
    if (optional_string(json_object_get(item, "module"), &module) != 0 ||
        optional_string(json_object_get(item, "distribution"), &distribution) != 0)
        return err_set(err, "findings[%zu]: module and distribution must be strings or null", i);
    if (strcmp(code, "DEP001") != 0)
        return 0;
    if (module == NULL)
        return err_set(err, "findings[%zu]: a DEP001 finding must name its module", i);
    m = add(report);
    m->path = copy(path);
    m->line = json_integer_value(line);
    m->column = json_integer_value(column);
    m->module = copy(module);
    m->distribution = copy(distribution);
    m->message = copy(message);
    return 0;
}

static int read_missing(json_t *item, size_t i, bool keep, struct deps_report *report,
                        struct err *err)
{
    const char *distribution = json_string_value(json_object_get(item, "distribution"));
    json_t *declared = json_object_get(item, "declared");
    json_t *modules = json_object_get(item, "modules");
    json_t *module;
    struct deps_missing *m;
    size_t j;

    if (!json_is_object(item) || distribution == NULL || !json_is_boolean(declared) ||
        !json_is_array(modules))
        return err_set(err, "missing[%zu] lacks distribution, declared or modules", i);
    json_array_foreach(modules, j, module) {
        if (!json_is_string(module))
            return err_set(err, "missing[%zu].modules[%zu] is not a string", i, j);
    }
    if (!keep)
        return 0;
    m = add(report);
    m->distribution = copy(distribution);
    m->module = copy(json_string_value(json_array_get(modules, 0)));
    m->declared = json_is_true(declared);
    return 0;
}

static int read_first_error(json_t *errors, struct deps_report *report, struct err *err)
{
    json_t *first = json_array_get(errors, 0);
    const char *path = json_string_value(json_object_get(first, "path"));
    const char *message = json_string_value(json_object_get(first, "message"));
    json_t *line = json_object_get(first, "line");
    json_t *column = json_object_get(first, "column");

    if (first == NULL)
        return 0;
    if (path == NULL || message == NULL || !json_is_integer(line) || !json_is_integer(column))
        return err_set(err, "errors[0] lacks path, line, column or message");
    if (asprintf(&report->first_error, "%s:%lld:%lld: %s", path,
                 (long long)json_integer_value(line), (long long)json_integer_value(column),
                 message) < 0)
        abort();
    return 0;
}

int deps_report_parse(const char *text, size_t len, struct deps_report *report,
                      struct err *err)
{
    json_error_t error;
    json_t *doc = json_loadb(text, len, 0, &error);
    json_t *version, *findings, *missing, *errors, *item;
    size_t i, from_findings;
    int rc = -1;

    memset(report, 0, sizeof(*report));
    if (doc == NULL) {
        err_set(err, "not JSON: %d:%d: %s", error.line, error.column, error.text);
        return -1;
    }
    version = json_object_get(doc, "version");
    findings = json_object_get(doc, "findings");
    missing = json_object_get(doc, "missing");
    errors = json_object_get(doc, "errors");
    if (!json_is_object(doc)) {
        err_set(err, "not a JSON object");
        goto done;
    }
    if (!json_is_integer(version) || json_integer_value(version) != CHECK_DEPS_JSON_VERSION) {
        err_set(err, "schema version %s, not %d: use a 'deps' of the same aftershock build",
                json_is_integer(version) ? "other" : "missing", CHECK_DEPS_JSON_VERSION);
        goto done;
    }
    if (!json_is_array(findings) || !json_is_array(missing) || !json_is_array(errors)) {
        err_set(err, "findings, missing and errors must be lists");
        goto done;
    }
    if (read_first_error(errors, report, err) != 0)
        goto done;
    json_array_foreach(findings, i, item) {
        if (read_finding(item, i, report, err) != 0)
            goto done;
    }
    from_findings = report->count;
    json_array_foreach(missing, i, item) {
        /* The findings name file and line; "missing" is read only without them. */
        if (read_missing(item, i, from_findings == 0, report, err) != 0)
            goto done;
    }
    rc = 0;

done:
    json_decref(doc);
    if (rc != 0)
        deps_report_release(report);
    return rc;
}

void deps_report_release(struct deps_report *report)
{
    for (size_t i = 0; i < report->count; i++) {
        free(report->missing[i].path);
        free(report->missing[i].module);
        free(report->missing[i].distribution);
        free(report->missing[i].message);
    }
    free(report->missing);
    free(report->first_error);
    memset(report, 0, sizeof(*report));
}
