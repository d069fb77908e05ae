/* Fuzz target: experiment files through loading, validation, value resolution, substitution and tolerances. */
#include <stddef.h>
#include <stdint.h>

#include "experiment/load.h"
#include "experiment/problems.h"
#include "experiment/substitute.h"
#include "experiment/tolerance.h"
#include "experiment/validate.h"

/* Outputs shaped like the http and process providers' results. */
static const char *const sample_outputs[] = {
    "{\"status\": 200, \"headers\": {}, \"body\": {\"ok\": true, \"items\": [1, 2]}}",
    "{\"status\": 0, \"stdout\": \"welcome=hello\\n\", \"stderr\": \"\"}",
    "{\"status\": 503, \"body\": \"{\\\"ok\\\": false}\"}",
    "42",
};

static void check_tolerances(json_t *experiment)
{
    json_t *probes = json_object_get(json_object_get(experiment, "steady-state-hypothesis"),
                                     "probes");
    size_t i;
    json_t *probe;

    json_array_foreach(probes, i, probe) {
        json_t *tolerance = json_object_get(probe, "tolerance");
        if (tolerance == NULL)
            continue;
        for (size_t k = 0; k < sizeof(sample_outputs) / sizeof(sample_outputs[0]); k++) {
            json_t *output = json_loads(sample_outputs[k], JSON_DECODE_ANY, NULL);
            struct err err;
            bool met;
            tolerance_check(tolerance, output, &met, &err);
            json_decref(output);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err err;
    struct problems problems;
    json_t *experiment, *values;

    experiment = experiment_parse((const char *)data, size, "fuzz", &err);
    if (experiment == NULL)
        return 0;
    if (!json_is_object(experiment)) {
        json_decref(experiment);
        return 0;
    }

    problems_init(&problems, "fuzz");
    experiment_validate(experiment, &problems);
    values = experiment_resolve_values(experiment, NULL, &problems);
    experiment_substitute(experiment, values, "", &problems);
    experiment_validate_resolved(experiment, "/nonexistent", &problems);
    check_tolerances(experiment);

    json_decref(values);
    problems_release(&problems);
    json_decref(experiment);
    return 0;
}
