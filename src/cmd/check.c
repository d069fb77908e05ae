/* `aftershock check`: the pre-push checks, their fixes, and the pre-push hook. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "check/hook.h"
#include "cmd/command.h"
#include "config/project.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec check_options[] = {
    { "fix", 0, NULL, "repair what can be repaired safely and list each change" },
    { "json", 0, NULL, "print the results as JSON" },
    { "only", 0, "N,...", "run only these checks (numbers 1-7 or names)" },
    { "skip", 0, "N,...", "skip these checks (numbers 1-7 or names)" },
    { "install-hook", 0, NULL, "write a git pre-push hook that runs 'aftershock check', then exit" },
    { "force", 0, NULL, "with --install-hook: keep an existing hook by chaining it" },
    { NULL, 0, NULL, NULL },
};

/* Parses a comma-separated list of check numbers or names into marks.
 * Prints an error naming the bad entry and returns -1. */
static int parse_selection(const char *option, const char *text, bool marks[CHECK_COUNT + 1])
{
    char *copy = strdup(text);
    char *save = NULL;
    int rc = 0;

    if (copy == NULL)
        abort();
    for (char *item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        int id = check_parse_id(item);
        if (id < 0) {
            ui_error("invalid check '%s' in --%s: use numbers 1 to %d or the names experiments, "
                     "references, imports, paths, workflow, store, dry-run",
                     item, option, CHECK_COUNT);
            rc = -1;
            break;
        }
        marks[id] = true;
    }
    free(copy);
    return rc;
}

static int read_selection(const struct opt_values *opts, bool selected[CHECK_COUNT + 1])
{
    bool only[CHECK_COUNT + 1] = { false }, skip[CHECK_COUNT + 1] = { false };
    const char *only_text = opt_get(opts, "only");
    const char *skip_text = opt_get(opts, "skip");

    if (only_text != NULL && parse_selection("only", only_text, only) != 0)
        return -1;
    if (skip_text != NULL && parse_selection("skip", skip_text, skip) != 0)
        return -1;
    int count = 0;
    for (int id = 1; id <= CHECK_COUNT; id++) {
        selected[id] = (only_text == NULL || only[id]) && !skip[id];
        count += selected[id];
    }
    if (count == 0) {
        ui_error("--only and --skip leave no check to run");
        ui_hint("name at least one check, by number 1 to %d or by name", CHECK_COUNT);
        return -1;
    }
    return 0;
}

static const char *status_word(enum check_status status)
{
    switch (status) {
    case CHECK_PASSED:
        return "passed";
    case CHECK_FIXED:
        return "fixed ";
    case CHECK_FAILED:
        return "failed";
    case CHECK_NOT_RUN:
        break;
    }
    return "skipped";
}

static const char *status_color(enum check_status status)
{
    if (status == CHECK_FAILED)
        return "red";
    if (status == CHECK_NOT_RUN)
        return "yellow";
    return "green";
}

/* One line per check, then the problems and changes of each, indented. */
static void print_text(const struct check_result results[CHECK_COUNT + 1])
{
    for (int id = 1; id <= CHECK_COUNT; id++) {
        const struct check_result *r = &results[id];

        if (r->status == CHECK_NOT_RUN)
            continue;
        printf("%s%s%s %d %-12s %s", ui_color(stdout, status_color(r->status)),
               status_word(r->status), ui_color(stdout, "reset"), id, r->name,
               r->reason != NULL ? r->reason : "");
        if (r->status == CHECK_FAILED && r->fix != NULL)
            printf("; fix: %s", r->fix);
        printf("\n");
        for (size_t i = 0; i < r->changes.count; i++)
            printf("      changed: %s\n", r->changes.items[i]);
        /* The line shows the first problem; the rest follow when there are more. */
        for (size_t i = 0; r->status == CHECK_FAILED && r->problems.count > 1 &&
                           i < r->problems.count; i++)
            printf("      %s\n", r->problems.items[i]);
    }
}

static int install_hook(const struct project_config *cfg, const char *self, bool force)
{
    struct hook_result hook;
    struct err err;
    int rc = hook_install(cfg->root, self, force, &hook, &err);

    if (rc < 0) {
        ui_error("%s", err.msg);
        return EXIT_RUNFAIL;
    }
    if (rc > 0) {
        ui_error("a pre-push hook already exists at '%s'", hook.path);
        ui_hint("pass --force to keep it and run it before 'aftershock check'");
        hook_result_release(&hook);
        return EXIT_FINDING;
    }
    printf("wrote the pre-push hook '%s'", hook.path);
    if (hook.chained_path != NULL)
        printf("; it runs '%s' first", hook.chained_path);
    printf("\n");
    hook_result_release(&hook);
    return EXIT_OK;
}

static int check_main(const struct command_args *args)
{
    struct check_options options = { .fix = opt_has(args->opts, "fix") };
    struct check_result results[CHECK_COUNT + 1];
    struct project_config cfg;
    char self[PATH_MAX];
    struct err err;
    ssize_t n;
    int failed;

    if (args->argc > 1) {
        ui_error("too many arguments: check takes at most one PATH");
        return EXIT_USAGE;
    }
    if (opt_has(args->opts, "force") && !opt_has(args->opts, "install-hook")) {
        ui_error("--force only applies to --install-hook");
        return EXIT_USAGE;
    }
    if (read_selection(args->opts, options.selected) != 0)
        return EXIT_USAGE;
    if (project_config_load(args->argc > 0 ? args->argv[0] : ".", &cfg, &err) != 0) {
        ui_error("%s", err.msg);
        return EXIT_USAGE;
    }
    /* Checks 3 and 7 run this same binary for `deps`, `run` and `rollback`. */
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        ui_error("cannot find the path of the running aftershock binary through /proc/self/exe");
        project_config_free(&cfg);
        return EXIT_RUNFAIL;
    }
    self[n] = '\0';
    if (opt_has(args->opts, "install-hook")) {
        int code = install_hook(&cfg, self, opt_has(args->opts, "force"));
        project_config_free(&cfg);
        return code;
    }

    options.cfg = &cfg;
    options.self = self;
    failed = check_run_all(&options, results);
    if (opt_has(args->opts, "json")) {
        json_t *doc = check_results_json(results);
        json_dumpf(doc, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(doc);
    } else {
        print_text(results);
    }
    for (int id = 1; id <= CHECK_COUNT; id++)
        check_result_release(&results[id]);
    project_config_free(&cfg);
    return failed > 0 ? EXIT_FINDING : EXIT_OK;
}

const struct command command_check = {
    .name = "check",
    .summary = "pre-push validator: experiments, references, imports, paths, workflow, store",
    .usage = "[options] [PATH]",
    .description =
        "Reads aftershock.yaml (searched from PATH, default '.', up to the repository\n"
        "root) and runs seven checks, one line each:\n"
        "  1 experiments  every experiment file parses and is valid\n"
        "  2 references   every ${} reference and env key resolves\n"
        "  3 imports      Python imports are declared ('aftershock deps')\n"
        "  4 paths        every process path exists and is executable\n"
        "  5 workflow     the CI workflow exists, parses and runs the six stages\n"
        "  6 store        the history store is writable and its schema current\n"
        "  7 dry-run      every experiment plans with 'run --dry-run' and no fault\n"
        "                 of an earlier run is still active\n"
        "\n"
        "--fix declares missing imports, sets the execute bit on process files inside\n"
        "the repository, writes a missing workflow with 'ci init', creates or migrates\n"
        "the history store, and rolls back faults that ended runs left. Without --fix\n"
        "nothing is changed.\n"
        "\n"
        "exit codes: 0 every selected check passed (after fixes); 1 a check failed or\n"
        "could not run; 2 invalid options or aftershock.yaml; 3 the binary could not\n"
        "be found or the hook could not be written.\n",
    .options = check_options,
    .min_args = 0,
    .handler = check_main,
};
