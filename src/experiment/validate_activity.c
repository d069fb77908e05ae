/* Checking activities (probes, actions, refs) and their http, process, signal and toxic providers. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "experiment/tolerance.h"
#include "experiment/validate.h"
#include "experiment/validate_internal.h"
#include "fault/signal.h"
#include "util/strbuf.h"

/* Field paths stay short; a longer one is cut in messages, which is harmless. */
#define FIELD_MAX 512

/* Cutting a long field path is intended, so GCC's truncation warning is off here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
static const char *join(char *out, const char *base, const char *suffix)
{
    snprintf(out, FIELD_MAX, "%s.%s", base, suffix);
    return out;
}
#pragma GCC diagnostic pop

/* Highest signal number accepted, the usual SIGRTMAX on Linux. */
#define SIGNAL_NUMBER_MAX 64

int experiment_signal_number(const json_t *signal)
{
    if (json_is_integer(signal)) {
        json_int_t number = json_integer_value(signal);
        return number >= 1 && number <= SIGNAL_NUMBER_MAX ? (int)number : -1;
    }
    if (!json_is_string(signal))
        return -1;
    return signal_parse(json_string_value(signal), NULL);
}

static void check_timeout(struct validation *v, json_t *timeout, const char *field,
                          bool allow_pair)
{
    char item[FIELD_MAX];

    if (allow_pair && json_is_array(timeout)) {
        if (json_array_size(timeout) != 2) {
            problems_add(v->problems, field,
                         "must be a number of seconds or a list [connect, read] of two numbers");
            return;
        }
        for (size_t i = 0; i < 2; i++) {
            snprintf(item, sizeof(item), "%s[%zu]", field, i);
            validation_check_number(v, json_array_get(timeout, i), item, true);
        }
        return;
    }
    if (timeout != NULL && !json_is_number(timeout) && !validation_deferred(v, timeout)) {
        problems_add(v->problems, field, "must be a number of seconds%s, not %s",
                     allow_pair ? " or a list [connect, read]" : "",
                     validation_type_name(timeout));
        return;
    }
    validation_check_number(v, timeout, field, true);
}

static bool is_scalar(const json_t *value)
{
    return json_is_string(value) || json_is_number(value) || json_is_boolean(value);
}

static void check_http(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *method = json_object_get(provider, "method");
    json_t *headers = json_object_get(provider, "headers");
    json_t *status = json_object_get(provider, "expected_status");
    json_t *arguments = json_object_get(provider, "arguments");

    validation_require_string(v, json_object_get(provider, "url"), join(sub, field, "url"));
    if (method != NULL)
        validation_require_string(v, method, join(sub, field, "method"));

    if (headers != NULL && !json_is_object(headers)) {
        problems_add(v->problems, join(sub, field, "headers"),
                     "must be a mapping of header names to values, not %s",
                     validation_type_name(headers));
    } else if (headers != NULL) {
        const char *name;
        json_t *value;
        json_object_foreach(headers, name, value) {
            snprintf(sub, sizeof(sub), "%s.headers.%s", field, name);
            if (!is_scalar(value))
                problems_add(v->problems, sub, "must be a string, not %s",
                             validation_type_name(value));
        }
    }

    if (status != NULL && !validation_deferred(v, status)) {
        if (!json_is_integer(status))
            problems_add(v->problems, join(sub, field, "expected_status"),
                         "must be an integer HTTP status such as 200, not %s",
                         validation_type_name(status));
        else if (json_integer_value(status) < 100 || json_integer_value(status) > 599)
            problems_add(v->problems, join(sub, field, "expected_status"),
                         "%lld is not an HTTP status (100 to 599)",
                         (long long)json_integer_value(status));
    }
    if (arguments != NULL && !json_is_object(arguments) && !validation_deferred(v, arguments))
        problems_add(v->problems, join(sub, field, "arguments"),
                     "must be a mapping of parameter names to values, not %s",
                     validation_type_name(arguments));
    check_timeout(v, json_object_get(provider, "timeout"), join(sub, field, "timeout"), true);
    validation_check_bool(v, json_object_get(provider, "verify_tls"),
                          join(sub, field, "verify_tls"));
}

static void check_process(struct validation *v, json_t *provider, const char *field)
{
    struct strbuf item_field = STRBUF_INIT;
    char sub[FIELD_MAX];
    json_t *arguments = json_object_get(provider, "arguments");
    bool valid = true;
    size_t i;
    const char *key;
    json_t *item;

    validation_require_string(v, json_object_get(provider, "path"), join(sub, field, "path"));

    if (json_is_array(arguments)) {
        json_array_foreach(arguments, i, item) {
            char index[32];
            snprintf(index, sizeof(index), "[%zu]", i);
            strbuf_reset(&item_field);
            strbuf_addf(&item_field, "%s.arguments%s", field, index);
            if (!is_scalar(item))
                problems_add(v->problems, strbuf_str(&item_field),
                             "must be a string, number or boolean, not %s",
                             validation_type_name(item));
        }
    } else if (json_is_object(arguments)) {
        /* A null option value is accepted, because the option is left out. */
        json_object_foreach(arguments, key, item) {
            if (!is_scalar(item) && !json_is_null(item))
                valid = false;
        }
    } else {
        valid = arguments == NULL || json_is_string(arguments);
    }
    if (!valid)
        problems_add(v->problems, join(sub, field, "arguments"),
                     "must be a string, a list of strings or a mapping of options to values");
    check_timeout(v, json_object_get(provider, "timeout"), join(sub, field, "timeout"), false);
    strbuf_release(&item_field);
}

/* Checks `process`: the name of a process activity declared earlier. */
static void check_signal_process(struct validation *v, json_t *process, const char *field)
{
    const char *name = json_string_value(process);
    json_t *type;

    if (name == NULL || name[0] == '\0') {
        validation_require_string(v, process, field);
        return;
    }
    if (validation_deferred(v, process))
        return;
    type = json_object_get(v->declared, name);
    if (type == NULL && json_object_get(v->all_names, name) != NULL)
        problems_add(v->problems, field,
                     "'%s' is declared after this activity; start the process in an earlier "
                     "activity",
                     name);
    else if (type == NULL)
        problems_add(v->problems, field, "no activity named '%s' is declared", name);
    else if (!json_is_string(type) || strcmp(json_string_value(type), "process") != 0)
        problems_add(v->problems, field, "'%s' is not an activity with a process provider",
                     name);
}

static void check_signal_target(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *pid = json_object_get(provider, "pid");
    json_t *pid_file = json_object_get(provider, "pid_file");
    json_t *process = json_object_get(provider, "process");
    int targets = (pid != NULL) + (pid_file != NULL) + (process != NULL);

    if (targets == 0)
        problems_add(v->problems, field,
                     "a signal provider needs one of pid, pid_file or process");
    else if (targets > 1)
        problems_add(v->problems, field, "give only one of pid, pid_file or process");

    if (pid != NULL && !validation_deferred(v, pid) &&
        (!json_is_integer(pid) || json_integer_value(pid) <= 0))
        problems_add(v->problems, join(sub, field, "pid"), "must be a positive integer");
    if (pid_file != NULL)
        validation_require_string(v, pid_file, join(sub, field, "pid_file"));
    if (process != NULL)
        check_signal_process(v, process, join(sub, field, "process"));
}

static void check_signal(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *signal = json_object_get(provider, "signal");
    json_t *duration = json_object_get(provider, "duration");
    int number = -1;

    join(sub, field, "signal");
    if (signal == NULL) {
        problems_add(v->problems, sub, "required field is missing (a name such as TERM, or a "
                                       "number)");
    } else if (!validation_deferred(v, signal)) {
        number = experiment_signal_number(signal);
        if (number < 0 && json_is_string(signal))
            problems_add(v->problems, sub,
                         "'%s' is not a known signal (use a name such as TERM, KILL or STOP, or "
                         "a number)",
                         json_string_value(signal));
        else if (number < 0)
            problems_add(v->problems, sub, "must be a signal name or a number from 1 to %d",
                         SIGNAL_NUMBER_MAX);
    }

    check_signal_target(v, provider, field);
    validation_check_number(v, duration, join(sub, field, "duration"), true);
    if (duration != NULL && number > 0 && number != SIGSTOP)
        problems_add(v->problems, sub,
                     "duration applies only to signal STOP, which is resumed with CONT after it");
}

/* Checks `toxic`: action add (with a toxic mapping), update (name and changes) or remove (name). */
static void check_toxic(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *action = json_object_get(provider, "action");
    json_t *toxic = json_object_get(provider, "toxic");
    const char *name = json_string_value(action);

    validation_require_string(v, json_object_get(provider, "proxy"), join(sub, field, "proxy"));
    if (json_object_get(provider, "api") != NULL)
        validation_require_string(v, json_object_get(provider, "api"), join(sub, field, "api"));
    join(sub, field, "action");
    if (action == NULL || validation_deferred(v, action))
        validation_require_string(v, action, sub);
    else if (name == NULL ||
             (strcmp(name, "add") != 0 && strcmp(name, "update") != 0 && strcmp(name, "remove") != 0))
        problems_add(v->problems, sub, "must be add, update or remove");
    if (toxic != NULL && !json_is_object(toxic))
        problems_add(v->problems, join(sub, field, "toxic"), "must be a mapping, not %s",
                     validation_type_name(toxic));
    if (name != NULL && strcmp(name, "add") != 0 && toxic == NULL)
        validation_require_string(v, json_object_get(provider, "name"), join(sub, field, "name"));
    if (name != NULL && strcmp(name, "remove") != 0 && toxic == NULL)
        problems_add(v->problems, join(sub, field, "toxic"), "required field is missing (the "
                     "toxic to add, or the fields to update)");
}

static const char *const http_keys[] = {
    "type", "url", "method", "headers", "arguments", "timeout", "expected_status", "verify_tls",
    "secrets", "configuration", NULL,
};
static const char *const process_keys[] = {
    "type", "path", "arguments", "timeout", "secrets", "configuration", NULL,
};
static const char *const signal_keys[] = {
    "type", "signal", "pid", "pid_file", "process", "duration", NULL,
};
static const char *const toxic_keys[] = {
    "type", "action", "proxy", "api", "name", "toxic", NULL,
};

static const struct {
    const char *type;
    void (*check)(struct validation *v, json_t *provider, const char *field);
    const char *const *keys;
} provider_kinds[] = {
    { "http", check_http, http_keys },
    { "process", check_process, process_keys },
    { "signal", check_signal, signal_keys },
    { "toxic", check_toxic, toxic_keys },
    { "traffic", validation_check_traffic, validation_traffic_keys },
    { "stress", validation_check_stress, validation_stress_keys },
};

/* Checks a provider and returns its type, or NULL when it has none. */
static const char *check_provider(struct validation *v, json_t *provider, const char *field)
{
    char sub[FIELD_MAX];
    json_t *type = json_object_get(provider, "type");
    const char *name = json_string_value(type);

    if (provider == NULL) {
        problems_add(v->problems, field, "required field is missing");
        return NULL;
    }
    if (!json_is_object(provider)) {
        problems_add(v->problems, field, "must be a mapping with a type, not %s",
                     validation_type_name(provider));
        return NULL;
    }
    join(sub, field, "type");
    if (type == NULL || name == NULL) {
        problems_add(v->problems, sub, "%s (use one of: %s)",
                     type == NULL ? "required field is missing" : "must be a string",
                     EXPERIMENT_PROVIDER_TYPES);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(provider_kinds) / sizeof(provider_kinds[0]); i++) {
        if (strcmp(name, provider_kinds[i].type) == 0) {
            provider_kinds[i].check(v, provider, field);
            validation_check_known_keys(v, provider, field, provider_kinds[i].keys);
            return name;
        }
    }
    if (strcmp(name, "python") == 0)
        problems_add(v->problems, sub,
                     "python providers are not supported, because aftershock does not run "
                     "Python code; run the script through a process provider (path: python3)");
    else
        problems_add(v->problems, sub, "'%s' is not a known provider type (use one of: %s)", name,
                     EXPERIMENT_PROVIDER_TYPES);
    return name;
}

static void check_tolerance(struct validation *v, json_t *activity, const char *field,
                            enum activity_place place)
{
    char sub[FIELD_MAX];
    json_t *tolerance = json_object_get(activity, "tolerance");
    struct err err;

    join(sub, field, "tolerance");
    if (tolerance == NULL) {
        if (place == PLACE_HYPOTHESIS)
            problems_add(v->problems, sub,
                         "required field is missing (a hypothesis probe needs a tolerance)");
        return;
    }
    if (tolerance_validate(tolerance, &err) != 0)
        problems_add(v->problems, sub, "%s", err.msg);
}

static void check_ref(struct validation *v, json_t *activity, const char *field,
                      enum activity_place place)
{
    char sub[FIELD_MAX];
    json_t *ref = json_object_get(activity, "ref");
    const char *name = json_string_value(ref);

    join(sub, field, "ref");
    if (name == NULL || name[0] == '\0')
        problems_add(v->problems, sub, "must be the name of an activity declared earlier");
    else if (json_object_get(v->declared, name) != NULL)
        ;
    else if (json_object_get(v->all_names, name) != NULL)
        problems_add(v->problems, sub,
                     "'%s' is declared after this ref; a ref may name only an activity declared "
                     "earlier",
                     name);
    else
        problems_add(v->problems, sub, "unknown ref '%s': no activity of that name is declared",
                     name);
    if (place == PLACE_HYPOTHESIS)
        check_tolerance(v, activity, field, place);
}

static void check_pauses(struct validation *v, json_t *pauses, const char *field)
{
    char sub[FIELD_MAX];

    join(sub, field, "pauses");
    if (pauses == NULL)
        return;
    if (!json_is_object(pauses)) {
        problems_add(v->problems, sub, "must be a mapping with before and/or after, in seconds");
        return;
    }
    validation_check_number(v, json_object_get(pauses, "before"), join(sub, field,
                                                                       "pauses.before"), false);
    validation_check_number(v, json_object_get(pauses, "after"), join(sub, field,
                                                                      "pauses.after"), false);
}

static void check_type(struct validation *v, json_t *type, const char *field,
                       enum activity_place place)
{
    char sub[FIELD_MAX];
    const char *name = json_string_value(type);

    join(sub, field, "type");
    if (type == NULL)
        problems_add(v->problems, sub, "required field is missing (probe or action)");
    else if (name == NULL || (strcmp(name, "probe") != 0 && strcmp(name, "action") != 0))
        problems_add(v->problems, sub, "must be probe or action, not %s%s%s",
                     name ? "'" : validation_type_name(type), name ? name : "",
                     name ? "'" : "");
    else if (place == PLACE_HYPOTHESIS && strcmp(name, "probe") != 0)
        problems_add(v->problems, sub, "the steady-state hypothesis holds only probes");
}

/* Activity keys of the Chaos Toolkit format; `controls`, `secrets`,
 * `configuration` and `extensions` are accepted and not used. */
static const char *const activity_keys[] = {
    "type", "name", "provider", "tolerance", "pauses", "background", "ref", "controls",
    "secrets", "configuration", "description", "extensions", NULL,
};

void validation_check_activity(struct validation *v, json_t *activity, const char *field,
                               enum activity_place place)
{
    char sub[FIELD_MAX];
    json_t *name;
    const char *provider_type;

    if (!json_is_object(activity)) {
        problems_add(v->problems, field, "must be a mapping with type, name and provider, not %s",
                     validation_type_name(activity));
        return;
    }
    if (json_object_get(activity, "ref") != NULL) {
        check_ref(v, activity, field, place);
        return;
    }

    name = json_object_get(activity, "name");
    validation_require_string(v, name, join(sub, field, "name"));
    validation_check_known_keys(v, activity, field, activity_keys);
    check_type(v, json_object_get(activity, "type"), field, place);
    provider_type = check_provider(v, json_object_get(activity, "provider"),
                                   join(sub, field, "provider"));
    check_tolerance(v, activity, field, place);
    check_pauses(v, json_object_get(activity, "pauses"), field);
    validation_check_bool(v, json_object_get(activity, "background"),
                          join(sub, field, "background"));
    /* `controls`, `secrets` and `configuration` of an activity are accepted and not used. */

    if (json_is_string(name))
        json_object_set_new(v->declared, json_string_value(name),
                            provider_type ? json_string(provider_type) : json_null());
}
