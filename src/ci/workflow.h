/* The CI workflow that `ci init` writes and `check` verifies: six stages
 * (dependency, config, chaos, resilience, report, summary) for GitHub
 * Actions or GitLab CI. */
#ifndef AFTERSHOCK_CI_WORKFLOW_H
#define AFTERSHOCK_CI_WORKFLOW_H

#include <jansson.h>
#include <stdbool.h>

#include "config/project.h"
#include "experiment/problems.h"
#include "util/err.h"

#define CI_GITHUB_WORKFLOW_PATH ".github/workflows/chaos-validation-self-healing.yml"
#define CI_GITLAB_WORKFLOW_PATH ".gitlab-ci.yml"

enum ci_provider { CI_GITHUB, CI_GITLAB };

/* Number of stages, in their order. */
#define CI_STAGE_COUNT 6

/* One stage: its job name and the commands one of its steps must run. */
struct ci_stage {
    const char *name;
    const char *commands[2]; /* the second may be NULL */
};

extern const struct ci_stage ci_stages[CI_STAGE_COUNT];

/* Parses "github" or "gitlab". Returns 0, or -1 for any other name. */
int ci_provider_parse(const char *name, enum ci_provider *out);

/* Returns the workflow's path relative to the repository root. */
const char *ci_workflow_path(enum ci_provider provider);

/* Returns the workflow text (caller frees) for the project: the
 * experiments it runs come from cfg->experiments. */
char *ci_workflow_render(const struct project_config *cfg, enum ci_provider provider);

/* Writes the workflow under cfg->root atomically, creating its folder.
 * An existing file is kept unless force is set. Sets *path (caller frees)
 * to the file's full path, also on failure. Returns 0, 1 when the file
 * exists and force is not set, or -1 with err set. */
int ci_workflow_write(const struct project_config *cfg, enum ci_provider provider, bool force,
                      char **path, struct err *err);

/* Checks a parsed workflow: the triggers (GitHub: push, pull_request,
 * schedule, workflow_dispatch), and one job per stage whose steps run the
 * stage's commands. Adds each problem and returns their number. */
int ci_workflow_verify(json_t *workflow, enum ci_provider provider, struct problems *problems);

#endif
