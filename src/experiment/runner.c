/* The experiment lifecycle: hypothesis before, method (with checks during), hypothesis after, rollbacks. */
#include "experiment/runner.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "experiment/activity.h"
#include "experiment/hypothesis.h"
#include "experiment/method.h"
#include "fault/ledger.h"
#include "fault/toxic.h"
#include "resilience/resilience.h"
#include "traffic/traffic.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Flags set from the signal handler. The method flag also ends checks
 * during the method; the rollback flag is set only by a second signal. */
static volatile sig_atomic_t interrupt_count;
static volatile sig_atomic_t interrupt_signo;
static volatile sig_atomic_t method_stop;
static volatile sig_atomic_t during_stop;
static volatile sig_atomic_t rollback_stop;

static const char *const rollback_names[] = { "default", "always", "never", "deviated" };
static const char *const hypothesis_names[] = {
    "default", "before-method-only", "after-method-only", "during-method-only", "continuously",
};

int rollback_strategy_parse(const char *name, enum rollback_strategy *out)
{
    for (size_t i = 0; i < sizeof(rollback_names) / sizeof(rollback_names[0]); i++) {
        if (strcmp(rollback_names[i], name) == 0) {
            *out = (enum rollback_strategy)i;
            return 0;
        }
    }
    return -1;
}

int hypothesis_strategy_parse(const char *name, enum hypothesis_strategy *out)
{
    for (size_t i = 0; i < sizeof(hypothesis_names) / sizeof(hypothesis_names[0]); i++) {
        if (strcmp(hypothesis_names[i], name) == 0) {
            *out = (enum hypothesis_strategy)i;
            return 0;
        }
    }
    return -1;
}

const char *rollback_strategy_name(enum rollback_strategy s)
{
    return rollback_names[s];
}

const char *hypothesis_strategy_name(enum hypothesis_strategy s)
{
    return hypothesis_names[s];
}

static void handle_interrupt(int signo)
{
    if (interrupt_count == 0)
        interrupt_signo = signo;
    interrupt_count++;
    method_stop = 1;
    during_stop = 1;
    if (interrupt_count >= 2)
        rollback_stop = 1;
}

void runner_install_signal_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handle_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int runner_interrupt_signal(void)
{
    return interrupt_signo;
}

/* State shared with the thread that checks the hypothesis during the method. */
struct during_checks {
    const struct runner_opts *opts;
    struct activity_env env;
    json_t *exec_hypothesis;     /* deep copies owned by the thread */
    json_t *display_hypothesis;
    json_t *states;              /* written by the thread, read after join */
    bool deviated;
    pthread_t thread;
};

static void *during_main(void *arg)
{
    struct during_checks *checks = arg;

    while (!during_stop) {
        bool met;
        json_t *state = hypothesis_check(&checks->env, checks->exec_hypothesis,
                                         checks->display_hypothesis, &met);
        if (during_stop && !met) {
            /* A check cut short by the end of the method is not a deviation. */
            json_decref(state);
            break;
        }
        json_array_append_new(checks->states, state);
        if (!met) {
            checks->deviated = true;
            log_warn("runner", "steady state deviated during the method");
            if (checks->opts->fail_fast) {
                log_warn("runner", "fail-fast: stopping the method");
                method_stop = 1;
                break;
            }
        }
        time_sleep(checks->opts->hypothesis_frequency, &during_stop);
    }
    return NULL;
}

static void set_status(json_t *journal, const char *status)
{
    json_object_set_new(journal, "status", json_string(status));
}

/* Decides whether rollbacks run, from the strategy and what happened. */
static bool should_roll_back(enum rollback_strategy strategy, bool method_ran, bool deviated)
{
    switch (strategy) {
    case ROLLBACK_ALWAYS:
        return true;
    case ROLLBACK_NEVER:
        return false;
    case ROLLBACK_DEVIATED:
        return deviated;
    case ROLLBACK_DEFAULT:
        break;
    }
    return method_ran;
}

/* Runs the method, with hypothesis checks on a thread when the strategy requires them. */
static void run_method(const struct runner_opts *opts, struct activity_env *env, json_t *exec,
                       json_t *display, json_t *journal, bool *deviated)
{
    bool during = opts->hypothesis_strategy == HYPOTHESIS_DURING_METHOD_ONLY ||
                  opts->hypothesis_strategy == HYPOTHESIS_CONTINUOUSLY;
    struct during_checks checks;
    bool thread_started = false;

    memset(&checks, 0, sizeof(checks));
    if (during) {
        checks.opts = opts;
        checks.env = *env;
        checks.env.stop = &during_stop;
        checks.exec_hypothesis = json_deep_copy(json_object_get(exec, "steady-state-hypothesis"));
        checks.display_hypothesis =
            json_deep_copy(json_object_get(display, "steady-state-hypothesis"));
        checks.states = json_array();
        thread_started = pthread_create(&checks.thread, NULL, during_main, &checks) == 0;
        if (!thread_started)
            log_warn("runner", "cannot start the thread for checks during the method");
    }

    log_info("runner", "method start");
    json_t *records = method_run(env, json_object_get(exec, "method"),
                                 json_object_get(display, "method"));
    json_object_set_new(journal, "run", records);

    if (during) {
        during_stop = 1;
        if (thread_started)
            pthread_join(checks.thread, NULL);
        json_object_set_new(json_object_get(journal, "steady_states"), "during", checks.states);
        json_decref(checks.exec_hypothesis);
        json_decref(checks.display_hypothesis);
        if (checks.deviated)
            *deviated = true;
    }
}

static void finish_journal(json_t *journal, double wall_start, double mono_start)
{
    char stamp[40];
    double duration = time_monotonic() - mono_start;

    time_format_iso8601(wall_start + duration, stamp, sizeof(stamp));
    json_object_set_new(journal, "end", json_string(stamp));
    json_object_set_new(journal, "duration", json_real(duration));
}

static json_t *journal_new(json_t *original, double wall_start)
{
    char stamp[40];
    char host[256] = "";

    time_format_iso8601(wall_start, stamp, sizeof(stamp));
    gethostname(host, sizeof(host) - 1);
    return json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:n, s:n, s:b, "
                     "s:{s:n, s:n, s:[]}, s:[], s:[]}",
                     "chaoslib-version", "aftershock " AFTERSHOCK_VERSION,
                     "platform", "linux", "node", host,
                     "experiment", original,
                     "start", stamp, "status", "running", "end", "duration",
                     "deviated", 0,
                     "steady_states", "before", "after", "during",
                     "run", "rollbacks");
}

json_t *runner_run(json_t *exec, json_t *display, json_t *original,
                   const struct runner_opts *opts)
{
    enum hypothesis_strategy hs = opts->hypothesis_strategy;
    bool check_before = hs == HYPOTHESIS_DEFAULT || hs == HYPOTHESIS_BEFORE_METHOD_ONLY ||
                        hs == HYPOTHESIS_CONTINUOUSLY;
    bool check_after = hs == HYPOTHESIS_DEFAULT || hs == HYPOTHESIS_AFTER_METHOD_ONLY ||
                       hs == HYPOTHESIS_CONTINUOUSLY;
    json_t *exec_hypothesis = json_object_get(exec, "steady-state-hypothesis");
    json_t *display_hypothesis = json_object_get(display, "steady-state-hypothesis");
    double wall_start = time_wall(), mono_start = time_monotonic();
    json_t *journal = journal_new(original, wall_start);
    json_t *states = json_object_get(journal, "steady_states");
    struct process_registry processes;
    struct pause_registry pauses;
    struct toxic_ledger toxics;
    struct proxy_thread *embedded = NULL;
    struct traffic_session *traffic = NULL;
    struct activity_env env;
    struct err err;
    bool before_met = true, deviated = false, method_ran = false;
    const char *status = "completed";

    method_stop = interrupt_count > 0;
    during_stop = interrupt_count > 0;
    rollback_stop = interrupt_count > 1;
    process_registry_init(&processes);
    pause_registry_init(&pauses);
    env.base_dir = opts->base_dir;
    env.stop = &method_stop;
    env.processes = &processes;
    env.pauses = &pauses;
    toxic_ledger_init(&toxics);
    env.toxics = &toxics;
    env.toxic_api = NULL;
    env.ledger = opts->ledger;
    env.method_done = NULL;
    toxics.faults = opts->ledger;

    if (experiment_proxies_start(exec, &env, &embedded, &err) != 0) {
        log_error("runner", "%s; skipping the experiment", err.msg);
        before_met = false;
        status = "failed";
    }
    /* Run-wide traffic starts before the steady state so the timeline covers the whole run. */
    if (before_met && json_object_get(exec, "traffic") != NULL &&
        traffic_session_start(json_object_get(exec, "traffic"), &traffic, &err) != 0) {
        log_error("runner", "traffic: %s; skipping the experiment", err.msg);
        before_met = false;
        status = "failed";
    }

    if (before_met && check_before && exec_hypothesis != NULL) {
        log_info("runner", "steady state before the method");
        json_object_set_new(states, "before",
                            hypothesis_check(&env, exec_hypothesis, display_hypothesis,
                                             &before_met));
        if (!before_met && !interrupt_count) {
            log_warn("runner", "steady state not met before the method; skipping the method");
            status = "failed";
        }
    }

    if (before_met && !interrupt_count) {
        method_ran = true;
        run_method(opts, &env, exec, display, journal, &deviated);
        if (!interrupt_count && check_after && exec_hypothesis != NULL && !method_stop) {
            bool after_met;
            log_info("runner", "steady state after the method");
            json_object_set_new(states, "after",
                                hypothesis_check(&env, exec_hypothesis, display_hypothesis,
                                                 &after_met));
            if (!after_met)
                deviated = true;
        }
        if (deviated)
            status = "failed";
    }
    if (interrupt_count)
        status = "interrupted";

    if (should_roll_back(opts->rollback_strategy, method_ran, deviated)) {
        log_info("runner", "rollbacks start strategy=%s",
                 rollback_strategy_name(opts->rollback_strategy));
        env.stop = &rollback_stop;
        json_object_set_new(journal, "rollbacks",
                            method_run(&env, json_object_get(exec, "rollbacks"),
                                       json_object_get(display, "rollbacks")));
    } else {
        log_info("runner", "rollbacks skipped strategy=%s",
                 rollback_strategy_name(opts->rollback_strategy));
    }
    if (pause_registry_resume_all(&pauses) > 0)
        log_info("runner", "resumed processes left paused by the method");
    /* Every background activity has ended, so the only pauses left were the registry's. */
    fault_ledger_remove_kind(opts->ledger, FAULT_PAUSE);
    if (traffic != NULL)
        json_object_set_new(journal, "traffic", traffic_session_finish(traffic, &method_stop));
    experiment_toxics_finish(&env, embedded);
    toxic_ledger_release(&toxics);
    /* Every fault of this experiment is undone by now, unless undoing it failed. */
    json_object_set_new(journal, "faults", fault_ledger_take_journal(opts->ledger));

    json_object_set_new(journal, "deviated", json_boolean(deviated));
    set_status(journal, status);
    resilience_mark_phases(journal);
    finish_journal(journal, wall_start, mono_start);
    process_registry_release(&processes);
    pthread_mutex_destroy(&pauses.lock);
    return journal;
}
