/* Unit tests for the CI workflow templates and their check, and for summary markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ci/summary.h"
#include "ci/workflow.h"
#include "experiment/load.h"

static struct project_config config(void)
{
    static char *experiments[] = { "chaos dir/*.yaml" };
    struct project_config cfg = { .root = "/nonexistent-root" };

    cfg.experiments.items = experiments;
    cfg.experiments.count = 1;
    return cfg;
}

static size_t verify_text(const char *text, enum ci_provider provider, struct problems *problems)
{
    struct err err;
    json_t *doc = experiment_parse(text, strlen(text), "workflow.yml", &err);

    assert_non_null(doc);
    problems_init(problems, "workflow.yml");
    ci_workflow_verify(doc, provider, problems);
    json_decref(doc);
    return problems->count;
}

static void rendered_workflows_pass_check(void **state)
{
    struct project_config cfg = config();
    struct problems problems;

    (void)state;
    for (int p = 0; p < 2; p++) {
        char *text = ci_workflow_render(&cfg, p == 0 ? CI_GITHUB : CI_GITLAB);
        assert_int_equal(verify_text(text, p == 0 ? CI_GITHUB : CI_GITLAB, &problems), 0);
        problems_release(&problems);
        assert_null(strstr(text, "@EXPERIMENTS"));
        assert_null(strstr(text, "@INSTALL@"));
        /* The glob keeps its star, the space is escaped for the shell. */
        assert_non_null(strstr(text, "chaos\\ dir/*.yaml"));
        free(text);
    }
}

static void missing_stage_is_named(void **state)
{
    struct project_config cfg = config();
    char *text = ci_workflow_render(&cfg, CI_GITHUB);
    char *report = strstr(text, "aftershock report --lookback-days");
    struct problems problems;

    (void)state;
    assert_non_null(report);
    memcpy(report, "echo  ", 6);
    memcpy(strstr(report, "aftershock report"), "echo  ", 6);
    assert_int_equal(verify_text(text, CI_GITHUB, &problems), 1);
    assert_non_null(strstr(problems.items[0], "jobs.report"));
    assert_non_null(strstr(problems.items[0], "'aftershock report'"));
    problems_release(&problems);
    free(text);
}

static void bare_on_key_is_read(void **state)
{
    static const char text[] =
        "on: [push, pull_request, schedule]\n"
        "jobs:\n"
        "  dependency: {steps: [{run: aftershock deps}]}\n"
        "  config: {steps: [{run: aftershock check}]}\n"
        "  chaos: {steps: [{run: aftershock heal -- aftershock run x.yaml}]}\n"
        "  resilience: {steps: [{run: aftershock verify j.json}]}\n"
        "  report: {steps: [{run: aftershock report}]}\n"
        "  summary: {steps: [{run: aftershock ci summary}]}\n";
    struct problems problems;

    (void)state;
    assert_int_equal(verify_text(text, CI_GITHUB, &problems), 1);
    assert_non_null(strstr(problems.items[0], "'workflow_dispatch'"));
    problems_release(&problems);
}

static void gitlab_stage_without_job(void **state)
{
    static const char text[] = "stages: [dependency, config, chaos, resilience, report]\n"
                               "dependency: {stage: dependency, script: [aftershock deps]}\n";
    struct problems problems;

    (void)state;
    assert_int_equal(verify_text(text, CI_GITLAB, &problems), 6);
    assert_non_null(strstr(problems.items[0], "no job runs in the 'config' stage"));
    problems_release(&problems);
}

static void provider_names(void **state)
{
    enum ci_provider provider;

    (void)state;
    assert_int_equal(ci_provider_parse("gitlab", &provider), 0);
    assert_int_equal(provider, CI_GITLAB);
    assert_int_equal(ci_provider_parse("GitHub", &provider), -1);
    assert_string_equal(ci_workflow_path(CI_GITHUB),
                        ".github/workflows/chaos-validation-self-healing.yml");
}

static void issue_marker_stays_one_comment(void **state)
{
    char *marker = ci_issue_marker("a--b --> \"c\"");

    (void)state;
    assert_string_equal(marker, "<!-- aftershock:issue experiment=\"a_-b _-_ _c_\" -->");
    free(marker);
}

static void markdown_escapes_table_cells(void **state)
{
    struct ci_summary s;
    struct err err;
    json_t *journal = json_pack("{s:{s:s}, s:s, s:b, s:f}", "experiment", "title", "a|b<c>",
                                "status", "completed", "deviated", 0, "duration", 1.25);
    char *markdown;

    (void)state;
    ci_summary_init(&s);
    assert_int_equal(ci_summary_add_journal(&s, journal, "j.json", &err), 0);
    assert_true(ci_summary_passed(&s));
    markdown = ci_summary_markdown(&s, CI_COMMENT_MARKER);
    assert_non_null(strstr(markdown, "| a\\|b&lt;c&gt; | ✅ passed | – | – | 1.2 s | – |"));
    assert_int_equal(strncmp(markdown, CI_COMMENT_MARKER "\n", strlen(CI_COMMENT_MARKER) + 1), 0);
    free(markdown);
    ci_summary_release(&s);
    json_decref(journal);
}

static void empty_summary_is_not_passed(void **state)
{
    struct ci_summary s;
    char *markdown;

    (void)state;
    ci_summary_init(&s);
    assert_false(ci_summary_passed(&s));
    markdown = ci_summary_markdown(&s, NULL);
    assert_non_null(strstr(markdown, "## Chaos validation: ⚠️ nothing to judge\n"));
    assert_null(strstr(markdown, "passed"));
    free(markdown);
    ci_summary_release(&s);
}

static void verify_merges_by_journal(void **state)
{
    struct ci_summary s;
    struct err err;
    json_t *journal = json_pack("{s:{s:s}, s:s, s:b}", "experiment", "title", "t", "status",
                                "completed", "deviated", 0);
    json_t *verify = json_pack("{s:[{s:s, s:s, s:f, s:[{s:s, s:b}]}], s:f, s:b}", "experiments",
                               "journal", "j.json", "title", "other", "score", 40.0, "objectives",
                               "name", "p99", "met", 0, "score", 40.0, "passed", 0);

    (void)state;
    ci_summary_init(&s);
    assert_int_equal(ci_summary_add_journal(&s, journal, "j.json", &err), 0);
    assert_int_equal(ci_summary_add_verify(&s, verify, &err), 0);
    assert_int_equal(s.count, 1);
    assert_false(s.experiments[0].objectives_passed);
    assert_false(ci_summary_passed(&s));
    assert_true(s.experiments[0].score > 39.9);
    ci_summary_release(&s);
    json_decref(journal);
    json_decref(verify);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rendered_workflows_pass_check),
        cmocka_unit_test(missing_stage_is_named),
        cmocka_unit_test(bare_on_key_is_read),
        cmocka_unit_test(gitlab_stage_without_job),
        cmocka_unit_test(provider_names),
        cmocka_unit_test(issue_marker_stays_one_comment),
        cmocka_unit_test(markdown_escapes_table_cells),
        cmocka_unit_test(verify_merges_by_journal),
        cmocka_unit_test(empty_summary_is_not_passed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
