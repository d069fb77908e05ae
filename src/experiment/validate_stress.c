/* Checking the stress provider: placeholder until the provider is built. */
#include "experiment/validate_internal.h"

const char *const validation_stress_keys[] = {
    "type", NULL,
};

void validation_check_stress(struct validation *v, json_t *provider, const char *field)
{
    problems_add(v->problems, field, "the stress provider is not built yet");
    (void)provider;
}
