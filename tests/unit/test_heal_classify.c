/* Unit tests for the streaming classifier: rule order, exit codes, commands, long lines, streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heal/classify.h"
#include "heal/rules.h"

static struct heal_rules load(const char *text)
{
    struct heal_rules rules;
    struct err err;

    if (heal_rules_parse(text, strlen(text), "test", &rules, &err) != 0)
        fail_msg("%s", err.msg);
    return rules;
}

static const char *rule_name(const struct heal_classification *cls)
{
    return cls->rule != NULL ? cls->rule->name : "-";
}

static const char ordered_rules[] =
    "rules:\n"
    "  - name: first\n    category: dependency\n    pattern: 'alpha'\n"
    "  - name: needs-exit-7\n    category: timeout\n    pattern: 'beta'\n    exit_codes: [7]\n"
    "  - name: third\n    category: network\n    pattern: 'beta|gamma'\n"
    "  - name: exit-only\n    category: resource\n    exit_codes: ['137']\n"
    "  - name: for-make\n    category: config\n    pattern: 'delta'\n    command: '^make\\b'\n";

static void test_first_rule_wins_not_first_line(void **state)
{
    (void)state;
    struct heal_rules rules = load(ordered_rules);
    struct heal_classification cls;
    const char log[] = "gamma happened first\nthen alpha\nand gamma again\n";

    heal_classify_text(&rules, NULL, log, strlen(log), 1, &cls);
    assert_string_equal(rule_name(&cls), "first");
    assert_int_equal(cls.category, HEAL_DEPENDENCY);
    assert_string_equal(cls.line, "then alpha");
    assert_true(cls.line_matched);
    heal_rules_release(&rules);
}

static void test_exit_code_conditions(void **state)
{
    (void)state;
    struct heal_rules rules = load(ordered_rules);
    struct heal_classification cls;
    const char log[] = "beta\n";

    heal_classify_text(&rules, NULL, log, strlen(log), 7, &cls);
    assert_string_equal(rule_name(&cls), "needs-exit-7");
    heal_classify_text(&rules, NULL, log, strlen(log), 1, &cls);
    assert_string_equal(rule_name(&cls), "third");

    /* Streaming: the exit code is only known at the end. */
    struct heal_classifier c;
    heal_classifier_init(&c, &rules, NULL, -1);
    heal_classifier_feed(&c, 0, "beta\n", 5);
    heal_classifier_finish(&c, 7, &cls);
    assert_string_equal(rule_name(&cls), "needs-exit-7");
    heal_classifier_release(&c);
    heal_classifier_init(&c, &rules, NULL, -1);
    heal_classifier_feed(&c, 0, "beta\n", 5);
    heal_classifier_finish(&c, 3, &cls);
    assert_string_equal(rule_name(&cls), "third");
    heal_classifier_release(&c);

    heal_classify_text(&rules, NULL, "nothing\n", 8, 137, &cls);
    assert_string_equal(rule_name(&cls), "exit-only");
    assert_int_equal(cls.category, HEAL_RESOURCE);
    assert_false(cls.line_matched);
    assert_string_equal(cls.line, "nothing");
    /* Without an exit code, rules that need one never match. */
    heal_classify_text(&rules, NULL, "nothing\n", 8, -1, &cls);
    assert_null(cls.rule);
    heal_rules_release(&rules);
}

static void test_command_condition(void **state)
{
    (void)state;
    struct heal_rules rules = load(ordered_rules);
    struct heal_classification cls;

    heal_classify_text(&rules, "make all", "delta\n", 6, 2, &cls);
    assert_string_equal(rule_name(&cls), "for-make");
    heal_classify_text(&rules, "cmake .", "delta\n", 6, 2, &cls);
    assert_null(cls.rule);
    heal_classify_text(&rules, NULL, "delta\n", 6, 2, &cls);
    assert_null(cls.rule);
    heal_rules_release(&rules);
}

static void test_unknown_names_last_line(void **state)
{
    (void)state;
    struct heal_rules rules = load(ordered_rules);
    struct heal_classification cls;
    const char log[] = "one\r\ntwo\x01three\r\n\n   \n";

    heal_classify_text(&rules, NULL, log, strlen(log), 1, &cls);
    assert_null(cls.rule);
    assert_int_equal(cls.category, HEAL_UNKNOWN);
    assert_int_equal(cls.strategy, STRATEGY_BACKOFF);
    assert_false(cls.line_matched);
    assert_string_equal(cls.line, "two?three");
    heal_classify_text(&rules, NULL, "", 0, 1, &cls);
    assert_string_equal(cls.line, "");
    heal_rules_release(&rules);
}

/* Patterns match within one line, as grep does, even when a chunk contains many. */
static void test_patterns_stay_in_line(void **state)
{
    (void)state;
    struct heal_rules rules = load("rules:\n  - name: span\n    category: network\n"
                                   "    pattern: 'left\\s+right'\n"
                                   "  - name: lit\n    category: timeout\n"
                                   "    pattern: 'start[^!]*finish'\n");
    struct heal_classification cls;

    heal_classify_text(&rules, NULL, "left\nright\nstart\nfinish\n", 24, 1, &cls);
    assert_null(cls.rule);
    heal_classify_text(&rules, NULL, "x\nleft  right\n", 14, 1, &cls);
    assert_string_equal(rule_name(&cls), "span");
    heal_classify_text(&rules, NULL, "start and finish", 16, 1, &cls);
    assert_string_equal(rule_name(&cls), "lit");
    heal_rules_release(&rules);
}

/* The cause at the very end of a long output, after lines longer than the line limit. */
static void test_long_output_and_lines(void **state)
{
    (void)state;
    struct heal_rules builtin;
    struct heal_classifier c;
    struct heal_classification cls;
    struct err err;
    size_t size = 3 * HEAL_LINE_MAX + 100;
    char *junk = malloc(size);

    assert_int_equal(heal_rules_builtin(&builtin, &err), 0);
    assert_non_null(junk);
    memset(junk, 'x', size);
    heal_classifier_init(&c, &builtin, NULL, -1);
    for (int i = 0; i < 20; i++)
        heal_classifier_feed(&c, i % 2, junk, size);
    heal_classifier_feed(&c, 1, "\nOSError: [Errno 28] No space ", 30);
    heal_classifier_feed(&c, 1, "left on device\n", 15);
    heal_classifier_feed(&c, 0, "unterminated stdout line", 24);
    heal_classifier_finish(&c, 1, &cls);
    assert_string_equal(rule_name(&cls), "no-space-left");
    assert_string_equal(cls.line, "OSError: [Errno 28] No space left on device");
    assert_int_equal(cls.strategy, STRATEGY_CLEANUP);
    heal_classifier_release(&c);
    free(junk);
    heal_rules_release(&builtin);
}

/* Lines of the two streams are assembled separately, so interleaved chunks do not mix. */
static void test_streams_assemble_separately(void **state)
{
    (void)state;
    struct heal_rules builtin;
    struct heal_classifier c;
    struct heal_classification cls;
    struct err err;

    assert_int_equal(heal_rules_builtin(&builtin, &err), 0);
    heal_classifier_init(&c, &builtin, NULL, -1);
    heal_classifier_feed(&c, 0, "progress: Connection ", 21);
    heal_classifier_feed(&c, 1, "ModuleNotFoundError: No module ", 31);
    heal_classifier_feed(&c, 0, "pool ok\n", 8);
    heal_classifier_feed(&c, 1, "named 'yaml'\n", 13);
    heal_classifier_finish(&c, 1, &cls);
    assert_string_equal(rule_name(&cls), "python-module-missing");
    assert_string_equal(cls.line, "ModuleNotFoundError: No module named 'yaml'");
    heal_classifier_release(&c);
    heal_rules_release(&builtin);
}

/* The latest matching line of the winning rule is reported. */
static void test_reports_last_matching_line(void **state)
{
    (void)state;
    struct heal_rules builtin;
    struct heal_classification cls;
    struct err err;
    const char log[] = "Connection refused (attempt 1)\nstill trying\nConnection refused "
                       "(attempt 2)\n";

    assert_int_equal(heal_rules_builtin(&builtin, &err), 0);
    heal_classify_text(&builtin, NULL, log, strlen(log), 7, &cls);
    assert_string_equal(rule_name(&cls), "connection-refused");
    assert_string_equal(cls.line, "Connection refused (attempt 2)");
    heal_rules_release(&builtin);
}

/* Patterns that cannot be combined (a back reference) still match, line by line. */
static void test_uncombinable_patterns(void **state)
{
    (void)state;
    struct heal_rules rules = load("rules:\n  - name: repeated\n    category: config\n"
                                   "    pattern: '(\\w+) \\1'\n"
                                   "  - name: commented\n    category: network\n"
                                   "    pattern: '(?x) net  # a comment'\n");
    struct heal_classification cls;

    heal_classify_text(&rules, NULL, "a b c\nsay say again\n", 20, 1, &cls);
    assert_string_equal(rule_name(&cls), "repeated");
    assert_string_equal(cls.line, "say say again");
    heal_classify_text(&rules, NULL, "the net is down\n", 16, 1, &cls);
    assert_string_equal(rule_name(&cls), "commented");
    heal_rules_release(&rules);
}

/* A verdict in the output wins over any later cause. */
static void test_verdict_beats_everything(void **state)
{
    (void)state;
    struct heal_rules builtin;
    struct heal_classification cls;
    struct err err;
    const char log[] = "  status               completed, deviated (3.10 s)\n"
                       "ModuleNotFoundError: No module named 'x'\n"
                       "curl: (7) Connection refused\n";

    assert_int_equal(heal_rules_builtin(&builtin, &err), 0);
    heal_classify_text(&builtin, "./wrapper.sh", log, strlen(log), 1, &cls);
    assert_int_equal(cls.category, HEAL_VERDICT);
    assert_int_equal(cls.strategy, STRATEGY_STOP);
    /* aftershock run's exit 1 is a verdict even without output. */
    heal_classify_text(&builtin, "aftershock run x.yaml", "", 0, 1, &cls);
    assert_string_equal(rule_name(&cls), "aftershock-finding");
    heal_classify_text(&builtin, "aftershock runner-tool", "", 0, 1, &cls);
    assert_null(cls.rule);
    heal_rules_release(&builtin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_rule_wins_not_first_line),
        cmocka_unit_test(test_exit_code_conditions),
        cmocka_unit_test(test_command_condition),
        cmocka_unit_test(test_unknown_names_last_line),
        cmocka_unit_test(test_patterns_stay_in_line),
        cmocka_unit_test(test_long_output_and_lines),
        cmocka_unit_test(test_streams_assemble_separately),
        cmocka_unit_test(test_reports_last_matching_line),
        cmocka_unit_test(test_uncombinable_patterns),
        cmocka_unit_test(test_verdict_beats_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
