/* Checks every labelled failure log in tests/heal/corpus against the built-in
 * rules, whole and fed in small chunks over two streams. */
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
#include "util/fsutil.h"

/* The corpus sits next to this file's folder: tests/unit/../heal. */
static char *heal_dir(void)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    size_t len = slash != NULL ? (size_t)(slash - file) : 0;
    char *dir = malloc(len + 16);

    assert_non_null(dir);
    snprintf(dir, len + 16, "%.*s/../heal", (int)len, file);
    return dir;
}

struct label {
    char file[128];
    int exit_code;
    char category[32];
    char rule[64];
    char command[256];
};

static int parse_label(char *line, struct label *l)
{
    char *fields[5];
    int n = 0;

    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0')
        return -1;
    for (char *p = line; n < 5; n++) {
        fields[n] = p;
        p = strchr(p, '\t');
        if (p == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n != 5)
        fail_msg("labels.tsv: line '%s' does not have 5 tab-separated fields", line);
    snprintf(l->file, sizeof(l->file), "%s", fields[0]);
    l->exit_code = atoi(fields[1]);
    snprintf(l->category, sizeof(l->category), "%s", fields[2]);
    snprintf(l->rule, sizeof(l->rule), "%s", fields[3]);
    snprintf(l->command, sizeof(l->command), "%s", strcmp(fields[4], "-") == 0 ? "" : fields[4]);
    return 0;
}

static void check_result(const struct label *l, const struct heal_classification *cls,
                         const char *how)
{
    const char *rule = cls->rule != NULL ? cls->rule->name : "-";

    if (strcmp(heal_category_name(cls->category), l->category) != 0 || strcmp(rule, l->rule) != 0)
        fail_msg("%s (%s): expected %s by rule %s, got %s by rule %s (line: %s)", l->file, how,
                 l->category, l->rule, heal_category_name(cls->category), rule, cls->line);
}

/* Feeds text in chunks of growing odd sizes, alternating lines between two
 * streams, so line assembly across chunk ends is exercised. */
static void classify_chunked(const struct heal_rules *rules, const struct label *l,
                             const char *text, size_t len, struct heal_classification *out)
{
    struct heal_classifier c;
    size_t pos = 0, step = 1;

    heal_classifier_init(&c, rules, l->command[0] ? l->command : NULL, -1);
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step;
        heal_classifier_feed(&c, 0, text + pos, n);
        pos += n;
        step = step * 3 % 17 + 1;
    }
    heal_classifier_finish(&c, l->exit_code, out);
    heal_classifier_release(&c);
}

static void test_corpus_labels(void **state)
{
    (void)state;
    char *dir = heal_dir();
    char path[1024], line[2048];
    struct heal_rules rules;
    struct err err;
    int checked = 0;
    int per_category[HEAL_CATEGORY_COUNT] = { 0 };

    assert_int_equal(heal_rules_builtin(&rules, &err), 0);
    snprintf(path, sizeof(path), "%s/labels.tsv", dir);
    FILE *labels = fopen(path, "r");
    if (labels == NULL)
        fail_msg("cannot open %s", path);

    while (fgets(line, sizeof(line), labels) != NULL) {
        struct label l;
        struct heal_classification whole, chunked;
        size_t len;
        enum heal_category category;

        if (parse_label(line, &l) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/corpus/%s", dir, l.file);
        char *text = fs_read_file(path, 1 << 20, &len, &err);
        if (text == NULL)
            fail_msg("%s", err.msg);
        heal_classify_text(&rules, l.command[0] ? l.command : NULL, text, len, l.exit_code,
                           &whole);
        check_result(&l, &whole, "whole");
        classify_chunked(&rules, &l, text, len, &chunked);
        check_result(&l, &chunked, "chunked");
        assert_string_equal(whole.line, chunked.line);
        assert_int_equal(heal_category_parse(l.category, &category), 0);
        per_category[category]++;
        checked++;
        free(text);
    }
    fclose(labels);

    /* The corpus must stay large and cover every category. */
    assert_true(checked >= 80);
    for (int i = 0; i < HEAL_CATEGORY_COUNT; i++) {
        if (per_category[i] == 0)
            fail_msg("no corpus log has the category %s", heal_category_name(i));
    }
    heal_rules_release(&rules);
    free(dir);
}

/* Every log file is labelled, so none is silently skipped. */
static void test_corpus_all_labelled(void **state)
{
    (void)state;
    char *dir = heal_dir();
    char cmd[1200], name[256];

    snprintf(cmd, sizeof(cmd), "cd '%s/corpus' && ls *.log", dir);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    while (fgets(name, sizeof(name), ls) != NULL) {
        char grep[1400];
        name[strcspn(name, "\n")] = '\0';
        snprintf(grep, sizeof(grep), "grep -q '^%s\t' '%s/labels.tsv'", name, dir);
        if (system(grep) != 0)
            fail_msg("corpus log %s has no line in labels.tsv", name);
    }
    pclose(ls);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_labels),
        cmocka_unit_test(test_corpus_all_labelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
