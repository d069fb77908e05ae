/* The `toxic` provider: adds, updates and removes toxics through any Toxiproxy-compatible API,
 * and the embedded proxy server that an experiment's `proxies` list starts for a run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "experiment/activity.h"
#include "fault/ledger.h"
#include "fault/toxic.h"
#include "proxy/proxy.h"
#include "util/log.h"

/* The API of a provider: its `api`, else the run's embedded proxy, else the default. */
static const char *provider_api(const struct activity_env *env, json_t *provider)
{
    const char *api = json_string_value(json_object_get(provider, "api"));

    if (api != NULL && api[0] != '\0')
        return api;
    return env->toxic_api != NULL ? env->toxic_api : TOXIC_API_DEFAULT_URL;
}

/* The toxic an update or remove names: `name`, else `toxic.name`. */
static const char *provider_toxic_name(json_t *provider)
{
    const char *name = json_string_value(json_object_get(provider, "name"));

    if (name == NULL)
        name = json_string_value(json_object_get(json_object_get(provider, "toxic"), "name"));
    return name;
}

/* The name the API gives a new toxic: its `name`, else TYPE_STREAM as Toxiproxy names it. */
static char *expected_toxic_name(json_t *toxic)
{
    const char *name = json_string_value(json_object_get(toxic, "name"));
    const char *type = json_string_value(json_object_get(toxic, "type"));
    const char *stream = json_string_value(json_object_get(toxic, "stream"));
    char *text;

    if (name != NULL && name[0] != '\0')
        return strdup(name);
    if (asprintf(&text, "%s_%s", type != NULL ? type : "",
                 stream != NULL && strcasecmp(stream, "upstream") == 0 ? "upstream"
                                                                      : "downstream") < 0)
        abort();
    return text;
}

static int toxic_add(const struct activity_env *env, const char *api, const char *proxy,
                     json_t *toxic, json_t **output, struct err *err)
{
    const char *name;
    char *expected;
    long ledger_id;
    int rc;

    if (!json_is_object(toxic))
        return err_set(err, "action 'add' needs 'toxic': the toxic as the API takes it, e.g. "
                       "{type: latency, attributes: {latency: 100}}");

    /* The fault ledger learns of the toxic before the API does, so a killed run leaves a trace. */
    expected = expected_toxic_name(toxic);
    rc = fault_ledger_add_toxic(env->ledger, api, proxy, expected, &ledger_id, err);
    if (rc == 0)
        rc = toxic_api_add(api, proxy, toxic, output, env->stop, err);
    if (rc == TOXIC_API_UNANSWERED && env->toxics != NULL) {
        /* The toxic may exist, so the run removes it at its end, where a 404 counts as
         * removed. */
        toxic_ledger_record(env->toxics, api, proxy, expected);
    } else if (rc != 0) {
        fault_ledger_remove(env->ledger, ledger_id);
    }
    free(expected);
    if (rc != 0)
        return -1;
    name = json_string_value(json_object_get(*output, "name"));
    fault_ledger_rename_toxic(env->ledger, ledger_id, name);
    if (env->toxics != NULL)
        toxic_ledger_record(env->toxics, api, proxy, name);
    log_info("toxic", "added proxy=%s toxic=%s api=%s", proxy, name, api);
    return 0;
}

static int toxic_remove(const struct activity_env *env, const char *api, const char *proxy,
                        const char *name, json_t **output, struct err *err)
{
    int rc = toxic_api_remove(api, proxy, name, env->stop, err);

    if (rc < 0)
        return -1;
    if (env->toxics != NULL)
        toxic_ledger_forget(env->toxics, api, proxy, name);
    fault_ledger_remove_toxic(env->ledger, api, proxy, name);
    if (rc == 1)
        return err_set(err, "toxic '%s' not found on proxy '%s' at %s", name, proxy, api);
    log_info("toxic", "removed proxy=%s toxic=%s api=%s", proxy, name, api);
    *output = json_pack("{s:s, s:s}", "proxy", proxy, "removed", name);
    return 0;
}

int provider_toxic_run(const struct activity_env *env, json_t *provider, json_t **output,
                       struct err *err)
{
    const char *action = json_string_value(json_object_get(provider, "action"));
    const char *proxy = json_string_value(json_object_get(provider, "proxy"));
    const char *api = provider_api(env, provider);
    const char *name = provider_toxic_name(provider);

    if (proxy == NULL || proxy[0] == '\0')
        return err_set(err, "a toxic provider needs 'proxy': the name of the proxy");
    if (action == NULL)
        return err_set(err, "a toxic provider needs 'action': add, update or remove");
    if (strcmp(action, "add") == 0)
        return toxic_add(env, api, proxy, json_object_get(provider, "toxic"), output, err);
    if (strcmp(action, "update") != 0 && strcmp(action, "remove") != 0)
        return err_set(err, "unknown toxic action '%s': use add, update or remove", action);
    if (name == NULL || name[0] == '\0')
        return err_set(err, "action '%s' needs 'name': the name of the toxic", action);
    if (strcmp(action, "remove") == 0)
        return toxic_remove(env, api, proxy, name, output, err);
    if (!json_is_object(json_object_get(provider, "toxic")))
        return err_set(err, "action 'update' needs 'toxic': the fields to change, e.g. "
                       "{attributes: {latency: 200}}");
    if (toxic_api_update(api, proxy, name, json_object_get(provider, "toxic"), output, env->stop,
                         err) != 0)
        return -1;
    log_info("toxic", "updated proxy=%s toxic=%s api=%s", proxy, name, api);
    return 0;
}

int experiment_proxies_start(json_t *experiment, struct activity_env *env,
                             struct proxy_thread **embedded, struct err *err)
{
    json_t *proxies = json_object_get(experiment, "proxies");
    char *text;
    struct err inner;

    *embedded = NULL;
    if (json_array_size(proxies) == 0)
        return 0;
    text = json_dumps(proxies, JSON_COMPACT);
    if (text == NULL)
        abort();
    *embedded = proxy_thread_start(text, strlen(text), &inner);
    free(text);
    if (*embedded == NULL)
        return err_set(err, "cannot start the experiment's proxies: %s", inner.msg);
    env->toxic_api = proxy_thread_api_url(*embedded);
    return 0;
}

void experiment_toxics_finish(struct activity_env *env, struct proxy_thread *embedded)
{
    int failed = 0;

    if (env->toxics != NULL)
        failed = toxic_ledger_remove_all(env->toxics);
    if (failed > 0)
        log_error("toxic", "toxics the run added are still in place count=%d; remove them with "
                  "'aftershock proxy remove-toxic'", failed);
    proxy_thread_stop(embedded);
    env->toxic_api = NULL;
}
