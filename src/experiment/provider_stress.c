/* The stress provider: placeholder until it is built. */
#include "experiment/activity.h"

int provider_stress_run(const struct activity_env *env, json_t *provider, json_t **output,
                      struct err *err)
{
    (void)env;
    (void)provider;
    *output = NULL;
    return err_set(err, "the stress provider is not built yet");
}
