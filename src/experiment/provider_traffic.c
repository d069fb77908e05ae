/* The traffic provider: placeholder until it is built. */
#include "experiment/activity.h"

int provider_traffic_run(const struct activity_env *env, json_t *provider, json_t **output,
                      struct err *err)
{
    (void)env;
    (void)provider;
    *output = NULL;
    return err_set(err, "the traffic provider is not built yet");
}
