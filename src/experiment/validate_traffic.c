/* Checking the traffic provider, the experiment-wide `traffic` key and `objectives`. */
#include <string.h>

#include "experiment/validate_internal.h"
#include "resilience/resilience.h"
#include "traffic/traffic.h"

const char *const validation_traffic_keys[] = {
    "type", "url", "method", "headers", "body", "expected_status", "rate", "duration",
    "connections", "timeout", "verify_tls", NULL,
};

static const char *const run_traffic_keys[] = {
    "url", "method", "headers", "body", "expected_status", "rate", "connections", "timeout",
    "verify_tls", "tail", NULL,
};

/* True when a value of decl still holds a ${name} reference, so it is checked after substitution. */
static bool any_deferred(struct validation *v, json_t *decl)
{
    const char *key;
    json_t *value;

    json_object_foreach(decl, key, value) {
        if (validation_deferred(v, value))
            return true;
        if (json_is_object(value) && any_deferred(v, value))
            return true;
    }
    return false;
}

static void check_spec(struct validation *v, json_t *decl, const char *field)
{
    struct traffic_spec spec;
    struct err err;

    if (any_deferred(v, decl))
        return;
    if (traffic_spec_parse(decl, &spec, &err) != 0)
        problems_add(v->problems, field, "%s", err.msg);
    traffic_spec_release(&spec);
}

void validation_check_traffic(struct validation *v, json_t *provider, const char *field)
{
    check_spec(v, provider, field);
}

void validation_check_run_traffic(struct validation *v, json_t *traffic)
{
    if (traffic == NULL)
        return;
    if (!json_is_object(traffic)) {
        problems_add(v->problems, "traffic", "must be a mapping with url and rate, not %s",
                     validation_type_name(traffic));
        return;
    }
    validation_check_known_keys(v, traffic, "traffic", run_traffic_keys);
    check_spec(v, traffic, "traffic");
}

void validation_check_objectives(struct validation *v, json_t *experiment)
{
    json_t *objectives = json_object_get(experiment, "objectives");
    struct objective *list;
    size_t n;
    struct err err;

    if (objectives == NULL)
        return;
    if (objectives_parse(objectives, &list, &n, &err) != 0) {
        problems_add(v->problems, "objectives", "%s", err.msg);
        return;
    }
    if (objectives_check_phases(list, n, experiment, &err) != 0)
        problems_add(v->problems, "objectives", "%s", err.msg);
    objectives_free(list, n);
}
