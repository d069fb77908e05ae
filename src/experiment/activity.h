/* Executing one activity (probe or action) and recording it as Chaos Toolkit does. */
#ifndef AFTERSHOCK_EXPERIMENT_ACTIVITY_H
#define AFTERSHOCK_EXPERIMENT_ACTIVITY_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "fault/signal.h"
#include "util/err.h"

#define PROCESS_REGISTRY_MAX 64
#define PAUSE_REGISTRY_MAX 64

/* Pids of processes that `process` activities started, by activity name, so
 * `signal` activities can target them. Invariant: entries never move, so a
 * slot pointer stays valid for the whole run; pid is 0 when not running. */
struct process_registry {
    pthread_mutex_t lock;
    struct {
        char *name;
        volatile pid_t pid;
    } entries[PROCESS_REGISTRY_MAX];
    int count;
};

/* Processes paused by STOP without a duration; resumed when the run ends. */
struct pause_registry {
    pthread_mutex_t lock;
    struct signal_pause pauses[PAUSE_REGISTRY_MAX];
    int count;
};

struct toxic_ledger;
struct proxy_thread;
struct fault_ledger;

/* Context an activity runs in: folder, stop flag and run-wide registries. */
struct activity_env {
    const char *base_dir;               /* folder relative process paths start from */
    volatile sig_atomic_t *stop;        /* non-zero: end the activity now */
    struct process_registry *processes;
    struct pause_registry *pauses;
    struct toxic_ledger *toxics;        /* toxics the run added, removed when it ends; may be NULL */
    const char *toxic_api;              /* API of toxic providers without `api`; NULL: the default */
    struct fault_ledger *ledger;        /* faults are recorded here before applied; may be NULL */
    volatile sig_atomic_t *method_done; /* background activities only: set once the method's
                                         * foreground activities have ended; else NULL */
};

void process_registry_init(struct process_registry *reg);
/* Returns the slot for name, creating it; NULL when the registry is full. */
volatile pid_t *process_registry_slot(struct process_registry *reg, const char *name);
/* Returns the running pid of the process activity `name`, or 0. */
pid_t process_registry_lookup(struct process_registry *reg, const char *name);
void process_registry_release(struct process_registry *reg);

void pause_registry_init(struct pause_registry *reg);
/* Resumes every process still paused; returns how many were resumed. */
int pause_registry_resume_all(struct pause_registry *reg);

/* Executes an activity whose refs are resolved. exec_activity is run;
 * display_activity (secrets masked) is stored in the record. Pauses before
 * and after are honoured. Returns the record: activity, output, status
 * ("succeeded" or "failed"), start, end, duration, and exception (a list of
 * strings) when it failed. */
json_t *activity_execute(const struct activity_env *env, json_t *exec_activity,
                         json_t *display_activity);

/* Providers: each sets *output (new reference) and returns 0, or returns -1
 * with err set when the activity failed. */
int provider_http_run(const struct activity_env *env, json_t *provider, json_t **output,
                      struct err *err);
int provider_process_run(const struct activity_env *env, json_t *provider, const char *name,
                         json_t **output, struct err *err);
int provider_signal_run(const struct activity_env *env, json_t *provider, json_t **output,
                        struct err *err);
int provider_toxic_run(const struct activity_env *env, json_t *provider, json_t **output,
                       struct err *err);
int provider_traffic_run(const struct activity_env *env, json_t *provider, json_t **output,
                         struct err *err);
int provider_stress_run(const struct activity_env *env, json_t *provider, json_t **output,
                        struct err *err);

/* Starts an embedded proxy server for the experiment's `proxies` list and
 * points env->toxic_api at it. *embedded is NULL when the list is absent or
 * empty. Returns 0, or -1 with err set when a proxy cannot start. */
int experiment_proxies_start(json_t *experiment, struct activity_env *env,
                             struct proxy_thread **embedded, struct err *err);

/* Removes every toxic the run added (env->toxics), then stops the embedded
 * proxy (NULL: none). Failures are logged. */
void experiment_toxics_finish(struct activity_env *env, struct proxy_thread *embedded);

/* Reads a provider timeout: a number of seconds, or [connect, read]. */
void provider_read_timeout(json_t *value, double *connect, double *total);

#endif
