/* Checking the stress provider: duration, cpu, memory and fill, and their keys. */
#include <stdio.h>
#include <string.h>

#include "experiment/validate_internal.h"
#include "stress/stress.h"

#define FIELD_MAX 512

const char *const validation_stress_keys[] = {
    "type", "duration", "cpu", "memory", "fill", NULL,
};
static const char *const cpu_keys[] = { "workers", "load", NULL };
static const char *const fill_keys[] = { "folder", "size", "file", NULL };

/* Cutting a long field path is intended, so GCC's truncation warning is off here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
static const char *join(char *out, const char *field, const char *key)
{
    snprintf(out, FIELD_MAX, "%s.%s", field, key);
    return out;
}
#pragma GCC diagnostic pop

/* Checks a size: a positive integer of bytes, or text such as 256MiB. */
static void check_size(struct validation *v, json_t *value, const char *field)
{
    struct err err;
    uint64_t bytes;

    if (value == NULL) {
        problems_add(v->problems, field, "required field is missing (a size such as 256MiB)");
        return;
    }
    if (validation_deferred(v, value))
        return;
    if (json_is_integer(value)) {
        if (json_integer_value(value) <= 0)
            problems_add(v->problems, field, "must be at least 1 byte");
        return;
    }
    if (!json_is_string(value)) {
        problems_add(v->problems, field, "must be a size such as 256MiB or a number of bytes, "
                     "not %s", validation_type_name(value));
        return;
    }
    if (stress_parse_size(json_string_value(value), &bytes, &err) != 0)
        problems_add(v->problems, field, "%s", err.msg);
}

/* Checks a number within [min, max]; integer_only for counts. */
static void check_range(struct validation *v, json_t *value, const char *field, double min,
                        double max, bool integer_only)
{
    if (value == NULL || validation_deferred(v, value))
        return;
    if (integer_only ? !json_is_integer(value) : !json_is_number(value))
        problems_add(v->problems, field, "must be %s from %g to %g, not %s",
                     integer_only ? "an integer" : "a number", min, max,
                     validation_type_name(value));
    else if (json_number_value(value) < min || json_number_value(value) > max)
        problems_add(v->problems, field, "must be from %g to %g, not %g", min, max,
                     json_number_value(value));
}

static void check_cpu(struct validation *v, json_t *cpu, const char *field)
{
    char sub[FIELD_MAX];

    if (!json_is_object(cpu)) {
        problems_add(v->problems, field, "must be a mapping with workers and load, not %s",
                     validation_type_name(cpu));
        return;
    }
    check_range(v, json_object_get(cpu, "workers"), join(sub, field, "workers"), 1,
                STRESS_WORKERS_MAX, true);
    check_range(v, json_object_get(cpu, "load"), join(sub, field, "load"), 1, 100, false);
    validation_check_known_keys(v, cpu, field, cpu_keys);
}

static void check_fill(struct validation *v, json_t *fill, const char *field)
{
    char sub[FIELD_MAX];
    json_t *folder, *file;
    struct err err;

    if (!json_is_object(fill)) {
        problems_add(v->problems, field, "must be a mapping with folder and size, not %s",
                     validation_type_name(fill));
        return;
    }
    folder = json_object_get(fill, "folder");
    file = json_object_get(fill, "file");
    validation_require_string(v, folder, join(sub, field, "folder"));
    check_size(v, json_object_get(fill, "size"), join(sub, field, "size"));
    if (file != NULL) {
        validation_require_string(v, file, join(sub, field, "file"));
        if (json_is_string(file) && !validation_deferred(v, file) &&
            stress_fill_check_path(json_is_string(folder) ? json_string_value(folder) : ".",
                                   json_string_value(file), &err) != 0)
            problems_add(v->problems, join(sub, field, "file"), "%s", err.msg);
    }
    validation_check_known_keys(v, fill, field, fill_keys);
}

void validation_check_stress(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *duration = json_object_get(provider, "duration");
    json_t *cpu = json_object_get(provider, "cpu");
    json_t *memory = json_object_get(provider, "memory");
    json_t *fill = json_object_get(provider, "fill");

    join(sub, field, "duration");
    if (duration == NULL)
        problems_add(v->problems, sub, "required field is missing (seconds the load is held)");
    else
        validation_check_number(v, duration, sub, true);
    if (cpu == NULL && memory == NULL && fill == NULL)
        problems_add(v->problems, field, "a stress provider needs at least one of cpu, memory "
                     "or fill");
    if (cpu != NULL)
        check_cpu(v, cpu, join(sub, field, "cpu"));
    if (memory != NULL)
        check_size(v, memory, join(sub, field, "memory"));
    if (fill != NULL)
        check_fill(v, fill, join(sub, field, "fill"));
}
