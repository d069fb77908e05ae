/* Unit tests for the JSONPath subset: selectors, filters, the bookstore examples, and rejected syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "experiment/jsonpath.h"

static const char bookstore[] =
    "{\"store\": {\"book\": ["
    "{\"category\": \"reference\", \"author\": \"Nigel Rees\", \"title\": \"Sayings\", "
    "\"price\": 8.95},"
    "{\"category\": \"fiction\", \"author\": \"Evelyn Waugh\", \"title\": \"Sword\", "
    "\"price\": 12.99},"
    "{\"category\": \"fiction\", \"author\": \"Herman Melville\", \"title\": \"Moby Dick\", "
    "\"isbn\": \"0-553\", \"price\": 8.99},"
    "{\"category\": \"fiction\", \"author\": \"Tolkien\", \"title\": \"LOTR\", "
    "\"isbn\": \"0-395\", \"price\": 22.99}],"
    "\"bicycle\": {\"color\": \"red\", \"price\": 19.95}}}";

/* Runs expr on the JSON document text and fails unless the matches equal expected. */
static void assert_query(const char *doc_text, const char *expr, const char *expected_text)
{
    json_t *doc = json_loads(doc_text, JSON_DECODE_ANY, NULL);
    json_t *expected = json_loads(expected_text, JSON_DECODE_ANY, NULL);
    json_t *matches = json_array();
    struct err err;

    assert_non_null(doc);
    assert_non_null(expected);
    if (jsonpath_query(expr, doc, matches, &err) != 0)
        fail_msg("'%s' failed: %s", expr, err.msg);
    if (!json_equal(matches, expected)) {
        char *actual = json_dumps(matches, JSON_COMPACT);
        fail_msg("'%s' selected %s, expected %s", expr, actual, expected_text);
    }
    json_decref(matches);
    json_decref(expected);
    json_decref(doc);
}

/* Fails unless expr is rejected with an error containing message. */
static void assert_rejected(const char *expr, const char *message)
{
    json_t *doc = json_loads(bookstore, 0, NULL);
    json_t *matches = json_array();
    struct err err;

    memset(&err, 0, sizeof(err));
    if (jsonpath_query(expr, doc, matches, &err) == 0)
        fail_msg("'%s' was accepted, expected an error with '%s'", expr, message);
    if (strstr(err.msg, message) == NULL)
        fail_msg("error '%s' does not contain '%s'", err.msg, message);
    assert_int_equal(json_array_size(matches), 0);
    assert_int_equal(jsonpath_check(expr, &err), -1);
    json_decref(matches);
    json_decref(doc);
}

static void test_jsonpath_root_and_children(void **state)
{
    (void)state;
    assert_query("{\"a\": {\"b\": 1}}", "$", "[{\"a\": {\"b\": 1}}]");
    assert_query("{\"a\": {\"b\": 1}}", "$.a.b", "[1]");
    assert_query("{\"a\": {\"b\": 1}}", "$['a']['b']", "[1]");
    assert_query("{\"a\": {\"b c\": 1}}", "$.a[\"b c\"]", "[1]");
    assert_query("{\"a-b\": {\"_c1\": true}}", "$.a-b._c1", "[true]");
    assert_query("{\"a\": 1}", "$.missing", "[]");
    assert_query("{\"a\": 1}", "$.a.b", "[]");
}

static void test_jsonpath_without_root_sign(void **state)
{
    (void)state;
    assert_query("{\"foo\": [{\"baz\": 1}, {\"baz\": 2}]}", "foo[*].baz", "[1, 2]");
    assert_query("[5, 6]", "[1]", "[6]");
}

static void test_jsonpath_indexes_and_slices(void **state)
{
    const char *doc = "[0, 1, 2, 3, 4]";

    (void)state;
    assert_query(doc, "$[0]", "[0]");
    assert_query(doc, "$[-1]", "[4]");
    assert_query(doc, "$[5]", "[]");
    assert_query(doc, "$[-6]", "[]");
    assert_query(doc, "$[1:3]", "[1, 2]");
    assert_query(doc, "$[:2]", "[0, 1]");
    assert_query(doc, "$[-2:]", "[3, 4]");
    assert_query(doc, "$[::2]", "[0, 2, 4]");
    assert_query(doc, "$[::-1]", "[4, 3, 2, 1, 0]");
    assert_query(doc, "$[3:0:-1]", "[3, 2, 1]");
    assert_query(doc, "$[10:20]", "[]");
    assert_query(doc, "$[0, 2, -1]", "[0, 2, 4]");
    assert_query(doc, "$[ 1 : 3 ]", "[1, 2]");
    assert_query("{\"a\": 1}", "$[0]", "[]");
}

static void test_jsonpath_wildcards_and_unions(void **state)
{
    (void)state;
    assert_query("{\"a\": 1, \"b\": [2, 3]}", "$.*", "[1, [2, 3]]");
    assert_query("{\"a\": 1, \"b\": [2, 3]}", "$.b[*]", "[2, 3]");
    assert_query("{\"a\": 1, \"b\": 2, \"c\": 3}", "$['a', 'c']", "[1, 3]");
    assert_query("{\"a\": 1}", "$.a.*", "[]");
}

static void test_jsonpath_recursive_descent(void **state)
{
    (void)state;
    assert_query("{\"a\": {\"id\": 1, \"b\": [{\"id\": 2}, {\"c\": {\"id\": 3}}]}}", "$..id",
                 "[1, 2, 3]");
    assert_query("[[1, [2]], [3]]", "$..[0]", "[[1, [2]], 1, 2, 3]");
    assert_query("{\"a\": [1, {\"b\": 2}]}", "$..*", "[[1, {\"b\": 2}], 1, {\"b\": 2}, 2]");
}

static void test_jsonpath_bookstore_examples(void **state)
{
    (void)state;
    assert_query(bookstore, "$.store.book[*].author",
                 "[\"Nigel Rees\", \"Evelyn Waugh\", \"Herman Melville\", \"Tolkien\"]");
    assert_query(bookstore, "$..author",
                 "[\"Nigel Rees\", \"Evelyn Waugh\", \"Herman Melville\", \"Tolkien\"]");
    assert_query(bookstore, "$.store..price", "[8.95, 12.99, 8.99, 22.99, 19.95]");
    assert_query(bookstore, "$..book[2].title", "[\"Moby Dick\"]");
    assert_query(bookstore, "$..book[-1:].title", "[\"LOTR\"]");
    assert_query(bookstore, "$..book[0,1].title", "[\"Sayings\", \"Sword\"]");
    assert_query(bookstore, "$..book[?(@.isbn)].title", "[\"Moby Dick\", \"LOTR\"]");
    assert_query(bookstore, "$..book[?(@.price < 10)].title", "[\"Sayings\", \"Moby Dick\"]");
}

static void test_jsonpath_filter_comparisons(void **state)
{
    const char *doc = "[{\"n\": 1, \"s\": \"a\"}, {\"n\": 2.0, \"s\": \"b\"}, {\"n\": 3}, "
                      "{\"s\": null}, {\"n\": \"2\"}]";

    (void)state;
    assert_query(doc, "$[?(@.n == 2)].s", "[\"b\"]");
    assert_query(doc, "$[?(@.n = 2)].s", "[\"b\"]");
    assert_query(doc, "$[?(@.n != 1)].n", "[2.0, 3, \"2\"]");
    assert_query(doc, "$[?(@.n < 2)].n", "[1]");
    assert_query(doc, "$[?(@.n <= 2)].n", "[1, 2.0]");
    assert_query(doc, "$[?(@.n > 1.5)].n", "[2.0, 3]");
    assert_query(doc, "$[?(@.n >= 3)].n", "[3]");
    assert_query(doc, "$[?(@.s == 'a')].n", "[1]");
    assert_query(doc, "$[?(@.s > \"a\")].s", "[\"b\"]");
    assert_query(doc, "$[?(@.s == null)]", "[{\"s\": null}]");
    assert_query(doc, "$[?(@.s)].n", "[1, 2.0]");
    assert_query("[1, 5, 10]", "$[?(@ > 3)]", "[5, 10]");
    assert_query("[{\"a\": [7, 8]}]", "$[?(@.a[1] == 8)].a[0]", "[7]");
    assert_query("[{\"a b\": true}]", "$[?(@['a b'] == true)]", "[{\"a b\": true}]");
}

/* The tolerance tutorial's path: a filter after .* tests each item itself. */
static void test_jsonpath_filter_on_single_items(void **state)
{
    (void)state;
    assert_query("{\"foo\": [{\"baz\": \"hello\"}, {\"baz\": \"bonjour\"}, {\"qux\": 1}]}",
                 "$.foo.*[?(@.baz)].baz", "[\"hello\", \"bonjour\"]");
    assert_query("{\"foo\": [{\"baz\": 1}, {\"baz\": 2}]}", "$.foo[*][?(@.baz > 1)].baz",
                 "[2]");
    assert_query("{\"a\": {\"ok\": true}}", "$.a[?(@.ok == true)]", "[{\"ok\": true}]");
    assert_query("{\"a\": {\"ok\": false}}", "$.a[?(@.ok == true)]", "[]");
    /* After '..', every value in the subtree is tested once. */
    assert_query(bookstore, "$..[?(@.price > 20)].title", "[\"LOTR\"]");
}

static void test_jsonpath_string_escapes(void **state)
{
    (void)state;
    assert_query("{\"it's\": 1, \"tab\\t\": 2, \"\\u00e9\": 3}", "$['it\\'s']", "[1]");
    assert_query("{\"it's\": 1, \"tab\\t\": 2, \"\\u00e9\": 3}", "$['tab\\t']", "[2]");
    assert_query("{\"it's\": 1, \"tab\\t\": 2, \"\\u00e9\": 3}", "$['\\u00e9']", "[3]");
}

static void test_jsonpath_script_expression_rejected(void **state)
{
    (void)state;
    assert_rejected("$.store.book[(@.length-1)]",
                    "invalid JSONPath '$.store.book[(@.length-1)]' at position 14: script "
                    "expressions");
}

static void test_jsonpath_function_rejected(void **state)
{
    (void)state;
    assert_rejected("$.store.book.length()", "position 20: functions such as 'length()'");
    assert_rejected("$..book[?(@.title.length() > 3)]", "functions such as 'length()'");
}

static void test_jsonpath_compound_filter_rejected(void **state)
{
    (void)state;
    assert_rejected("$..book[?(@.price < 10 && @.isbn)]", "'&&', '||', 'and' and 'or'");
    assert_rejected("$..book[?(@.isbn || @.x)]", "a filter holds one comparison");
    assert_rejected("$..book[?(@.price =~ /x/)]", "regular expressions in filters");
    assert_rejected("$..book[?($.x)]", "may refer only to the current item '@'");
    assert_rejected("$..book[?(!@.x)]", "negation in filters");
    assert_rejected("$..book[?(@.a == @.b)]", "comparing two paths");
    assert_rejected("$..book[?(@..a)]", "'..' is not supported inside a filter");
}

static void test_jsonpath_malformed_rejected(void **state)
{
    (void)state;
    assert_rejected("", "the expression is empty");
    assert_rejected("$.", "position 3: expected a member name");
    assert_rejected("$[", "expected an index, a slice");
    assert_rejected("$[1", "expected ']'");
    assert_rejected("$['a", "unterminated quoted string");
    assert_rejected("$['\\q']", "unknown escape");
    assert_rejected("$['\\u00']", "four hexadecimal digits");
    assert_rejected("$['\\u0000']", "not supported");
    assert_rejected("$[::0]", "a slice step cannot be 0");
    assert_rejected("$[99999999999999999]", "index is too large");
    assert_rejected("$.a b", "expected '.', '..' or '['");
    assert_rejected("@.a", "a path starts at the root '$'");
    assert_rejected("$...a", "expected a member name");
    assert_rejected("$[*, 1]", "expected ']'");
    assert_rejected("$[?(@.a == )]", "expected a literal");
    assert_rejected("$[?(@.a == 1e999)]", "invalid number");
    assert_rejected("$[?@.a]", "expected '(' after '?'");
}

static void test_jsonpath_large_result_bounded(void **state)
{
    json_t *doc = json_array();
    json_t *matches = json_array();
    struct err err;

    (void)state;
    /* In a chain 300 levels deep, each '..' step selects every node below
     * each current one again, so three steps visit about 4.5 million
     * values: the query must end with an error, not exhaust memory. */
    json_t *inner = doc;
    for (int i = 0; i < 300; i++) {
        json_t *next = json_array();
        json_array_append_new(inner, next);
        inner = next;
    }
    assert_int_equal(jsonpath_query("$..*..*..*", doc, matches, &err), -1);
    assert_non_null(strstr(err.msg, "visits more than"));
    assert_int_equal(json_array_size(matches), 0);
    json_decref(matches);
    json_decref(doc);
}

static void test_jsonpath_check_accepts_valid(void **state)
{
    struct err err;

    (void)state;
    assert_int_equal(jsonpath_check("$..book[?(@.price<10)].title", &err), 0);
    assert_int_equal(jsonpath_check("items[0:2]", &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonpath_root_and_children),
        cmocka_unit_test(test_jsonpath_without_root_sign),
        cmocka_unit_test(test_jsonpath_indexes_and_slices),
        cmocka_unit_test(test_jsonpath_wildcards_and_unions),
        cmocka_unit_test(test_jsonpath_recursive_descent),
        cmocka_unit_test(test_jsonpath_bookstore_examples),
        cmocka_unit_test(test_jsonpath_filter_comparisons),
        cmocka_unit_test(test_jsonpath_filter_on_single_items),
        cmocka_unit_test(test_jsonpath_string_escapes),
        cmocka_unit_test(test_jsonpath_script_expression_rejected),
        cmocka_unit_test(test_jsonpath_function_rejected),
        cmocka_unit_test(test_jsonpath_compound_filter_rejected),
        cmocka_unit_test(test_jsonpath_malformed_rejected),
        cmocka_unit_test(test_jsonpath_large_result_bounded),
        cmocka_unit_test(test_jsonpath_check_accepts_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
