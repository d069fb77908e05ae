/* Structural validation of an experiment: top-level fields, configuration, secrets, hypothesis and runtime. */
#include "experiment/validate.h"

#include <stdio.h>
#include <string.h>

#include "experiment/validate_internal.h"
#include "util/strbuf.h"

bool validation_deferred(const struct validation *v, const json_t *value)
{
    const char *text = json_string_value(value);

    if (v->resolved || text == NULL)
        return false;
    for (const char *p = strstr(text, "${"); p != NULL; p = strstr(p + 1, "${")) {
        if (p == text || p[-1] != '$')
            return true;
    }
    return false;
}

const char *validation_type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

void validation_require_string(struct validation *v, json_t *value, const char *field)
{
    if (value == NULL)
        problems_add(v->problems, field, "required field is missing");
    else if (!json_is_string(value))
        problems_add(v->problems, field, "must be a string, not %s", validation_type_name(value));
    else if (json_string_length(value) == 0)
        problems_add(v->problems, field, "must not be empty");
}

void validation_check_number(struct validation *v, json_t *value, const char *field,
                             bool positive)
{
    if (value == NULL || validation_deferred(v, value))
        return;
    if (!json_is_number(value))
        problems_add(v->problems, field, "must be a number of seconds, not %s",
                     validation_type_name(value));
    else if (positive && json_number_value(value) <= 0)
        problems_add(v->problems, field, "must be greater than 0");
    else if (json_number_value(value) < 0)
        problems_add(v->problems, field, "must not be negative");
}

void validation_check_bool(struct validation *v, json_t *value, const char *field)
{
    if (value != NULL && !json_is_boolean(value) && !validation_deferred(v, value))
        problems_add(v->problems, field, "must be true or false, not %s",
                     validation_type_name(value));
}

static void check_tags(struct validation *v, json_t *tags)
{
    size_t i;
    json_t *tag;

    if (tags == NULL)
        return;
    if (!json_is_array(tags)) {
        problems_add(v->problems, "tags", "must be a list of strings, not %s",
                     validation_type_name(tags));
        return;
    }
    json_array_foreach(tags, i, tag) {
        if (!json_is_string(tag)) {
            char field[64];
            snprintf(field, sizeof(field), "tags[%zu]", i);
            problems_add(v->problems, field, "must be a string, not %s",
                         validation_type_name(tag));
        }
    }
}

/* Checks `proxies`: the proxies `run` starts an embedded proxy server for. */
static void check_proxies(struct validation *v, json_t *proxies)
{
    static const char *const fields[] = { "name", "listen", "upstream" };
    char field[64];
    size_t i;
    json_t *proxy;

    if (proxies == NULL)
        return;
    if (!json_is_array(proxies)) {
        problems_add(v->problems, "proxies", "must be a list of proxies (name, listen, upstream), "
                     "not %s", validation_type_name(proxies));
        return;
    }
    json_array_foreach(proxies, i, proxy) {
        snprintf(field, sizeof(field), "proxies[%zu]", i);
        if (!json_is_object(proxy)) {
            problems_add(v->problems, field, "must be a mapping with name, listen and upstream");
            continue;
        }
        for (size_t f = 0; f < 3; f++) {
            snprintf(field, sizeof(field), "proxies[%zu].%s", i, fields[f]);
            validation_require_string(v, json_object_get(proxy, fields[f]), field);
        }
    }
}

static bool is_env_type(const char *type)
{
    static const char *const types[] = { "str",   "string", "bytes", "int", "integer",
                                         "float", "number", "bool",  "json", NULL };

    for (int i = 0; types[i] != NULL; i++) {
        if (strcmp(type, types[i]) == 0)
            return true;
    }
    return false;
}

/* Checks a `type: env` entry of configuration or secrets. */
static void check_env_entry(struct validation *v, json_t *entry, struct strbuf *field)
{
    size_t base = field->len;
    json_t *type = json_object_get(entry, "env_var_type");

    strbuf_addstr(field, ".key");
    validation_require_string(v, json_object_get(entry, "key"), strbuf_str(field));
    field->len = base;
    field->buf[base] = '\0';

    if (type == NULL)
        return;
    strbuf_addstr(field, ".env_var_type");
    if (!json_is_string(type) || !is_env_type(json_string_value(type)))
        problems_add(v->problems, strbuf_str(field),
                     "must be one of str, int, float, bool or json");
    field->len = base;
    field->buf[base] = '\0';
}

static const char *entry_type(json_t *entry)
{
    return json_is_object(entry) ? json_string_value(json_object_get(entry, "type")) : NULL;
}

static void check_configuration(struct validation *v, json_t *configuration)
{
    struct strbuf field = STRBUF_INIT;
    const char *key;
    json_t *entry;

    if (configuration == NULL)
        return;
    if (!json_is_object(configuration)) {
        problems_add(v->problems, "configuration", "must be a mapping of names to values, not %s",
                     validation_type_name(configuration));
        return;
    }
    json_object_foreach(configuration, key, entry) {
        const char *type = entry_type(entry);
        strbuf_reset(&field);
        strbuf_addf(&field, "configuration.%s", key);
        if (type != NULL && strcmp(type, "env") == 0)
            check_env_entry(v, entry, &field);
        else if (type != NULL && strcmp(type, "probe") == 0)
            problems_add(v->problems, strbuf_str(&field),
                         "dynamic configuration (type: probe) is not supported; set the value "
                         "with type: env or --var");
    }
    strbuf_release(&field);
}

static void check_secret_scope(struct validation *v, const char *scope, json_t *entries,
                               struct strbuf *field)
{
    const char *key;
    json_t *entry;

    if (!json_is_object(entries)) {
        problems_add(v->problems, strbuf_str(field),
                     "must be a mapping of secret names to values, not %s",
                     validation_type_name(entries));
        return;
    }
    json_object_foreach(entries, key, entry) {
        const char *type = entry_type(entry);
        strbuf_reset(field);
        strbuf_addf(field, "secrets.%s.%s", scope, key);
        if (type != NULL && strcmp(type, "env") == 0)
            check_env_entry(v, entry, field);
        else if (type != NULL && strcmp(type, "vault") == 0)
            problems_add(v->problems, strbuf_str(field),
                         "vault secrets are not supported; read the secret with type: env");
    }
}

static void check_secrets(struct validation *v, json_t *secrets)
{
    struct strbuf field = STRBUF_INIT;
    const char *scope;
    json_t *entries;

    if (secrets == NULL)
        return;
    if (!json_is_object(secrets)) {
        problems_add(v->problems, "secrets",
                     "must be a mapping of scopes, each a mapping of secret names to values");
        return;
    }
    json_object_foreach(secrets, scope, entries) {
        strbuf_reset(&field);
        strbuf_addf(&field, "secrets.%s", scope);
        check_secret_scope(v, scope, entries, &field);
    }
    strbuf_release(&field);
}

/* Checks a list of activities. Only the method must contain at least one,
 * as the Chaos Toolkit specification requires. */
static void check_activities(struct validation *v, json_t *list, const char *field,
                             enum activity_place place, bool required)
{
    size_t i;
    json_t *activity;

    if (list == NULL) {
        if (required)
            problems_add(v->problems, field, "required field is missing");
        return;
    }
    if (!json_is_array(list)) {
        problems_add(v->problems, field, "must be a list of activities, not %s",
                     validation_type_name(list));
        return;
    }
    if (place == PLACE_METHOD && json_array_size(list) == 0)
        problems_add(v->problems, field, "must hold at least one activity");
    json_array_foreach(list, i, activity) {
        char item[128];
        snprintf(item, sizeof(item), "%s[%zu]", field, i);
        validation_check_activity(v, activity, item, place);
    }
}

static void check_hypothesis(struct validation *v, json_t *hypothesis)
{
    if (hypothesis == NULL)
        return;
    if (!json_is_object(hypothesis)) {
        problems_add(v->problems, "steady-state-hypothesis",
                     "must be a mapping with a title and probes, not %s",
                     validation_type_name(hypothesis));
        return;
    }
    validation_require_string(v, json_object_get(hypothesis, "title"),
                              "steady-state-hypothesis.title");
    check_activities(v, json_object_get(hypothesis, "probes"), "steady-state-hypothesis.probes",
                     PLACE_HYPOTHESIS, true);
}

static void check_strategy(struct validation *v, json_t *section, const char *field,
                           const char *const *allowed, const char *listed)
{
    json_t *strategy = json_object_get(section, "strategy");
    const char *name = json_string_value(strategy);

    if (strategy == NULL || validation_deferred(v, strategy))
        return;
    for (int i = 0; name != NULL && allowed[i] != NULL; i++) {
        if (strcmp(name, allowed[i]) == 0)
            return;
    }
    if (name == NULL)
        problems_add(v->problems, field, "must be a string (%s), not %s", listed,
                     validation_type_name(strategy));
    else
        problems_add(v->problems, field, "'%s' is not a valid strategy (use %s)", name, listed);
}

void validation_check_known_keys(struct validation *v, json_t *object, const char *field,
                                 const char *const *known)
{
    struct strbuf allowed = STRBUF_INIT;
    const char *key;
    json_t *value;

    for (size_t i = 0; known[i] != NULL; i++)
        strbuf_addf(&allowed, "%s%s", i > 0 ? ", " : "", known[i]);
    json_object_foreach(object, key, value) {
        bool found = false;
        (void)value;
        for (size_t i = 0; known[i] != NULL && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found)
            problems_add(v->problems, field[0] ? field : "", "unknown field '%s' (known: %s)", key,
                         strbuf_str(&allowed));
    }
    strbuf_release(&allowed);
}

static void check_runtime(struct validation *v, json_t *runtime)
{
    static const char *const runtime_keys[] = { "rollbacks", "hypothesis", NULL };
    static const char *const rollbacks_keys[] = { "strategy", NULL };
    static const char *const hypothesis_keys[] = { "strategy", "frequency", "fail_fast", NULL };
    static const char *const rollback_strategies[] = { "default", "always", "never", "deviated",
                                                       NULL };
    static const char *const hypothesis_strategies[] = {
        "default", "before-method-only", "after-method-only", "during-method-only",
        "continuously", NULL
    };
    json_t *rollbacks, *hypothesis;

    if (runtime == NULL)
        return;
    if (!json_is_object(runtime)) {
        problems_add(v->problems, "runtime", "must be a mapping, not %s",
                     validation_type_name(runtime));
        return;
    }
    rollbacks = json_object_get(runtime, "rollbacks");
    hypothesis = json_object_get(runtime, "hypothesis");
    validation_check_known_keys(v, runtime, "runtime", runtime_keys);
    if (json_is_object(rollbacks))
        validation_check_known_keys(v, rollbacks, "runtime.rollbacks", rollbacks_keys);
    if (json_is_object(hypothesis))
        validation_check_known_keys(v, hypothesis, "runtime.hypothesis", hypothesis_keys);
    if (rollbacks != NULL && !json_is_object(rollbacks))
        problems_add(v->problems, "runtime.rollbacks", "must be a mapping with a strategy");
    else if (rollbacks != NULL)
        check_strategy(v, rollbacks, "runtime.rollbacks.strategy", rollback_strategies,
                       "default, always, never or deviated");

    if (hypothesis != NULL && !json_is_object(hypothesis)) {
        problems_add(v->problems, "runtime.hypothesis", "must be a mapping with a strategy");
    } else if (hypothesis != NULL) {
        check_strategy(v, hypothesis, "runtime.hypothesis.strategy", hypothesis_strategies,
                       "default, before-method-only, after-method-only, during-method-only or "
                       "continuously");
        validation_check_number(v, json_object_get(hypothesis, "frequency"),
                                "runtime.hypothesis.frequency", true);
        validation_check_bool(v, json_object_get(hypothesis, "fail_fast"),
                              "runtime.hypothesis.fail_fast");
    }
}

/* Collects the name of every activity, so a ref to a later one gets a clear message. */
static void collect_names(json_t *list, json_t *names)
{
    size_t i;
    json_t *activity;

    if (!json_is_array(list))
        return;
    json_array_foreach(list, i, activity) {
        const char *name = json_string_value(json_object_get(activity, "name"));
        if (json_is_object(activity) && name != NULL)
            json_object_set_new(names, name, json_true());
    }
}

void validation_run(struct validation *v, json_t *experiment)
{
    json_t *hypothesis;

    if (!json_is_object(experiment)) {
        problems_add(v->problems, "", "an experiment must be a mapping, not %s",
                     validation_type_name(experiment));
        return;
    }
    hypothesis = json_object_get(experiment, "steady-state-hypothesis");

    v->declared = json_object();
    v->all_names = json_object();
    collect_names(json_object_get(hypothesis, "probes"), v->all_names);
    collect_names(json_object_get(experiment, "method"), v->all_names);
    collect_names(json_object_get(experiment, "rollbacks"), v->all_names);

    validation_require_string(v, json_object_get(experiment, "title"), "title");
    validation_require_string(v, json_object_get(experiment, "description"), "description");
    check_tags(v, json_object_get(experiment, "tags"));
    check_configuration(v, json_object_get(experiment, "configuration"));
    check_secrets(v, json_object_get(experiment, "secrets"));
    check_hypothesis(v, hypothesis);
    check_activities(v, json_object_get(experiment, "method"), "method", PLACE_METHOD, true);
    check_activities(v, json_object_get(experiment, "rollbacks"), "rollbacks", PLACE_ROLLBACK,
                     false);
    check_runtime(v, json_object_get(experiment, "runtime"));
    check_proxies(v, json_object_get(experiment, "proxies"));
    validation_check_run_traffic(v, json_object_get(experiment, "traffic"));
    validation_check_objectives(v, experiment);
    /* `controls`, `extensions` and `contributions` are accepted and not used. */

    json_decref(v->declared);
    json_decref(v->all_names);
    v->declared = NULL;
    v->all_names = NULL;
}

int experiment_validate(json_t *experiment, struct problems *problems)
{
    struct validation v = { .problems = problems, .first_problem = problems->count };

    validation_run(&v, experiment);
    return (int)(problems->count - v.first_problem);
}
