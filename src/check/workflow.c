/* Check 5: the CI workflow exists, parses and runs the six stages. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check_internal.h"
#include "ci/workflow.h"
#include "experiment/load.h"
#include "util/fsutil.h"

/* Largest workflow file read, in bytes. */
#define WORKFLOW_MAX_SIZE (4 * 1024 * 1024)

static bool exists(const struct check_state *st, const char *relative)
{
    char *path = check_absolute(st, relative);
    struct stat info;
    bool found = lstat(path, &info) == 0;

    free(path);
    return found;
}

static void write_workflow(struct check_state *st, struct check_result *r)
{
    struct project_config cfg = *st->cfg;
    struct err err;
    char *path = NULL;

    cfg.root = st->root;
    if (ci_workflow_write(&cfg, CI_GITHUB, false, &path, &err) != 0) {
        result_fail(r, "aftershock ci init", "the CI workflow '%s' is missing and could not be "
                    "written: %s", CI_GITHUB_WORKFLOW_PATH, err.msg);
    } else {
        result_change(r, "wrote '%s' with 'ci init'", CI_GITHUB_WORKFLOW_PATH);
        result_pass(r, "wrote the CI workflow '%s'", CI_GITHUB_WORKFLOW_PATH);
    }
    free(path);
}

void check_workflow(struct check_state *st, struct check_result *r)
{
    enum ci_provider provider = CI_GITHUB;
    const char *relative;
    char *path;
    struct problems problems;
    struct err err;
    size_t len;
    char *text;
    json_t *doc;

    if (!exists(st, CI_GITHUB_WORKFLOW_PATH) && exists(st, CI_GITLAB_WORKFLOW_PATH))
        provider = CI_GITLAB;
    relative = ci_workflow_path(provider);
    if (!exists(st, relative)) {
        if (st->opts->fix) {
            write_workflow(st, r);
            return;
        }
        result_fail(r, "aftershock ci init (or aftershock check --fix) writes it",
                    "the CI workflow '%s' is missing", relative);
        return;
    }

    path = check_absolute(st, relative);
    text = fs_read_file(path, WORKFLOW_MAX_SIZE, &len, &err);
    free(path);
    if (text == NULL) {
        result_fail(r, "make the file readable", "%s", err.msg);
        return;
    }
    doc = experiment_parse(text, len, relative, &err);
    free(text);
    if (doc == NULL) {
        result_problem(r, "%s", err.msg);
        result_fail(r, "correct the YAML, or replace the file with 'aftershock ci init --force'",
                    "the CI workflow does not parse: %s", err.msg);
        return;
    }

    problems_init(&problems, relative);
    ci_workflow_verify(doc, provider, &problems);
    json_decref(doc);
    result_take_problems(r, &problems);
    if (problems.count > 0) {
        bool triggers = false, stages = false;
        for (size_t i = 0; i < problems.count; i++) {
            if (strstr(problems.items[i], " trigger") != NULL)
                triggers = true;
            else
                stages = true;
        }
        result_fail(r,
                    triggers && stages ? "add the missing triggers and stages (each line says "
                                         "what), or replace the file with 'aftershock ci init "
                                         "--force'"
                    : triggers ? "add the missing triggers under `on` (each line says what), or "
                                 "replace the file with 'aftershock ci init --force'"
                               : "add the missing stages, or replace the file with 'aftershock "
                                 "ci init --force'",
                    "the CI workflow %s: %s",
                    triggers && stages ? "misses triggers and does not run every stage"
                    : triggers         ? "misses a trigger"
                                       : "does not run every stage",
                    problems.items[0]);
    }
    else
        result_pass(r, "'%s' runs the six stages", relative);
    problems_release(&problems);
}
