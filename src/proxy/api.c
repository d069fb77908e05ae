/* The Toxiproxy-compatible HTTP API: routing, request bodies, and replies on libevent's evhttp. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/internal.h"
#include "util/log.h"

#define PATH_SEGMENTS_MAX 4

/* Splits the path into URL-decoded segments. Returns their number, or -1
 * when the path has too many, an empty one, or a NUL byte once decoded. */
static int split_path(const char *path, char **segments)
{
    int n = 0;
    const char *p = path;

    if (p[0] != '/')
        return -1;
    while (*p == '/' && p[1] != '\0') {
        const char *start = ++p;
        size_t len;
        char *raw;

        while (*p != '\0' && *p != '/')
            p++;
        if (n == PATH_SEGMENTS_MAX || p == start)
            return -1;
        raw = strndup(start, (size_t)(p - start));
        segments[n] = raw == NULL ? NULL : evhttp_uridecode(raw, 0, &len);
        free(raw);
        if (segments[n] == NULL)
            return -1;
        if (strlen(segments[n]) != len) {
            free(segments[n]);
            return -1;
        }
        n++;
    }
    return *p == '\0' ? n : -1;
}

static void reply_text(struct api_response *res, int status, const char *text)
{
    res->status = status;
    res->body = text != NULL ? strdup(text) : NULL;
    res->content_type = "text/plain; charset=utf-8";
}

/* Replies with a JSON document (reference stolen). */
static void reply_json(struct api_response *res, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len = text != NULL ? strlen(text) : 0;

    json_decref(doc);
    if (text == NULL)
        abort();
    res->status = status;
    res->body = realloc(text, len + 2);
    if (res->body == NULL)
        abort();
    memcpy(res->body + len, "\n", 2);
    res->content_type = "application/json";
}

/* Replies {"error": message, "status": code}, as Toxiproxy does. */
static void reply_error(struct api_response *res, const struct api_error *e)
{
    log_debug("proxy", "API error status=%d error=\"%s\"", e->status, e->message);
    reply_json(res, e->status, json_pack("{s:s, s:i}", "error", e->message, "status", e->status));
}

static void reply_empty(struct api_response *res, int status)
{
    res->status = status;
    res->body = NULL;
    res->content_type = NULL;
}

/* Parses the body as one JSON document. Returns NULL with e set (400). */
static json_t *parse_body(const struct api_request *req, struct api_error *e)
{
    json_error_t jerr;
    json_t *doc;

    if (req->body_len == 0) {
        api_error_set(e, 400, API_MSG_BAD_BODY ": the body is empty");
        return NULL;
    }
    doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (doc == NULL)
        api_error_set(e, 400, API_MSG_BAD_BODY ": %s (line %d, column %d)", jerr.text, jerr.line,
                      jerr.column);
    return doc;
}

static void route_proxy_index(struct proxy_server *server, struct api_response *res)
{
    json_t *all = json_object();

    for (size_t i = 0; i < server->n_proxies; i++)
        json_object_set_new(all, server->proxies[i]->name, proxy_to_json(server->proxies[i]));
    reply_json(res, 200, all);
}

static void route_proxy_create(struct proxy_server *server, const struct api_request *req,
                               struct api_response *res)
{
    struct api_error e;
    struct proxy_spec spec;
    struct proxy *proxy;
    json_t *body = parse_body(req, &e);

    if (body == NULL || proxy_spec_parse(body, true, &spec, &e) != 0 ||
        (proxy = proxy_create(server, &spec, &e)) == NULL)
        reply_error(res, &e);
    else
        reply_json(res, 201, proxy_to_json(proxy));
    json_decref(body);
}

static void route_populate(struct proxy_server *server, const struct api_request *req,
                           struct api_response *res)
{
    struct api_error e;
    json_t *body = parse_body(req, &e);
    json_t *applied = NULL;

    if (body == NULL) {
        reply_error(res, &e);
        return;
    }
    if (proxy_populate(server, body, false, &applied, &e) != 0)
        reply_json(res, e.status, json_pack("{s:s, s:i, s:o}", "error", e.message, "status",
                                            e.status, "proxies",
                                            applied != NULL ? applied : json_array()));
    else
        reply_json(res, 201, json_pack("{s:o}", "proxies", applied));
    json_decref(body);
}

static void route_reset(struct proxy_server *server, struct api_response *res)
{
    struct api_error e;

    for (size_t i = 0; i < server->n_proxies; i++) {
        if (proxy_start(server->proxies[i], &e) != 0) {
            reply_error(res, &e);
            return;
        }
        proxy_toxics_reset(server->proxies[i]);
    }
    log_info("proxy", "reset proxies=%zu", server->n_proxies);
    reply_empty(res, 204);
}

static void route_proxy(struct proxy *proxy, const struct api_request *req,
                        struct api_response *res)
{
    struct api_error e;
    struct proxy_spec spec;
    json_t *body;

    if (strcmp(req->method, "GET") == 0) {
        reply_json(res, 200, proxy_to_json(proxy));
    } else if (strcmp(req->method, "DELETE") == 0) {
        proxy_delete(proxy);
        reply_empty(res, 204);
    } else {
        body = parse_body(req, &e);
        if (body == NULL || proxy_spec_parse(body, false, &spec, &e) != 0 ||
            proxy_update(proxy, &spec, &e) != 0)
            reply_error(res, &e);
        else
            reply_json(res, 200, proxy_to_json(proxy));
        json_decref(body);
    }
}

static void route_toxic_index(struct proxy *proxy, const struct api_request *req,
                              struct api_response *res)
{
    struct api_error e;
    struct toxic config;
    json_t *body, *list;

    if (strcmp(req->method, "GET") == 0) {
        json_t *doc = proxy_to_json(proxy);
        list = json_incref(json_object_get(doc, "toxics"));
        json_decref(doc);
        reply_json(res, 200, list);
        return;
    }
    body = parse_body(req, &e);
    if (body == NULL || toxic_parse_create(body, &config, &e) != 0) {
        reply_error(res, &e);
    } else if (proxy_toxic_find(proxy, config.name) != NULL) {
        api_error_set(&e, 409, API_MSG_TOXIC_EXISTS);
        reply_error(res, &e);
        toxic_release(&config);
    } else {
        json_t *shown = toxic_to_json(&config);
        proxy_toxic_add(proxy, &config);
        reply_json(res, 200, shown);
    }
    json_decref(body);
}

static void route_toxic(struct proxy *proxy, const char *name, const struct api_request *req,
                        struct api_response *res)
{
    struct proxy_toxic *toxic = proxy_toxic_find(proxy, name);
    struct api_error e;
    struct toxic config;
    json_t *body;

    if (toxic == NULL) {
        api_error_set(&e, 404, API_MSG_TOXIC_NOT_FOUND);
        reply_error(res, &e);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        reply_json(res, 200, toxic_to_json(&toxic->config));
    } else if (strcmp(req->method, "DELETE") == 0) {
        proxy_toxic_remove(proxy, toxic);
        reply_empty(res, 204);
    } else {
        body = parse_body(req, &e);
        if (body == NULL || toxic_parse_update(body, &toxic->config, &config, &e) != 0) {
            reply_error(res, &e);
        } else {
            proxy_toxic_update(proxy, toxic, &config);
            reply_json(res, 200, toxic_to_json(&toxic->config));
        }
        json_decref(body);
    }
}

static bool method_is(const char *method, const char *a, const char *b)
{
    return strcmp(method, a) == 0 || (b != NULL && strcmp(method, b) == 0);
}

/* Routes /proxies/{name}[/toxics[/{toxic}]]; seg[0] is "proxies". */
static void route_under_proxies(struct proxy_server *server, char **seg, int n,
                                const struct api_request *req, struct api_response *res)
{
    const char *m = req->method;
    struct proxy *proxy;
    struct api_error e;

    if (n == 1) {
        if (method_is(m, "GET", NULL))
            route_proxy_index(server, res);
        else if (method_is(m, "POST", NULL))
            route_proxy_create(server, req, res);
        else
            reply_empty(res, 405);
        return;
    }
    if (n >= 3 && strcmp(seg[2], "toxics") != 0) {
        reply_text(res, 404, "404 page not found\n");
        return;
    }
    if ((n == 2 && !method_is(m, "GET", "DELETE") && !method_is(m, "POST", "PATCH")) ||
        (n == 3 && !method_is(m, "GET", "POST")) ||
        (n == 4 && !method_is(m, "GET", "DELETE") && !method_is(m, "POST", "PATCH"))) {
        reply_empty(res, 405);
        return;
    }
    proxy = proxy_find(server, seg[1]);
    if (proxy == NULL) {
        api_error_set(&e, 404, API_MSG_PROXY_NOT_FOUND);
        reply_error(res, &e);
    } else if (n == 2) {
        route_proxy(proxy, req, res);
    } else if (n == 3) {
        route_toxic_index(proxy, req, res);
    } else {
        route_toxic(proxy, seg[3], req, res);
    }
}

static void route(struct proxy_server *server, char **seg, int n, const struct api_request *req,
                  struct api_response *res)
{
    const char *m = req->method;

    if (n >= 1 && strcmp(seg[0], "proxies") == 0) {
        route_under_proxies(server, seg, n, req, res);
    } else if (n == 1 && strcmp(seg[0], "reset") == 0) {
        if (method_is(m, "POST", NULL))
            route_reset(server, res);
        else
            reply_empty(res, 405);
    } else if (n == 1 && strcmp(seg[0], "populate") == 0) {
        if (method_is(m, "POST", NULL))
            route_populate(server, req, res);
        else
            reply_empty(res, 405);
    } else if (n == 1 && strcmp(seg[0], "version") == 0 && method_is(m, "GET", NULL)) {
        reply_text(res, 200, "{\"version\": \"" AFTERSHOCK_VERSION "\"}\n");
        res->content_type = "application/json;charset=utf-8";
    } else if (n == 1 && strcmp(seg[0], "metrics") == 0 && method_is(m, "GET", NULL)) {
        res->status = 200;
        res->body = metrics_render(server);
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (n == 1 && (strcmp(seg[0], "version") == 0 || strcmp(seg[0], "metrics") == 0)) {
        reply_empty(res, 405);
    } else {
        reply_text(res, 404, "404 page not found\n");
    }
}

void api_dispatch(struct proxy_server *server, const struct api_request *req,
                  struct api_response *res)
{
    char *seg[PATH_SEGMENTS_MAX];
    int n;

    memset(res, 0, sizeof(*res));
    /* A web page must not drive the API through the visitor's browser. */
    if (req->user_agent != NULL && strncmp(req->user_agent, "Mozilla/", 8) == 0) {
        reply_text(res, 403, "User agent not allowed\n");
        return;
    }
    n = split_path(req->path, seg);
    if (n < 0) {
        reply_text(res, 404, "404 page not found\n");
        return;
    }
    route(server, seg, n, req, res);
    for (int i = 0; i < n; i++)
        free(seg[i]);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    default: return "Internal Server Error";
    }
}

void api_on_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *input = evhttp_request_get_input_buffer(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct api_request areq;
    struct api_response ares;
    struct evbuffer *out;
    size_t len = evbuffer_get_length(input);

    memset(&areq, 0, sizeof(areq));
    areq.method = method_name(evhttp_request_get_command(req));
    areq.path = uri != NULL && evhttp_uri_get_path(uri) != NULL ? evhttp_uri_get_path(uri) : "/";
    areq.user_agent = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
    areq.body = len > 0 ? (const char *)evbuffer_pullup(input, (ev_ssize_t)len) : "";
    areq.body_len = len;

    api_dispatch(arg, &areq, &ares);
    log_debug("proxy", "API request method=%s path=%s status=%d", areq.method, areq.path,
              ares.status);

    out = evbuffer_new();
    if (out == NULL)
        abort();
    if (ares.content_type != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          ares.content_type);
    if (ares.body != NULL)
        evbuffer_add(out, ares.body, strlen(ares.body));
    evhttp_send_reply(req, ares.status, reason_phrase(ares.status), out);
    evbuffer_free(out);
    free(ares.body);
}
