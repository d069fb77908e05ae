/* Checking the traffic provider: placeholder until the provider is built. */
#include "experiment/validate_internal.h"

const char *const validation_traffic_keys[] = {
    "type", NULL,
};

void validation_check_traffic(struct validation *v, json_t *provider, const char *field)
{
    problems_add(v->problems, field, "the traffic provider is not built yet");
    (void)provider;
}
