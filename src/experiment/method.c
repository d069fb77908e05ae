/* Sequential activity lists with background threads joined at the end. */
#include "experiment/method.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

/* One background activity. The thread owns deep copies of its activity, so
 * no jansson value is shared between threads. The thread writes record, and
 * the caller reads it only after pthread_join. */
struct background_job {
    const struct activity_env *env;
    json_t *exec_activity;
    json_t *display_activity;
    json_t *record;
    size_t index;
    pthread_t thread;
    bool started;
};

static void *background_main(void *arg)
{
    struct background_job *job = arg;

    job->record = activity_execute(job->env, job->exec_activity, job->display_activity);
    return NULL;
}

json_t *method_run(const struct activity_env *env, json_t *exec_list, json_t *display_list)
{
    size_t n = json_array_size(exec_list);
    json_t **records = calloc(n + 1, sizeof(json_t *));
    struct background_job *jobs = calloc(n + 1, sizeof(struct background_job));
    json_t *out = json_array();
    volatile sig_atomic_t foreground_done = 0;
    struct activity_env background_env = *env;
    size_t i;
    json_t *activity;

    if (records == NULL || jobs == NULL)
        abort();
    background_env.method_done = &foreground_done;

    json_array_foreach(exec_list, i, activity) {
        json_t *display = json_array_get(display_list, i);

        if (env->stop != NULL && *env->stop) {
            log_info("method", "stopping before activity=%s",
                     json_string_value(json_object_get(activity, "name")));
            break;
        }
        if (!json_is_true(json_object_get(activity, "background"))) {
            records[i] = activity_execute(env, activity, display);
            continue;
        }
        jobs[i].env = &background_env;
        jobs[i].exec_activity = json_deep_copy(activity);
        jobs[i].display_activity = json_deep_copy(display);
        jobs[i].index = i;
        if (pthread_create(&jobs[i].thread, NULL, background_main, &jobs[i]) != 0) {
            log_warn("method", "cannot start a thread; running activity=%s in the foreground",
                     json_string_value(json_object_get(activity, "name")));
            records[i] = activity_execute(env, activity, display);
            continue;
        }
        jobs[i].started = true;
    }

    foreground_done = 1;
    for (i = 0; i < n; i++) {
        if (!jobs[i].started)
            continue;
        pthread_join(jobs[i].thread, NULL);
        records[i] = jobs[i].record;
        json_decref(jobs[i].exec_activity);
        json_decref(jobs[i].display_activity);
    }
    for (i = 0; i < n; i++) {
        if (records[i] != NULL)
            json_array_append_new(out, records[i]);
    }
    free(records);
    free(jobs);
    return out;
}
