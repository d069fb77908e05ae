/* The traffic provider: fixed-rate requests for a duration, or until the method's other activities end. */
#include "experiment/activity.h"
#include "traffic/traffic.h"
#include "util/http.h"

int provider_traffic_run(const struct activity_env *env, json_t *provider, json_t **output,
                         struct err *err)
{
    struct traffic_spec spec;
    volatile sig_atomic_t *stop = env->stop;

    *output = NULL;
    if (traffic_spec_parse(provider, &spec, err) != 0) {
        traffic_spec_release(&spec);
        return -1;
    }
    /* Without a duration the traffic ends with the method's foreground activities. */
    if (spec.duration == 0 && env->method_done != NULL)
        stop = env->method_done;
    if (spec.duration == 0 && stop == NULL) {
        traffic_spec_release(&spec);
        return err_set(err, "traffic without 'duration' must run in the background of a method");
    }
    http_global_init();
    *output = traffic_run(&spec, stop, err);
    traffic_spec_release(&spec);
    return *output != NULL ? 0 : -1;
}
