/* Reading the `objectives` an experiment declares. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/resilience.h"

static const char *const kind_names[] = { "availability", "latency", "recovery" };
static const char *const kind_units[] = { "%", "ms", "s" };
static const char *const objective_keys[] = {
    "name", "type", "phase", "min_percent", "percentile", "max_ms", "max_seconds", "window",
    "weight", NULL,
};

const char *objective_kind_name(enum objective_kind kind)
{
    return kind_names[kind];
}

const char *objective_unit(enum objective_kind kind)
{
    return kind_units[kind];
}

/* Reads a required or optional number key into *out, within [min, max]. */
static int read_number(json_t *o, size_t i, const char *key, bool required, double min,
                       double max, double *out, struct err *err)
{
    json_t *value = json_object_get(o, key);

    if (value == NULL) {
        if (required)
            return err_set(err, "objectives[%zu]: '%s' is required", i, key);
        return 0;
    }
    if (!json_is_number(value))
        return err_set(err, "objectives[%zu].%s must be a number", i, key);
    *out = json_number_value(value);
    if (!(*out >= min && *out <= max))
        return err_set(err, "objectives[%zu].%s is %g; use a value from %g to %g", i, key, *out,
                       min, max);
    return 0;
}

static int read_percentile(json_t *o, size_t i, double *out, struct err *err)
{
    static const struct { const char *name; double value; } names[] = {
        { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p99.9", 99.9 }, { "max", 100 },
    };
    const char *text = json_string_value(json_object_get(o, "percentile"));

    if (json_object_get(o, "percentile") == NULL)
        return err_set(err, "objectives[%zu]: 'percentile' is required (p50, p90, p99, p99.9 "
                       "or max)", i);
    for (size_t k = 0; text != NULL && k < sizeof(names) / sizeof(names[0]); k++) {
        if (strcmp(text, names[k].name) == 0) {
            *out = names[k].value;
            return 0;
        }
    }
    return err_set(err, "objectives[%zu].percentile must be p50, p90, p99, p99.9 or max", i);
}

const char *objective_percentile_name(double p)
{
    if (p >= 100)
        return "max";
    if (p >= 99.9)
        return "p99.9";
    if (p >= 99)
        return "p99";
    if (p >= 90)
        return "p90";
    return "p50";
}

static void default_name(struct objective *o)
{
    int rc;

    if (o->kind == OBJECTIVE_AVAILABILITY)
        rc = asprintf(&o->name, "availability %s >= %g%%", o->phase, o->limit);
    else if (o->kind == OBJECTIVE_LATENCY)
        rc = asprintf(&o->name, "latency %s %s <= %g ms", o->phase, objective_percentile_name(o->percentile),
                      o->limit);
    else
        rc = asprintf(&o->name, "recovery within %g s", o->limit);
    if (rc < 0)
        abort();
}

static int read_kind(json_t *o, size_t i, struct objective *obj, struct err *err)
{
    const char *type = json_string_value(json_object_get(o, "type"));

    for (int k = 0; type != NULL && k < 3; k++) {
        if (strcmp(type, kind_names[k]) == 0) {
            obj->kind = (enum objective_kind)k;
            return 0;
        }
    }
    return err_set(err, "objectives[%zu].type must be availability, latency or recovery", i);
}

static int read_one(json_t *o, size_t i, struct objective *obj, struct err *err)
{
    json_t *name = json_object_get(o, "name"), *phase = json_object_get(o, "phase");
    const char *key;
    json_t *value;

    if (!json_is_object(o))
        return err_set(err, "objectives[%zu] must be a mapping with a type", i);
    json_object_foreach(o, key, value) {
        bool known = false;
        for (size_t k = 0; objective_keys[k] != NULL; k++)
            known = known || strcmp(key, objective_keys[k]) == 0;
        if (!known)
            return err_set(err, "objectives[%zu]: unknown key '%s'", i, key);
    }
    if (read_kind(o, i, obj, err) != 0)
        return -1;
    if ((name != NULL && (!json_is_string(name) || json_string_length(name) == 0)) ||
        (phase != NULL && (!json_is_string(phase) || json_string_length(phase) == 0)))
        return err_set(err, "objectives[%zu]: 'name' and 'phase' must be non-empty strings", i);
    if (phase != NULL && obj->kind == OBJECTIVE_RECOVERY)
        return err_set(err, "objectives[%zu]: a recovery objective has no 'phase'", i);
    obj->phase = strdup(phase != NULL ? json_string_value(phase) : "overall");
    obj->weight = 1;
    obj->window = RECOVERY_DEFAULT_WINDOW;
    if (read_number(o, i, "weight", false, 1e-9, 1e9, &obj->weight, err) != 0)
        return -1;

    switch (obj->kind) {
    case OBJECTIVE_AVAILABILITY:
        if (read_number(o, i, "min_percent", true, 0, 100, &obj->limit, err) != 0)
            return -1;
        break;
    case OBJECTIVE_LATENCY:
        if (read_percentile(o, i, &obj->percentile, err) != 0 ||
            read_number(o, i, "max_ms", true, 0, 1e9, &obj->limit, err) != 0)
            return -1;
        break;
    case OBJECTIVE_RECOVERY:
        if (read_number(o, i, "max_seconds", true, 0, 1e7, &obj->limit, err) != 0 ||
            read_number(o, i, "window", false, 1, 3600, &obj->window, err) != 0)
            return -1;
        break;
    }
    if (json_object_get(o, "min_percent") != NULL && obj->kind != OBJECTIVE_AVAILABILITY)
        return err_set(err, "objectives[%zu]: 'min_percent' belongs to availability objectives", i);
    if ((json_object_get(o, "max_ms") != NULL || json_object_get(o, "percentile") != NULL) &&
        obj->kind != OBJECTIVE_LATENCY)
        return err_set(err, "objectives[%zu]: 'percentile' and 'max_ms' belong to latency "
                       "objectives", i);
    if ((json_object_get(o, "max_seconds") != NULL || json_object_get(o, "window") != NULL) &&
        obj->kind != OBJECTIVE_RECOVERY)
        return err_set(err, "objectives[%zu]: 'max_seconds' and 'window' belong to recovery "
                       "objectives", i);
    if (name != NULL)
        obj->name = strdup(json_string_value(name));
    else
        default_name(obj);
    return 0;
}

int objectives_parse(json_t *list, struct objective **out, size_t *n, struct err *err)
{
    struct objective *objectives;
    size_t count = json_array_size(list);

    *out = NULL;
    *n = 0;
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return err_set(err, "objectives must be a list of objectives");
    objectives = calloc(count + 1, sizeof(*objectives));
    if (objectives == NULL)
        abort();
    for (size_t i = 0; i < count; i++) {
        if (read_one(json_array_get(list, i), i, &objectives[i], err) != 0) {
            objectives_free(objectives, i + 1);
            return -1;
        }
    }
    *out = objectives;
    *n = count;
    return 0;
}

/* The activity a ref in a list names: the first one with that name and no ref. */
static json_t *named_activity(json_t *experiment, const char *name)
{
    json_t *lists[3] = {
        json_object_get(json_object_get(experiment, "steady-state-hypothesis"), "probes"),
        json_object_get(experiment, "method"),
        json_object_get(experiment, "rollbacks"),
    };

    for (int l = 0; l < 3; l++) {
        size_t i;
        json_t *a;
        json_array_foreach(lists[l], i, a) {
            const char *n = json_string_value(json_object_get(a, "name"));
            if (json_object_get(a, "ref") == NULL && n != NULL && strcmp(n, name) == 0)
                return a;
        }
    }
    return NULL;
}

/* A key of a method entry, taken from the activity its ref names when the
 * entry does not set it. */
static json_t *entry_get(json_t *experiment, json_t *entry, const char *key)
{
    const char *ref = json_string_value(json_object_get(entry, "ref"));
    json_t *target;

    if (json_object_get(entry, key) != NULL || ref == NULL)
        return json_object_get(entry, key);
    target = named_activity(experiment, ref);
    return json_object_get(target, key);
}

/* The name an objective's phase may use for this method entry when it is an
 * action that is a fault (not traffic, not the removal of a toxic), else NULL. */
static const char *fault_name(json_t *experiment, json_t *entry)
{
    const char *type = json_string_value(entry_get(experiment, entry, "type"));
    json_t *provider = entry_get(experiment, entry, "provider");
    const char *ptype = json_string_value(json_object_get(provider, "type"));
    const char *action = json_string_value(json_object_get(provider, "action"));
    const char *name = json_string_value(entry_get(experiment, entry, "name"));

    if (name == NULL && json_is_string(json_object_get(entry, "ref")))
        name = json_string_value(json_object_get(entry, "ref"));
    if (type == NULL || strcmp(type, "action") != 0 || name == NULL)
        return NULL;
    if (ptype != NULL && (strcmp(ptype, "traffic") == 0 ||
                          (strcmp(ptype, "toxic") == 0 && action != NULL &&
                           strcmp(action, "remove") == 0)))
        return NULL;
    return name;
}

int objectives_check_phases(const struct objective *objectives, size_t n, json_t *experiment,
                            struct err *err)
{
    static const char *const fixed[] = { "before", "during", "between", "after", "overall" };
    json_t *method = json_object_get(experiment, "method"), *entry;

    for (size_t i = 0; i < n; i++) {
        const char *phase = objectives[i].phase;
        bool known = false;
        size_t k;

        if (objectives[i].kind == OBJECTIVE_RECOVERY)
            continue;
        for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
            known = known || strcmp(phase, fixed[k]) == 0;
        json_array_foreach(method, k, entry) {
            const char *name = fault_name(experiment, entry);
            known = known || (name != NULL && strcmp(name, phase) == 0);
        }
        if (known)
            continue;

        char faults[512] = "";
        size_t used = 0;
        json_array_foreach(method, k, entry) {
            const char *name = fault_name(experiment, entry);
            int w;
            if (name == NULL || used >= sizeof(faults))
                continue;
            w = snprintf(faults + used, sizeof(faults) - used, ", '%s'", name);
            used += w > 0 ? (size_t)w : 0;
        }
        if (used >= sizeof(faults))
            strcpy(faults + sizeof(faults) - 6, ", ...");
        if (used == 0)
            return err_set(err, "objectives[%zu].phase is '%s'; use before, during, between, "
                           "after or overall (the method has no action to name)", i, phase);
        return err_set(err, "objectives[%zu].phase is '%s'; use before, during, between, after, "
                       "overall, or the name of an action of the method (%s)", i, phase,
                       faults + 2);
    }
    return 0;
}

void objectives_free(struct objective *objectives, size_t n)
{
    for (size_t i = 0; objectives != NULL && i < n; i++) {
        free(objectives[i].name);
        free(objectives[i].phase);
    }
    free(objectives);
}
