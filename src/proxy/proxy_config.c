/* Proxy bodies from the API and configuration files: validation, and /populate's create-or-replace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/internal.h"
#include "util/log.h"

/* Reads an optional string field; null counts as absent. */
static int read_string(json_t *body, const char *key, const char **out, struct api_error *e)
{
    json_t *value = json_object_get(body, key);

    *out = NULL;
    if (value == NULL || json_is_null(value))
        return 0;
    if (!json_is_string(value))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": '%s' must be a string", key);
    *out = json_string_value(value);
    return 0;
}

static int check_keys(json_t *body, struct api_error *e)
{
    static const char *const fields[] = { "name", "listen", "upstream", "enabled", "toxics" };
    const char *key;
    json_t *value;

    json_object_foreach(body, key, value) {
        bool known = false;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            known = known || strcmp(key, fields[i]) == 0;
        if (!known)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": unknown field '%s' (proxy fields: "
                                 "name, listen, upstream, enabled)", key);
    }
    return 0;
}

int proxy_spec_parse(json_t *body, bool create, struct proxy_spec *spec, struct api_error *e)
{
    json_t *enabled;
    char host[256];
    int port;

    memset(spec, 0, sizeof(*spec));
    spec->enabled = -1;
    if (!json_is_object(body))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": expected a JSON object");
    if (check_keys(body, e) != 0 || read_string(body, "name", &spec->name, e) != 0 ||
        read_string(body, "listen", &spec->listen, e) != 0 ||
        read_string(body, "upstream", &spec->upstream, e) != 0)
        return -1;

    if (create && (spec->name == NULL || spec->name[0] == '\0'))
        return api_error_set(e, 400, API_MSG_MISSING_FIELD ": name");
    if (create && (spec->upstream == NULL || spec->upstream[0] == '\0'))
        return api_error_set(e, 400, API_MSG_MISSING_FIELD ": upstream");
    if (spec->name != NULL && strlen(spec->name) > TOXIC_NAME_MAX)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'name' is longer than %d bytes",
                             TOXIC_NAME_MAX);
    if (spec->listen != NULL && addr_split(spec->listen, host, sizeof(host), &port, e) != 0)
        return -1;
    if (spec->upstream != NULL) {
        if (addr_split(spec->upstream, host, sizeof(host), &port, e) != 0)
            return -1;
        if (port == 0)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid upstream '%s': port 0 "
                                 "cannot be connected to", spec->upstream);
    }

    enabled = json_object_get(body, "enabled");
    if (enabled != NULL && !json_is_null(enabled)) {
        if (!json_is_boolean(enabled))
            return api_error_set(e, 400, API_MSG_BAD_BODY ": 'enabled' must be true or false");
        spec->enabled = json_is_true(enabled) ? 1 : 0;
    }
    if (json_object_get(body, "toxics") != NULL && !json_is_array(json_object_get(body, "toxics")) &&
        !json_is_null(json_object_get(body, "toxics")))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'toxics' must be a list");
    return 0;
}

/* Phase 1 of /populate: every entry is checked before anything changes. */
static int populate_check(json_t *body, struct proxy_spec *specs, struct api_error *e)
{
    size_t n = json_array_size(body);

    for (size_t i = 0; i < n; i++) {
        struct api_error inner;

        if (proxy_spec_parse(json_array_get(body, i), true, &specs[i], &inner) != 0)
            return api_error_set(e, inner.status, "%s at proxy %zu", inner.message, i + 1);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(specs[i].name, specs[j].name) == 0)
                return api_error_set(e, 400, API_MSG_BAD_BODY ": duplicate proxy name '%s' at "
                                     "proxy %zu", specs[i].name, i + 1);
        }
    }
    return 0;
}

/* Phase 2 for one entry: an existing proxy with the same addresses keeps
 * its toxics and connections; one with other addresses is replaced. */
static struct proxy *populate_apply(struct proxy_server *server, const struct proxy_spec *spec,
                                    struct api_error *e)
{
    struct proxy *existing = proxy_find(server, spec->name);
    const char *listen = spec->listen != NULL ? spec->listen : "127.0.0.1:0";
    struct proxy_spec create = *spec;

    if (existing != NULL) {
        bool same_listen = strcmp(existing->listen, listen) == 0 ||
                           (existing->enabled && strcmp(existing->bound, listen) == 0);
        if (same_listen && strcmp(existing->upstream, spec->upstream) == 0) {
            struct proxy_spec enable = { .enabled = spec->enabled };
            return proxy_update(existing, &enable, e) == 0 ? existing : NULL;
        }
        proxy_delete(existing);
    }
    if (create.enabled < 0)
        create.enabled = 1;
    return proxy_create(server, &create, e);
}

int proxy_populate(struct proxy_server *server, json_t *body, bool from_config, json_t **out,
                   struct api_error *e)
{
    size_t n = json_array_size(body);
    struct proxy_spec *specs;
    int rc = 0;

    *out = NULL;
    if (!json_is_array(body))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": expected a JSON array of proxies");
    specs = calloc(n + 1, sizeof(*specs));
    if (specs == NULL)
        abort();
    if (populate_check(body, specs, e) != 0) {
        free(specs);
        return -1;
    }

    *out = json_array();
    for (size_t i = 0; i < n; i++) {
        struct proxy *proxy = populate_apply(server, &specs[i], e);
        if (proxy == NULL) {
            rc = -1;
            break;
        }
        proxy->from_config = from_config;
        json_array_append_new(*out, proxy_to_json(proxy));
    }
    log_info("proxy", "populate proxies=%zu applied=%zu", n, json_array_size(*out));
    free(specs);
    return rc;
}
