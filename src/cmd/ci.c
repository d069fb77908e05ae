/* `aftershock ci`: `init` writes the CI workflow, `summary` reports a CI run. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ci/report.h"
#include "ci/workflow.h"
#include "cmd/command.h"
#include "config/project.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec ci_options[] = {
    { "provider", 0, "NAME", "init: github (default) or gitlab" },
    { "force", 0, NULL, "init: replace an existing workflow file" },
    { "journal", 0, "PATH", "summary: a journal, a folder of journals or a glob (repeatable; "
      "default journals)" },
    { "verify", 0, "FILE", "summary: the output of 'aftershock verify --json'" },
    { "db", 0, "PATH|URL", "summary: history store for trends and healing (default "
      "$AFTERSHOCK_DB, else reports/chaos_history.db)" },
    { "output", 'o', "FILE", "summary: write the markdown here (default $GITHUB_STEP_SUMMARY, "
      "else stdout)" },
    { "comment", 0, NULL, "summary: create or update one comment on the pull request" },
    { "issue-after", 0, "N", "summary: open an issue after N failed runs in a row on the "
      "default branch, and close it when the experiment passes again" },
    { "default-branch", 0, "NAME", "summary: the default branch (default: from the event, "
      "else main)" },
    { "trend", 0, "N", "summary: past runs shown per experiment (default 10)" },
    { "retries", 0, "N", "summary: retries of a GitHub API request after a 5xx or a rate "
      "limit (default 4)" },
    { "retry-delay", 0, "SECONDS", "summary: wait before the first retry, doubled each time, "
      "unless GitHub asks for longer (default 2)" },
    { "strict", 0, NULL, "summary: exit 3 when the comment or the issue could not be written" },
    { NULL, 0, NULL, NULL },
};

static const char *const init_only[] = { "provider", "force", NULL };
static const char *const summary_only[] = { "journal", "verify", "db", "output", "comment",
                                            "issue-after", "default-branch", "trend",
                                            "retries", "retry-delay", "strict", NULL };

/* Rejects options that belong to the other subcommand. */
static int reject_options(const struct opt_values *opts, const char *const *names,
                          const char *subcommand)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (opt_has(opts, names[i])) {
            ui_error("--%s does not apply to 'ci %s'", names[i], subcommand);
            return -1;
        }
    }
    return 0;
}

static int ci_init(const struct command_args *args)
{
    const char *name = opt_get(args->opts, "provider");
    enum ci_provider provider = CI_GITHUB;
    struct project_config cfg;
    struct err err;
    char *path = NULL;
    int rc;

    if (reject_options(args->opts, summary_only, "init") != 0)
        return EXIT_USAGE;
    if (args->argc > 2) {
        ui_error("too many arguments: 'ci init' takes at most one PATH");
        return EXIT_USAGE;
    }
    if (name != NULL && ci_provider_parse(name, &provider) != 0) {
        ui_error("invalid value '%s' for --provider: use github or gitlab", name);
        return EXIT_USAGE;
    }
    if (project_config_load(args->argc > 1 ? args->argv[1] : ".", &cfg, &err) != 0) {
        ui_error("%s", err.msg);
        return EXIT_USAGE;
    }

    rc = ci_workflow_write(&cfg, provider, opt_has(args->opts, "force"), &path, &err);
    if (rc > 0) {
        ui_error("the workflow '%s' already exists", path);
        ui_hint("pass --force to replace it");
    } else if (rc < 0) {
        ui_error("%s", err.msg);
    } else {
        printf("wrote '%s'\n", path);
    }
    free(path);
    project_config_free(&cfg);
    if (rc > 0)
        return EXIT_USAGE;
    return rc == 0 ? EXIT_OK : EXIT_RUNFAIL;
}

static int ci_summary(const struct command_args *args)
{
    struct ci_report_options ro = { 0 };
    long issue_after = 0, trend = 0, retries = 0;
    double delay = 0;

    if (reject_options(args->opts, init_only, "summary") != 0)
        return EXIT_USAGE;
    if (args->argc > 1) {
        ui_error("unexpected argument '%s': 'ci summary' reads journals from --journal",
                 args->argv[1]);
        return EXIT_USAGE;
    }
    if (opt_int(args->opts, "issue-after", 0, 1, 1000, &issue_after) != 0 ||
        opt_int(args->opts, "trend", 10, 1, CI_REPORT_TREND_MAX, &trend) != 0 ||
        opt_int(args->opts, "retries", 4, 0, 20, &retries) != 0 ||
        opt_duration(args->opts, "retry-delay", 2, 0, 600, &delay) != 0)
        return EXIT_USAGE;

    ro.journals = opt_all(args->opts, "journal", &ro.journal_count);
    ro.verify = opt_get(args->opts, "verify");
    ro.db = opt_get(args->opts, "db");
    ro.output = opt_get(args->opts, "output");
    ro.comment = opt_has(args->opts, "comment");
    ro.issue_after = (int)issue_after;
    ro.default_branch = opt_get(args->opts, "default-branch");
    ro.trend = (int)trend;
    ro.retries = (int)retries;
    ro.retry_delay = delay;
    ro.strict = opt_has(args->opts, "strict");
    return ci_report_run(&ro);
}

static int ci_main(const struct command_args *args)
{
    const char *sub = args->argv[0];

    if (strcmp(sub, "init") == 0)
        return ci_init(args);
    if (strcmp(sub, "summary") == 0)
        return ci_summary(args);
    ui_error("unknown subcommand '%s' for 'ci': use init or summary", sub);
    return EXIT_USAGE;
}

const struct command command_ci = {
    .name = "ci",
    .summary = "write the self-healing CI workflow and the run summary",
    .usage = "init [--provider github|gitlab] [--force] [PATH] | summary [options]",
    .description =
        "ci init writes the six-stage workflow (dependency, config, chaos under heal,\n"
        "resilience, report, summary) to .github/workflows/chaos-validation-self-healing.yml,\n"
        "or .gitlab-ci.yml with --provider gitlab, in the repository that contains\n"
        "PATH (default '.'). It runs on pushes, pull requests to main and dev, every\n"
        "Sunday at 03:00 UTC, and by hand with an auto-fix input. An existing file is\n"
        "kept unless --force is given.\n"
        "\n"
        "ci summary writes one markdown summary of a CI run: the verdict of each\n"
        "experiment (from --journal), its objectives (from --verify), the healing\n"
        "attempts of this run and the trend of past runs (from the history store).\n"
        "It goes to --output, else $GITHUB_STEP_SUMMARY, else stdout. --comment and\n"
        "--issue-after use the GitHub REST API through GITHUB_API_URL,\n"
        "GITHUB_REPOSITORY, GITHUB_EVENT_PATH and GITHUB_TOKEN; the token is never\n"
        "printed. A 401, 403 or 404 from GitHub is reported with what to check.\n"
        "\n"
        "exit codes: 0 written (whatever the verdict); 1 written, nothing to judge;\n"
        "2 invalid options or inputs; 3 the summary could not be written, or with\n"
        "--strict the comment or issue.\n"
        "ci init exits 2 when the workflow exists and --force is not given.\n",
    .options = ci_options,
    .min_args = 1,
    .handler = ci_main,
};
