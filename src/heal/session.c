/* The healing loop: attempt, classify, decide, heal, back off, record. */
#include "heal/session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heal/classify.h"
#include "heal/exec.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"

/* The history store of a session, opened on the first record. Invariant:
 * store is NULL until opened; after a failed open, failed is true and
 * nothing more is tried. */
struct recorder {
    const char *location;
    struct store *store;
    struct store_context ctx;
    bool failed;
};

/* One failed attempt's decision. */
struct decision {
    const char *outcome;  /* "retried", "stopped" or "gave_up" */
    char reason[160];     /* why no retry, for stopped and gave_up */
};

int heal_code_set_parse(const char *text, struct heal_code_set *set)
{
    struct heal_code_set parsed = { NULL, 0 };
    const char *p = text;

    if (text == NULL || *text == '\0')
        return -1;
    while (*p != '\0') {
        char *end;
        long low, high;

        errno = 0;
        low = strtol(p, &end, 10);
        if (end == p || errno != 0 || low < 0 || low > 255)
            goto fail;
        high = low;
        if (*end == '-') {
            p = end + 1;
            high = strtol(p, &end, 10);
            if (end == p || errno != 0 || high < low || high > 255)
                goto fail;
        }
        struct heal_code_range *grown =
            realloc(parsed.ranges, (parsed.count + 1) * sizeof(*parsed.ranges));
        if (grown == NULL)
            abort();
        parsed.ranges = grown;
        parsed.ranges[parsed.count++] = (struct heal_code_range){ (int)low, (int)high };
        if (*end == ',' && end[1] != '\0')
            end++;
        else if (*end != '\0')
            goto fail;
        p = end;
    }
    heal_code_set_release(set);
    *set = parsed;
    return 0;

fail:
    free(parsed.ranges);
    return -1;
}

bool heal_code_set_has(const struct heal_code_set *set, int code)
{
    for (size_t i = 0; i < set->count; i++) {
        if (code >= set->ranges[i].low && code <= set->ranges[i].high)
            return true;
    }
    return false;
}

void heal_code_set_release(struct heal_code_set *set)
{
    free(set->ranges);
    set->ranges = NULL;
    set->count = 0;
}

/* Returns a new session id: "heal-" and 16 random hex digits. */
static void make_session_id(char *out, size_t size)
{
    uint64_t value = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || read(fd, &value, sizeof(value)) != (ssize_t)sizeof(value))
        value = backoff_seed() ^ ((uint64_t)getpid() << 32);
    if (fd >= 0)
        close(fd);
    snprintf(out, size, "heal-%016" PRIx64, value);
}

static void record(struct recorder *rec, const struct heal_session_opts *opts,
                   struct store_heal_attempt *attempt)
{
    struct err err;

    if (rec->location == NULL || rec->failed)
        return;
    if (rec->store == NULL) {
        if (store_open(rec->location, STORE_WRITE, &rec->store, &err) != 0) {
            rec->failed = true;
            dprintf(opts->err_fd, "aftershock: warning: healing attempts are not recorded: %s\n",
                    err.msg);
            return;
        }
        store_context_from_env(&rec->ctx);
    }
    /* PostgreSQL rejects text that is not valid UTF-8, and output may contain any bytes. */
    const char *original_command = attempt->command, *original_message = attempt->message;
    char *command = utf8_sanitize(attempt->command, strlen(attempt->command));
    char *message = attempt->message != NULL
                        ? utf8_sanitize(attempt->message, strlen(attempt->message))
                        : NULL;
    attempt->command = command;
    attempt->message = message;
    attempt->commit = rec->ctx.commit;
    attempt->branch = rec->ctx.branch;
    attempt->ci_job = rec->ctx.ci_job;
    attempt->ci_run = rec->ctx.ci_run;
    if (store_record_heal_attempt(rec->store, attempt, &err) != 0) {
        dprintf(opts->err_fd, "aftershock: warning: cannot record healing attempt %d: %s\n",
                attempt->attempt, err.msg);
        log_error("heal", "recording failed: %s session=%s", err.msg, attempt->session);
    }
    attempt->command = original_command;
    attempt->message = original_message;
    free(command);
    free(message);
}

static void recorder_close(struct recorder *rec)
{
    if (rec->store != NULL) {
        store_close(rec->store);
        store_context_release(&rec->ctx);
    }
}

/* Classifies an attempt that failed. A timed-out attempt is a timeout
 * whatever its output contains, unless that is a verdict. */
static void classify_attempt(struct heal_classifier *classifier,
                             const struct heal_exec_result *res,
                             struct heal_classification *cls)
{
    heal_classifier_finish(classifier, res->exit_code, cls);
    if (res->timed_out && cls->category != HEAL_VERDICT) {
        cls->rule = NULL;
        cls->category = HEAL_TIMEOUT;
        cls->strategy = STRATEGY_BACKOFF;
        cls->line_matched = false;
        snprintf(cls->line, sizeof(cls->line), "the attempt timed out");
    }
}

/* Decides whether a failed attempt is retried. */
static void decide(const struct heal_session_opts *opts, int attempt,
                   const struct heal_exec_result *res, const struct heal_classification *cls,
                   struct decision *d)
{
    int code = res->exit_code;

    d->outcome = "gave_up";
    d->reason[0] = '\0';
    if (cls->category == HEAL_VERDICT) {
        d->outcome = "stopped";
        snprintf(d->reason, sizeof(d->reason), "not retried: a finding is never healed");
    } else if (res->interrupted || (opts->stop != NULL && *opts->stop)) {
        snprintf(d->reason, sizeof(d->reason), "interrupted");
    } else if (res->signaled && res->term_signal == SIGINT) {
        snprintf(d->reason, sizeof(d->reason), "the command was interrupted (SIGINT)");
    } else if (heal_code_set_has(&opts->never_retry_on, code)) {
        snprintf(d->reason, sizeof(d->reason), "exit %d is never retried (--never-retry-on-exit)",
                 code);
    } else if (opts->retry_on.count > 0 && !heal_code_set_has(&opts->retry_on, code)) {
        snprintf(d->reason, sizeof(d->reason), "exit %d is not in --retry-on-exit", code);
    } else if (cls->strategy == STRATEGY_STOP) {
        snprintf(d->reason, sizeof(d->reason), "not retried: a retry cannot change this failure");
    } else if (cls->rule != NULL && cls->rule->max_attempts > 0 &&
               attempt >= cls->rule->max_attempts) {
        snprintf(d->reason, sizeof(d->reason), "not retried: rule %s allows %d attempt%s",
                 cls->rule->name, cls->rule->max_attempts, cls->rule->max_attempts > 1 ? "s" : "");
    } else if (attempt > opts->max_retries) {
        snprintf(d->reason, sizeof(d->reason), "giving up: no retries left (--max-retries %d)",
                 opts->max_retries);
    } else {
        d->outcome = "retried";
    }
}

static void print_failure(const struct heal_session_opts *opts, int attempt,
                          const struct heal_exec_result *res,
                          const struct heal_classification *cls, const char *tail)
{
    dprintf(opts->err_fd, "aftershock: heal: attempt %d/%d failed with exit %d: %s, rule %s; %s\n",
            attempt, opts->max_retries + 1, res->exit_code, heal_category_name(cls->category),
            cls->rule != NULL ? cls->rule->name : "(none)", tail);
}

/* Runs one attempt and returns its result with its classification. */
static int run_attempt(const struct heal_session_opts *opts, const char *session, int attempt,
                       double deadline_at, struct heal_exec_result *res,
                       struct heal_classification *cls)
{
    struct heal_classifier classifier;
    struct heal_exec_opts exec = {
        .argv = opts->argv,
        .shell_command = opts->shell_command,
        .timeout = opts->timeout,
        .inherit_stdin = attempt == 1,
        .session = session,
        .attempt = attempt,
        .stop = opts->stop,
        .out_fd = opts->out_fd,
        .err_fd = opts->err_fd,
    };
    struct err err;

    if (deadline_at > 0) {
        double left = deadline_at - time_monotonic();
        if (exec.timeout == 0 || left < exec.timeout)
            exec.timeout = left > 0.001 ? left : 0.001;
    }
    log_debug("heal", "attempt %d starts session=%s", attempt, session);
    heal_classifier_init(&classifier, opts->rules, opts->command_line, -1);
    if (heal_exec_run(&exec, &classifier, res, &err) != 0) {
        heal_classifier_release(&classifier);
        dprintf(opts->err_fd, "aftershock: error: %s\n", err.msg);
        return -1;
    }
    if (res->exit_code != 0)
        classify_attempt(&classifier, res, cls);
    heal_classifier_release(&classifier);
    return 0;
}

/* Applies the strategy and waits; returns false when the session must end. */
static bool heal_and_wait(const struct heal_session_opts *opts, int attempt, double deadline_at,
                          const struct heal_exec_result *res,
                          const struct heal_classification *cls, struct store_heal_attempt *rec,
                          struct heal_strategy_result *sr, uint64_t *random_state,
                          double *wait_out)
{
    char tail[900];

    heal_strategy_apply(cls->strategy, cls->rule, &opts->strategy, sr);
    double wait = *wait_out = backoff_delay(&opts->backoff, (unsigned)(attempt - 1),
                                opts->backoff.jitter > 0 ? backoff_random_xorshift : NULL,
                                random_state);
    rec->strategy = heal_strategy_name(sr->applied);
    rec->strategy_ok = -1;
    if (sr->ran)
        rec->strategy_ok = sr->ok ? 1 : 0;

    if (deadline_at > 0 && time_monotonic() + wait >= deadline_at) {
        rec->outcome = "gave_up";
        snprintf(tail, sizeof(tail), "strategy %s: %s; giving up: the next attempt would start "
                 "after the deadline", heal_strategy_name(sr->applied),
                 sr->message[0] != '\0' ? sr->message : "nothing to run");
        print_failure(opts, attempt, res, cls, tail);
        return false;
    }
    snprintf(tail, sizeof(tail), "strategy %s: %s; retrying in %.1f s",
             heal_strategy_name(sr->applied), sr->message[0] != '\0' ? sr->message : "nothing to run",
             wait);
    print_failure(opts, attempt, res, cls, tail);
    log_debug("heal", "retrying attempt=%d category=%s strategy=%s strategy_ok=%d wait=%.2f",
             attempt, heal_category_name(cls->category), heal_strategy_name(sr->applied),
             rec->strategy_ok, wait);
    return true;
}

int heal_session_run(const struct heal_session_opts *opts)
{
    struct recorder rec = { .location = opts->store_location };
    double start = time_monotonic();
    double deadline_at = opts->deadline > 0 ? start + opts->deadline : 0;
    uint64_t random_state = backoff_seed();
    char session[32];
    int code = 0;

    make_session_id(session, sizeof(session));
    for (int attempt = 1;; attempt++) {
        struct heal_exec_result res;
        struct heal_classification cls;
        struct heal_strategy_result sr;
        struct decision d;

        memset(&cls, 0, sizeof(cls));
        if (run_attempt(opts, session, attempt, deadline_at, &res, &cls) != 0) {
            code = EXIT_RUNFAIL;
            break;
        }
        code = res.exit_code;
        struct store_heal_attempt row = {
            .session = session, .attempt = attempt, .command = opts->command_line,
            .started = res.started, .duration = res.duration, .exit_code = code,
            .strategy_ok = -1,
        };
        if (code == 0) {
            row.outcome = "succeeded";
            record(&rec, opts, &row);
            if (attempt > 1)
                dprintf(opts->err_fd, "aftershock: heal: attempt %d/%d succeeded after %d failed "
                        "attempt%s\n", attempt, opts->max_retries + 1, attempt - 1,
                        attempt > 2 ? "s" : "");
            break;
        }
        row.category = heal_category_name(cls.category);
        row.message = cls.line[0] != '\0' ? cls.line : NULL;
        log_debug("heal", "classified attempt=%d category=%s rule=%s line=%s", attempt,
                  row.category, cls.rule != NULL ? cls.rule->name : "(none)", cls.line);

        decide(opts, attempt, &res, &cls, &d);
        if (strcmp(d.outcome, "retried") != 0) {
            row.outcome = d.outcome;
            print_failure(opts, attempt, &res, &cls, d.reason);
            record(&rec, opts, &row);
            break;
        }
        row.outcome = "retried";
        double wait = 0;
        bool again = heal_and_wait(opts, attempt, deadline_at, &res, &cls, &row, &sr,
                                   &random_state, &wait);
        record(&rec, opts, &row);
        if (!again || time_sleep(wait, opts->stop) != 0)
            break;
    }
    recorder_close(&rec);
    return code;
}
