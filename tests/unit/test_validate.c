/* Unit tests for experiment validation: every structural problem, refs, providers, runtime, and resolved process paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "experiment/load.h"
#include "experiment/validate.h"

/* A valid experiment that tests extend by appending YAML lines. */
static const char valid_head[] =
    "title: cache pause\n"
    "description: the API keeps answering\n"
    "steady-state-hypothesis:\n"
    "  title: API answers\n"
    "  probes:\n"
    "    - type: probe\n"
    "      name: api-up\n"
    "      tolerance: 200\n"
    "      provider: {type: http, url: \"http://127.0.0.1:8080/\"}\n";

static const char valid_method[] =
    "method:\n"
    "  - type: action\n"
    "    name: start\n"
    "    background: true\n"
    "    provider: {type: process, path: /bin/sleep, arguments: [\"1\"]}\n";

struct validated {
    json_t *experiment;
    struct problems problems;
    int added;
};

static void validate_text(struct validated *out, const char *yaml)
{
    struct err err;

    out->experiment = experiment_parse(yaml, strlen(yaml), "e.yaml", &err);
    if (out->experiment == NULL)
        fail_msg("test YAML does not load: %s", err.msg);
    problems_init(&out->problems, "e.yaml");
    out->added = experiment_validate(out->experiment, &out->problems);
}

/* Validates valid_head + valid_method + extra. */
static void validate_with(struct validated *out, const char *extra)
{
    char text[8192];

    snprintf(text, sizeof(text), "%s%s%s", valid_head, valid_method, extra);
    validate_text(out, text);
}

static void release(struct validated *v)
{
    problems_release(&v->problems);
    json_decref(v->experiment);
}

static void dump_problems(const struct problems *problems)
{
    for (size_t i = 0; i < problems->count; i++)
        print_message("  problem: %s\n", problems->items[i]);
}

/* Fails unless one problem reads "e.yaml: FIELD: ..." and contains message. */
static void assert_problem(const struct validated *v, const char *field, const char *message)
{
    char prefix[512];

    snprintf(prefix, sizeof(prefix), "e.yaml: %s: ", field);
    for (size_t i = 0; i < v->problems.count; i++) {
        const char *item = v->problems.items[i];
        if (strncmp(item, prefix, strlen(prefix)) == 0 && strstr(item, message) != NULL)
            return;
    }
    dump_problems(&v->problems);
    fail_msg("no problem for '%s' containing '%s'", field, message);
}

static void assert_no_problems(const struct validated *v)
{
    if (v->problems.count != 0) {
        dump_problems(&v->problems);
        fail_msg("expected no problem, got %zu", v->problems.count);
    }
    assert_int_equal(v->added, 0);
}

static void test_validate_valid_experiment(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v,
                  "  - type: action\n"
                  "    name: pause\n"
                  "    provider: {type: signal, signal: STOP, process: start, duration: 2}\n"
                  "    pauses: {before: 0, after: 1.5}\n"
                  "  - ref: api-up\n"
                  "rollbacks:\n"
                  "  - type: action\n"
                  "    name: resume\n"
                  "    provider: {type: signal, signal: SIGCONT, pid_file: /tmp/x.pid}\n"
                  "tags: [cache]\n"
                  "version: 1.0.0\n"
                  "configuration: {url: \"http://127.0.0.1\", port: {type: env, key: PORT, "
                  "env_var_type: int, default: 1}}\n"
                  "secrets: {api: {token: {type: env, key: TOKEN}, inline: x}}\n"
                  "runtime: {rollbacks: {strategy: deviated}, hypothesis: {strategy: "
                  "continuously, frequency: 2, fail_fast: true}}\n"
                  "controls: [{name: tracing, provider: {type: python, module: x}}]\n"
                  "extensions: [{name: vendor, data: 1}]\n"
                  "contributions: {reliability: high}\n");
    assert_no_problems(&v);
    release(&v);
}

static void test_validate_missing_title_and_description(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, "method: [{type: action, name: a, provider: {type: process, path: ls}}]\n");
    assert_int_equal(v.added, 2);
    assert_problem(&v, "title", "required field is missing");
    assert_problem(&v, "description", "required field is missing");
    release(&v);

    validate_text(&v, "title: 5\ndescription: \"\"\n"
                      "method: [{type: action, name: a, provider: {type: process, path: ls}}]\n");
    assert_problem(&v, "title", "must be a string, not an integer");
    assert_problem(&v, "description", "must not be empty");
    release(&v);
}

static void test_validate_missing_method(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, valid_head);
    assert_int_equal(v.added, 1);
    assert_problem(&v, "method", "required field is missing");
    release(&v);

    validate_with(&v, "");
    assert_no_problems(&v);
    release(&v);

    validate_text(&v, "title: t\ndescription: d\nmethod: []\n");
    assert_problem(&v, "method", "must hold at least one activity");
    release(&v);

    validate_text(&v, "title: t\ndescription: d\nmethod: {a: 1}\n");
    assert_problem(&v, "method", "must be a list of activities, not a mapping");
    release(&v);
}

static void test_validate_hypothesis_without_title(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, "title: t\ndescription: d\nsteady-state-hypothesis:\n  probes: []\n"
                      "method: [{type: action, name: a, provider: {type: process, path: ls}}]\n");
    assert_int_equal(v.added, 1);
    assert_problem(&v, "steady-state-hypothesis.title", "required field is missing");
    release(&v);

    validate_text(&v, "title: t\ndescription: d\nsteady-state-hypothesis: [1]\n"
                      "method: [{type: action, name: a, provider: {type: process, path: ls}}]\n");
    assert_problem(&v, "steady-state-hypothesis", "must be a mapping with a title and probes");
    release(&v);

    validate_text(&v, "title: t\ndescription: d\nsteady-state-hypothesis: {title: h}\n"
                      "method: [{type: action, name: a, provider: {type: process, path: ls}}]\n");
    assert_problem(&v, "steady-state-hypothesis.probes", "required field is missing");
    release(&v);
}

static void test_validate_hypothesis_probe_without_tolerance(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, "title: t\ndescription: d\nsteady-state-hypothesis:\n  title: h\n"
                      "  probes:\n    - {type: probe, name: p, provider: {type: http, url: u}}\n"
                      "    - {type: action, name: q, tolerance: 0, provider: {type: process, "
                      "path: ls}}\n"
                      "method: [{ref: p}]\n");
    assert_int_equal(v.added, 2);
    assert_problem(&v, "steady-state-hypothesis.probes[0].tolerance",
                   "required field is missing (a hypothesis probe needs a tolerance)");
    assert_problem(&v, "steady-state-hypothesis.probes[1].type",
                   "the steady-state hypothesis holds only probes");
    release(&v);
}

static void test_validate_tolerance_invalid(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, "title: t\ndescription: d\nsteady-state-hypothesis:\n  title: h\n"
                      "  probes:\n"
                      "    - {type: probe, name: a, tolerance: 0.5, provider: {type: http, url: u}}\n"
                      "    - {type: probe, name: b, tolerance: {type: regex, pattern: \"(\"}, "
                      "provider: {type: http, url: u}}\n"
                      "    - {type: probe, name: c, tolerance: [], provider: {type: http, url: u}}\n"
                      "    - {type: probe, name: d, tolerance: {type: jsonpath, path: \"$[(x)]\"}, "
                      "provider: {type: http, url: u}}\n"
                      "    - {ref: a}\n"
                      "method: [{ref: a, tolerance: 1.5}]\n");
    assert_problem(&v, "steady-state-hypothesis.probes[0].tolerance",
                   "float tolerance 0.5 is not supported");
    assert_problem(&v, "steady-state-hypothesis.probes[1].tolerance", "invalid regex pattern '('");
    assert_problem(&v, "steady-state-hypothesis.probes[2].tolerance",
                   "an empty list tolerance matches nothing");
    assert_problem(&v, "steady-state-hypothesis.probes[3].tolerance", "script expressions");
    assert_problem(&v, "steady-state-hypothesis.probes[4].tolerance",
                   "a hypothesis probe needs a tolerance");
    assert_int_equal(v.added, 5);
    release(&v);
}

static void test_validate_activity_without_name_or_type(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {provider: {type: process, path: ls}}\n"
                      "  - 5\n"
                      "  - {type: action, name: \"\", provider: {type: process, path: ls}}\n");
    assert_problem(&v, "method[1].name", "required field is missing");
    assert_problem(&v, "method[1].type", "required field is missing (probe or action)");
    assert_problem(&v, "method[2]", "must be a mapping with type, name and provider, not an "
                                    "integer");
    assert_problem(&v, "method[3].name", "must not be empty");
    assert_int_equal(v.added, 4);
    release(&v);
}

static void test_validate_type_not_probe_or_action(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: fault, name: f, provider: {type: process, path: ls}}\n"
                      "  - {type: 1, name: g, provider: {type: process, path: ls}}\n");
    assert_problem(&v, "method[1].type", "must be probe or action, not 'fault'");
    assert_problem(&v, "method[2].type", "must be probe or action, not an integer");
    release(&v);
}

static void test_validate_unknown_provider_type(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: grpc}}\n"
                      "  - {type: action, name: b, provider: {url: x}}\n"
                      "  - {type: action, name: c}\n"
                      "  - {type: action, name: d, provider: [1]}\n");
    assert_problem(&v, "method[1].provider.type",
                   "'grpc' is not a known provider type (use one of: http, process, signal, toxic, traffic, stress)");
    assert_problem(&v, "method[2].provider.type", "required field is missing");
    assert_problem(&v, "method[3].provider", "required field is missing");
    assert_problem(&v, "method[4].provider", "must be a mapping with a type, not a list");
    release(&v);
}

static void test_validate_python_provider_explained(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: p, provider: {type: python, module: os, func: "
                      "remove}}\n");
    assert_int_equal(v.added, 1);
    assert_problem(&v, "method[1].provider.type",
                   "python providers are not supported, because aftershock does not run Python "
                   "code");
    release(&v);
}

static void test_validate_missing_provider_fields(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: probe, name: h, provider: {type: http}}\n"
                      "  - {type: action, name: p, provider: {type: process}}\n"
                      "  - {type: action, name: s, provider: {type: signal}}\n"
                      "  - {type: action, name: u, provider: {type: http, url: 5}}\n");
    assert_problem(&v, "method[1].provider.url", "required field is missing");
    assert_problem(&v, "method[2].provider.path", "required field is missing");
    assert_problem(&v, "method[3].provider.signal", "required field is missing");
    assert_problem(&v, "method[3].provider", "needs one of pid, pid_file or process");
    assert_problem(&v, "method[4].provider.url", "must be a string, not an integer");
    assert_int_equal(v.added, 5);
    release(&v);
}

static void test_validate_unknown_ref(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - ref: nowhere\n"
                      "  - ref: later\n"
                      "  - ref: 5\n"
                      "  - {type: action, name: later, provider: {type: process, path: ls}}\n"
                      "  - ref: start\n"
                      "  - ref: api-up\n"
                      "rollbacks: [{ref: later}]\n");
    assert_problem(&v, "method[1].ref", "unknown ref 'nowhere'");
    assert_problem(&v, "method[2].ref", "'later' is declared after this ref");
    assert_problem(&v, "method[3].ref", "must be the name of an activity declared earlier");
    assert_int_equal(v.added, 3);
    release(&v);
}

static void test_validate_pauses_not_numbers(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: process, path: ls},"
                      " pauses: {before: soon, after: -1}}\n"
                      "  - {type: action, name: b, provider: {type: process, path: ls},"
                      " pauses: 5}\n"
                      "  - {type: action, name: c, provider: {type: process, path: ls},"
                      " pauses: {after: \"${wait}\"}}\n");
    assert_problem(&v, "method[1].pauses.before", "must be a number of seconds, not a string");
    assert_problem(&v, "method[1].pauses.after", "must not be negative");
    assert_problem(&v, "method[2].pauses", "must be a mapping with before and/or after");
    assert_int_equal(v.added, 3);
    release(&v);
}

static void test_validate_runtime_strategies(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "runtime:\n  rollbacks: {strategy: sometimes}\n"
                      "  hypothesis: {strategy: often, frequency: 0, fail_fast: maybe}\n");
    assert_problem(&v, "runtime.rollbacks.strategy",
                   "'sometimes' is not a valid strategy (use default, always, never or deviated)");
    assert_problem(&v, "runtime.hypothesis.strategy",
                   "'often' is not a valid strategy (use default, before-method-only, "
                   "after-method-only, during-method-only or continuously)");
    assert_problem(&v, "runtime.hypothesis.frequency", "must be greater than 0");
    assert_problem(&v, "runtime.hypothesis.fail_fast", "must be true or false, not a string");
    assert_int_equal(v.added, 4);
    release(&v);

    validate_with(&v, "runtime: {rollbacks: {strategy: 3}, hypothesis: []}\n");
    assert_problem(&v, "runtime.rollbacks.strategy", "must be a string");
    assert_problem(&v, "runtime.hypothesis", "must be a mapping with a strategy");
    release(&v);

    static const char *const good[] = { "default", "before-method-only", "after-method-only",
                                        "during-method-only", "continuously" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char extra[256];
        snprintf(extra, sizeof(extra),
                 "runtime: {rollbacks: {strategy: %s}, hypothesis: {strategy: %s}}\n",
                 i < 4 ? (const char *[]){ "default", "always", "never", "deviated" }[i] : "never",
                 good[i]);
        validate_with(&v, extra);
        assert_no_problems(&v);
        release(&v);
    }
}

static void test_validate_http_timeouts(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: probe, name: a, provider: {type: http, url: u, timeout: fast}}\n"
                      "  - {type: probe, name: b, provider: {type: http, url: u, timeout: [1]}}\n"
                      "  - {type: probe, name: c, provider: {type: http, url: u, timeout: [1, x]}}\n"
                      "  - {type: probe, name: d, provider: {type: http, url: u, timeout: 0}}\n"
                      "  - {type: probe, name: e, provider: {type: http, url: u, timeout: [1, 2.5]}}\n"
                      "  - {type: probe, name: f, provider: {type: process, path: ls, timeout: [1, 2]}}\n");
    assert_problem(&v, "method[1].provider.timeout",
                   "must be a number of seconds or a list [connect, read], not a string");
    assert_problem(&v, "method[2].provider.timeout", "a list [connect, read] of two numbers");
    assert_problem(&v, "method[3].provider.timeout[1]", "must be a number of seconds");
    assert_problem(&v, "method[4].provider.timeout", "must be greater than 0");
    assert_problem(&v, "method[6].provider.timeout", "must be a number of seconds, not a list");
    assert_int_equal(v.added, 5);
    release(&v);
}

static void test_validate_expected_status_not_integer(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: probe, name: a, provider: {type: http, url: u, "
                      "expected_status: \"200\"}}\n"
                      "  - {type: probe, name: b, provider: {type: http, url: u, "
                      "expected_status: 200.5}}\n"
                      "  - {type: probe, name: c, provider: {type: http, url: u, "
                      "expected_status: 999}}\n"
                      "  - {type: probe, name: d, provider: {type: http, url: u, "
                      "expected_status: 204, method: POST, headers: {X-A: b, X-N: 1}, "
                      "arguments: {q: 1}, verify_tls: false}}\n");
    assert_problem(&v, "method[1].provider.expected_status",
                   "must be an integer HTTP status such as 200, not a string");
    assert_problem(&v, "method[2].provider.expected_status", "not a float");
    assert_problem(&v, "method[3].provider.expected_status", "999 is not an HTTP status");
    assert_int_equal(v.added, 3);
    release(&v);
}

static void test_validate_http_other_fields(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: probe, name: a, provider: {type: http, url: u, method: 5,"
                      " headers: [1], arguments: x, verify_tls: 1}}\n"
                      "  - {type: probe, name: b, provider: {type: http, url: u,"
                      " headers: {X-A: [1]}}}\n");
    assert_problem(&v, "method[1].provider.method", "must be a string");
    assert_problem(&v, "method[1].provider.headers", "must be a mapping of header names");
    assert_problem(&v, "method[1].provider.arguments", "must be a mapping of parameter names");
    assert_problem(&v, "method[1].provider.verify_tls", "must be true or false");
    assert_problem(&v, "method[2].provider.headers.X-A", "must be a string, not a list");
    assert_int_equal(v.added, 5);
    release(&v);
}

static void test_validate_process_arguments(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: process, path: ls, arguments: \"-l /\"}}\n"
                      "  - {type: action, name: b, provider: {type: process, path: ls, arguments: {-l: \"\"}}}\n"
                      "  - {type: action, name: c, provider: {type: process, path: ls, arguments: [[1]]}}\n"
                      "  - {type: action, name: d, provider: {type: process, path: ls, arguments: 5}}\n");
    assert_problem(&v, "method[3].provider.arguments[0]", "must be a string, number or boolean");
    assert_problem(&v, "method[4].provider.arguments", "must be a string, a list of strings");
    assert_int_equal(v.added, 2);
    release(&v);
}

static void test_validate_background_not_bool(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, background: \"yes\", provider: {type: process, "
                      "path: ls}}\n"
                      "  - {type: action, name: b, background: 1, provider: {type: process, "
                      "path: ls}}\n"
                      "  - {type: action, name: c, background: no, provider: {type: process, "
                      "path: ls}}\n");
    assert_problem(&v, "method[1].background", "must be true or false, not a string");
    assert_problem(&v, "method[2].background", "must be true or false, not an integer");
    assert_int_equal(v.added, 2);
    release(&v);
}

static void test_validate_signal_names(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: signal, signal: TERM, pid: 1}}\n"
                      "  - {type: action, name: b, provider: {type: signal, signal: SIGTERM, pid: 1}}\n"
                      "  - {type: action, name: c, provider: {type: signal, signal: 9, pid: 1}}\n"
                      "  - {type: action, name: d, provider: {type: signal, signal: \"15\", pid: 1}}\n"
                      "  - {type: action, name: e, provider: {type: signal, signal: sigusr1, pid: 1}}\n"
                      "  - {type: action, name: f, provider: {type: signal, signal: SIGBOGUS, pid: 1}}\n"
                      "  - {type: action, name: g, provider: {type: signal, signal: 0, pid: 1}}\n"
                      "  - {type: action, name: h, provider: {type: signal, signal: 65, pid: 1}}\n"
                      "  - {type: action, name: i, provider: {type: signal, signal: [TERM], pid: 1}}\n");
    assert_problem(&v, "method[6].provider.signal", "'SIGBOGUS' is not a known signal");
    assert_problem(&v, "method[7].provider.signal", "must be a signal name or a number from 1 to 64");
    assert_problem(&v, "method[8].provider.signal", "must be a signal name or a number");
    assert_problem(&v, "method[9].provider.signal", "must be a signal name or a number");
    assert_int_equal(v.added, 4);
    release(&v);
}

static void test_validate_signal_number_lookup(void **state)
{
    json_t *value;

    (void)state;
    value = json_string("TERM");
    assert_int_equal(experiment_signal_number(value), 15);
    json_decref(value);
    value = json_string("SigStop");
    assert_int_equal(experiment_signal_number(value), 19);
    json_decref(value);
    value = json_integer(9);
    assert_int_equal(experiment_signal_number(value), 9);
    json_decref(value);
    value = json_string("12abc");
    assert_int_equal(experiment_signal_number(value), -1);
    json_decref(value);
    value = json_true();
    assert_int_equal(experiment_signal_number(value), -1);
    json_decref(value);
}

static void test_validate_signal_duration_only_with_stop(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: signal, signal: TERM, pid: 1, "
                      "duration: 5}}\n"
                      "  - {type: action, name: b, provider: {type: signal, signal: SIGSTOP, pid: 1, "
                      "duration: 5}}\n"
                      "  - {type: action, name: c, provider: {type: signal, signal: 19, pid: 1, "
                      "duration: -1}}\n");
    assert_problem(&v, "method[1].provider.duration", "duration applies only to signal STOP");
    assert_problem(&v, "method[3].provider.duration", "must be greater than 0");
    assert_int_equal(v.added, 2);
    release(&v);
}

static void test_validate_signal_targets(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, provider: {type: signal, signal: TERM, pid: 1, "
                      "pid_file: /x}}\n"
                      "  - {type: action, name: b, provider: {type: signal, signal: TERM, pid: 0}}\n"
                      "  - {type: action, name: c, provider: {type: signal, signal: TERM, "
                      "process: nothing}}\n"
                      "  - {type: action, name: d, provider: {type: signal, signal: TERM, "
                      "process: a}}\n"
                      "  - {type: action, name: e, provider: {type: signal, signal: TERM, "
                      "process: late}}\n"
                      "  - {type: action, name: f, provider: {type: signal, signal: TERM, "
                      "process: start}}\n"
                      "  - {type: action, name: g, provider: {type: signal, signal: TERM, "
                      "pid_file: \"\"}}\n"
                      "  - {type: action, name: late, provider: {type: process, path: ls}}\n");
    assert_problem(&v, "method[1].provider", "give only one of pid, pid_file or process");
    assert_problem(&v, "method[2].provider.pid", "must be a positive integer");
    assert_problem(&v, "method[3].provider.process", "no activity named 'nothing' is declared");
    assert_problem(&v, "method[4].provider.process",
                   "'a' is not an activity with a process provider");
    assert_problem(&v, "method[5].provider.process", "'late' is declared after this activity");
    assert_problem(&v, "method[7].provider.pid_file", "must not be empty");
    assert_int_equal(v.added, 6);
    release(&v);
}

static void test_validate_tags_not_strings(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "tags: [a, 1, {b: c}]\n");
    assert_problem(&v, "tags[1]", "must be a string, not an integer");
    assert_problem(&v, "tags[2]", "must be a string, not a mapping");
    assert_int_equal(v.added, 2);
    release(&v);

    validate_with(&v, "tags: cache\n");
    assert_problem(&v, "tags", "must be a list of strings, not a string");
    release(&v);
}

static void test_validate_configuration_shape(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "configuration: [a, b]\n");
    assert_problem(&v, "configuration", "must be a mapping of names to values, not a list");
    release(&v);

    validate_with(&v, "configuration:\n  a: {type: env}\n  b: {type: env, key: X, "
                      "env_var_type: date}\n  c: {type: probe, provider: {type: http, url: u}}\n"
                      "  d: {type: other, anything: 1}\n  e: [1, 2]\n");
    assert_problem(&v, "configuration.a.key", "required field is missing");
    assert_problem(&v, "configuration.b.env_var_type", "must be one of str, int, float, bool or "
                                                       "json");
    assert_problem(&v, "configuration.c", "dynamic configuration (type: probe) is not supported");
    assert_int_equal(v.added, 3);
    release(&v);
}

static void test_validate_secrets_shape(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "secrets: [token]\n");
    assert_problem(&v, "secrets", "must be a mapping of scopes");
    release(&v);

    validate_with(&v, "secrets:\n  flat: abc\n  api:\n    a: {type: env}\n"
                      "    b: {type: vault, path: secret/x}\n    c: plain\n");
    assert_problem(&v, "secrets.flat", "must be a mapping of secret names to values, not a string");
    assert_problem(&v, "secrets.api.a.key", "required field is missing");
    assert_problem(&v, "secrets.api.b", "vault secrets are not supported");
    assert_int_equal(v.added, 3);
    release(&v);
}

static void test_validate_rollbacks_shape(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "rollbacks: {type: action}\n");
    assert_problem(&v, "rollbacks", "must be a list of activities, not a mapping");
    release(&v);

    validate_with(&v, "rollbacks: []\n");
    assert_no_problems(&v);
    release(&v);
}

static void test_validate_controls_and_extensions_ignored(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "controls: 5\nextensions: {odd: shape}\ncontributions: [x]\n"
                      "x-custom: {anything: [1]}\n");
    assert_no_problems(&v);
    release(&v);
}

static void test_validate_collects_every_problem(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v, "steady-state-hypothesis: {probes: [{type: probe, name: p, provider: "
                      "{type: http}}]}\nmethod: [{type: x}]\ntags: 1\n"
                      "runtime: {rollbacks: {strategy: no}}\n");
    /* title, description, hypothesis title, tolerance, url, type, name,
     * provider, tags and strategy: one problem each. */
    assert_int_equal(v.added, 10);
    assert_int_equal(v.problems.count, 10);
    release(&v);
}

static void test_validate_not_a_mapping(void **state)
{
    struct problems problems;
    json_t *list = json_array();

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_validate(list, &problems), 1);
    assert_string_equal(problems.items[0], "e.yaml: an experiment must be a mapping, not a list");
    problems_release(&problems);
    json_decref(list);
}

static void test_validate_defers_references(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - type: action\n"
                      "    name: ref-values\n"
                      "    background: \"${bg}\"\n"
                      "    pauses: {before: \"${wait}\"}\n"
                      "    provider: {type: http, url: \"${url}\", timeout: \"${t}\", "
                      "expected_status: \"${code}\"}\n"
                      "  - {type: action, name: sig, provider: {type: signal, signal: \"${sig}\", "
                      "pid: \"${pid}\"}}\n"
                      "  - {type: action, name: escaped, background: \"$${bg}\", "
                      "provider: {type: process, path: \"${tool}\"}}\n");
    /* Only the escaped value, which is a literal string, is checked. */
    assert_int_equal(v.added, 1);
    assert_problem(&v, "method[3].background", "must be true or false, not a string");
    release(&v);
}

static void test_validate_resolved_checks_substituted_values(void **state)
{
    struct validated v;

    (void)state;
    validate_with(&v, "  - {type: action, name: a, background: \"${bg}\", provider: "
                      "{type: http, url: u, timeout: \"${t}\"}}\n");
    assert_no_problems(&v);
    /* Substitution left strings where a bool and a number belong. */
    json_t *activity = json_array_get(json_object_get(v.experiment, "method"), 1);
    json_object_set_new(activity, "background", json_string("maybe"));
    json_object_set_new(json_object_get(activity, "provider"), "timeout", json_string("slow"));
    assert_int_equal(experiment_validate_resolved(v.experiment, "/", &v.problems), 2);
    assert_problem(&v, "method[1].background", "must be true or false");
    assert_problem(&v, "method[1].provider.timeout", "must be a number of seconds");
    release(&v);
}

/* Creates a scratch folder holding an executable, a plain file and a folder. */
static char *make_scratch(void)
{
    char *dir = strdup("/tmp/test_validate_XXXXXX");
    char path[512];
    FILE *f;

    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/run.sh", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/plain.txt", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/folder", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    return dir;
}

static void remove_scratch(char *dir)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/run.sh", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/plain.txt", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/folder", dir);
    rmdir(path);
    rmdir(dir);
    free(dir);
}

static void test_validate_resolved_process_paths(void **state)
{
    char *dir = make_scratch();
    char text[4096];
    struct validated v;

    (void)state;
    snprintf(text, sizeof(text),
             "%s"
             "method:\n"
             "  - {type: action, name: a, provider: {type: process, path: ./run.sh}}\n"
             "  - {type: action, name: b, provider: {type: process, path: %s/run.sh}}\n"
             "  - {type: action, name: c, provider: {type: process, path: sh}}\n"
             "  - {type: action, name: d, provider: {type: process, path: ./missing.sh}}\n"
             "  - {type: action, name: e, provider: {type: process, path: plain.txt/..}}\n"
             "  - {type: action, name: f, provider: {type: process, path: ./plain.txt}}\n"
             "  - {type: action, name: g, provider: {type: process, path: ./folder}}\n"
             "  - {type: action, name: h, provider: {type: process, path: no-such-tool-x}}\n"
             "rollbacks:\n"
             "  - {type: action, name: r, provider: {type: process, path: /nonexistent/x}}\n",
             valid_head, dir);
    validate_text(&v, text);
    assert_no_problems(&v);
    assert_int_equal(experiment_validate_resolved(v.experiment, dir, &v.problems), 6);
    assert_problem(&v, "method[3].provider.path", "'./missing.sh' (resolved to '");
    assert_problem(&v, "method[3].provider.path", "/missing.sh') does not exist");
    assert_problem(&v, "method[4].provider.path", "'plain.txt/..' (resolved to");
    assert_problem(&v, "method[5].provider.path", "'./plain.txt' is not executable");
    assert_problem(&v, "method[6].provider.path", "'./folder' is a folder");
    assert_problem(&v, "method[7].provider.path", "'no-such-tool-x' was not found as an "
                                                  "executable in PATH");
    assert_problem(&v, "rollbacks[0].provider.path", "'/nonexistent/x' (resolved to "
                                                     "'/nonexistent/x') does not exist");
    release(&v);
    remove_scratch(dir);
}

static void test_validate_resolved_path_lookup_uses_path(void **state)
{
    char *dir = make_scratch();
    char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char text[2048];
    struct validated v;

    (void)state;
    snprintf(text, sizeof(text), "%smethod: [{type: action, name: a, provider: {type: process, "
                                 "path: run.sh}}]\n",
             valid_head);
    validate_text(&v, text);
    assert_int_equal(experiment_validate_resolved(v.experiment, "/", &v.problems), 1);
    setenv("PATH", dir, 1);
    assert_int_equal(experiment_validate_resolved(v.experiment, "/", &v.problems), 0);
    if (saved != NULL)
        setenv("PATH", saved, 1);
    free(saved);
    release(&v);
    remove_scratch(dir);
}

static void test_validate_unknown_keys_rejected(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v,
                  "title: t\n"
                  "description: d\n"
                  "runtime:\n"
                  "  rollback: {strategy: never}\n"
                  "  hypothesis: {strategy: default, frequncy: 2}\n"
                  "method:\n"
                  "  - type: action\n"
                  "    name: pause\n"
                  "    backgroud: true\n"
                  "    provider: {type: signal, signal: STOP, pid: 4242, duraton: 2}\n");
    assert_problem(&v, "runtime", "unknown field 'rollback'");
    assert_problem(&v, "runtime.hypothesis", "unknown field 'frequncy'");
    assert_problem(&v, "method[0]", "unknown field 'backgroud'");
    assert_problem(&v, "method[0].provider", "unknown field 'duraton'");
    release(&v);
}

static void test_validate_argument_item_named(void **state)
{
    struct validated v;

    (void)state;
    validate_text(&v,
                  "title: t\n"
                  "description: d\n"
                  "method:\n"
                  "  - type: action\n"
                  "    name: a\n"
                  "    provider: {type: process, path: /bin/echo, arguments: [x, 5, true, [1]]}\n");
    assert_problem(&v, "method[0].provider.arguments[3]", "not a list");
    assert_int_equal(v.problems.count, 1);
    release(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_valid_experiment),
        cmocka_unit_test(test_validate_missing_title_and_description),
        cmocka_unit_test(test_validate_missing_method),
        cmocka_unit_test(test_validate_hypothesis_without_title),
        cmocka_unit_test(test_validate_hypothesis_probe_without_tolerance),
        cmocka_unit_test(test_validate_tolerance_invalid),
        cmocka_unit_test(test_validate_activity_without_name_or_type),
        cmocka_unit_test(test_validate_type_not_probe_or_action),
        cmocka_unit_test(test_validate_unknown_provider_type),
        cmocka_unit_test(test_validate_python_provider_explained),
        cmocka_unit_test(test_validate_missing_provider_fields),
        cmocka_unit_test(test_validate_unknown_ref),
        cmocka_unit_test(test_validate_pauses_not_numbers),
        cmocka_unit_test(test_validate_runtime_strategies),
        cmocka_unit_test(test_validate_http_timeouts),
        cmocka_unit_test(test_validate_expected_status_not_integer),
        cmocka_unit_test(test_validate_http_other_fields),
        cmocka_unit_test(test_validate_process_arguments),
        cmocka_unit_test(test_validate_background_not_bool),
        cmocka_unit_test(test_validate_signal_names),
        cmocka_unit_test(test_validate_signal_number_lookup),
        cmocka_unit_test(test_validate_signal_duration_only_with_stop),
        cmocka_unit_test(test_validate_signal_targets),
        cmocka_unit_test(test_validate_tags_not_strings),
        cmocka_unit_test(test_validate_configuration_shape),
        cmocka_unit_test(test_validate_secrets_shape),
        cmocka_unit_test(test_validate_rollbacks_shape),
        cmocka_unit_test(test_validate_controls_and_extensions_ignored),
        cmocka_unit_test(test_validate_collects_every_problem),
        cmocka_unit_test(test_validate_not_a_mapping),
        cmocka_unit_test(test_validate_defers_references),
        cmocka_unit_test(test_validate_resolved_checks_substituted_values),
        cmocka_unit_test(test_validate_resolved_process_paths),
        cmocka_unit_test(test_validate_resolved_path_lookup_uses_path),
        cmocka_unit_test(test_validate_unknown_keys_rejected),
        cmocka_unit_test(test_validate_argument_item_named),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
