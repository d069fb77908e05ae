/* Unit tests for healing rules: built-ins, rules files, merging, literals and exit code sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "heal/literal.h"
#include "heal/rules.h"
#include "heal/session.h"

static int parse(const char *text, struct heal_rules *rules, struct err *err)
{
    return heal_rules_parse(text, strlen(text), "rules.yaml", rules, err);
}

/* Parses text that must be rejected, and checks the message names the problem. */
static void expect_invalid(const char *text, const char *fragment)
{
    struct heal_rules rules;
    struct err err;

    if (parse(text, &rules, &err) == 0)
        fail_msg("accepted invalid rules:\n%s", text);
    if (strstr(err.msg, fragment) == NULL)
        fail_msg("message '%s' does not contain '%s'", err.msg, fragment);
    assert_null(rules.items);
    assert_int_equal(rules.count, 0);
}

static void test_builtin_patterns_compile(void **state)
{
    (void)state;
    struct heal_rules rules;
    struct err err;

    assert_int_equal(heal_rules_builtin(&rules, &err), 0);
    assert_true(rules.count >= 30);
    if (heal_rules_compile_all(&rules, &err) != 0)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < rules.count; i++) {
        const struct heal_rule *rule = &rules.items[i];
        assert_true(rule->pattern_count > 0 || rule->exit_code_count > 0);
        assert_true(rule->builtin);
        assert_null(heal_rules_find(&(struct heal_rules){ rules.items, i }, rule->name));
    }
    heal_rules_release(&rules);
}

/* Verdicts come before everything else, so nothing can turn a finding into a retry. */
static void test_builtin_verdicts_first(void **state)
{
    (void)state;
    struct heal_rules rules;
    struct err err;
    bool seen_other = false;

    assert_int_equal(heal_rules_builtin(&rules, &err), 0);
    for (size_t i = 0; i < rules.count; i++) {
        const struct heal_rule *rule = &rules.items[i];
        bool judging = rule->category == HEAL_VERDICT ||
                       strcmp(rule->name, "aftershock-not-ready") == 0;
        if (!judging)
            seen_other = true;
        else if (seen_other)
            fail_msg("verdict rule %s comes after other rules", rule->name);
        if (rule->category == HEAL_VERDICT)
            assert_int_equal(heal_rule_strategy(rule), STRATEGY_STOP);
    }
    heal_rules_release(&rules);
}

static void test_file_full_rule(void **state)
{
    (void)state;
    struct heal_rules rules;
    struct err err;
    const char *text =
        "rules:\n"
        "  - name: flaky-upstream\n"
        "    category: network\n"
        "    patterns: ['upstream connect error', 'reset reason: (overflow|timeout)']\n"
        "    exit_codes: [1, \"120-130\"]\n"
        "    command: 'curl'\n"
        "    run: ./scripts/restart-envoy.sh\n"
        "    max_attempts: 5\n"
        "  - name: known-bad-build\n"
        "    verdict: true\n"
        "    pattern: 'checksum mismatch'\n";

    if (parse(text, &rules, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(rules.count, 2);
    const struct heal_rule *r = &rules.items[0];
    assert_string_equal(r->name, "flaky-upstream");
    assert_int_equal(r->category, HEAL_NETWORK);
    assert_int_equal(r->pattern_count, 2);
    assert_int_equal(r->exit_code_count, 2);
    assert_true(heal_rule_has_exit_code(r, 1));
    assert_true(heal_rule_has_exit_code(r, 125));
    assert_false(heal_rule_has_exit_code(r, 2));
    assert_non_null(r->command_compiled);
    assert_int_equal(heal_rule_strategy(r), STRATEGY_COMMAND);
    assert_string_equal(r->strategy_command, "./scripts/restart-envoy.sh");
    assert_int_equal(r->max_attempts, 5);
    assert_false(r->builtin);

    r = &rules.items[1];
    assert_int_equal(r->category, HEAL_VERDICT);
    assert_int_equal(r->max_attempts, 1);
    assert_int_equal(heal_rule_strategy(r), STRATEGY_STOP);
    heal_rules_release(&rules);
}

static void test_file_bare_list_json(void **state)
{
    (void)state;
    struct heal_rules rules;
    struct err err;

    assert_int_equal(parse("[{\"name\": \"x\", \"category\": \"timeout\", \"exit_codes\": 124}]",
                           &rules, &err), 0);
    assert_int_equal(rules.count, 1);
    assert_true(heal_rule_has_exit_code(&rules.items[0], 124));
    assert_int_equal(heal_rule_strategy(&rules.items[0]), STRATEGY_BACKOFF);
    heal_rules_release(&rules);
}

static void test_file_invalid(void **state)
{
    (void)state;
    expect_invalid("rules: {}\n", "list of rules");
    expect_invalid("other: 1\n", "list of rules");
    expect_invalid("rules: []\nextra: 1\n", "only the key 'rules'");
    expect_invalid("rules:\n  - category: network\n    pattern: x\n", "has no 'name'");
    expect_invalid("rules:\n  - name: a\n    pattern: x\n", "'category' is missing");
    expect_invalid("rules:\n  - name: a\n    category: flaky\n    pattern: x\n",
                   "unknown category 'flaky'");
    expect_invalid("rules:\n  - name: a\n    category: network\n", "matches nothing");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: 'a(b'\n",
                   "invalid pattern 'a(b'");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n    colour: red\n",
                   "unknown key 'colour'");
    expect_invalid("rules:\n  - name: a\n    category: network\n    exit_codes: [256]\n",
                   "exit code 1");
    expect_invalid("rules:\n  - name: a\n    category: network\n    exit_codes: ['9-3']\n",
                   "exit code 1");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n"
                   "    strategy: deps\n    run: ./fix.sh\n", "contradict");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n"
                   "    strategy: command\n", "needs the command");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n"
                   "    strategy: reboot\n", "unknown strategy 'reboot'");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n"
                   "    max_attempts: 0\n", "'max_attempts'");
    expect_invalid("rules:\n  - name: a\n    category: network\n    verdict: true\n    pattern: x\n",
                   "category verdict");
    expect_invalid("rules:\n  - name: a\n    category: network\n    pattern: x\n"
                   "  - name: a\n    category: timeout\n    pattern: y\n", "two rules are named 'a'");
    expect_invalid("rules:\n  - name: a\n    category: network\n    patterns: x\n",
                   "must be a list");
    expect_invalid("rules:\n  - name: a\n    category: network\n    patterns: [1]\n",
                   "not a string");
    expect_invalid("rules: [\n", "rules.yaml");
}

static void test_merge_override_and_disable(void **state)
{
    (void)state;
    struct heal_rules base, file;
    struct err err;
    size_t builtin_count;

    assert_int_equal(heal_rules_builtin(&base, &err), 0);
    builtin_count = base.count;
    assert_int_equal(parse("rules:\n"
                           "  - name: mine\n    category: health\n    pattern: 'warming up'\n"
                           "  - name: connection-reset\n    category: network\n"
                           "    pattern: 'RST'\n    max_attempts: 9\n"
                           "  - name: timed-out\n    enabled: false\n",
                           &file, &err), 0);
    heal_rules_merge(&base, &file);
    assert_int_equal(file.count, 0);
    /* One added, one replaced, one removed. */
    assert_int_equal(base.count, builtin_count);
    assert_string_equal(base.items[0].name, "mine");
    assert_string_equal(base.items[1].name, "connection-reset");
    assert_int_equal(base.items[1].max_attempts, 9);
    assert_null(heal_rules_find(&base, "timed-out"));
    size_t resets = 0;
    for (size_t i = 0; i < base.count; i++)
        resets += strcmp(base.items[i].name, "connection-reset") == 0;
    assert_int_equal(resets, 1);
    heal_rules_release(&base);
}

static void expect_literal(const char *pattern, const char *literal)
{
    char out[256];
    size_t n = heal_literal_extract(pattern, out, sizeof(out));

    if (n != strlen(literal) || memcmp(out, literal, n) != 0)
        fail_msg("pattern '%s': expected literal '%s', got '%.*s'", pattern, literal, (int)n, out);
}

static void test_literal_extract(void **state)
{
    (void)state;
    expect_literal("No space left on device", "No space left on device");
    expect_literal("[Cc]onnection refused", "onnection refused");
    expect_literal("java\\.lang\\.(Foo|Bar)Error", "java.lang.");
    expect_literal("abcd?efgh", "efgh");
    expect_literal("abcde*fg", "abcd");
    expect_literal("abcx+yzw", "abcx");
    expect_literal("aaaa{0,3}bbb", "aaa");
    expect_literal("^ *(File \"x\")?SyntaxError: ", "SyntaxError: ");
    expect_literal("ab\\sdef", "def");
    expect_literal("curl: \\(28\\)", "curl: (28)");
    /* Anything that could change the meaning gives no literal rather than a wrong one. */
    expect_literal("(?i)timed out", "");
    expect_literal("timeout|deadline", "");
    expect_literal("\\x41BCDEF", "");
    expect_literal("\\QHELLO", "");
    expect_literal("(*CRLF)hello", "");
    expect_literal("ab", "");
    expect_literal("abc[", "");
    expect_literal("", "");
}

/* The automaton reports exactly the literals a naive search finds. */
static void test_aho_corasick_matches_naive(void **state)
{
    (void)state;
    const char *words[] = { "he", "she", "his", "hers", "ushers", "e", "sh" };
    struct heal_literal lits[7];
    struct heal_ac ac;
    const char *text = "ahishers ushers sheesh";

    for (uint32_t i = 0; i < 7; i++)
        lits[i] = (struct heal_literal){ words[i], strlen(words[i]), i };
    assert_int_equal(heal_ac_build(&ac, lits, 7), 0);

    uint32_t t = 0;
    for (size_t i = 0; text[i] != '\0'; i++) {
        unsigned found = 0, expected = 0;

        t = ac.next[(t & ~HEAL_AC_OUTPUT) + ac.byte_class[(unsigned char)text[i]]];
        if (t & HEAL_AC_OUTPUT) {
            uint32_t s = (t & ~HEAL_AC_OUTPUT) / ac.nclasses;
            for (uint32_t k = ac.out_start[s]; k < ac.out_start[s + 1]; k++)
                found |= 1u << ac.ids[k];
        }
        for (unsigned w = 0; w < 7; w++) {
            size_t len = strlen(words[w]);
            if (i + 1 >= len && memcmp(text + i + 1 - len, words[w], len) == 0)
                expected |= 1u << w;
        }
        if (found != expected)
            fail_msg("at offset %zu: found mask %#x, expected %#x", i, found, expected);
    }
    heal_ac_release(&ac);
    assert_int_equal(heal_ac_build(&ac, lits, 0), -1);
}

static void test_code_set_parse(void **state)
{
    (void)state;
    struct heal_code_set set = { NULL, 0 };

    assert_int_equal(heal_code_set_parse("1,3,120-130", &set), 0);
    assert_int_equal(set.count, 3);
    assert_true(heal_code_set_has(&set, 1));
    assert_true(heal_code_set_has(&set, 125));
    assert_false(heal_code_set_has(&set, 2));
    assert_false(heal_code_set_has(&set, 131));
    const char *bad[] = { "", "x", "1,", "256", "-1", "5-2", "1;2", "1,,2", "3-", NULL };
    for (int i = 0; bad[i] != NULL; i++) {
        if (heal_code_set_parse(bad[i], &set) == 0)
            fail_msg("accepted '%s'", bad[i]);
    }
    /* A failed parse keeps the previous set. */
    assert_int_equal(set.count, 3);
    heal_code_set_release(&set);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < HEAL_CATEGORY_COUNT; i++) {
        enum heal_category c;
        assert_int_equal(heal_category_parse(heal_category_name(i), &c), 0);
        assert_int_equal(c, i);
    }
    enum heal_strategy s;
    assert_int_equal(heal_strategy_parse("rollback", &s), 0);
    assert_int_equal(s, STRATEGY_ROLLBACK);
    assert_int_equal(heal_strategy_parse("nope", &s), -1);
    assert_int_equal(heal_default_strategy(HEAL_DEPENDENCY), STRATEGY_DEPS);
    assert_int_equal(heal_default_strategy(HEAL_CONFIG), STRATEGY_CHECK);
    assert_int_equal(heal_default_strategy(HEAL_HEALTH), STRATEGY_PROBE);
    assert_int_equal(heal_default_strategy(HEAL_INJECTION), STRATEGY_ROLLBACK);
    assert_int_equal(heal_default_strategy(HEAL_RESOURCE), STRATEGY_CLEANUP);
    assert_int_equal(heal_default_strategy(HEAL_NETWORK), STRATEGY_BACKOFF);
    assert_int_equal(heal_default_strategy(HEAL_TIMEOUT), STRATEGY_BACKOFF);
    assert_int_equal(heal_default_strategy(HEAL_UNKNOWN), STRATEGY_BACKOFF);
    assert_int_equal(heal_default_strategy(HEAL_VERDICT), STRATEGY_STOP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_patterns_compile),
        cmocka_unit_test(test_builtin_verdicts_first),
        cmocka_unit_test(test_file_full_rule),
        cmocka_unit_test(test_file_bare_list_json),
        cmocka_unit_test(test_file_invalid),
        cmocka_unit_test(test_merge_override_and_disable),
        cmocka_unit_test(test_literal_extract),
        cmocka_unit_test(test_aho_corasick_matches_naive),
        cmocka_unit_test(test_code_set_parse),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
