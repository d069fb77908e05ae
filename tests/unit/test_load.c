/* Unit tests for loading experiments: YAML 1.1 scalars as PyYAML's safe_load reads them, tags, anchors, merge keys, JSON, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "experiment/load.h"
#include "experiment/problems.h"

/* Fails with the message shown when err does not contain text. */
#define assert_err_contains(err, text)                                                      \
    do {                                                                                    \
        if (strstr((err).msg, (text)) == NULL)                                              \
            fail_msg("error '%s' does not contain '%s'", (err).msg, (text));                \
    } while (0)

static json_t *parse(const char *text, const char *name, struct err *err)
{
    memset(err, 0, sizeof(*err));
    return experiment_parse(text, strlen(text), name, err);
}

/* Parses YAML text that must load, failing with the error otherwise. */
static json_t *load_yaml(const char *text)
{
    struct err err;
    json_t *root = parse(text, "t.yaml", &err);

    if (root == NULL)
        fail_msg("YAML did not load: %s", err.msg);
    return root;
}

/* Fails unless root equals the JSON text exactly, types included (1 is not 1.0). */
static void assert_json(json_t *root, const char *expected_text)
{
    json_t *expected = json_loads(expected_text, JSON_DECODE_ANY, NULL);
    char *actual;

    assert_non_null(expected);
    if (!json_equal(root, expected)) {
        actual = json_dumps(root, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("got %s, expected %s", actual, expected_text);
    }
    json_decref(expected);
}

static void assert_yaml(const char *text, const char *expected_json)
{
    json_t *root = load_yaml(text);

    assert_json(root, expected_json);
    json_decref(root);
}

static void assert_yaml_fails(const char *text, const char *message)
{
    struct err err;
    json_t *root = parse(text, "t.yaml", &err);

    if (root != NULL) {
        char *dump = json_dumps(root, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("'%s' loaded as %s, expected an error with '%s'", text, dump, message);
    }
    assert_err_contains(err, message);
}

static void test_load_yaml_mapping(void **state)
{
    (void)state;
    assert_yaml("title: t\nmethod:\n  - name: a\n    n: 1\n",
                "{\"title\": \"t\", \"method\": [{\"name\": \"a\", \"n\": 1}]}");
}

static void test_load_yaml11_booleans(void **state)
{
    (void)state;
    assert_yaml("a: [yes, Yes, YES, on, On, ON, true, True, TRUE]",
                "{\"a\": [true, true, true, true, true, true, true, true, true]}");
    assert_yaml("a: [no, No, NO, off, Off, OFF, false, False, FALSE]",
                "{\"a\": [false, false, false, false, false, false, false, false, false]}");
    assert_yaml("a: [yEs, tRUE, y, n]", "{\"a\": [\"yEs\", \"tRUE\", \"y\", \"n\"]}");
}

static void test_load_yaml11_nulls(void **state)
{
    (void)state;
    assert_yaml("a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL",
                "{\"a\": null, \"b\": null, \"c\": null, \"d\": null, \"e\": null, "
                "\"f\": \"nULL\"}");
}

static void test_load_yaml11_integers(void **state)
{
    (void)state;
    assert_yaml("a: [0, 12, -7, +12, 0x1F, -0x10, 017, 0b101, 1_000, 1:30, -1:30, 1:7]",
                "{\"a\": [0, 12, -7, 12, 31, -16, 15, 5, 1000, 90, -90, 67]}");
    assert_yaml("a: -9223372036854775808", "{\"a\": -9223372036854775808}");
}

static void test_load_yaml11_integer_lookalikes(void **state)
{
    (void)state;
    /* PyYAML reads these as strings: no 0o prefix in YAML 1.1, 9 is not
     * octal, and a float needs a dot. */
    assert_yaml("a: [0o17, 09, 1e3, 1.0e3, 1:60, 0x, 12abc]",
                "{\"a\": [\"0o17\", \"09\", \"1e3\", \"1.0e3\", \"1:60\", \"0x\", \"12abc\"]}");
}

static void test_load_yaml11_floats(void **state)
{
    json_t *root;

    (void)state;
    assert_yaml("a: [1.5, 1., .5, -2.25, 1.0e+3, 1_0.5, 1.5E-1]",
                "{\"a\": [1.5, 1.0, 0.5, -2.25, 1000.0, 10.5, 0.15]}");
    assert_yaml("a: -.5", "{\"a\": \"-.5\"}");
    root = load_yaml("a: 1:30.5");
    assert_true(json_is_real(json_object_get(root, "a")));
    assert_true(json_real_value(json_object_get(root, "a")) == 90.5);
    json_decref(root);
}

static void test_load_yaml_infinity_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: .inf", "t.yaml:1:4: '.inf' is not a finite number");
    assert_yaml_fails("a: -.Inf", "is not a finite number");
    assert_yaml_fails("a: [1, .NaN]", "t.yaml:1:8:");
    assert_yaml("a: \".inf\"", "{\"a\": \".inf\"}");
}

static void test_load_yaml_integer_out_of_range(void **state)
{
    (void)state;
    assert_yaml_fails("a: 9223372036854775808", "t.yaml:1:4: integer '9223372036854775808'");
    assert_yaml_fails("a: 0x1FFFFFFFFFFFFFFFF", "out of range");
    assert_yaml_fails("a: 0b_", "invalid or out of range");
}

static void test_load_yaml_quoted_scalars_are_strings(void **state)
{
    (void)state;
    assert_yaml("a: [\"123\", '~', \"true\", 'null', \"1.5\"]\nb: |\n  yes\nc: >-\n  017\n",
                "{\"a\": [\"123\", \"~\", \"true\", \"null\", \"1.5\"], \"b\": \"yes\\n\", "
                "\"c\": \"017\"}");
}

static void test_load_yaml_dates_stay_strings(void **state)
{
    (void)state;
    assert_yaml("a: 2001-12-14\nb: =\nc: [<<]", "{\"a\": \"2001-12-14\", \"b\": \"=\", "
                                              "\"c\": [\"<<\"]}");
}

static void test_load_yaml_standard_tags(void **state)
{
    (void)state;
    assert_yaml("a: !!str 12\nb: !!int \"0x10\"\nc: !!float \"3\"\nd: !!bool \"TRUE\"\n"
                "e: !!null x\nf: !!map {k: 1}\ng: !!seq [1]\nh: !<tag:yaml.org,2002:str> 5\n"
                "i: ! 12\nj: ! \"yes\"\nk: ! [1]",
                "{\"a\": \"12\", \"b\": 16, \"c\": 3.0, \"d\": true, \"e\": null, "
                "\"f\": {\"k\": 1}, \"g\": [1], \"h\": \"5\", \"i\": 12, \"j\": true, "
                "\"k\": [1]}");
}

static void test_load_yaml_invalid_tagged_values(void **state)
{
    (void)state;
    assert_yaml_fails("a: !!int abc", "t.yaml:1:4: 'abc' is not a valid !!int value");
    assert_yaml_fails("a: !!bool maybe", "'maybe' is not a valid !!bool value");
    assert_yaml_fails("a: !!float x1", "is not a finite number");
}

static void test_load_unsafe_tag_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("title: ok\ncmd: !!python/object/apply:os.system [\"true\"]\n",
                      "t.yaml:2:6: unsafe YAML tag '!!python/object/apply:os.system' is not "
                      "allowed");
    assert_yaml_fails("a: !!python/name:os.system ''",
                      "unsafe YAML tag '!!python/name:os.system' is not allowed");
}

static void test_load_unsafe_tag_on_collections_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: !!python/object:x.Y {b: 1}", "unsafe YAML tag '!!python/object:x.Y'");
    assert_yaml_fails("a: !!set {b, c}", "unsafe YAML tag '!!set'");
    assert_yaml_fails("a: !!omap [b: 1]", "unsafe YAML tag '!!omap'");
    assert_yaml_fails("a: !!binary aGVsbG8=", "unsafe YAML tag '!!binary'");
}

static void test_load_local_tag_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: !foo x", "t.yaml:1:4: unsafe YAML tag '!foo' is not allowed");
    assert_yaml_fails("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1",
                      "unsafe YAML tag 'tag:example.com,2000:x'");
    assert_yaml_fails("!!python/object:x {}", "t.yaml:1:1:");
}

static void test_load_tag_kind_mismatch_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: !!map x", "tag '!!map' does not apply to a scalar");
    assert_yaml_fails("a: !!seq {b: 1}", "tag '!!seq' does not apply to a mapping");
    assert_yaml_fails("a: !!str [1]", "tag '!!str' does not apply to a sequence");
}

static void test_load_aliases_copy_anchored_nodes(void **state)
{
    json_t *root = load_yaml("a: &x {b: [1, 2]}\nc: *x\nd: &s text\ne: *s\n");
    json_t *a = json_object_get(root, "a");
    json_t *c = json_object_get(root, "c");

    (void)state;
    assert_json(root, "{\"a\": {\"b\": [1, 2]}, \"c\": {\"b\": [1, 2]}, \"d\": \"text\", "
                      "\"e\": \"text\"}");
    /* Each alias is its own copy, so editing one place leaves the other. */
    assert_ptr_not_equal(a, c);
    json_object_set_new(a, "b", json_string("changed"));
    assert_int_equal(json_array_size(json_object_get(c, "b")), 2);
    json_decref(root);
}

static void test_load_merge_key_single(void **state)
{
    (void)state;
    assert_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
                "{\"base\": {\"x\": 1, \"y\": 2}, \"d\": {\"x\": 1, \"y\": 3}}");
    assert_yaml("base: &b {x: 1}\nd:\n  y: 3\n  <<: *b\n  x: 5\n",
                "{\"base\": {\"x\": 1}, \"d\": {\"x\": 5, \"y\": 3}}");
}

static void test_load_merge_key_list_order(void **state)
{
    (void)state;
    /* Earlier mappings in the list win over later ones. */
    assert_yaml("a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nm:\n  <<: [*a, *b]\n",
                "{\"a\": {\"k\": \"a\", \"only_a\": 1}, \"b\": {\"k\": \"b\", \"only_b\": 2}, "
                "\"m\": {\"k\": \"a\", \"only_a\": 1, \"only_b\": 2}}");
    assert_yaml("m:\n  <<: {k: inline}\n", "{\"m\": {\"k\": \"inline\"}}");
    assert_yaml("m: {\"<<\": 1}", "{\"m\": {\"<<\": 1}}");
}

static void test_load_merge_key_needs_mappings(void **state)
{
    (void)state;
    assert_yaml_fails("m:\n  <<: 5\n", "the value of the merge key '<<' must be a mapping");
    assert_yaml_fails("m:\n  <<: [{a: 1}, 2]\n", "every item of a merge key '<<' list must be");
}

static void test_load_recursive_alias_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: &a [1, *a]", "t.yaml:1:11: alias '*a' refers to a mapping or sequence "
                                       "that contains it");
    assert_yaml_fails("a: &a {b: {c: *a}}", "recursive structure");
}

static void test_load_duplicate_anchor_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: &x 1\nb: &x 2\n", "t.yaml:2:4: anchor '&x' is defined twice");
    assert_yaml_fails("a: &x [1, &x 2]\n", "anchor '&x' is defined twice");
    assert_yaml_fails("a: &x {k: 1}\nb: &x [2]\n", "anchor '&x' is defined twice");
}

static void test_load_unknown_alias_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: *nope", "t.yaml:1:4: alias '*nope' refers to an unknown anchor");
}

static void test_load_alias_bomb_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
                      "the document expands to more than 200000 nodes");
}

static void test_load_deep_nesting_rejected(void **state)
{
    size_t depth = 5000;
    char *text = malloc(depth * 2 + 1);

    (void)state;
    assert_non_null(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[depth * 2] = '\0';
    assert_yaml_fails(text, "nest deeper than 1000 levels");
    free(text);
}

static void test_load_duplicate_key_rejected(void **state)
{
    struct err err;

    (void)state;
    assert_yaml_fails("title: a\nmethod: []\ntitle: b\n",
                      "t.yaml:3:1: duplicate key 'title' in this mapping");
    assert_yaml_fails("a: {b: 1, b: 2}", "duplicate key 'b'");
    assert_null(parse("{\"a\": 1,\n \"a\": 2}", "t.json", &err));
    assert_err_contains(err, "t.json:2:");
    assert_err_contains(err, "duplicate object key");
}

static void test_load_keys_keep_their_text(void **state)
{
    (void)state;
    assert_yaml("1: a\non: b\n~: c\n\"q\": d\n0x10: e\n!!str 2: f\n",
                "{\"1\": \"a\", \"on\": \"b\", \"~\": \"c\", \"q\": \"d\", \"0x10\": \"e\", "
                "\"2\": \"f\"}");
    assert_yaml("k: &k key\nm: {*k : v}\n", "{\"k\": \"key\", \"m\": {\"key\": \"v\"}}");
}

static void test_load_complex_key_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("? [a, b]\n: x\n", "t.yaml:1:3: a sequence cannot be a mapping key");
    assert_yaml_fails("? {a: 1}\n: x\n", "a mapping cannot be a mapping key");
    assert_yaml_fails("s: &s [1]\nm: {*s : v}\n", "alias '*s' names a mapping or sequence");
}

static void test_load_multiple_documents_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("---\na: 1\n---\nb: 2\n",
                      "t.yaml:3:1: a second YAML document starts here");
    assert_yaml_fails("a: 1\n---\n", "a second YAML document");
    assert_yaml("---\na: 1\n...\n", "{\"a\": 1}");
}

static void test_load_empty_yaml_is_null(void **state)
{
    json_t *root = load_yaml("");

    (void)state;
    assert_true(json_is_null(root));
    json_decref(root);
    root = load_yaml("# only a comment\n");
    assert_true(json_is_null(root));
    json_decref(root);
}

static void test_load_yaml_syntax_error_position(void **state)
{
    (void)state;
    assert_yaml_fails("a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']'");
    assert_yaml_fails("a: b\n c: d\n", "t.yaml:2:3:");
    assert_yaml_fails("a: 'open\n", "t.yaml:");
    assert_yaml_fails("\tkey: value\n", "t.yaml:1:1:");
}

static void test_load_yaml_invalid_bytes_rejected(void **state)
{
    (void)state;
    assert_yaml_fails("a: \xff\xfe\n", "t.yaml:1:4: invalid leading UTF-8 octet (byte 0xff)");
    assert_yaml_fails("a: \"x\\0y\"\n", "strings must not contain a NUL character");
}

static void test_load_format_detection(void **state)
{
    struct err err;
    json_t *root;

    (void)state;
    /* A flow mapping in a .yaml file is YAML, though it starts with '{'. */
    root = parse("{a: 1}", "t.yaml", &err);
    assert_non_null(root);
    assert_json(root, "{\"a\": 1}");
    json_decref(root);

    /* Without an extension, a leading '{' means JSON. */
    assert_null(parse("  {a: 1}", "experiment", &err));
    assert_err_contains(err, "experiment:1:");
    root = parse("\xEF\xBB\xBF{\"a\": [1.0]}", "experiment", &err);
    assert_non_null(root);
    assert_json(root, "{\"a\": [1.0]}");
    json_decref(root);

    /* A .json file is JSON whatever it starts with. */
    assert_null(parse("a: 1", "t.json", &err));
    assert_err_contains(err, "t.json:1:1:");
}

static void test_load_json_error_position(void **state)
{
    struct err err;

    (void)state;
    assert_null(parse("{\n  \"a\": \n}", "t.json", &err));
    assert_err_contains(err, "t.json:3:1:");
    assert_null(parse("{\"a\": \"\\u0000\"}", "t.json", &err));
    assert_err_contains(err, "t.json:1:");
    assert_null(parse("", "t.json", &err));
    assert_err_contains(err, "t.json:");
}

static char *write_temp(const char *suffix, const char *text)
{
    char *path = malloc(64);
    int fd;

    assert_non_null(path);
    snprintf(path, 64, "/tmp/test_load_XXXXXX%s", suffix);
    fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_load_file_reads_experiment(void **state)
{
    char *path = write_temp(".yaml", "title: t\ndescription: d\nmethod: []\n");
    struct err err;
    json_t *root = experiment_load(path, &err);

    (void)state;
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "title")), "t");
    json_decref(root);
    unlink(path);
    free(path);
}

static void test_load_file_top_level_must_be_mapping(void **state)
{
    char *path = write_temp(".yaml", "- title: t\n");
    struct err err;

    (void)state;
    assert_null(experiment_load(path, &err));
    assert_err_contains(err, path);
    assert_err_contains(err, "the top level must be a mapping");
    unlink(path);
    free(path);

    path = write_temp(".yaml", "");
    assert_null(experiment_load(path, &err));
    assert_err_contains(err, "the top level must be a mapping");
    unlink(path);
    free(path);
}

static void test_load_file_missing(void **state)
{
    struct err err;

    (void)state;
    assert_null(experiment_load("/nonexistent/aftershock/e.yaml", &err));
    assert_err_contains(err, "/nonexistent/aftershock/e.yaml");
}

static void test_load_error_as_located_problem(void **state)
{
    struct problems problems;
    struct err err;

    (void)state;
    assert_null(parse("a: !foo x", "e.yaml", &err));
    problems_init(&problems, "e.yaml");
    problems_add_located(&problems, err.msg);
    problems_add(&problems, "title", "required field is missing");
    assert_int_equal(problems.count, 2);
    assert_true(strncmp(problems.items[0], "e.yaml:1:4: unsafe YAML tag", 27) == 0);
    assert_string_equal(problems.items[1], "e.yaml: title: required field is missing");
    problems_release(&problems);
}

/* Every prefix of a valid experiment either loads or fails with a positioned error. */
static void test_load_truncated_inputs_fail_cleanly(void **state)
{
    static const char yaml[] =
        "title: t\nbase: &b {type: probe}\nsteady-state-hypothesis:\n  title: h\n  probes:\n"
        "    - <<: *b\n      name: p\n      tolerance: [200, 204]\n      provider: {type: http, "
        "url: \"http://127.0.0.1/\"}\nmethod: [!!map {ref: p}]\n";
    static const char json[] = "{\"title\": \"t\", \"method\": [{\"ref\": \"p\", \"n\": 1.5}]}";

    (void)state;
    for (size_t len = 0; len < sizeof(yaml) - 1; len++) {
        struct err err;
        memset(&err, 0, sizeof(err));
        json_t *root = experiment_parse(yaml, len, "t.yaml", &err);
        if (root == NULL)
            assert_true(strncmp(err.msg, "t.yaml:", 7) == 0);
        json_decref(root);
    }
    for (size_t len = 0; len < sizeof(json) - 1; len++) {
        struct err err;
        memset(&err, 0, sizeof(err));
        assert_null(experiment_parse(json, len, "t.json", &err));
        assert_true(strncmp(err.msg, "t.json:", 7) == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_yaml_mapping),
        cmocka_unit_test(test_load_yaml11_booleans),
        cmocka_unit_test(test_load_yaml11_nulls),
        cmocka_unit_test(test_load_yaml11_integers),
        cmocka_unit_test(test_load_yaml11_integer_lookalikes),
        cmocka_unit_test(test_load_yaml11_floats),
        cmocka_unit_test(test_load_yaml_infinity_rejected),
        cmocka_unit_test(test_load_yaml_integer_out_of_range),
        cmocka_unit_test(test_load_yaml_quoted_scalars_are_strings),
        cmocka_unit_test(test_load_yaml_dates_stay_strings),
        cmocka_unit_test(test_load_yaml_standard_tags),
        cmocka_unit_test(test_load_yaml_invalid_tagged_values),
        cmocka_unit_test(test_load_unsafe_tag_rejected),
        cmocka_unit_test(test_load_unsafe_tag_on_collections_rejected),
        cmocka_unit_test(test_load_local_tag_rejected),
        cmocka_unit_test(test_load_tag_kind_mismatch_rejected),
        cmocka_unit_test(test_load_aliases_copy_anchored_nodes),
        cmocka_unit_test(test_load_merge_key_single),
        cmocka_unit_test(test_load_merge_key_list_order),
        cmocka_unit_test(test_load_merge_key_needs_mappings),
        cmocka_unit_test(test_load_recursive_alias_rejected),
        cmocka_unit_test(test_load_duplicate_anchor_rejected),
        cmocka_unit_test(test_load_unknown_alias_rejected),
        cmocka_unit_test(test_load_alias_bomb_rejected),
        cmocka_unit_test(test_load_deep_nesting_rejected),
        cmocka_unit_test(test_load_duplicate_key_rejected),
        cmocka_unit_test(test_load_keys_keep_their_text),
        cmocka_unit_test(test_load_complex_key_rejected),
        cmocka_unit_test(test_load_multiple_documents_rejected),
        cmocka_unit_test(test_load_empty_yaml_is_null),
        cmocka_unit_test(test_load_yaml_syntax_error_position),
        cmocka_unit_test(test_load_yaml_invalid_bytes_rejected),
        cmocka_unit_test(test_load_format_detection),
        cmocka_unit_test(test_load_json_error_position),
        cmocka_unit_test(test_load_file_reads_experiment),
        cmocka_unit_test(test_load_file_top_level_must_be_mapping),
        cmocka_unit_test(test_load_file_missing),
        cmocka_unit_test(test_load_error_as_located_problem),
        cmocka_unit_test(test_load_truncated_inputs_fail_cleanly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
