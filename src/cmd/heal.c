/* `aftershock heal`: runs a command, classifies its failures and heals them
 * before each retry; also classifies saved logs and lists the rules. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/backoff_options.h"
#include "cmd/command.h"
#include "config/project.h"
#include "heal/classify.h"
#include "heal/print.h"
#include "heal/rules.h"
#include "heal/session.h"
#include "store/store.h"
#include "util/err.h"
#include "util/interrupt.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/ui.h"

/* The default backoff: 2 s, 4 s, 8 s, then 10 s, each spread by 10 % jitter. */
#define HEAL_DEFAULT_INTERVAL 2.0
#define HEAL_DEFAULT_MAX_INTERVAL 10.0
#define HEAL_DEFAULT_FACTOR 2.0
#define HEAL_DEFAULT_JITTER 0.1
#define HEAL_DEFAULT_RETRIES 3
#define HEAL_DEFAULT_HEALTH_TIMEOUT 60.0
#define HEAL_DEFAULT_STRATEGY_TIMEOUT 600.0
#define HEAL_MAX_DURATION (7 * 24 * 3600.0)

static const struct opt_spec heal_options[] = {
    { "command", 'c', "STRING", "run STRING through /bin/sh -c instead of the arguments after --; "
      "with --classify, the command that wrote the log" },
    { "max-retries", 'r', "N", "retries after the first attempt (default 3)" },
    { "timeout", 't', "DURATION", "limit on one attempt; its process group is ended (default none)" },
    { "deadline", 0, "DURATION", "limit on all attempts and waits together (default none)" },
    { "interval", 0, "DURATION", "wait before the first retry (default 2s)" },
    { "max-interval", 0, "DURATION", "longest wait between attempts (default 10s, or --interval "
      "when longer)" },
    { "backoff-factor", 0, "NUMBER", "growth of the wait per retry (default 2)" },
    { "jitter", 0, "FRACTION", "random spread of each wait, 0-1 (default 0.1, 0 with --schedule)" },
    { "schedule", 0, "LIST", "fixed waits such as 2,4,8,10; the last one repeats" },
    { "retry-on-exit", 0, "CODES", "retry only these exit codes, e.g. 1,3,120-130" },
    { "never-retry-on-exit", 0, "CODES", "never retry these exit codes" },
    { "rules", 0, "FILE", "rules file put in front of the built-in rules (default: 'rules' in "
      "aftershock.yaml)" },
    { "config", 0, "FILE", "project configuration (default: aftershock.yaml found from here "
      "upwards)" },
    { "health-target", 0, "TARGET", "target the health strategy probes; repeatable (default: "
      "health_targets in aftershock.yaml)" },
    { "health-timeout", 0, "DURATION", "how long the health strategy waits (default 60s)" },
    { "deps-arg", 0, "ARG", "extra argument for 'aftershock deps --fix --install'; repeatable" },
    { "strategy-timeout", 0, "DURATION", "limit on one strategy command (default 10m)" },
    { "db", 0, "LOCATION", "history store: SQLite path or postgresql:// URL (default "
      "$AFTERSHOCK_DB, else 'store' in aftershock.yaml, else reports/chaos_history.db)" },
    { "no-record", 0, NULL, "do not record the attempts in the history store" },
    { "classify", 0, "LOGFILE", "classify a saved log ('-' for stdin) and run nothing" },
    { "exit-code", 0, "N", "with --classify: the exit code the logged command ended with" },
    { "list-rules", 0, NULL, "print the rules in the order they are tried" },
    { "json", 0, NULL, "with --classify or --list-rules: print JSON" },
    { NULL, 0, NULL, NULL },
};

static const struct backoff_defaults heal_backoff = {
    .interval = HEAL_DEFAULT_INTERVAL,
    .max_interval = HEAL_DEFAULT_MAX_INTERVAL,
    .factor = HEAL_DEFAULT_FACTOR,
    .jitter = HEAL_DEFAULT_JITTER,
    .max_duration = HEAL_MAX_DURATION,
};

static int read_codes(const struct opt_values *opts, const char *name, struct heal_code_set *set)
{
    const char *text = opt_get(opts, name);

    if (text != NULL && heal_code_set_parse(text, set) != 0) {
        ui_error("invalid value '%s' for --%s", text, name);
        ui_hint("give exit codes 0-255 separated by commas, with ranges such as 120-130");
        return -1;
    }
    return 0;
}

/* Loads the built-in rules with the rules file of --rules or aftershock.yaml in front. */
static int load_rules(const struct opt_values *opts, const struct project_config *cfg,
                      struct heal_rules *rules)
{
    const char *option = opt_get(opts, "rules");
    char *path = option != NULL ? strdup(option)
                 : cfg->rules != NULL ? project_config_path(cfg, cfg->rules) : NULL;
    struct heal_rules file;
    struct err err;

    if (heal_rules_builtin(rules, &err) != 0) {
        ui_error("internal: %s", err.msg);
        free(path);
        return EXIT_RUNFAIL;
    }
    if (path == NULL)
        return EXIT_OK;
    if (heal_rules_load(path, &file, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("see docs/healing.md for the rules file format");
        free(path);
        heal_rules_release(rules);
        return EXIT_USAGE;
    }
    heal_rules_merge(rules, &file);
    free(path);
    return EXIT_OK;
}

/* Classifies a saved log in chunks, so a log of any size uses fixed memory. */
static int classify_log(const struct opt_values *opts, const struct heal_rules *rules)
{
    const char *path = opt_get(opts, "classify");
    long exit_code = -1;
    struct heal_classifier classifier;
    struct heal_classification cls;
    char *buf;
    int fd;

    if (opt_has(opts, "exit-code") && opt_int(opts, "exit-code", -1, 0, 255, &exit_code) != 0)
        return EXIT_USAGE;
    fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ui_error("cannot read the log '%s': %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    buf = malloc(HEAL_LINE_MAX);
    if (buf == NULL)
        abort();
    heal_classifier_init(&classifier, rules, opt_get(opts, "command"), (int)exit_code);
    for (;;) {
        ssize_t n = read(fd, buf, HEAL_LINE_MAX);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ui_error("cannot read the log '%s': %s", path, strerror(errno));
            heal_classifier_release(&classifier);
            free(buf);
            if (fd != STDIN_FILENO)
                close(fd);
            return EXIT_USAGE;
        }
        if (n == 0)
            break;
        heal_classifier_feed(&classifier, 0, buf, (size_t)n);
    }
    heal_classifier_finish(&classifier, (int)exit_code, &cls);
    heal_print_classification(stdout, &cls, (int)exit_code, opt_has(opts, "json"));
    heal_classifier_release(&classifier);
    free(buf);
    if (fd != STDIN_FILENO)
        close(fd);
    return EXIT_OK;
}

/* Joins argv into one line, quoting arguments a shell would split. */
static char *command_line(int argc, char **argv)
{
    struct strbuf line = STRBUF_INIT;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool plain = arg[0] != '\0' && strpbrk(arg, " \t\n'\"\\$`;&|<>()*?[]#~{}") == NULL;

        if (i > 0)
            strbuf_addch(&line, ' ');
        if (plain) {
            strbuf_addstr(&line, arg);
            continue;
        }
        strbuf_addch(&line, '\'');
        for (const char *p = arg; *p != '\0'; p++) {
            if (*p == '\'')
                strbuf_addstr(&line, "'\\''");
            else
                strbuf_addch(&line, *p);
        }
        strbuf_addch(&line, '\'');
    }
    return strbuf_detach(&line);
}

/* Reads the options of a healing session. Returns -1 to continue, else an exit code. */
static int read_session(const struct command_args *args, const struct project_config *cfg,
                        struct heal_session_opts *s)
{
    long retries;

    if (opt_int(args->opts, "max-retries", HEAL_DEFAULT_RETRIES, 0, 1000, &retries) != 0 ||
        opt_duration(args->opts, "timeout", 0, 0.001, HEAL_MAX_DURATION, &s->timeout) != 0 ||
        opt_duration(args->opts, "deadline", 0, 0.001, HEAL_MAX_DURATION, &s->deadline) != 0 ||
        opt_duration(args->opts, "health-timeout", HEAL_DEFAULT_HEALTH_TIMEOUT, 0.001,
                     HEAL_MAX_DURATION, &s->strategy.health_timeout) != 0 ||
        opt_duration(args->opts, "strategy-timeout", HEAL_DEFAULT_STRATEGY_TIMEOUT, 0.001,
                     HEAL_MAX_DURATION, &s->strategy.timeout) != 0 ||
        backoff_options_read(args->opts, &heal_backoff, &s->backoff) != 0 ||
        read_codes(args->opts, "retry-on-exit", &s->retry_on) != 0 ||
        read_codes(args->opts, "never-retry-on-exit", &s->never_retry_on) != 0)
        return EXIT_USAGE;
    s->max_retries = (int)retries;

    int n;
    const char *const *targets = opt_all(args->opts, "health-target", &n);
    if (n > 0) {
        s->strategy.health_targets = targets;
        s->strategy.health_target_count = (size_t)n;
    } else {
        s->strategy.health_targets = (const char *const *)cfg->health_targets.items;
        s->strategy.health_target_count = cfg->health_targets.count;
    }
    s->strategy.deps_args = opt_all(args->opts, "deps-arg", &n);
    s->strategy.deps_arg_count = (size_t)n;
    s->strategy.self_exe = "/proc/self/exe";
    s->strategy.project_root = cfg->root;
    s->strategy.stop = &interrupt_requested;
    s->strategy.output_fd = STDERR_FILENO;
    s->stop = &interrupt_requested;
    s->out_fd = STDOUT_FILENO;
    s->err_fd = STDERR_FILENO;
    return -1;
}

static int check_command(const struct command_args *args)
{
    const char *shell = opt_get(args->opts, "command");

    if (shell != NULL && args->argc > 0) {
        ui_error("give the command either with --command or after '--', not both (got '%s')",
                 args->argv[0]);
        return EXIT_USAGE;
    }
    if (shell == NULL && args->argc == 0) {
        ui_error("no command to heal");
        ui_hint("run 'aftershock heal -- COMMAND [ARG...]' or 'aftershock heal --command "
                "\"STRING\"'");
        return EXIT_USAGE;
    }
    if (shell != NULL && shell[0] == '\0') {
        ui_error("--command is empty");
        return EXIT_USAGE;
    }
    if (opt_has(args->opts, "exit-code")) {
        ui_error("--exit-code only applies to --classify");
        return EXIT_USAGE;
    }
    return -1;
}

/* Chooses the history store: --db, $AFTERSHOCK_DB, aftershock.yaml, then the default. */
static char *store_for(const struct opt_values *opts, const struct project_config *cfg)
{
    const char *env = getenv(STORE_ENV_LOCATION);

    if (opt_get(opts, "db") != NULL || (env != NULL && env[0] != '\0') || cfg->store == NULL)
        return strdup(store_location(opt_get(opts, "db")));
    if (store_is_url(cfg->store))
        return strdup(cfg->store);
    return project_config_path(cfg, cfg->store);
}

/* Sets the fault ledger for rollback: aftershock.yaml, else the environment or the default. */
static char *ledger_for(const struct project_config *cfg)
{
    return cfg->ledger_dir != NULL ? project_config_path(cfg, cfg->ledger_dir) : NULL;
}

static int run_session(const struct command_args *args, const struct project_config *cfg,
                       const struct heal_rules *rules)
{
    struct heal_session_opts s;
    int code = check_command(args);

    if (code >= 0)
        return code;
    memset(&s, 0, sizeof(s));
    code = read_session(args, cfg, &s);
    if (code >= 0) {
        heal_code_set_release(&s.retry_on);
        heal_code_set_release(&s.never_retry_on);
        return code;
    }
    s.rules = rules;
    s.shell_command = opt_get(args->opts, "command");
    s.argv = s.shell_command == NULL ? args->argv : NULL;
    char *line = s.shell_command != NULL ? strdup(s.shell_command)
                                         : command_line(args->argc, args->argv);
    char *store = store_for(args->opts, cfg);
    char *ledger = ledger_for(cfg);
    s.command_line = line;
    s.store_location = opt_has(args->opts, "no-record") ? NULL : store;
    s.strategy.ledger_dir = ledger;
    /* Runs keep their fault ledger in the store, so rollback reads it even without records. */
    s.strategy.store = store;

    interrupt_install(true);
    fflush(stdout);
    code = heal_session_run(&s);

    free(line);
    free(store);
    free(ledger);
    heal_code_set_release(&s.retry_on);
    heal_code_set_release(&s.never_retry_on);
    return code;
}

static int heal_main(const struct command_args *args)
{
    const char *config = opt_get(args->opts, "config");
    struct project_config cfg;
    struct heal_rules rules = { NULL, 0 };
    struct err err;
    int code;

    if (project_config_load(config != NULL ? config : ".", &cfg, &err) != 0) {
        ui_error("%s", err.msg);
        return EXIT_USAGE;
    }
    code = load_rules(args->opts, &cfg, &rules);
    if (code != EXIT_OK) {
        project_config_free(&cfg);
        return code;
    }

    if (opt_has(args->opts, "list-rules"))
        heal_print_rules(stdout, &rules, opt_has(args->opts, "json"));
    else if (opt_has(args->opts, "classify"))
        code = classify_log(args->opts, &rules);
    else
        code = run_session(args, &cfg, &rules);

    heal_rules_release(&rules);
    project_config_free(&cfg);
    return code;
}

const struct command command_heal = {
    .name = "heal",
    .summary = "run a command, classify its failures and heal them with categorised retries",
    .usage = "[options] -- COMMAND [ARG...] | --command STRING | --classify LOGFILE",
    .description =
        "Runs the command (without a shell, or STRING through /bin/sh -c). Its output\n"
        "streams live and unchanged; standard input goes to the first attempt only.\n"
        "When it fails, the output and exit code are matched against the rules (the\n"
        "rules file first, then the built-in rules; the first that matches wins),\n"
        "giving a category: dependency, config, health, injection, network,\n"
        "resource, timeout, verdict or unknown. The category's strategy runs (deps,\n"
        "check, probe, rollback, cleanup, or the rule's own command), then heal\n"
        "waits its backoff and retries. A verdict (exit 1 of 'aftershock run' or\n"
        "'verify', a deviated steady state) is never retried, nor are permission\n"
        "and syntax errors. Before each retry one line names the attempt, category,\n"
        "rule, strategy and its outcome, and the wait. Every attempt is recorded in\n"
        "the history store; the command sees AFTERSHOCK_HEAL_SESSION and\n"
        "AFTERSHOCK_HEAL_ATTEMPT. See docs/healing.md.\n"
        "\n"
        "exit codes: the last attempt's exit code (124 when --timeout ended it);\n"
        "2 for invalid options or rules; 3 when the command could not be started.\n"
        "With --classify or --list-rules: 0, or 2 for invalid input.\n",
    .options = heal_options,
    .min_args = 0,
    .handler = heal_main,
};
