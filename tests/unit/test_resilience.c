/* Unit tests for fault windows, phases, verdicts and the score on synthetic journals. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resilience/resilience.h"

/* Epoch seconds of 2026-12-04T10:00:00Z, the start of every synthetic run. */
#define T0 1796378400.0

static json_t *record(const char *type, const char *name, json_t *provider, double start,
                      double end)
{
    char from[40], to[40];

    snprintf(from, sizeof(from), "2026-12-04T10:00:%09.6fZ", start);
    snprintf(to, sizeof(to), "2026-12-04T10:00:%09.6fZ", end);
    return json_pack("{s:{s:s, s:s, s:o}, s:s, s:s}", "activity", "type", type, "name", name,
                     "provider", provider, "start", from, "end", to);
}

/* One timeline second: ok of n requests succeeded and the rest were reset, all in one
 * histogram bucket. */
static json_t *second(int index, int n, int ok, unsigned bucket)
{
    return json_pack("{s:i, s:i, s:i, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:f}, s:[[i, i]]}",
                     "second", index, "sent", n, "succeeded", ok, "failed", "timeout", 0,
                     "refused", 0, "reset", n - ok, "bad_status", 0, "other", 0, "latency_ms",
                     "max", 1.0, "histogram", bucket, n);
}

/* A journal of 12 s of traffic, 10 requests a second, with these successes per second. */
static json_t *journal(const int *ok, json_t *run, json_t *objectives)
{
    json_t *timeline = json_array();

    for (int i = 0; i < 12; i++)
        json_array_append_new(timeline, second(i, 10, ok[i], 100));
    return json_pack("{s:s, s:s, s:{s:s, s:o}, s:o, s:[], s:{s:f, s:o}}", "status", "completed",
                     "start", "2026-12-04T10:00:00.000000Z", "experiment", "title", "synthetic",
                     "objectives", objectives, "run", run, "rollbacks", "traffic",
                     "start_epoch", T0, "timeline", timeline);
}

static void test_toxic_lasts_until_removed(void **state)
{
    json_t *run = json_pack("[o, o, o]",
                            record("action", "slow", json_pack("{s:s, s:s, s:s}", "type", "toxic",
                                                               "action", "add", "proxy", "web"),
                                   2.0, 2.1),
                            record("probe", "look", json_pack("{s:s}", "type", "http"), 3.0, 3.5),
                            record("action", "heal", json_pack("{s:s, s:s, s:s}", "type", "toxic",
                                                               "action", "remove", "proxy", "web"),
                                   6.0, 6.2));
    json_t *j = json_pack("{s:o, s:[]}", "run", run, "rollbacks");
    struct fault_window *w;
    size_t n = resilience_fault_windows(j, &w);

    (void)state;
    assert_int_equal(n, 1);
    assert_string_equal(w[0].name, "slow");
    assert_true(fabs(w[0].start - (T0 + 2.0)) < 1e-3);
    assert_true(fabs(w[0].end - (T0 + 6.2)) < 1e-3);
    free(w);
    json_decref(j);
}

static void test_stop_without_duration_lasts_to_rollbacks(void **state)
{
    json_t *run = json_pack("[o, o]",
                            record("action", "freeze", json_pack("{s:s, s:s}", "type", "signal",
                                                                 "signal", "STOP"), 1.0, 1.1),
                            record("action", "kill it", json_pack("{s:s}", "type", "process"),
                                   2.0, 3.0));
    json_t *rollbacks = json_pack("[o]", record("action", "undo", json_pack("{s:s}", "type",
                                                                            "process"), 8, 9));
    json_t *j = json_pack("{s:o, s:o}", "run", run, "rollbacks", rollbacks);
    struct fault_window *w;
    size_t n = resilience_fault_windows(j, &w);

    (void)state;
    assert_int_equal(n, 2);
    assert_true(fabs(w[0].end - (T0 + 9.0)) < 1e-3);
    assert_string_equal(w[1].name, "kill it");
    assert_true(fabs(w[1].end - (T0 + 3.0)) < 1e-3);
    free(w);
    json_decref(j);
}

/* Faults 3.0-5.5 s; seconds 3-7 fail half their requests; 8-11 are healthy. */
static const int broken[12] = { 10, 10, 10, 5, 5, 5, 5, 5, 10, 10, 10, 10 };

static json_t *broken_run(void)
{
    return json_pack("[o]", record("action", "break", json_pack("{s:s}", "type", "process"),
                                   3.0, 5.5));
}

static void test_phases_and_verdicts(void **state)
{
    json_t *objectives = json_pack(
        "[{s:s, s:f, s:s, s:f}, {s:s, s:f, s:s}, {s:s, s:s, s:f}, {s:s, s:f, s:f}]",
        "type", "availability", "min_percent", 99.0, "phase", "during", "weight", 3.0,
        "type", "availability", "min_percent", 99.0, "phase", "before",
        "type", "latency", "percentile", "p99", "max_ms", 1.0,
        "type", "recovery", "max_seconds", 2.0, "window", 3.0);
    json_t *j = journal(broken, broken_run(), objectives);
    struct judgement r;
    struct err err;

    (void)state;
    assert_int_equal(resilience_judge(j, "j.json", &r, &err), 0);
    assert_int_equal(r.n, 4);

    /* During: seconds 3, 4 and 5 (5.0-5.5 overlaps the fault): 15 of 30. */
    assert_true(fabs(r.verdicts[0].measured - 50.0) < 1e-9);
    assert_false(r.verdicts[0].met);
    assert_true(fabs(r.verdicts[1].measured - 100.0) < 1e-9);
    assert_true(r.verdicts[1].met);
    /* Bucket 100 contains exactly 100 µs. */
    assert_true(fabs(r.verdicts[2].measured - 0.100) < 1e-9);
    assert_true(r.verdicts[2].met);
    /* Healthy from second 8 on: 8.0 - 5.5 = 2.5 s, over the 2 s limit. */
    assert_true(fabs(r.verdicts[3].measured - 2.5) < 1e-3);
    assert_false(r.verdicts[3].met);

    /* Weights 3, 1, 1, 1: the two met count 2 of 6. */
    assert_true(fabs(r.score - 100.0 * 2 / 6) < 1e-9);
    assert_false(r.passed);
    judgement_release(&r);
    json_decref(j);
}

static const char *phase_of(json_t *j, int index)
{
    json_t *s = json_array_get(json_object_get(json_object_get(j, "traffic"), "timeline"),
                               (size_t)index);
    return json_string_value(json_object_get(s, "phase"));
}

/* A fault that touches a second for a fraction of a millisecond does not make it `during`. */
static void test_sliver_of_a_fault_is_not_during(void **state)
{
    static const int all[12] = { 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10 };
    json_t *run = json_pack("[o]", record("action", "pause", json_pack("{s:s}", "type", "process"),
                                          2.99986, 6.0001));
    json_t *j = journal(all, run, json_array());

    (void)state;
    resilience_mark_phases(j);
    assert_string_equal(phase_of(j, 1), "before");
    assert_string_equal(phase_of(j, 2), "before");
    assert_string_equal(phase_of(j, 3), "during");
    assert_string_equal(phase_of(j, 5), "during");
    assert_string_equal(phase_of(j, 6), "after");
    json_decref(j);
}

/* A fault shorter than RESILIENCE_MIN_OVERLAP counts in the second that contains its middle. */
static void test_short_fault_counts_where_its_middle_is(void **state)
{
    static const int all[12] = { 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10 };
    json_t *run = json_pack("[o]", record("action", "kill", json_pack("{s:s}", "type", "process"),
                                          2.9993, 3.0009));
    json_t *j = journal(all, run, json_array());
    struct fault_window w = { "x", T0 + 4.9995, T0 + 5.0005 };

    (void)state;
    resilience_mark_phases(j);
    assert_string_equal(phase_of(j, 2), "before");
    assert_string_equal(phase_of(j, 3), "during");
    assert_string_equal(phase_of(j, 4), "after");
    /* The middle falls on 5.0: second 5 counts, second 4 does not. */
    assert_false(resilience_fault_in_second(&w, T0 + 4));
    assert_true(resilience_fault_in_second(&w, T0 + 5));
    json_decref(j);
}

static void test_latency_reason_names_the_value_and_limit(void **state)
{
    json_t *objectives = json_pack("[{s:s, s:s, s:f, s:s}]", "type", "latency", "percentile",
                                   "p99", "max_ms", 0.05, "phase", "during");
    json_t *j = journal(broken, broken_run(), objectives);
    struct judgement r;
    struct err err;

    (void)state;
    assert_int_equal(resilience_judge(j, "j.json", &r, &err), 0);
    assert_false(r.verdicts[0].met);
    assert_string_equal(r.verdicts[0].reason,
                        "p99 was 0.1 ms, over the 0.05 ms limit, in phase 'during' (30 requests)");
    judgement_release(&r);
    json_decref(j);
}

/* Reals come out in their shortest form and read back as the same number. */
static void test_json_text_writes_shortest_reals(void **state)
{
    json_t *doc = json_pack("[f, f, f, f, f, f, f, {s:f}]", 200.0 / 3, 0.1 + 0.2, 9.2, 100.0,
                            1e20, -1.5e-7, 0.0, "score", 100.0 * 2 / 6);
    char *text = resilience_json_text(doc);
    json_t *back;
    unsigned seed = 7;

    (void)state;
    assert_string_equal(text, "[\n  66.66666666666667,\n  0.30000000000000004,\n  9.2,\n"
                              "  100.0,\n  1e+20,\n  -1.5e-07,\n  0.0,\n  {\n"
                              "    \"score\": 33.333333333333336\n  }\n]\n");
    free(text);
    json_decref(doc);

    /* Random doubles survive the trip through the text exactly. */
    doc = json_array();
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        double v = ((double)seed / 4294967296.0 - 0.5) * pow(10, (int)(seed % 40) - 20);
        json_array_append_new(doc, json_real(v));
    }
    text = resilience_json_text(doc);
    back = json_loads(text, 0, NULL);
    assert_non_null(back);
    for (size_t i = 0; i < json_array_size(doc); i++)
        assert_true(json_real_value(json_array_get(back, i)) ==
                    json_real_value(json_array_get(doc, i)));
    free(text);
    json_decref(back);
    json_decref(doc);
}

static void test_recovery_needs_a_full_window(void **state)
{
    static const int flapping[12] = { 10, 10, 10, 5, 5, 5, 10, 10, 5, 10, 10, 5 };
    json_t *objectives = json_pack("[{s:s, s:f, s:f}]", "type", "recovery", "max_seconds", 60.0,
                                   "window", 3.0);
    json_t *j = journal(flapping, broken_run(), objectives);
    struct judgement r;
    struct err err;

    (void)state;
    assert_int_equal(resilience_judge(j, "j.json", &r, &err), 0);
    assert_true(isnan(r.verdicts[0].measured));
    assert_false(r.verdicts[0].met);
    assert_non_null(strstr(r.verdicts[0].reason, "before the traffic ended"));
    judgement_release(&r);
    json_decref(j);
}

static void test_no_objectives_scores_full(void **state)
{
    json_t *j = journal(broken, broken_run(), json_array());
    struct judgement r;
    struct err err;

    (void)state;
    assert_int_equal(resilience_judge(j, "j.json", &r, &err), 0);
    assert_int_equal(r.n, 0);
    assert_true(r.passed);
    assert_true(fabs(r.score - 100.0) < 1e-9);
    assert_true(fabs(resilience_overall_score(&r, 1) - 100.0) < 1e-9);
    judgement_release(&r);
    json_decref(j);
}

static void test_invalid_objectives_rejected(void **state)
{
    static const char *const bad[] = {
        "{}", "[1]", "[{}]", "[{\"type\": \"availability\"}]",
        "[{\"type\": \"availability\", \"min_percent\": \"99\"}]",
        "[{\"type\": \"latency\", \"percentile\": \"p95\", \"max_ms\": 1}]",
        "[{\"type\": \"recovery\", \"max_seconds\": -1}]",
        "[{\"type\": \"recovery\", \"max_seconds\": 1, \"phase\": \"after\"}]",
        "[{\"type\": \"availability\", \"min_percent\": 1, \"weight\": 0}]",
        "[{\"type\": \"availability\", \"min_percent\": 1, \"name\": \"\"}]",
        "[{\"type\": \"availability\", \"min_percent\": 1, \"window\": 3}]",
    };
    struct objective *list;
    size_t n;
    struct err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *value = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(value);
        if (objectives_parse(value, &list, &n, &err) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        json_decref(value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_lasts_until_removed),
        cmocka_unit_test(test_stop_without_duration_lasts_to_rollbacks),
        cmocka_unit_test(test_phases_and_verdicts),
        cmocka_unit_test(test_sliver_of_a_fault_is_not_during),
        cmocka_unit_test(test_short_fault_counts_where_its_middle_is),
        cmocka_unit_test(test_latency_reason_names_the_value_and_limit),
        cmocka_unit_test(test_json_text_writes_shortest_reals),
        cmocka_unit_test(test_recovery_needs_a_full_window),
        cmocka_unit_test(test_no_objectives_scores_full),
        cmocka_unit_test(test_invalid_objectives_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
