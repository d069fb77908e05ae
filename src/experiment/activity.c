/* Activity execution: pauses, provider dispatch, and the run record. */
#include "experiment/activity.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/timeutil.h"

void process_registry_init(struct process_registry *reg)
{
    memset(reg, 0, sizeof(*reg));
    pthread_mutex_init(&reg->lock, NULL);
}

volatile pid_t *process_registry_slot(struct process_registry *reg, const char *name)
{
    volatile pid_t *slot = NULL;

    if (name == NULL)
        return NULL;
    pthread_mutex_lock(&reg->lock);
    for (int i = 0; i < reg->count; i++) {
        if (strcmp(reg->entries[i].name, name) == 0)
            slot = &reg->entries[i].pid;
    }
    if (slot == NULL && reg->count < PROCESS_REGISTRY_MAX) {
        reg->entries[reg->count].name = strdup(name);
        reg->entries[reg->count].pid = 0;
        slot = &reg->entries[reg->count].pid;
        reg->count++;
    }
    pthread_mutex_unlock(&reg->lock);
    return slot;
}

pid_t process_registry_lookup(struct process_registry *reg, const char *name)
{
    pid_t pid = 0;

    pthread_mutex_lock(&reg->lock);
    for (int i = 0; i < reg->count; i++) {
        if (strcmp(reg->entries[i].name, name) == 0)
            pid = reg->entries[i].pid;
    }
    pthread_mutex_unlock(&reg->lock);
    return pid;
}

void process_registry_release(struct process_registry *reg)
{
    for (int i = 0; i < reg->count; i++)
        free(reg->entries[i].name);
    pthread_mutex_destroy(&reg->lock);
}

void pause_registry_init(struct pause_registry *reg)
{
    memset(reg, 0, sizeof(*reg));
    pthread_mutex_init(&reg->lock, NULL);
}

int pause_registry_resume_all(struct pause_registry *reg)
{
    int resumed = 0;

    pthread_mutex_lock(&reg->lock);
    for (int i = 0; i < reg->count; i++) {
        struct err err;
        if (reg->pauses[i].guardian_fd < 0)
            continue;
        if (signal_resume(&reg->pauses[i], &err) != 0)
            log_warn("signal", "resume failed: %s", err.msg);
        resumed++;
    }
    reg->count = 0;
    pthread_mutex_unlock(&reg->lock);
    return resumed;
}

/* Sleeps for pauses.before or pauses.after; returns early when stopped. */
static void honour_pause(const struct activity_env *env, json_t *activity, const char *when)
{
    json_t *seconds = json_object_get(json_object_get(activity, "pauses"), when);

    if (json_is_number(seconds) && json_number_value(seconds) > 0) {
        log_debug("activity", "pause %s=%gs", when, json_number_value(seconds));
        time_sleep(json_number_value(seconds), env->stop);
    }
}

static int dispatch_provider(const struct activity_env *env, json_t *activity, json_t **output,
                             struct err *err)
{
    json_t *provider = json_object_get(activity, "provider");
    const char *type = json_string_value(json_object_get(provider, "type"));
    const char *name = json_string_value(json_object_get(activity, "name"));

    if (type == NULL)
        return err_set(err, "activity '%s' has no provider type", name ? name : "?");
    if (strcmp(type, "http") == 0)
        return provider_http_run(env, provider, output, err);
    if (strcmp(type, "process") == 0)
        return provider_process_run(env, provider, name, output, err);
    if (strcmp(type, "signal") == 0)
        return provider_signal_run(env, provider, output, err);
    if (strcmp(type, "toxic") == 0)
        return provider_toxic_run(env, provider, output, err);
    if (strcmp(type, "traffic") == 0)
        return provider_traffic_run(env, provider, output, err);
    if (strcmp(type, "stress") == 0)
        return provider_stress_run(env, provider, output, err);
    return err_set(err, "unknown provider type '%s'", type);
}

json_t *activity_execute(const struct activity_env *env, json_t *exec_activity,
                         json_t *display_activity)
{
    const char *name = json_string_value(json_object_get(exec_activity, "name"));
    const char *type = json_string_value(json_object_get(exec_activity, "type"));
    json_t *output = NULL;
    struct err err;
    char stamp[40];
    double wall_start, mono_start, duration;
    int rc;

    honour_pause(env, exec_activity, "before");

    log_info("activity", "start %s=%s", type ? type : "activity", name ? name : "?");
    wall_start = time_wall();
    mono_start = time_monotonic();
    err_clear(&err);
    rc = dispatch_provider(env, exec_activity, &output, &err);
    duration = time_monotonic() - mono_start;

    json_t *record = json_object();
    json_object_set(record, "activity", display_activity);
    json_object_set_new(record, "status", json_string(rc == 0 ? "succeeded" : "failed"));
    time_format_iso8601(wall_start, stamp, sizeof(stamp));
    json_object_set_new(record, "start", json_string(stamp));
    time_format_iso8601(wall_start + duration, stamp, sizeof(stamp));
    json_object_set_new(record, "end", json_string(stamp));
    json_object_set_new(record, "duration", json_real(duration));
    json_object_set_new(record, "output", output ? output : json_null());
    if (rc != 0) {
        json_object_set_new(record, "exception", json_pack("[s]", err.msg));
        log_warn("activity", "failed %s=%s error=\"%s\"", type ? type : "activity",
                 name ? name : "?", err.msg);
    } else {
        log_info("activity", "done %s=%s duration=%.3fs", type ? type : "activity",
                 name ? name : "?", duration);
    }

    honour_pause(env, exec_activity, "after");
    return record;
}
