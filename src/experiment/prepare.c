/* Ref resolution and secret masking. */
#include "experiment/prepare.h"

#include <stdlib.h>
#include <string.h>

#include "experiment/load.h"
#include "experiment/substitute.h"
#include "experiment/validate.h"
#include "util/redact.h"

#define SECRET_MASK REDACT_MASK

static json_t *find_named_activity(json_t *experiment, const char *name)
{
    json_t *lists[3] = {
        json_object_get(json_object_get(experiment, "steady-state-hypothesis"), "probes"),
        json_object_get(experiment, "method"),
        json_object_get(experiment, "rollbacks"),
    };

    for (int l = 0; l < 3; l++) {
        size_t i;
        json_t *activity;
        json_array_foreach(lists[l], i, activity) {
            const char *activity_name = json_string_value(json_object_get(activity, "name"));
            if (json_object_get(activity, "ref") == NULL && activity_name != NULL &&
                strcmp(activity_name, name) == 0)
                return activity;
        }
    }
    return NULL;
}

static void resolve_list(json_t *experiment, json_t *list)
{
    size_t i;
    json_t *activity;

    json_array_foreach(list, i, activity) {
        const char *ref = json_string_value(json_object_get(activity, "ref"));
        json_t *target;

        if (ref == NULL)
            continue;
        target = find_named_activity(experiment, ref);
        if (target == NULL)
            continue;

        /* Keys written next to the ref (a hypothesis ref's own tolerance,
         * say) take precedence over the referenced activity's. */
        json_t *resolved = json_deep_copy(target);
        const char *key;
        json_t *value;
        json_object_foreach(activity, key, value) {
            if (strcmp(key, "ref") != 0)
                json_object_set(resolved, key, value);
        }
        json_array_set_new(list, i, resolved);
    }
}

void experiment_resolve_refs(json_t *experiment)
{
    resolve_list(experiment,
                 json_object_get(json_object_get(experiment, "steady-state-hypothesis"), "probes"));
    resolve_list(experiment, json_object_get(experiment, "method"));
    resolve_list(experiment, json_object_get(experiment, "rollbacks"));
}

json_t *experiment_mask_values(json_t *experiment, json_t *values)
{
    json_t *masked = json_deep_copy(values);
    json_t *secrets = json_object_get(experiment, "secrets");
    const char *scope_name;
    json_t *scope;

    json_object_foreach(secrets, scope_name, scope) {
        const char *key;
        json_t *value;
        json_object_foreach(scope, key, value) {
            (void)value;
            if (json_object_get(masked, key) != NULL)
                json_object_set_new(masked, key, json_string(SECRET_MASK));
        }
    }
    return masked;
}

json_t *experiment_mask_secrets(json_t *experiment)
{
    json_t *copy = json_deep_copy(experiment);
    json_t *secrets = json_object_get(copy, "secrets");
    const char *scope_name;
    json_t *scope;

    json_object_foreach(secrets, scope_name, scope) {
        const char *key;
        json_t *value;
        void *tmp;
        json_object_foreach_safe(scope, tmp, key, value) {
            const char *type = json_string_value(json_object_get(value, "type"));
            if (json_is_object(value) && type != NULL && strcmp(type, "env") == 0) {
                /* The variable's name is not secret; its default value is. */
                if (json_object_get(value, "default") != NULL)
                    json_object_set_new(value, "default", json_string(SECRET_MASK));
                continue;
            }
            json_object_set_new(scope, key, json_string(SECRET_MASK));
        }
    }
    return copy;
}

/* Registers the resolved value of every secret key, so logs, errors and
 * journals mask it wherever it appears in free text. */
static void register_secret_values(json_t *experiment, json_t *values)
{
    const char *scope_name;
    json_t *scope;

    json_object_foreach(json_object_get(experiment, "secrets"), scope_name, scope) {
        const char *key;
        json_t *declared;
        json_object_foreach(scope, key, declared) {
            json_t *value = json_object_get(values, key);
            (void)declared;
            if (json_is_string(value)) {
                redact_add_secret(json_string_value(value));
            } else if (value != NULL && !json_is_null(value)) {
                char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
                redact_add_secret(text);
                free(text);
            }
        }
    }
}

int experiment_prepare(const char *file, json_t *overrides, const char *base_dir,
                       struct prepared_experiment *out, struct problems *problems)
{
    struct err err;
    json_t *doc, *values = NULL, *masked_values = NULL;
    size_t before = problems->count;

    memset(out, 0, sizeof(*out));
    out->file = file;
    doc = experiment_load(file, &err);
    if (doc == NULL) {
        problems_add_located(problems, err.msg);
        return -1;
    }
    if (experiment_validate(doc, problems) > 0) {
        json_decref(doc);
        return -1;
    }

    values = experiment_resolve_values(doc, overrides, problems);
    if (values == NULL) {
        json_decref(doc);
        return -1;
    }
    out->exec = json_deep_copy(doc);
    experiment_resolve_refs(out->exec);
    out->display = json_deep_copy(out->exec);
    /* The title and description are substituted too, as the Chaos Toolkit does. */
    experiment_substitute(out->exec, values, "", problems);
    if (problems->count == before)
        experiment_validate_resolved(out->exec, base_dir, problems);

    register_secret_values(doc, values);
    masked_values = experiment_mask_values(doc, values);
    struct problems ignored;
    problems_init(&ignored, file);
    experiment_substitute(out->display, masked_values, "", &ignored);
    problems_release(&ignored);

    out->original = experiment_mask_secrets(doc);
    json_decref(masked_values);
    json_decref(values);
    json_decref(doc);
    if (problems->count > before) {
        prepared_experiment_release(out);
        return -1;
    }
    return 0;
}

void prepared_experiment_release(struct prepared_experiment *p)
{
    json_decref(p->original);
    json_decref(p->exec);
    json_decref(p->display);
    p->original = p->exec = p->display = NULL;
}
