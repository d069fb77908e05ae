/* Unit tests for substitution: --var parsing, var files, configuration and secrets resolution, ${name} replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "experiment/substitute.h"

#define assert_contains(haystack, needle)                                                   \
    do {                                                                                    \
        if (strstr((haystack), (needle)) == NULL)                                           \
            fail_msg("'%s' does not contain '%s'", (haystack), (needle));                   \
    } while (0)

static json_t *parse_json(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &error);

    if (value == NULL)
        fail_msg("test JSON '%s' does not parse: %s", text, error.text);
    return value;
}

static void assert_json(json_t *actual, const char *expected_text)
{
    json_t *expected = parse_json(expected_text);

    if (!json_equal(actual, expected)) {
        char *dump = json_dumps(actual, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("got %s, expected %s", dump, expected_text);
    }
    json_decref(expected);
}

/* Fails unless some problem contains text. */
static void assert_problem(const struct problems *problems, const char *text)
{
    for (size_t i = 0; i < problems->count; i++) {
        if (strstr(problems->items[i], text) != NULL)
            return;
    }
    fail_msg("no problem contains '%s' (%zu problems, first: %s)", text, problems->count,
             problems->count ? problems->items[0] : "none");
}

static char *write_temp(const char *suffix, const char *text)
{
    char *path = malloc(64);
    int fd;

    assert_non_null(path);
    snprintf(path, 64, "/tmp/test_vars_XXXXXX%s", suffix);
    fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_vars_assignment_types(void **state)
{
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_parse_assignment("url=http://127.0.0.1:8080/a=b", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("name:str=42", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("port:int=8080", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("ratio:float=0.25", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("on:bool=YES", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("off:bool=0", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("data:json={\"a\": [1, null]}", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("empty=", vars, &err), 0);
    assert_int_equal(vars_parse_assignment("raw:bytes=x", vars, &err), 0);
    assert_json(vars, "{\"url\": \"http://127.0.0.1:8080/a=b\", \"name\": \"42\", \"port\": 8080, "
                      "\"ratio\": 0.25, \"on\": true, \"off\": false, "
                      "\"data\": {\"a\": [1, null]}, \"empty\": \"\", \"raw\": \"x\"}");
    json_decref(vars);
}

static void test_vars_assignment_malformed(void **state)
{
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_parse_assignment("novalue", vars, &err), -1);
    assert_contains(err.msg, "invalid --var 'novalue': expected NAME=VALUE or NAME:TYPE=VALUE");
    assert_int_equal(vars_parse_assignment("=x", vars, &err), -1);
    assert_contains(err.msg, "expected NAME=VALUE");
    assert_int_equal(vars_parse_assignment("1abc=x", vars, &err), -1);
    assert_contains(err.msg, "invalid --var name '1abc'");
    assert_int_equal(vars_parse_assignment("a-b=x", vars, &err), -1);
    assert_contains(err.msg, "invalid --var name 'a-b'");
    assert_int_equal(vars_parse_assignment("port:int=abc", vars, &err), -1);
    assert_contains(err.msg, "invalid --var 'port': 'abc' is not an int");
    assert_int_equal(vars_parse_assignment("port:int=99999999999999999999", vars, &err), -1);
    assert_contains(err.msg, "is not an int");
    assert_int_equal(vars_parse_assignment("r:float=1e999", vars, &err), -1);
    assert_contains(err.msg, "is not a finite float");
    assert_int_equal(vars_parse_assignment("r:float=nan", vars, &err), -1);
    assert_int_equal(vars_parse_assignment("f:bool=maybe", vars, &err), -1);
    assert_contains(err.msg, "'maybe' is not a bool");
    assert_int_equal(vars_parse_assignment("j:json={", vars, &err), -1);
    assert_contains(err.msg, "the value is not valid JSON");
    assert_int_equal(vars_parse_assignment("t:date=2020", vars, &err), -1);
    assert_contains(err.msg, "unknown type 'date'");
    assert_int_equal(vars_parse_assignment("s=\xff", vars, &err), -1);
    assert_contains(err.msg, "not valid UTF-8");
    assert_int_equal(json_object_size(vars), 0);
    json_decref(vars);
}

static void test_vars_dotenv_parsing(void **state)
{
    static const char text[] = "# settings\n"
                               "\n"
                               "PLAIN=value\n"
                               "export EXPORTED=1\n"
                               "  SPACED = spaced value  # note\n"
                               "HASH=a#b\n"
                               "DOUBLE=\"two\\nlines \\\"q\\\"\" # c\n"
                               "SINGLE='raw \\n $x'\n"
                               "EMPTY=\r\n"
                               "LAST=no newline";
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_parse_dotenv(text, strlen(text), "t.env", vars, &err), 0);
    assert_json(vars, "{\"PLAIN\": \"value\", \"EXPORTED\": \"1\", \"SPACED\": \"spaced value\", "
                      "\"HASH\": \"a#b\", \"DOUBLE\": \"two\\nlines \\\"q\\\"\", "
                      "\"SINGLE\": \"raw \\\\n $x\", \"EMPTY\": \"\", \"LAST\": \"no newline\"}");
    json_decref(vars);
}

static void test_vars_dotenv_malformed(void **state)
{
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_parse_dotenv("A=1\nnot a pair\n", 15, "t.env", vars, &err), -1);
    assert_contains(err.msg, "t.env:2: expected NAME=VALUE");
    assert_int_equal(vars_parse_dotenv("9X=1\n", 5, "t.env", vars, &err), -1);
    assert_contains(err.msg, "t.env:1: invalid name '9X'");
    assert_int_equal(vars_parse_dotenv("A=\"open\n", 8, "t.env", vars, &err), -1);
    assert_contains(err.msg, "t.env:1: the quoted value of 'A' is not closed");
    assert_int_equal(vars_parse_dotenv("A='x' y\n", 8, "t.env", vars, &err), -1);
    assert_contains(err.msg, "unexpected text after the quoted value of 'A'");
    assert_int_equal(vars_parse_dotenv("A=1\0B=2", 7, "t.env", vars, &err), -1);
    assert_contains(err.msg, "contains a NUL byte");
    assert_int_equal(vars_parse_dotenv("A=\xff\n", 4, "t.env", vars, &err), -1);
    assert_contains(err.msg, "not valid UTF-8");
    json_decref(vars);
}

static void test_vars_file_yaml_and_json(void **state)
{
    char *yaml = write_temp(".yaml", "host: 127.0.0.1\nport: 8080\nflags: [a, b]\n");
    char *json = write_temp(".json", "{\"port\": 9090, \"tls\": false}");
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_load_file(yaml, vars, &err), 0);
    assert_int_equal(vars_load_file(json, vars, &err), 0);
    assert_json(vars, "{\"host\": \"127.0.0.1\", \"port\": 9090, \"flags\": [\"a\", \"b\"], "
                      "\"tls\": false}");
    json_decref(vars);
    unlink(yaml);
    unlink(json);
    free(yaml);
    free(json);
}

static void test_vars_file_sectioned_layout(void **state)
{
    char *path = write_temp(".yaml", "configuration:\n  url: http://127.0.0.1\n  shared: config\n"
                                     "secrets:\n  api:\n    token: t0k\n    shared: secret\n");
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_load_file(path, vars, &err), 0);
    assert_json(vars, "{\"url\": \"http://127.0.0.1\", \"token\": \"t0k\", \"shared\": \"config\"}");
    json_decref(vars);
    unlink(path);
    free(path);
}

static void test_vars_file_dotenv_sets_environment(void **state)
{
    char *path = write_temp(".env", "AFTERSHOCK_TEST_DOTENV=from-file\n");
    json_t *vars = json_object();
    struct err err;

    (void)state;
    setenv("AFTERSHOCK_TEST_DOTENV", "before", 1);
    assert_int_equal(vars_load_file(path, vars, &err), 0);
    assert_json(vars, "{\"AFTERSHOCK_TEST_DOTENV\": \"from-file\"}");
    assert_string_equal(getenv("AFTERSHOCK_TEST_DOTENV"), "from-file");
    unsetenv("AFTERSHOCK_TEST_DOTENV");
    json_decref(vars);
    unlink(path);
    free(path);
}

static void test_vars_file_malformed(void **state)
{
    char *list = write_temp(".yaml", "- a\n- b\n");
    char *broken = write_temp(".json", "{\"a\": ");
    char *unsafe = write_temp(".yml", "a: !!python/object/apply:os.system [\"true\"]\n");
    json_t *vars = json_object();
    struct err err;

    (void)state;
    assert_int_equal(vars_load_file(list, vars, &err), -1);
    assert_contains(err.msg, "a var file must be a mapping of names to values");
    assert_int_equal(vars_load_file(broken, vars, &err), -1);
    assert_contains(err.msg, broken);
    assert_contains(err.msg, ":1:");
    assert_int_equal(vars_load_file(unsafe, vars, &err), -1);
    assert_contains(err.msg, "unsafe YAML tag");
    assert_int_equal(vars_load_file("/nonexistent/vars.env", vars, &err), -1);
    assert_contains(err.msg, "/nonexistent/vars.env");
    assert_int_equal(json_object_size(vars), 0);
    json_decref(vars);
    unlink(list);
    unlink(broken);
    unlink(unsafe);
    free(list);
    free(broken);
    free(unsafe);
}

static void test_resolve_configuration_values(void **state)
{
    json_t *experiment = parse_json(
        "{\"configuration\": {\"url\": \"http://127.0.0.1\", \"n\": 3, \"obj\": {\"a\": 1},"
        " \"port\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_PORT\", \"env_var_type\": \"int\"},"
        " \"host\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_UNSET\", \"default\": \"localhost\"},"
        " \"retries\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_UNSET\", \"default\": \"5\","
        " \"env_var_type\": \"int\"},"
        " \"flag\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_FLAG\", \"env_var_type\": \"bool\"},"
        " \"doc\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_DOC\", \"env_var_type\": \"json\"},"
        " \"ratio\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_RATIO\", \"env_var_type\": \"float\"}}}");
    struct problems problems;
    json_t *values;

    (void)state;
    setenv("AFTERSHOCK_TEST_PORT", "8080", 1);
    setenv("AFTERSHOCK_TEST_FLAG", "off", 1);
    setenv("AFTERSHOCK_TEST_DOC", "[1, \"a\"]", 1);
    setenv("AFTERSHOCK_TEST_RATIO", "0.5", 1);
    unsetenv("AFTERSHOCK_TEST_UNSET");
    problems_init(&problems, "e.yaml");
    values = experiment_resolve_values(experiment, NULL, &problems);
    assert_non_null(values);
    assert_int_equal(problems.count, 0);
    assert_json(values, "{\"url\": \"http://127.0.0.1\", \"n\": 3, \"obj\": {\"a\": 1}, "
                        "\"port\": 8080, \"host\": \"localhost\", \"retries\": 5, "
                        "\"flag\": false, \"doc\": [1, \"a\"], \"ratio\": 0.5}");
    json_decref(values);
    problems_release(&problems);
    json_decref(experiment);
}

static void test_resolve_env_conversion_problem(void **state)
{
    json_t *experiment = parse_json(
        "{\"configuration\": {\"port\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_BAD\","
        " \"env_var_type\": \"int\"}}}");
    struct problems problems;

    (void)state;
    setenv("AFTERSHOCK_TEST_BAD", "abc", 1);
    problems_init(&problems, "e.yaml");
    assert_null(experiment_resolve_values(experiment, NULL, &problems));
    assert_int_equal(problems.count, 1);
    assert_string_equal(problems.items[0],
                        "e.yaml: configuration.port: environment variable 'AFTERSHOCK_TEST_BAD': "
                        "'abc' is not an int");
    problems_release(&problems);
    json_decref(experiment);
}

static void test_resolve_missing_env_problem(void **state)
{
    json_t *experiment = parse_json(
        "{\"configuration\": {\"token\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_UNSET\"}},"
        " \"secrets\": {\"api\": {\"key\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_UNSET2\"}}}}");
    json_t *overrides = parse_json("{\"key\": \"given\"}");
    struct problems problems;

    (void)state;
    unsetenv("AFTERSHOCK_TEST_UNSET");
    unsetenv("AFTERSHOCK_TEST_UNSET2");
    problems_init(&problems, "e.yaml");
    assert_null(experiment_resolve_values(experiment, NULL, &problems));
    assert_int_equal(problems.count, 2);
    assert_problem(&problems, "secrets.api.key: environment variable 'AFTERSHOCK_TEST_UNSET2' is "
                              "not set and the entry has no default");
    assert_problem(&problems, "configuration.token: environment variable 'AFTERSHOCK_TEST_UNSET'");
    problems_release(&problems);

    /* A --var for the key replaces the environment lookup. */
    problems_init(&problems, "e.yaml");
    json_object_set_new(overrides, "token", json_string("t"));
    json_t *values = experiment_resolve_values(experiment, overrides, &problems);
    assert_non_null(values);
    assert_int_equal(problems.count, 0);
    assert_json(values, "{\"token\": \"t\", \"key\": \"given\"}");
    json_decref(values);
    problems_release(&problems);
    json_decref(overrides);
    json_decref(experiment);
}

static void test_resolve_precedence(void **state)
{
    json_t *experiment = parse_json(
        "{\"secrets\": {\"first\": {\"name\": \"secret-1\", \"token\": \"s3cr3t\"},"
        " \"second\": {\"name\": \"secret-2\", \"other\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_SECRET\"}}},"
        " \"configuration\": {\"name\": \"config\", \"level\": 1}}");
    json_t *overrides = parse_json("{\"level\": 2, \"extra\": true}");
    struct problems problems;
    json_t *values;

    (void)state;
    setenv("AFTERSHOCK_TEST_SECRET", "from-env", 1);
    problems_init(&problems, "e.yaml");
    values = experiment_resolve_values(experiment, overrides, &problems);
    assert_non_null(values);
    assert_json(values, "{\"name\": \"config\", \"token\": \"s3cr3t\", \"other\": \"from-env\", "
                        "\"level\": 2, \"extra\": true}");
    json_decref(values);
    problems_release(&problems);
    json_decref(overrides);
    json_decref(experiment);
}

static void test_resolve_secret_value_never_in_problem(void **state)
{
    json_t *experiment = parse_json(
        "{\"secrets\": {\"api\": {\"n\": {\"type\": \"env\", \"key\": \"AFTERSHOCK_TEST_SECRET_N\","
        " \"env_var_type\": \"int\"}}}}");
    struct problems problems;

    (void)state;
    setenv("AFTERSHOCK_TEST_SECRET_N", "hunter2", 1);
    problems_init(&problems, "e.yaml");
    assert_null(experiment_resolve_values(experiment, NULL, &problems));
    assert_int_equal(problems.count, 1);
    assert_problem(&problems, "does not convert to int");
    assert_null(strstr(problems.items[0], "hunter2"));
    problems_release(&problems);
    json_decref(experiment);
}

static void test_substitute_whole_string_keeps_type(void **state)
{
    json_t *node = parse_json("{\"a\": \"${port}\", \"b\": [\"${flag}\", \"${obj}\"], "
                              "\"c\": {\"d\": \"${nothing}\"}}");
    json_t *values = parse_json("{\"port\": 8080, \"flag\": true, \"obj\": {\"k\": [1]}, "
                                "\"nothing\": null}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "", &problems), 0);
    assert_json(node, "{\"a\": 8080, \"b\": [true, {\"k\": [1]}], \"c\": {\"d\": null}}");
    /* The inserted value is a copy: editing it leaves the values alone. */
    json_object_set_new(json_array_get(json_object_get(node, "b"), 1), "k", json_null());
    assert_json(values, "{\"port\": 8080, \"flag\": true, \"obj\": {\"k\": [1]}, \"nothing\": null}");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

static void test_substitute_inside_text_formats_values(void **state)
{
    json_t *node = parse_json("{\"url\": \"http://${host}:${port}/x?r=${ratio}&f=${flag}\","
                              " \"all\": \"${obj} ${list} ${nothing} ${whole}\"}");
    json_t *values = parse_json("{\"host\": \"127.0.0.1\", \"port\": 8080, \"ratio\": 0.1,"
                                " \"flag\": false, \"obj\": {\"a\": 1}, \"list\": [1, \"b\"],"
                                " \"nothing\": null, \"whole\": 2.0}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "", &problems), 0);
    assert_json(node, "{\"url\": \"http://127.0.0.1:8080/x?r=0.1&f=false\","
                      " \"all\": \"{\\\"a\\\":1} [1,\\\"b\\\"] null 2.0\"}");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

static void test_substitute_escape_is_literal(void **state)
{
    json_t *node = parse_json("[\"$${name}\", \"cost: $5 and $${x} and ${name}\", \"$$\", \"$\","
                              " \"a$\", \"$${\"]");
    json_t *values = parse_json("{\"name\": \"v\"}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "", &problems), 0);
    assert_json(node, "[\"${name}\", \"cost: $5 and ${x} and v\", \"$$\", \"$\", \"a$\", \"${\"]");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

static void test_substitute_unresolved_names_field(void **state)
{
    json_t *node = parse_json("{\"method\": [{\"provider\": {\"url\": \"http://${host}/\","
                              " \"path\": \"${tool}\"}}]}");
    json_t *values = parse_json("{}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "", &problems), 2);
    assert_string_equal(problems.items[0],
                        "e.yaml: method[0].provider.url: '${host}' does not resolve: declare "
                        "'host' under configuration or secrets, or pass --var host=VALUE");
    assert_problem(&problems, "method[0].provider.path: '${tool}' does not resolve");
    /* The unresolved text stays as it was. */
    assert_json(node, "{\"method\": [{\"provider\": {\"url\": \"http://${host}/\","
                      " \"path\": \"${tool}\"}}]}");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

static void test_substitute_invalid_reference(void **state)
{
    json_t *node = parse_json("{\"a\": \"${not-a-name}\", \"b\": \"${}\", \"c\": \"x ${open\"}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, NULL, "root", &problems), 3);
    assert_problem(&problems, "root.a: '${not-a-name}' is not a valid reference");
    assert_problem(&problems, "root.b: '${}' is not a valid reference");
    assert_problem(&problems, "root.c: '${open' is not a valid reference");
    problems_release(&problems);
    json_decref(node);
}

static void test_substitute_keys_untouched(void **state)
{
    json_t *node = parse_json("{\"${k}\": \"${k}\", \"n\": 5, \"t\": true}");
    json_t *values = parse_json("{\"k\": \"v\"}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "", &problems), 0);
    assert_json(node, "{\"${k}\": \"v\", \"n\": 5, \"t\": true}");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

static void test_substitute_root_string(void **state)
{
    json_t *node = json_string("${port}");
    json_t *values = parse_json("{\"port\": 8080}");
    struct problems problems;

    (void)state;
    problems_init(&problems, "e.yaml");
    assert_int_equal(experiment_substitute(node, values, "title", &problems), 0);
    assert_string_equal(json_string_value(node), "8080");
    problems_release(&problems);
    json_decref(values);
    json_decref(node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vars_assignment_types),
        cmocka_unit_test(test_vars_assignment_malformed),
        cmocka_unit_test(test_vars_dotenv_parsing),
        cmocka_unit_test(test_vars_dotenv_malformed),
        cmocka_unit_test(test_vars_file_yaml_and_json),
        cmocka_unit_test(test_vars_file_sectioned_layout),
        cmocka_unit_test(test_vars_file_dotenv_sets_environment),
        cmocka_unit_test(test_vars_file_malformed),
        cmocka_unit_test(test_resolve_configuration_values),
        cmocka_unit_test(test_resolve_env_conversion_problem),
        cmocka_unit_test(test_resolve_missing_env_problem),
        cmocka_unit_test(test_resolve_precedence),
        cmocka_unit_test(test_resolve_secret_value_never_in_problem),
        cmocka_unit_test(test_substitute_whole_string_keeps_type),
        cmocka_unit_test(test_substitute_inside_text_formats_values),
        cmocka_unit_test(test_substitute_escape_is_literal),
        cmocka_unit_test(test_substitute_unresolved_names_field),
        cmocka_unit_test(test_substitute_invalid_reference),
        cmocka_unit_test(test_substitute_keys_untouched),
        cmocka_unit_test(test_substitute_root_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
