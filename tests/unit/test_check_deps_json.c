/* Unit tests for reading the JSON of `aftershock deps --format json` in check 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/deps_json.h"

static int parse(const char *text, struct deps_report *report, struct err *err)
{
    return deps_report_parse(text, strlen(text), report, err);
}

#define FINDING(code, severity, module, distribution)                                       \
    "{\"code\": \"" code "\", \"severity\": \"" severity "\", \"path\": \"app.py\", "       \
    "\"line\": 2, \"column\": 8, \"module\": " module ", \"distribution\": " distribution \
    ", \"message\": \"m\"}"

static void test_reads_dep001_findings(void **state)
{
    struct deps_report report;
    struct err err;
    const char *text =
        "{\"version\": 1, \"errors\": [], \"findings\": ["
        FINDING("DEP002", "warning", "null", "\"requests\"") ", "
        FINDING("DEP001", "error", "\"yaml\"", "\"PyYAML\"") ", "
        FINDING("DEP001", "error", "\"foo\"", "null") "],"
        "\"missing\": [{\"distribution\": \"PyYAML\", \"declared\": false, "
        "\"modules\": [\"yaml\"]}]}";

    (void)state;
    assert_int_equal(parse(text, &report, &err), 0);
    assert_int_equal(report.count, 2);
    assert_string_equal(report.missing[0].path, "app.py");
    assert_int_equal(report.missing[0].line, 2);
    assert_int_equal(report.missing[0].column, 8);
    assert_string_equal(report.missing[0].module, "yaml");
    assert_string_equal(report.missing[0].distribution, "PyYAML");
    assert_null(report.missing[1].distribution);
    assert_string_equal(report.first_error, "app.py:2: m");
    deps_report_release(&report);
}

static void test_reads_missing_without_findings(void **state)
{
    struct deps_report report;
    struct err err;
    const char *text =
        "{\"version\": 1, \"findings\": [], \"errors\": [{\"path\": \"old.py\", \"line\": 2, "
        "\"column\": 1, \"message\": \"bad\"}], \"missing\": [{\"distribution\": \"PyYAML\", "
        "\"declared\": true, \"modules\": [\"yaml\", \"_yaml\"]}]}";

    (void)state;
    assert_int_equal(parse(text, &report, &err), 0);
    assert_int_equal(report.count, 1);
    assert_null(report.missing[0].path);
    assert_string_equal(report.missing[0].module, "yaml");
    assert_true(report.missing[0].declared);
    assert_string_equal(report.first_error, "old.py:2:1: bad");
    deps_report_release(&report);
}

/* Field names outside the schema are not guessed at: the reader says what is wrong. */
static void test_rejects_other_shapes(void **state)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        { "", "not JSON" },
        { "[]", "not a JSON object" },
        { "{\"findings\": [], \"missing\": [], \"errors\": []}", "schema version missing" },
        { "{\"version\": 2, \"findings\": [], \"missing\": [], \"errors\": []}",
          "schema version other" },
        { "{\"version\": 1, \"findings\": {}, \"missing\": [], \"errors\": []}", "lists" },
        { "{\"version\": 1, \"findings\": [{\"kind\": \"missing\", \"name\": \"yaml\"}], "
          "\"missing\": [], \"errors\": []}", "findings[0] lacks" },
        { "{\"version\": 1, \"findings\": [" FINDING("DEP001", "error", "null", "null")
          "], \"missing\": [], \"errors\": []}", "must name its module" },
        { "{\"version\": 1, \"findings\": [" FINDING("DEP001", "error", "1", "null")
          "], \"missing\": [], \"errors\": []}", "strings or null" },
        { "{\"version\": 1, \"findings\": [], \"missing\": [\"yaml\"], \"errors\": []}",
          "missing[0] lacks" },
        { "{\"version\": 1, \"findings\": [], \"missing\": [{\"distribution\": \"x\", "
          "\"declared\": false, \"modules\": [3]}], \"errors\": []}", "modules[0]" },
        { "{\"version\": 1, \"findings\": [], \"missing\": [], \"errors\": [\"boom\"]}",
          "errors[0] lacks" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct deps_report report;
        struct err err;

        assert_int_equal(parse(cases[i].text, &report, &err), -1);
        assert_non_null(strstr(err.msg, cases[i].error));
        assert_int_equal(report.count, 0);
        assert_null(report.first_error);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_dep001_findings),
        cmocka_unit_test(test_reads_missing_without_findings),
        cmocka_unit_test(test_rejects_other_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
