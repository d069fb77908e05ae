/* Running the healing strategies as child processes and reporting their outcome in one line. */
#include "heal/strategy.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/spawn.h"
#include "util/strbuf.h"

/* Output of a strategy kept and copied out; the rest is read and dropped. */
#define STRATEGY_CAPTURE (256 * 1024)

static void copy_out(int fd, const char *text)
{
    size_t len = strlen(text);

    while (fd >= 0 && len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* True when a line reports a problem: it contains "error" or "fail" in any case. */
static bool reports_problem(const char *line, size_t len)
{
    char copy[512];

    snprintf(copy, sizeof(copy), "%.*s", (int)(len < sizeof(copy) ? len : sizeof(copy) - 1),
             line);
    return strcasestr(copy, "error") != NULL || strcasestr(copy, "fail") != NULL;
}

/* Puts the last line of text that reports a problem into out, else its last non-empty line. */
static void last_line(const char *text, char *out, size_t size)
{
    size_t end = strlen(text);

    out[0] = '\0';
    while (end > 0) {
        while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' '))
            end--;
        size_t begin = end;
        while (begin > 0 && text[begin - 1] != '\n')
            begin--;
        if (end > begin && reports_problem(text + begin, end - begin)) {
            snprintf(out, size, "%.*s", (int)(end - begin), text + begin);
            return;
        }
        end = begin;
    }
    end = strlen(text);
    while (end > 0) {
        while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' '))
            end--;
        size_t begin = end;
        while (begin > 0 && text[begin - 1] != '\n')
            begin--;
        if (end > begin) {
            snprintf(out, size, "%.*s", (int)(end - begin), text + begin);
            return;
        }
    }
}

/* Runs argv (or a shell command) in the project folder and fills out. */
static void run_process(char *const *argv, const char *shell_command, const char *what,
                        const struct heal_strategy_env *env, struct heal_strategy_result *out)
{
    struct spawn_opts opts = {
        .argv = argv,
        .shell_command = shell_command,
        .cwd = env->project_root,
        .timeout = env->timeout,
        .capture_max = STRATEGY_CAPTURE,
        .stdin_null = true,
        .stop = env->stop,
    };
    struct spawn_result res;
    struct err err;
    char line[400];

    out->ran = true;
    log_debug("heal", "strategy starts: %s", what);
    if (spawn_run(&opts, &res, &err) != 0) {
        out->ok = false;
        snprintf(out->message, sizeof(out->message), "%.500s", err.msg);
        log_warn("heal", "strategy could not start: %s", err.msg);
        return;
    }
    copy_out(env->output_fd, res.out);
    copy_out(env->output_fd, res.err);
    out->ok = res.exit_code == 0 && !res.timed_out && !res.interrupted;
    if (out->ok) {
        snprintf(out->message, sizeof(out->message), "%s succeeded", what);
    } else if (res.timed_out) {
        snprintf(out->message, sizeof(out->message), "%s timed out after %.0f s", what,
                 env->timeout);
    } else {
        last_line(res.err[0] != '\0' ? res.err : res.out, line, sizeof(line));
        snprintf(out->message, sizeof(out->message), "%s failed with exit %d%s%s", what,
                 res.exit_code, line[0] != '\0' ? ": " : "", line);
    }
    log_debug("heal", "strategy ended: %s ok=%d", what, out->ok ? 1 : 0);
    spawn_result_release(&res);
}

/* Builds "aftershock COMMAND ARGS..." for a command of aftershock itself. */
static void run_self(const struct heal_strategy_env *env, const char *const *args, size_t n_args,
                     const char *const *extra, size_t n_extra, const char *what,
                     struct heal_strategy_result *out)
{
    const char **argv = calloc(n_args + n_extra + 2, sizeof(*argv));
    size_t n = 0;

    if (argv == NULL)
        abort();
    argv[n++] = env->self_exe;
    for (size_t i = 0; i < n_args; i++)
        argv[n++] = args[i];
    for (size_t i = 0; i < n_extra; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    run_process((char *const *)argv, NULL, what, env, out);
    free(argv);
}

static void run_probe(const struct heal_strategy_env *env, struct heal_strategy_result *out)
{
    char timeout[32];
    const char *args[] = { "probe", "--timeout", timeout };

    if (env->health_target_count == 0) {
        out->applied = STRATEGY_BACKOFF;
        snprintf(out->message, sizeof(out->message),
                 "no health targets to probe (set health_targets in aftershock.yaml or pass "
                 "--health-target), so only backing off");
        return;
    }
    snprintf(timeout, sizeof(timeout), "%.3fs", env->health_timeout);
    run_self(env, args, 3, env->health_targets, env->health_target_count,
             "aftershock probe", out);
}

/* Runs rollback on the ledger folder and on the history store's ledger. */
static void run_rollback(const struct heal_strategy_env *env, const char *what,
                         struct heal_strategy_result *out)
{
    const char *args[5] = { "rollback" };
    size_t n = 1;

    if (env->ledger_dir != NULL) {
        args[n++] = "--ledger-dir";
        args[n++] = env->ledger_dir;
    }
    if (env->store != NULL) {
        args[n++] = "--db";
        args[n++] = env->store;
    }
    run_self(env, args, n, NULL, 0, what, out);
}

void heal_strategy_apply(enum heal_strategy strategy, const struct heal_rule *rule,
                         const struct heal_strategy_env *env, struct heal_strategy_result *out)
{
    memset(out, 0, sizeof(*out));
    out->applied = strategy;
    switch (strategy) {
    case STRATEGY_DEPS: {
        const char *args[] = { "deps", "--fix", "--install" };
        run_self(env, args, 3, env->deps_args, env->deps_arg_count,
                 "aftershock deps --fix --install", out);
        break;
    }
    case STRATEGY_CHECK: {
        const char *args[] = { "check", "--fix" };
        run_self(env, args, 2, NULL, 0, "aftershock check --fix", out);
        break;
    }
    case STRATEGY_PROBE:
        run_probe(env, out);
        break;
    case STRATEGY_ROLLBACK:
        run_rollback(env, "aftershock rollback", out);
        break;
    case STRATEGY_CLEANUP:
        /* Fill files, stress workers and stale ledger files are all undone through the ledger. */
        run_rollback(env, "cleanup (aftershock rollback)", out);
        break;
    case STRATEGY_COMMAND:
        if (rule != NULL && rule->strategy_command != NULL) {
            char what[200];
            snprintf(what, sizeof(what), "rule command '%.150s'", rule->strategy_command);
            run_process(NULL, rule->strategy_command, what, env, out);
        }
        break;
    case STRATEGY_DEFAULT:
    case STRATEGY_BACKOFF:
    case STRATEGY_STOP:
        break;
    }
}
