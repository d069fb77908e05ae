/* Fuzz target: the inputs of `ci summary` and `check`'s workflow check.
 *
 * The first byte picks the parser: 'E' a GitHub event, 'V' verify results,
 * 'J' a journal, 'G' or 'L' a GitHub or GitLab workflow, 'D' the JSON of
 * `deps --format json` as check 3 reads it. The rest is its
 * text. Whatever parses is also rendered as markdown or checked, which
 * must not crash and must keep the markers' HTML comments closed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/deps_json.h"
#include "ci/github.h"
#include "ci/summary.h"
#include "ci/workflow.h"
#include "experiment/load.h"

static void fuzz_summary(json_t *doc, char kind)
{
    struct ci_summary s;
    struct err err;
    char *markdown;

    ci_summary_init(&s);
    if (kind == 'V')
        ci_summary_add_verify(&s, doc, &err);
    else
        ci_summary_add_journal(&s, doc, "fuzz.json", &err);
    markdown = ci_summary_markdown(&s, CI_COMMENT_MARKER);
    if (strncmp(markdown, CI_COMMENT_MARKER, strlen(CI_COMMENT_MARKER)) != 0)
        abort();
    free(markdown);
    for (size_t i = 0; i < s.count; i++) {
        char *marker = ci_issue_marker(s.experiments[i].title);
        /* The marker must be one HTML comment: "--" only at its two ends. */
        const char *inner = marker + 4;
        const char *dashes = strstr(inner, "--");
        if (dashes == NULL || strcmp(dashes, "-->") != 0)
            abort();
        char *body = ci_issue_body(&s, &s.experiments[i], 3, "main");
        free(body);
        free(marker);
    }
    ci_summary_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;
    size_t len = size > 0 ? size - 1 : 0;
    struct github_event event;
    struct problems problems;
    struct err err;
    json_t *doc;

    if (size == 0)
        return 0;
    switch (data[0]) {
    case 'E':
        if (github_event_parse(text, len, &event, &err) == 0 && event.pull_request < 0)
            abort();
        break;
    case 'V':
    case 'J':
        doc = json_loadb(text, len, 0, NULL);
        if (doc != NULL)
            fuzz_summary(doc, (char)data[0]);
        json_decref(doc);
        break;
    case 'G':
    case 'L':
        doc = experiment_parse(text, len, "workflow.yml", &err);
        if (doc == NULL)
            break;
        problems_init(&problems, "workflow.yml");
        ci_workflow_verify(doc, data[0] == 'G' ? CI_GITHUB : CI_GITLAB, &problems);
        problems_release(&problems);
        json_decref(doc);
        break;
    case 'D': {
        struct deps_report report;
        if (deps_report_parse(text, len, &report, &err) == 0) {
            for (size_t i = 0; i < report.count; i++) {
                /* Every entry names what to declare. */
                if (report.missing[i].module == NULL && report.missing[i].distribution == NULL)
                    abort();
            }
            deps_report_release(&report);
        } else if (report.count != 0 || report.first_error != NULL) {
            abort();
        }
        break;
    }
    default:
        break;
    }
    return 0;
}
