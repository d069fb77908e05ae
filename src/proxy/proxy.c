/* Proxies: creating, starting, stopping, updating and deleting them, their listeners, and their toxics. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "util/log.h"

/* After accept fails (out of file descriptors, say), the listener rests this long. */
#define ACCEPT_RETRY_MS 100

static void proxy_assert_valid(const struct proxy *proxy)
{
#ifndef NDEBUG
    assert(proxy->enabled == (proxy->n_listeners > 0));
    for (const struct conn *c = proxy->conns; c != NULL; c = c->next) {
        assert(c->state != CONN_CLOSED);
        assert(c->proxy == proxy);
        for (int s = 0; s < 2; s++) {
            assert(c->links[s].n_stages == proxy->n_toxics[s]);
            for (size_t i = 0; i < proxy->n_toxics[s]; i++)
                assert(c->links[s].stages[i]->toxic == proxy->toxics[s][i]);
        }
    }
#else
    (void)proxy;
#endif
}

struct proxy *proxy_find(struct proxy_server *server, const char *name)
{
    for (size_t i = 0; i < server->n_proxies; i++) {
        if (strcmp(server->proxies[i]->name, name) == 0)
            return server->proxies[i];
    }
    return NULL;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
    (void)listener;
    (void)addr;
    (void)len;
    conn_accept(arg, fd);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *proxy = arg;

    (void)fd;
    (void)what;
    for (int i = 0; i < proxy->n_listeners; i++)
        evconnlistener_enable(proxy->listeners[i]);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct proxy *proxy = arg;
    int errnum = EVUTIL_SOCKET_ERROR();
    struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };

    (void)listener;
    log_warn("proxy", "accept failed, pausing the listener proxy=%s pause_ms=%d error=\"%s\"",
             proxy->name, ACCEPT_RETRY_MS, strerror(errnum));
    for (int i = 0; i < proxy->n_listeners; i++)
        evconnlistener_disable(proxy->listeners[i]);
    evtimer_add(proxy->accept_retry, &tv);
}

/* Replaces port 0 in the configured listen address with the port bound, so
 * that a disabled and re-enabled proxy comes back on the same port, as in
 * Toxiproxy. */
static void keep_bound_port(struct proxy *proxy)
{
    char host[256], *updated;
    int port;
    struct api_error e;

    if (addr_split(proxy->listen, host, sizeof(host), &port, &e) != 0 || port != 0)
        return;
    const char *colon = strrchr(proxy->bound, ':');
    if (colon == NULL)
        return;
    if (asprintf(&updated, strchr(host, ':') ? "[%s]%s" : "%s%s", host, colon) < 0)
        abort();
    free(proxy->listen);
    proxy->listen = updated;
}

int proxy_start(struct proxy *proxy, struct api_error *e)
{
    int fds[ADDR_MAX], n = 0;

    if (proxy->enabled)
        return 0;
    if (addr_listen(proxy->listen, fds, &n, proxy->bound, sizeof(proxy->bound), e) != 0) {
        log_warn("proxy", "cannot start proxy=%s error=\"%s\"", proxy->name, e->message);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        proxy->listeners[i] = evconnlistener_new(proxy->server->base, on_accept, proxy,
                                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                                 0, fds[i]);
        if (proxy->listeners[i] == NULL)
            abort();
        evconnlistener_set_error_cb(proxy->listeners[i], on_accept_error);
    }
    proxy->n_listeners = n;
    proxy->enabled = true;
    keep_bound_port(proxy);
    if (addr_resolve(proxy->upstream, false, &proxy->upstream_addrs, e) != 0)
        log_warn("proxy", "upstream does not resolve yet; trying again per connection proxy=%s "
                 "error=\"%s\"", proxy->name, e->message);
    log_info("proxy", "start proxy=%s listen=%s upstream=%s", proxy->name, proxy->bound,
             proxy->upstream);
    return 0;
}

void proxy_stop(struct proxy *proxy)
{
    if (!proxy->enabled)
        return;
    evtimer_del(proxy->accept_retry);
    for (int i = 0; i < proxy->n_listeners; i++)
        evconnlistener_free(proxy->listeners[i]);
    proxy->n_listeners = 0;
    proxy->enabled = false;
    while (proxy->conns != NULL)
        conn_close(proxy->conns, false);
    log_info("proxy", "stop proxy=%s listen=%s", proxy->name, proxy->bound);
}

static char *copy_string(const char *text)
{
    char *copy = strdup(text);

    if (copy == NULL)
        abort();
    return copy;
}

/* Inserts proxy into the server's list, keeping it sorted by name. */
static void server_insert(struct proxy_server *server, struct proxy *proxy)
{
    struct proxy **grown = realloc(server->proxies, sizeof(*grown) * (server->n_proxies + 1));
    size_t i = 0;

    if (grown == NULL)
        abort();
    server->proxies = grown;
    while (i < server->n_proxies && strcmp(server->proxies[i]->name, proxy->name) < 0)
        i++;
    memmove(&server->proxies[i + 1], &server->proxies[i],
            sizeof(*grown) * (server->n_proxies - i));
    server->proxies[i] = proxy;
    server->n_proxies++;
}

static void server_remove(struct proxy_server *server, struct proxy *proxy)
{
    for (size_t i = 0; i < server->n_proxies; i++) {
        if (server->proxies[i] == proxy) {
            memmove(&server->proxies[i], &server->proxies[i + 1],
                    sizeof(*server->proxies) * (server->n_proxies - i - 1));
            server->n_proxies--;
            return;
        }
    }
}

static void proxy_free(struct proxy *proxy)
{
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < proxy->n_toxics[s]; i++) {
            toxic_release(&proxy->toxics[s][i]->config);
            free(proxy->toxics[s][i]);
        }
        free(proxy->toxics[s]);
    }
    event_free(proxy->accept_retry);
    free(proxy->name);
    free(proxy->listen);
    free(proxy->upstream);
    free(proxy);
}

struct proxy *proxy_create(struct proxy_server *server, const struct proxy_spec *spec,
                           struct api_error *e)
{
    struct proxy *proxy;

    if (proxy_find(server, spec->name) != NULL) {
        api_error_set(e, 409, API_MSG_PROXY_EXISTS);
        return NULL;
    }
    proxy = calloc(1, sizeof(*proxy));
    if (proxy == NULL)
        abort();
    proxy->server = server;
    proxy->name = copy_string(spec->name);
    proxy->listen = copy_string(spec->listen != NULL ? spec->listen : "127.0.0.1:0");
    proxy->upstream = copy_string(spec->upstream);
    proxy->accept_retry = evtimer_new(server->base, on_accept_retry, proxy);
    snprintf(proxy->bound, sizeof(proxy->bound), "%s", proxy->listen);
    if (proxy->accept_retry == NULL)
        abort();

    /* As in Toxiproxy, a proxy that cannot listen is not created. */
    if (spec->enabled != 0 && proxy_start(proxy, e) != 0) {
        proxy_free(proxy);
        return NULL;
    }
    server_insert(server, proxy);
    log_info("proxy", "created proxy=%s enabled=%s", proxy->name,
             proxy->enabled ? "true" : "false");
    return proxy;
}

int proxy_update(struct proxy *proxy, const struct proxy_spec *spec, struct api_error *e)
{
    bool want = spec->enabled < 0 ? proxy->enabled : spec->enabled == 1;
    bool moved = (spec->listen != NULL && strcmp(spec->listen, proxy->listen) != 0) ||
                 (spec->upstream != NULL && strcmp(spec->upstream, proxy->upstream) != 0);

    if (spec->name != NULL && strcmp(spec->name, proxy->name) != 0)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": a proxy cannot be renamed; delete "
                             "it and create it under the new name");
    if (moved) {
        proxy_stop(proxy);
        if (spec->listen != NULL) {
            free(proxy->listen);
            proxy->listen = copy_string(spec->listen);
            snprintf(proxy->bound, sizeof(proxy->bound), "%s", proxy->listen);
        }
        if (spec->upstream != NULL) {
            free(proxy->upstream);
            proxy->upstream = copy_string(spec->upstream);
        }
        memset(&proxy->upstream_addrs, 0, sizeof(proxy->upstream_addrs));
    }
    if (want && !proxy->enabled && proxy_start(proxy, e) != 0)
        return -1;
    if (!want)
        proxy_stop(proxy);
    proxy_assert_valid(proxy);
    return 0;
}

void proxy_delete(struct proxy *proxy)
{
    proxy_stop(proxy);
    server_remove(proxy->server, proxy);
    log_info("proxy", "deleted proxy=%s", proxy->name);
    proxy_free(proxy);
}

json_t *proxy_to_json(const struct proxy *proxy)
{
    json_t *toxics = json_array();

    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < proxy->n_toxics[s]; i++)
            json_array_append_new(toxics, toxic_to_json(&proxy->toxics[s][i]->config));
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", proxy->name, "listen",
                     proxy->enabled ? proxy->bound : proxy->listen, "upstream", proxy->upstream,
                     "enabled", proxy->enabled, "toxics", toxics);
}

struct proxy_toxic *proxy_toxic_find(struct proxy *proxy, const char *name)
{
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < proxy->n_toxics[s]; i++) {
            if (strcmp(proxy->toxics[s][i]->config.name, name) == 0)
                return proxy->toxics[s][i];
        }
    }
    return NULL;
}

void proxy_toxic_add(struct proxy *proxy, struct toxic *config)
{
    enum toxic_stream s = config->stream;
    struct proxy_toxic *toxic = calloc(1, sizeof(*toxic));
    struct proxy_toxic **grown = realloc(proxy->toxics[s], sizeof(*grown) * (proxy->n_toxics[s] + 1));

    if (toxic == NULL || grown == NULL)
        abort();
    toxic->config = *config;
    memset(config, 0, sizeof(*config));
    proxy->toxics[s] = grown;
    proxy->toxics[s][proxy->n_toxics[s]++] = toxic;

    for (struct conn *c = proxy->conns, *next; c != NULL; c = next) {
        next = c->next;
        link_add_stage(&c->links[s], toxic);
    }
    log_info("proxy", "toxic added proxy=%s toxic=%s type=%s stream=%s toxicity=%g",
             proxy->name, toxic->config.name, toxic_type_name(toxic->config.type),
             toxic_stream_name(s), toxic->config.toxicity);
    proxy_assert_valid(proxy);
}

void proxy_toxic_update(struct proxy *proxy, struct proxy_toxic *toxic, struct toxic *config)
{
    bool redraw = config->toxicity != toxic->config.toxicity;

    toxic_release(&toxic->config);
    toxic->config = *config;
    memset(config, 0, sizeof(*config));
    for (struct conn *c = proxy->conns, *next; c != NULL; c = next) {
        next = c->next;
        link_update_stage(&c->links[toxic->config.stream], toxic, redraw);
    }
    log_info("proxy", "toxic updated proxy=%s toxic=%s toxicity=%g", proxy->name,
             toxic->config.name, toxic->config.toxicity);
    proxy_assert_valid(proxy);
}

void proxy_toxic_remove(struct proxy *proxy, struct proxy_toxic *toxic)
{
    enum toxic_stream s = toxic->config.stream;

    /* Removing a stage can close its conn (a timeout toxic), which unlinks
     * it from the list, so the next pointer is read first. */
    for (struct conn *c = proxy->conns, *next; c != NULL; c = next) {
        next = c->next;
        link_remove_stage(&c->links[s], toxic);
    }
    for (size_t i = 0; i < proxy->n_toxics[s]; i++) {
        if (proxy->toxics[s][i] == toxic) {
            memmove(&proxy->toxics[s][i], &proxy->toxics[s][i + 1],
                    sizeof(toxic) * (proxy->n_toxics[s] - i - 1));
            proxy->n_toxics[s]--;
            break;
        }
    }
    log_info("proxy", "toxic removed proxy=%s toxic=%s", proxy->name, toxic->config.name);
    toxic_release(&toxic->config);
    free(toxic);
    proxy_assert_valid(proxy);
}

void proxy_toxics_reset(struct proxy *proxy)
{
    for (int s = 0; s < 2; s++) {
        while (proxy->n_toxics[s] > 0)
            proxy_toxic_remove(proxy, proxy->toxics[s][proxy->n_toxics[s] - 1]);
    }
}
