/* Unit tests for the report's period comparison: a store with hand-placed
 * runs, healing attempts and objectives, and every number computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"
#include "store/store.h"

#define DEVIATED_AFTER                                                                      \
    "steady state deviated after the method: probe 'up' did not meet its tolerance"

#define assert_near(actual, expected)                                                       \
    do {                                                                                    \
        double actual_ = (actual), expected_ = (expected);                                  \
        if (fabs(actual_ - expected_) > 1e-6)                                               \
            fail_msg("%s is %.12g, expected %.12g", #actual, actual_, expected_);           \
    } while (0)

struct fixture {
    char dir[64];
    char path[128];
    struct store *store;
    struct report report;
};

static double at(const char *text)
{
    double epoch = 0;
    struct err err;

    if (store_time_parse(text, 0, &epoch, &err) != 0)
        fail_msg("%s", err.msg);
    return epoch;
}

/* Records one run with at most one failure. */
static void add_run(struct store *store, const char *experiment, const char *status,
                    bool deviated, const char *start, double duration, const char *commit,
                    int heal_attempt, const char *category, const char *message)
{
    struct store_failure failure = { category, message, "method", "step" };
    struct store_run run = {
        .experiment = experiment, .status = status, .deviated = deviated, .started = at(start),
        .duration = duration, .commit = commit, .heal_attempt = heal_attempt,
        .failures = &failure, .n_failures = category ? 1 : 0,
    };
    struct err err;

    if (store_record_run(store, &run, NULL, &err) != 0)
        fail_msg("%s", err.msg);
}

static void add_attempt(struct store *store, const char *session, int attempt,
                        const char *start, int exit_code, const char *category,
                        const char *strategy, const char *outcome)
{
    struct store_heal_attempt a = {
        .session = session, .attempt = attempt, .command = "aftershock run chaos/x.yaml",
        .started = at(start), .duration = 1, .exit_code = exit_code, .category = category,
        .strategy = strategy, .strategy_ok = strategy ? 1 : -1, .outcome = outcome,
    };
    struct err err;

    if (store_record_heal_attempt(store, &a, &err) != 0)
        fail_msg("%s", err.msg);
}

static void add_objective(struct store *store, const char *start, bool passed, double weight)
{
    struct store_objective o = { 0, "alpha", NULL, at(start), "availability", "availability",
                                 0.99, passed ? 1.0 : 0.5, passed, weight };
    struct err err;

    if (store_record_objectives(store, &o, 1, &err) != 0)
        fail_msg("%s", err.msg);
}

/* The previous period is 2026-03-01 to 03-08, the report's 03-08 to 03-15. */
static void fill_store(struct store *s)
{
    add_run(s, "alpha", "completed", false, "2026-03-02T10:00Z", 1, "c1", 1, NULL, NULL);
    add_run(s, "alpha", "completed", true, "2026-03-03T10:00Z", 1, "c1", 1, "verdict",
            DEVIATED_AFTER);
    add_run(s, "beta", "completed", false, "2026-03-04T10:00Z", 1, "c1", 1, NULL, NULL);
    add_run(s, "beta", "completed", false, "2026-03-05T10:00Z", 1, "c1", 1, "network",
            "connection refused by 127.0.0.1:8001");

    add_run(s, "alpha", "completed", false, "2026-03-08T09:00Z", 10, "c2", 1, NULL, NULL);
    add_run(s, "alpha", "completed", true, "2026-03-08T12:00Z", 20, "c2", 1, "verdict",
            DEVIATED_AFTER);
    add_run(s, "alpha", "completed", false, "2026-03-09T09:00Z", 30, "c2", 1, NULL, NULL);
    add_run(s, "beta", "failed", false, "2026-03-09T10:00Z", 5, "c2", 1, "verdict",
            "steady state not met before the method: probe 'up' failed: connection refused "
            "by 127.0.0.1:8002");
    add_run(s, "beta", "completed", false, "2026-03-10T10:00Z", 5, "c2", 2, "network",
            "connection refused by 127.0.0.1:8003");
    add_run(s, "beta", "completed", false, "2026-03-10T11:00Z", 5, "c3", 1, "network",
            "connection refused by 127.0.0.1:8004");
    add_run(s, "beta", "completed", false, "2026-03-11T10:00Z", 5, "c3", 1, "timeout",
            "connecting to 127.0.0.1:80 timed out (http://127.0.0.1/)");
    add_run(s, "gamma", "completed", true, "2026-03-12T10:00Z", 100, "c3", 1, "verdict",
            DEVIATED_AFTER);
    add_run(s, "gamma", "interrupted", false, "2026-03-13T10:00Z", 1, "c3", 1, NULL, NULL);
    add_run(s, "gamma", "completed", false, "2026-03-14T10:00Z", 50, NULL, 1, NULL, NULL);
    add_run(s, "beta", "completed", false, "2026-03-14T23:59:59Z", 5, "c3", 1, NULL, NULL);
    /* At the end of the period, so outside it. */
    add_run(s, "alpha", "failed", false, "2026-03-15T00:00Z", 5, "c3", 1, "verdict", "late");

    add_attempt(s, "s0", 1, "2026-03-04T09:50Z", 3, "network", "retry", "retried");
    add_attempt(s, "s0", 2, "2026-03-04T10:00Z", 0, NULL, NULL, "succeeded");
    add_attempt(s, "s1", 1, "2026-03-10T09:50Z", 3, "network", "retry", "retried");
    add_attempt(s, "s1", 2, "2026-03-10T10:00Z", 0, NULL, NULL, "succeeded");
    add_attempt(s, "s2", 1, "2026-03-10T12:00Z", 3, "timeout", "retry", "retried");
    add_attempt(s, "s2", 2, "2026-03-10T12:01Z", 3, "timeout", "retry", "retried");
    add_attempt(s, "s2", 3, "2026-03-10T12:02Z", 3, "timeout", NULL, "gave_up");
    add_attempt(s, "s3", 1, "2026-03-11T12:00Z", 1, "verdict", NULL, "stopped");

    add_objective(s, "2026-03-04T10:00Z", true, 1);
    add_objective(s, "2026-03-09T09:00Z", true, 2);
    add_objective(s, "2026-03-09T09:00Z", false, 1);
    add_objective(s, "2026-03-10T10:00Z", true, 1);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct report_options opts;
    struct err err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_report.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
    if (store_open(f->path, STORE_WRITE, &f->store, &err) != 0)
        return -1;
    fill_store(f->store);
    opts = (struct report_options){ .now = at("2026-03-15T06:00Z"),
                                    .since = at("2026-03-08"), .until = at("2026-03-15"),
                                    .top = 10 };
    if (report_build(f->store, &opts, &f->report, &err) != 0) {
        fprintf(stderr, "report_build: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char command[128];

    report_release(&f->report);
    store_close(f->store);
    snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
    if (system(command) != 0)
        return -1;
    free(f);
    return 0;
}

static void test_period_totals(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->period[1].since_ms, (int64_t)(at("2026-03-01") * 1000));
    assert_int_equal(r->period[1].until_ms, r->period[0].since_ms);
    assert_int_equal(r->totals[0].runs, 11);
    assert_int_equal(r->totals[0].passed, 7);
    assert_int_equal(r->totals[0].deviated, 2);
    assert_int_equal(r->totals[0].failed, 1);
    assert_int_equal(r->totals[0].interrupted, 1);
    assert_int_equal(r->totals[0].healed, 1);
    assert_int_equal(r->totals[1].runs, 4);
    assert_int_equal(r->totals[1].passed, 3);
    assert_int_equal(r->totals[1].deviated, 1);
    assert_int_equal(r->totals[1].failed, 0);
}

static void test_period_trend(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;
    static const int64_t runs[7] = { 2, 2, 2, 1, 1, 1, 2 };
    static const int64_t passed[7] = { 1, 1, 2, 1, 0, 0, 2 };

    assert_int_equal(r->n_days, 7);
    assert_int_equal(r->days[0].day * REPORT_DAY_MS, (int64_t)(at("2026-03-08") * 1000));
    for (int d = 0; d < 7; d++) {
        assert_int_equal(r->days[d].totals.runs, runs[d]);
        assert_int_equal(r->days[d].totals.passed, passed[d]);
    }
    assert_int_equal(r->days[2].totals.healed, 1);
    assert_int_equal(r->days[5].totals.interrupted, 1);
    assert_int_equal(r->days[1].objectives, 2);
    assert_near(r->days[1].weight_passed, 2);
    assert_near(r->days[1].weight, 3);
    assert_int_equal(r->days[0].objectives, 0);
}

static void test_period_categories(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->failures[0], 6);
    assert_int_equal(r->failures[1], 2);
    assert_int_equal(r->n_categories, 3);
    assert_string_equal(r->categories[0].name, "verdict");
    assert_int_equal(r->categories[0].count[0], 3);
    assert_int_equal(r->categories[0].count[1], 1);
    assert_string_equal(r->categories[1].name, "network");
    assert_int_equal(r->categories[1].count[0], 2);
    assert_int_equal(r->categories[1].count[1], 1);
    assert_string_equal(r->categories[2].name, "timeout");
    assert_int_equal(r->categories[2].count[0], 1);
    assert_int_equal(r->categories[2].count[1], 0);
}

static void test_period_signatures(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->n_signatures, 4);
    assert_string_equal(r->signatures[0].signature, "connection refused by <addr>");
    assert_int_equal(r->signatures[0].count[0], 2);
    assert_int_equal(r->signatures[0].count[1], 1);
    assert_int_equal(r->signatures[0].experiments, 1);
    assert_int_equal(r->signatures[0].first_seen_ms, (int64_t)(at("2026-03-05T10:00Z") * 1000));
    assert_int_equal(r->signatures[0].last_seen_ms, (int64_t)(at("2026-03-10T11:00Z") * 1000));
    assert_string_equal(r->signatures[0].example, "connection refused by 127.0.0.1:8003");

    assert_string_equal(r->signatures[1].signature, DEVIATED_AFTER);
    assert_int_equal(r->signatures[1].count[0], 2);
    assert_int_equal(r->signatures[1].experiments, 2);
    assert_int_equal(r->signatures[1].first_seen_ms, (int64_t)(at("2026-03-03T10:00Z") * 1000));
    assert_int_equal(r->signatures[1].last_seen_ms, (int64_t)(at("2026-03-12T10:00Z") * 1000));

    assert_string_equal(r->signatures[2].signature, "connecting to <addr> timed out (<url>)");
    assert_int_equal(r->signatures[2].count[1], 0);
    assert_int_equal(r->signatures[2].first_seen_ms, (int64_t)(at("2026-03-11T10:00Z") * 1000));
    assert_string_equal(r->signatures[3].category, "verdict");
}

static void test_period_flaky_and_recovery(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->n_flaky, 2);
    assert_string_equal(report_experiment(r, r->flaky[0].experiment), "alpha");
    assert_int_equal(r->flaky[0].flips, 2);
    assert_string_equal(report_experiment(r, r->flaky[1].experiment), "beta");
    assert_int_equal(r->flaky[1].flips, 1);
    assert_int_equal(r->flaky[1].commits, 2);
    assert_int_equal(r->n_flaky_previous, 1);

    assert_int_equal(r->recovery[0].incidents, 3);
    assert_int_equal(r->recovery[0].recovered, 3);
    assert_int_equal(r->recovery[0].open, 0);
    assert_near(r->recovery[0].mean_seconds, (75600.0 + 86400.0 + 172800.0) / 3.0);
    assert_near(r->recovery[0].median_seconds, 86400.0);
    assert_near(r->recovery[0].max_seconds, 172800.0);
    assert_int_equal(r->recovery[1].incidents, 1);
    assert_int_equal(r->recovery[1].open, 1);
    assert_true(isnan(r->recovery[1].mean_seconds));
}

static void test_period_slowest(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->n_slowest, 3);
    assert_string_equal(report_experiment(r, r->slowest[0].experiment), "gamma");
    assert_int_equal(r->slowest[0].runs[0], 2);
    assert_int_equal(r->slowest[0].total_ms[0], 150000);
    assert_int_equal(r->slowest[0].max_ms[0], 100000);
    assert_string_equal(report_experiment(r, r->slowest[1].experiment), "alpha");
    assert_int_equal(r->slowest[1].total_ms[0], 60000);
    assert_int_equal(r->slowest[1].runs[1], 2);
    assert_string_equal(report_experiment(r, r->slowest[2].experiment), "beta");
}

static void test_period_healing_and_score(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;

    assert_int_equal(r->n_strategies, 2);
    assert_string_equal(r->strategies[0].category, "network");
    assert_int_equal(r->strategies[0].attempts[0], 1);
    assert_int_equal(r->strategies[0].succeeded[0], 1);
    assert_int_equal(r->strategies[0].attempts[1], 1);
    assert_int_equal(r->strategies[0].succeeded[1], 1);
    assert_string_equal(r->strategies[1].category, "timeout");
    assert_int_equal(r->strategies[1].attempts[0], 2);
    assert_int_equal(r->strategies[1].succeeded[0], 0);

    assert_int_equal(r->healing[0].attempts, 6);
    assert_int_equal(r->healing[0].failed_attempts, 5);
    assert_int_equal(r->healing[0].sessions, 3);
    assert_int_equal(r->healing[0].failed_sessions, 3);
    assert_int_equal(r->healing[0].healed_sessions, 1);
    assert_int_equal(r->healing[0].stopped, 1);
    assert_int_equal(r->healing[1].attempts, 2);
    assert_int_equal(r->healing[1].healed_sessions, 1);

    /* s1: first attempt 09:50, passing attempt 10:00 lasting 1 s. */
    assert_int_equal(r->healing[0].recovered_sessions, 1);
    assert_int_equal(r->healing[0].recovery_total_ms, 601000);
    assert_int_equal(r->healing[0].recovery_max_ms, 601000);
    assert_near(report_healing_mean_recovery(&r->healing[0]), 601.0);
    assert_int_equal(r->healing[1].recovered_sessions, 1);

    assert_int_equal(r->score[0].objectives, 3);
    assert_near(report_score_value(&r->score[0]), 75.0);
    assert_near(report_score_value(&r->score[1]), 100.0);
}

static void test_period_recommendations(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;
    static const char *const expected[] = { "deviations", "score-drop", "flaky", "flaky" };

    assert_int_equal(r->n_recommendations, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(r->recommendations[i].id, expected[i]);
    assert_non_null(strstr(r->recommendations[0].message, "2 of 11 runs (18.2%) deviated"));
    assert_non_null(strstr(r->recommendations[1].message, "fell from 100.0 to 75.0"));
    assert_non_null(strstr(r->recommendations[2].message, "'alpha'"));
    assert_non_null(strstr(r->recommendations[2].message, "flip rate 100.0%"));
}

static void test_period_json_numbers(void **state)
{
    const struct report *r = &((struct fixture *)*state)->report;
    json_t *doc = report_to_json(r);
    json_t *change = json_object_get(json_object_get(doc, "totals"), "change");
    json_t *categories =
        json_object_get(json_object_get(doc, "failure_categories"), "categories");
    json_t *recovery = json_object_get(json_object_get(doc, "recovery"), "current");

    assert_string_equal(json_string_value(json_object_get(doc, "schema")), REPORT_JSON_SCHEMA);
    assert_near(json_real_value(json_object_get(change, "pass_rate")), -0.1136);
    assert_int_equal(json_integer_value(json_object_get(change, "runs")), 7);
    assert_near(json_real_value(json_object_get(json_array_get(categories, 0), "share")), 0.5);
    assert_near(json_real_value(json_object_get(json_array_get(categories, 1), "share")),
                0.3333);
    assert_near(json_real_value(json_object_get(recovery, "mean_seconds")), 111600.0);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "trend"), 1),
                                          "date")), "2026-03-09");
    assert_near(json_real_value(json_object_get(json_array_get(json_object_get(doc, "trend"), 1),
                                                "score")), 66.67);
    assert_true(json_is_false(json_object_get(doc, "empty")));
    json_decref(doc);
}

/* A period with no runs is reported as empty, with a recommendation to check the recording. */
static void test_period_empty(void **state)
{
    struct fixture *f = *state;
    struct report_options opts = { .now = at("2027-01-01"), .since = at("2026-12-01"),
                                   .until = at("2027-01-01"), .top = 5 };
    struct report empty;
    struct err err;
    struct strbuf md = STRBUF_INIT;

    assert_int_equal(report_build(f->store, &opts, &empty, &err), 0);
    assert_int_equal(empty.totals[0].runs, 0);
    assert_int_equal(empty.n_days, 31);
    assert_int_equal(empty.n_recommendations, 1);
    assert_string_equal(empty.recommendations[0].id, "no-runs");
    report_write_markdown(&empty, &md);
    assert_non_null(strstr(strbuf_str(&md), "No runs were recorded in this period"));
    strbuf_release(&md);
    report_release(&empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_period_totals),
        cmocka_unit_test(test_period_trend),
        cmocka_unit_test(test_period_categories),
        cmocka_unit_test(test_period_signatures),
        cmocka_unit_test(test_period_flaky_and_recovery),
        cmocka_unit_test(test_period_slowest),
        cmocka_unit_test(test_period_healing_and_score),
        cmocka_unit_test(test_period_recommendations),
        cmocka_unit_test(test_period_json_numbers),
        cmocka_unit_test(test_period_empty),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
