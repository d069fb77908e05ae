/* Fuzz target for the proxy API's JSON handling: toxic and proxy bodies, and toxic requests end to end.
 *
 * The first byte picks the entry point and the rest is the request body.
 * 'c' parses a toxic creation, 'u' a toxic update, 'p' a proxy body and
 * 'P' populate entries. Any other byte sends the body as a POST, then a
 * PATCH, through the API router to a disabled proxy, which never binds a
 * socket. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault/toxic.h"
#include "proxy/internal.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct proxy_server *server;
static struct proxy *proxy;

static void setup(void)
{
    struct proxy_spec spec = { "p", "127.0.0.1:0", "127.0.0.1:9", 0 };
    struct api_error e;
    struct err err;

    log_set_level(LOG_ERROR);
    server = proxy_server_new(&err);
    if (server == NULL)
        abort();
    proxy = proxy_create(server, &spec, &e);
    if (proxy == NULL || proxy->enabled)
        abort();
}

/* An accepted toxic must survive its own JSON form unchanged. */
static void check_round_trip(const struct toxic *t)
{
    json_t *shown = toxic_to_json(t);
    struct toxic again;
    struct api_error e;

    if (toxic_parse_create(shown, &again, &e) != 0)
        abort();
    if (strcmp(again.name, t->name) != 0 || again.type != t->type || again.stream != t->stream ||
        again.toxicity != t->toxicity || memcmp(again.attrs, t->attrs, sizeof(t->attrs)) != 0)
        abort();
    toxic_release(&again);
    json_decref(shown);
}

static void fuzz_toxic(json_t *body, bool update)
{
    static const struct toxic current = { "slicer_downstream", TOXIC_SLICER, STREAM_DOWNSTREAM,
                                          1.0, { 10, 2, 100 } };
    struct toxic t;
    struct api_error e = { 0, "" };
    int rc = update ? toxic_parse_update(body, &current, &t, &e) : toxic_parse_create(body, &t, &e);

    if (rc != 0) {
        if (e.status != 400 || e.message[0] == '\0')
            abort();
        return;
    }
    if (t.toxicity < 0 || t.toxicity > 1 || t.name == NULL || t.name[0] == '\0')
        abort();
    check_round_trip(&t);
    toxic_release(&t);
}

static void fuzz_proxy_body(json_t *body)
{
    struct proxy_spec spec;
    struct api_error e = { 0, "" };

    for (int create = 0; create < 2; create++) {
        if (proxy_spec_parse(body, create, &spec, &e) == 0) {
            if (create && (spec.name == NULL || spec.upstream == NULL))
                abort();
        } else if (e.status != 400 || e.message[0] == '\0') {
            abort();
        }
    }
    for (size_t i = 0; json_is_array(body) && i < json_array_size(body); i++)
        fuzz_proxy_body(json_array_get(body, i));
}

/* Every error the router returns is Toxiproxy's {"error": text, "status": code}. */
static void check_response(const struct api_response *res)
{
    json_t *doc;

    if (res->status >= 400 && res->status != 404 && res->status != 405) {
        doc = json_loads(res->body, 0, NULL);
        if (doc == NULL || json_integer_value(json_object_get(doc, "status")) != res->status ||
            !json_is_string(json_object_get(doc, "error")))
            abort();
        json_decref(doc);
    }
    free(res->body);
}

static void fuzz_router(const char *body, size_t len)
{
    struct api_request req = { "POST", "/proxies/p/toxics", "fuzz", body, len };
    struct api_response res;
    struct proxy_toxic *added;

    api_dispatch(server, &req, &res);
    check_response(&res);

    /* The same body as an update of the toxic just added, addressed by its escaped name. */
    added = NULL;
    if (proxy->n_toxics[0] > 0)
        added = proxy->toxics[0][0];
    else if (proxy->n_toxics[1] > 0)
        added = proxy->toxics[1][0];
    if (added != NULL) {
        char *name = toxic_api_escape(added->config.name);
        char *path;

        if (asprintf(&path, "/proxies/p/toxics/%s", name) < 0)
            abort();
        req.method = "PATCH";
        req.path = path;
        api_dispatch(server, &req, &res);
        if (res.status == 404)
            abort();
        check_response(&res);
        free(path);
        free(name);
    }
    proxy_toxics_reset(proxy);
    if (proxy->n_toxics[0] + proxy->n_toxics[1] != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data + 1;
    size_t len = size > 0 ? size - 1 : 0;
    json_t *doc;

    if (server == NULL)
        setup();
    if (size == 0)
        return 0;
    if (data[0] != 'c' && data[0] != 'u' && data[0] != 'p' && data[0] != 'P') {
        fuzz_router(body, len);
        return 0;
    }
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (doc == NULL)
        return 0;
    if (data[0] == 'c' || data[0] == 'u')
        fuzz_toxic(doc, data[0] == 'u');
    else
        fuzz_proxy_body(doc);
    json_decref(doc);
    return 0;
}
