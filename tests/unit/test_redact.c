/* Unit tests for secret masking in free text and JSON trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/redact.h"

static int clear_secrets(void **state)
{
    (void)state;
    redact_clear();
    return 0;
}

static void test_redact_text_masks_every_occurrence(void **state)
{
    (void)state;
    redact_add_secret("hunter22");
    char *masked = redact_text("token=hunter22&again=hunter22");
    assert_string_equal(masked, "token=***&again=***");
    free(masked);
}

static void test_redact_longest_secret_wins(void **state)
{
    (void)state;
    redact_add_secret("abcd");
    redact_add_secret("abcdefgh");
    char *masked = redact_text("x abcdefgh y abcd z");
    assert_string_equal(masked, "x *** y *** z");
    free(masked);
}

static void test_redact_short_secret_ignored(void **state)
{
    (void)state;
    redact_add_secret("ab");
    char *masked = redact_text("ab cab");
    assert_string_equal(masked, "ab cab");
    free(masked);
}

static void test_redact_tree_masks_nested_strings(void **state)
{
    (void)state;
    redact_add_secret("s3cr3t-value");
    json_t *tree = json_pack("{s:[s, i], s:{s:s}}", "exception", "failed for s3cr3t-value", 7,
                             "output", "body", "prefix-s3cr3t-value");
    redact_tree(tree);
    assert_string_equal(json_string_value(json_array_get(json_object_get(tree, "exception"), 0)),
                        "failed for ***");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(tree, "exception"), 1)), 7);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(tree, "output"), "body")),
        "prefix-***");
    json_decref(tree);
}

static void test_redact_text_without_secrets_unchanged(void **state)
{
    (void)state;
    char *masked = redact_text("nothing to hide");
    assert_string_equal(masked, "nothing to hide");
    free(masked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_redact_text_masks_every_occurrence, clear_secrets),
        cmocka_unit_test_teardown(test_redact_longest_secret_wins, clear_secrets),
        cmocka_unit_test_teardown(test_redact_short_secret_ignored, clear_secrets),
        cmocka_unit_test_teardown(test_redact_tree_masks_nested_strings, clear_secrets),
        cmocka_unit_test_teardown(test_redact_text_without_secrets_unchanged, clear_secrets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
