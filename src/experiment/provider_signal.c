/* The `signal` provider: sends a signal to a pid, a pid file's process, or a process an activity started. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/activity.h"
#include "fault/ledger.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Finds the target pid from `pid`, `pid_file` or `process`. Returns it, or -1 with err set. */
static pid_t resolve_target(const struct activity_env *env, json_t *provider, struct err *err)
{
    json_t *pid = json_object_get(provider, "pid");
    const char *pid_file = json_string_value(json_object_get(provider, "pid_file"));
    const char *process = json_string_value(json_object_get(provider, "process"));

    if (json_is_integer(pid))
        return (pid_t)json_integer_value(pid);
    if (json_is_string(pid)) {
        char *end;
        long value = strtol(json_string_value(pid), &end, 10);
        if (*end != '\0' || end == json_string_value(pid))
            return err_set(err, "invalid pid '%s': expected a number", json_string_value(pid));
        return (pid_t)value;
    }
    if (pid_file != NULL)
        return signal_read_pid_file(pid_file, err);
    if (process != NULL) {
        pid_t found = process_registry_lookup(env->processes, process);
        if (found <= 0)
            return err_set(err, "process activity '%s' is not running: start it with a "
                           "background process action before this one", process);
        return found;
    }
    return err_set(err, "signal provider needs one of pid, pid_file or process");
}

/* Pauses pid for duration seconds and resumes it; an interruption resumes it at once. */
static int pause_for(const struct activity_env *env, pid_t pid, double duration,
                     struct err *err)
{
    struct signal_pause pause;
    struct err resume_err;
    double start = time_monotonic();
    bool interrupted;
    long ledger_id;
    int resumed;

    if (fault_ledger_add_pause(env->ledger, pid, &ledger_id, err) != 0)
        return -1;
    if (signal_pause(pid, &pause, err) != 0) {
        fault_ledger_remove(env->ledger, ledger_id);
        return -1;
    }
    interrupted = time_sleep(duration, env->stop) != 0;
    resumed = signal_resume(&pause, &resume_err);
    /* A failed SIGCONT means the process is gone, and rollback could do no better. */
    fault_ledger_remove(env->ledger, ledger_id);
    if (resumed != 0)
        return err_set(err, "%s", resume_err.msg);
    if (interrupted)
        return err_set(err, "pause of pid %d cut short after %.2f s because the method was "
                       "stopped (interrupted, or --fail-fast); the process was resumed", (int)pid,
                       time_monotonic() - start);
    return 0;
}

/* Pauses pid until the run ends; the pause registry resumes it then. */
static int pause_until_end(const struct activity_env *env, pid_t pid, struct err *err)
{
    struct pause_registry *reg = env->pauses;
    long ledger_id;
    int rc;

    pthread_mutex_lock(&reg->lock);
    if (reg->count >= PAUSE_REGISTRY_MAX) {
        pthread_mutex_unlock(&reg->lock);
        return err_set(err, "too many paused processes (at most %d)", PAUSE_REGISTRY_MAX);
    }
    /* The runner clears the ledger's pause entries once the registry has resumed them all. */
    rc = fault_ledger_add_pause(env->ledger, pid, &ledger_id, err);
    if (rc == 0) {
        rc = signal_pause(pid, &reg->pauses[reg->count], err);
        if (rc != 0)
            fault_ledger_remove(env->ledger, ledger_id);
    }
    if (rc == 0)
        reg->count++;
    pthread_mutex_unlock(&reg->lock);
    if (rc == 0)
        log_warn("signal", "pid=%d paused without a duration; it is resumed when the run ends",
                 (int)pid);
    return rc;
}

int provider_signal_run(const struct activity_env *env, json_t *provider, json_t **output,
                        struct err *err)
{
    json_t *signal_value = json_object_get(provider, "signal");
    json_t *duration_value = json_object_get(provider, "duration");
    char signal_text[32];
    int signo;
    pid_t pid;
    int rc;

    if (json_is_integer(signal_value))
        snprintf(signal_text, sizeof(signal_text), "%lld",
                 (long long)json_integer_value(signal_value));
    else
        snprintf(signal_text, sizeof(signal_text), "%s",
                 json_string_value(signal_value) ? json_string_value(signal_value) : "");
    signo = signal_parse(signal_text, err);
    if (signo < 0)
        return -1;
    pid = resolve_target(env, provider, err);
    if (pid < 0)
        return -1;

    if (signo == SIGSTOP && json_is_number(duration_value))
        rc = pause_for(env, pid, json_number_value(duration_value), err);
    else if (signo == SIGSTOP)
        rc = pause_until_end(env, pid, err);
    else
        rc = signal_send(pid, signo, err);
    if (rc != 0)
        return -1;

    *output = json_pack("{s:i, s:s}", "pid", (int)pid, "signal", signal_name(signo));
    if (signo == SIGSTOP && json_is_number(duration_value))
        json_object_set(*output, "paused_for", duration_value);
    return 0;
}
