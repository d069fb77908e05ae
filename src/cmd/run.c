/* `aftershock run`: runs chaos experiments and writes their journals. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/command.h"
#include "experiment/journal.h"
#include "experiment/prepare.h"
#include "experiment/runner.h"
#include "experiment/substitute.h"
#include "fault/ledger.h"
#include "resilience/resilience.h"
#include "store/store.h"
#include "util/err.h"
#include "util/http.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/strbuf.h"
#include "util/ui.h"

#define DEFAULT_JOURNAL "journal.json"
#define DEFAULT_HYPOTHESIS_FREQUENCY 1.0

static const struct opt_spec run_options[] = {
    { "journal-path", 0, "PATH", "where to write the journal (default journal.json; with several "
      "experiments, one journal each, named PATH-STEM.json)" },
    { "var", 0, "KEY[:TYPE]=VALUE", "override a configuration value; TYPE is str, int, float, "
      "bool or json (repeatable)" },
    { "var-file", 0, "PATH", "read configuration overrides from a JSON, YAML or .env file "
      "(repeatable)" },
    { "rollback-strategy", 0, "NAME", "when rollbacks run: default, always, never or deviated" },
    { "hypothesis-strategy", 0, "NAME", "when the steady state is checked: default, "
      "before-method-only, after-method-only, during-method-only or continuously" },
    { "hypothesis-frequency", 0, "SECONDS", "seconds between steady state checks during the "
      "method (default 1)" },
    { "fail-fast", 0, NULL, "stop the method at the first deviation seen during it" },
    { "dry-run", 0, NULL, "validate, resolve and print the plan; run and write nothing" },
    { "db", 0, "PATH|URL", "history store to record each run in: a SQLite file or a "
      "postgresql:// URL (default $AFTERSHOCK_DB, else reports/chaos_history.db)" },
    { "no-record", 0, NULL, "do not record the runs in the history store" },
    { "ledger-dir", 0, "DIR", "fault ledger folder (default $AFTERSHOCK_LEDGER_DIR, else "
      "reports/.ledger)" },
    { "ignore-ledger", 0, NULL, "run even when the ledger holds faults of another run" },
    { NULL, 0, NULL, NULL },
};

/* The experiment's own runtime settings, then the command line on top. */
static int read_strategies(const struct opt_values *opts, json_t *experiment,
                           struct runner_opts *ro)
{
    json_t *runtime = json_object_get(experiment, "runtime");
    json_t *hypothesis = json_object_get(runtime, "hypothesis");
    const char *rollback = json_string_value(
        json_object_get(json_object_get(runtime, "rollbacks"), "strategy"));
    const char *strategy = json_string_value(json_object_get(hypothesis, "strategy"));
    json_t *frequency = json_object_get(hypothesis, "frequency");

    ro->rollback_strategy = ROLLBACK_DEFAULT;
    ro->hypothesis_strategy = HYPOTHESIS_DEFAULT;
    ro->hypothesis_frequency =
        json_is_number(frequency) ? json_number_value(frequency) : DEFAULT_HYPOTHESIS_FREQUENCY;
    ro->fail_fast = json_is_true(json_object_get(hypothesis, "fail_fast"));
    if (rollback != NULL)
        rollback_strategy_parse(rollback, &ro->rollback_strategy);
    if (strategy != NULL)
        hypothesis_strategy_parse(strategy, &ro->hypothesis_strategy);

    if (opt_get(opts, "rollback-strategy") != NULL &&
        rollback_strategy_parse(opt_get(opts, "rollback-strategy"), &ro->rollback_strategy) != 0) {
        ui_error("invalid value '%s' for --rollback-strategy: use default, always, never or "
                 "deviated", opt_get(opts, "rollback-strategy"));
        return -1;
    }
    if (opt_get(opts, "hypothesis-strategy") != NULL &&
        hypothesis_strategy_parse(opt_get(opts, "hypothesis-strategy"),
                                  &ro->hypothesis_strategy) != 0) {
        ui_error("invalid value '%s' for --hypothesis-strategy: use default, before-method-only, "
                 "after-method-only, during-method-only or continuously",
                 opt_get(opts, "hypothesis-strategy"));
        return -1;
    }
    if (opt_duration(opts, "hypothesis-frequency", ro->hypothesis_frequency, 0.01, 86400,
                     &ro->hypothesis_frequency) != 0)
        return -1;
    if (opt_has(opts, "fail-fast"))
        ro->fail_fast = true;
    return 0;
}

/* Collects --var-file and --var values, in that order. Returns NULL after an error. */
static json_t *read_overrides(const struct opt_values *opts)
{
    json_t *vars = json_object();
    struct err err;
    int n;
    const char *const *files = opt_all(opts, "var-file", &n);

    for (int i = 0; i < n; i++) {
        if (vars_load_file(files[i], vars, &err) != 0) {
            ui_error("%s", err.msg);
            json_decref(vars);
            return NULL;
        }
    }
    const char *const *assignments = opt_all(opts, "var", &n);
    for (int i = 0; i < n; i++) {
        if (vars_parse_assignment(assignments[i], vars, &err) != 0) {
            ui_error("%s", err.msg);
            json_decref(vars);
            return NULL;
        }
    }
    return vars;
}

/* Journal path for experiment i of n: PATH itself for one, PATH-STEM.json for several. */
static char *journal_path_for(const char *base, const char *file, int n)
{
    struct strbuf sb = STRBUF_INIT;
    const char *slash = strrchr(file, '/');
    const char *stem = slash ? slash + 1 : file;
    const char *dot = strrchr(stem, '.');
    const char *base_dot = strrchr(base, '.');
    const char *base_slash = strrchr(base, '/');

    if (n == 1)
        return strdup(base);
    if (base_dot != NULL && (base_slash == NULL || base_dot > base_slash))
        strbuf_add(&sb, base, (size_t)(base_dot - base));
    else
        strbuf_addstr(&sb, base);
    strbuf_addch(&sb, '-');
    strbuf_add(&sb, stem, dot ? (size_t)(dot - stem) : strlen(stem));
    strbuf_addstr(&sb, ".json");
    return strbuf_detach(&sb);
}

/* Checks, before anything runs, that every journal can be written and that
 * no two experiments would write the same journal. Prints the problem and
 * returns -1 otherwise. */
static int check_journal_paths(const char *base, char **files, int n)
{
    char **paths = calloc((size_t)n, sizeof(char *));
    int rc = 0;

    if (paths == NULL)
        abort();
    for (int i = 0; i < n && rc == 0; i++) {
        paths[i] = journal_path_for(base, files[i], n);
        for (int j = 0; j < i; j++) {
            if (strcmp(paths[i], paths[j]) == 0) {
                ui_error("experiments '%s' and '%s' would both write the journal '%s'", files[j],
                         files[i], paths[i]);
                ui_hint("rename one of the files, or run them separately with --journal-path");
                rc = -1;
                break;
            }
        }
        if (rc != 0)
            break;

        char *copy = strdup(paths[i]);
        const char *folder = dirname(copy);
        if (access(folder, W_OK) != 0) {
            ui_error("cannot write the journal '%s': folder '%s' %s", paths[i], folder,
                     errno == ENOENT ? "does not exist" : "is not writable");
            ui_hint("create the folder or choose another --journal-path");
            rc = -1;
        }
        free(copy);
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

/* Runs one prepared experiment, writes its journal, prints its summary and
 * records the run unless recorder is NULL. Returns the exit code for this
 * experiment: 3 when the journal or the record could not be written. */
static int run_one(struct prepared_experiment *p, const struct runner_opts *ro,
                   const char *journal_path, const char *file, struct store_recorder *recorder)
{
    struct err err;
    json_t *journal = runner_run(p->exec, p->display, p->original, ro);

    /* Error messages and outputs may quote a secret that came through substitution. */
    redact_tree(journal);
    const char *status = json_string_value(json_object_get(journal, "status"));
    int code = EXIT_OK;
    struct judgement verdicts;
    bool has_objectives =
        json_object_get(json_object_get(journal, "experiment"), "objectives") != NULL;
    bool judged = has_objectives && resilience_judge(journal, journal_path, &verdicts, &err) == 0;

    if (has_objectives && !judged)
        ui_warning("cannot judge the objectives: %s", err.msg);

    /* The journal keeps the verdicts next to the traffic they were judged on. */
    if (judged) {
        json_t *doc = resilience_to_json(&verdicts, 1);
        json_object_set(journal, "verdicts",
                        json_array_get(json_object_get(doc, "experiments"), 0));
        json_decref(doc);
    }
    if (journal_write(journal, journal_path, &err) != 0) {
        ui_error("%s", err.msg);
        code = EXIT_RUNFAIL;
    }
    journal_print_summary(stdout, journal, code == EXIT_OK ? journal_path : NULL);
    if (judged) {
        resilience_print_table(stdout, &verdicts);
        if (!verdicts.passed && code == EXIT_OK)
            code = EXIT_FINDING;
        judgement_release(&verdicts);
    }
    if (runner_interrupt_signal() != 0)
        code = 128 + runner_interrupt_signal();
    else if (code == EXIT_OK && (strcmp(status, "completed") != 0 ||
                                 json_is_true(json_object_get(journal, "deviated"))))
        code = EXIT_FINDING;
    bool written = code != EXIT_RUNFAIL;
    if (recorder != NULL &&
        store_recorder_record(recorder, journal, file, written ? journal_path : NULL, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("%spass --no-record to skip the history store, or --db to choose another",
                written ? "the journal was still written; " : "");
        if (code < EXIT_RUNFAIL)
            code = EXIT_RUNFAIL;
    }
    json_decref(journal);
    return code;
}

/* Prints that another run's faults are still recorded in found. */
static void report_faults_left(struct ledger_file *found, enum ledger_liveness liveness,
                               bool in_store, bool db_option)
{
    ui_error("the fault ledger '%s' contains %zu fault%s of run pid %d (started %s on '%s'), "
             "which %s", found->path, found->count, found->count > 1 ? "s" : "",
             (int)found->run.pid, found->run.started_at, found->run.host,
             liveness == LEDGER_RUN_ALIVE  ? "is still running"
             : liveness == LEDGER_RUN_GONE ? "has ended without undoing them"
                                           : "cannot be checked from this host");
    if (liveness == LEDGER_RUN_GONE)
        ui_hint("run 'aftershock rollback'%s to undo them, then run again",
                in_store && db_option ? " with the same --db" : "");
    else
        ui_hint("wait for that run to end, or pass --ignore-ledger to run anyway");
}

/* Opens this run's fault ledger after checking that no other run's fault is
 * still recorded, in the state files or in the history store at
 * store_location (NULL: the run records nothing). The ledger goes into that
 * store, so runners that share a store see each other's faults; when the
 * store cannot be opened, it stays in state files. Prints the problem and
 * returns -1 otherwise. */
static int open_ledger(const struct opt_values *opts, const char *store_location,
                       struct fault_ledger *ledger)
{
    const char *dir = ledger_dir(opt_get(opts, "ledger-dir"));
    bool ignore = opt_has(opts, "ignore-ledger");
    enum ledger_liveness liveness;
    struct ledger_file found;
    struct store *store = NULL;
    bool from_store = false;
    struct err err;
    int rc;

    if (store_location != NULL && store_open(store_location, STORE_WRITE, &store, &err) != 0) {
        ui_warning("the fault ledger stays in state files under '%s', because %s", dir, err.msg);
        store = NULL;
    }
    rc = ignore ? 0 : ledger_find_faults(dir, &found, &liveness, &err);
    if (rc == 0 && !ignore && store != NULL) {
        rc = ledger_find_faults_store(store, &found, &liveness, &err);
        from_store = rc > 0;
    }
    if (rc < 0) {
        ui_error("%s", err.msg);
        ui_hint("check the file; remove it only when none of its faults is still in effect");
    } else if (rc > 0) {
        report_faults_left(&found, liveness, from_store, opt_get(opts, "db") != NULL);
        ledger_file_release(&found);
    } else if (fault_ledger_open(ledger, dir, &err) != 0) {
        ui_error("%s", err.msg);
        rc = -1;
    }
    if (rc != 0) {
        if (store != NULL)
            store_close(store);
        return -1;
    }
    if (store != NULL)
        fault_ledger_use_store(ledger, store);
    return 0;
}

static int run_main(const struct command_args *args)
{
    int n = args->argc;
    struct prepared_experiment *prepared = calloc((size_t)n, sizeof(*prepared));
    struct runner_opts *strategies = calloc((size_t)n, sizeof(*strategies));
    const char *journal_base = opt_get(args->opts, "journal-path");
    json_t *overrides = read_overrides(args->opts);
    struct store_recorder recorder = { .location = store_location(opt_get(args->opts, "db")) };
    struct fault_ledger ledger;
    bool ledger_open = false;
    int invalid = 0, with_problems = 0, code = EXIT_OK;

    if (prepared == NULL || strategies == NULL)
        abort();
    if (overrides == NULL) {
        code = EXIT_USAGE;
        goto cleanup;
    }
    if (journal_base == NULL)
        journal_base = DEFAULT_JOURNAL;

    /* Every experiment is checked before any of them runs. */
    for (int i = 0; i < n; i++) {
        struct problems problems;
        problems_init(&problems, args->argv[i]);
        if (experiment_prepare(args->argv[i], overrides, NULL, &prepared[i], &problems) != 0 ||
            read_strategies(args->opts, prepared[i].exec, &strategies[i]) != 0) {
            problems_print(&problems, stderr);
            invalid++;
            if (problems.count > 0)
                with_problems++;
        }
        problems_release(&problems);
    }
    if (invalid > 0) {
        if (with_problems > 0)
            ui_hint("fix the experiment%s above; nothing was run", with_problems > 1 ? "s" : "");
        code = EXIT_USAGE;
        goto cleanup;
    }

    if (opt_has(args->opts, "dry-run")) {
        for (int i = 0; i < n; i++)
            journal_print_plan(stdout, prepared[i].display, args->argv[i], &strategies[i]);
        goto cleanup;
    }

    if (check_journal_paths(journal_base, args->argv, n) != 0) {
        code = EXIT_USAGE;
        goto cleanup;
    }

    if (open_ledger(args->opts, opt_has(args->opts, "no-record") ? NULL : recorder.location,
                    &ledger) != 0) {
        code = EXIT_RUNFAIL;
        goto cleanup;
    }
    ledger_open = true;

    http_global_init();
    runner_install_signal_handlers();
    for (int i = 0; i < n; i++) {
        char *path = journal_path_for(journal_base, args->argv[i], n);
        strategies[i].ledger = &ledger;
        fault_ledger_set_experiment(&ledger, args->argv[i]);
        int one = run_one(&prepared[i], &strategies[i], path, args->argv[i],
                          opt_has(args->opts, "no-record") ? NULL : &recorder);
        free(path);
        if (one > code)
            code = one;
        if (runner_interrupt_signal() != 0) {
            if (i + 1 < n)
                ui_warning("interrupted: %d experiment%s after '%s' not run", n - i - 1,
                           n - i - 1 > 1 ? "s" : "", args->argv[i]);
            break;
        }
    }

cleanup:
    if (ledger_open && fault_ledger_close(&ledger) > 0 && code < EXIT_RUNFAIL)
        code = EXIT_RUNFAIL;
    for (int i = 0; i < n; i++)
        prepared_experiment_release(&prepared[i]);
    free(prepared);
    free(strategies);
    json_decref(overrides);
    store_recorder_close(&recorder);
    return code;
}

const struct command command_run = {
    .name = "run",
    .summary = "run chaos experiments and write their journals",
    .usage = "[options] EXPERIMENT...",
    .description =
        "Runs each experiment (Chaos Toolkit format, JSON or YAML): the steady state\n"
        "hypothesis before, the method, the hypothesis after, then the rollbacks.\n"
        "Every experiment is validated before any of them runs.\n"
        "\n"
        "exit codes: 0 every steady state held and every objective was met; 1 a\n"
        "steady state was not met or deviated, or an objective was missed; 2 invalid\n"
        "options or experiments; 3 the journal or the history store could not be\n"
        "written (the journal is written first), the fault ledger\n"
        "contains faults of another run, or a fault could not be undone; 130 or 143\n"
        "interrupted by SIGINT or SIGTERM (rollbacks still ran).\n"
        "\n"
        "Every fault is recorded in the fault ledger before it is applied: in the\n"
        "history store the run is recorded in, else (with --no-record, or when the\n"
        "store cannot be opened) in state files under --ledger-dir.\n"
        "'aftershock rollback' undoes what a killed run left behind.\n"
        "\n"
        "When the experiment declares objectives, their verdicts are printed after\n"
        "the summary and kept in the journal under 'verdicts' (see 'aftershock verify').\n"
        "\n"
        "Each run is recorded in the history store (see --db) with its failures,\n"
        "activity results, and the commit, branch and CI job of the environment.\n",
    .options = run_options,
    .min_args = 1,
    .handler = run_main,
};
