/* The proxy server: its event loop, the API listener, loading proxies, stopping from any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "util/log.h"

/* The API reads at most this much of a request body and rejects larger ones with 413. */
#define API_BODY_MAX (1024 * 1024)
#define API_HEADERS_MAX (64 * 1024)
/* Idle API connections are closed after this many seconds. */
#define API_IDLE_TIMEOUT 60

void api_on_request(struct evhttp_request *req, void *arg);

uint64_t proxy_random(struct proxy_server *server)
{
    /* splitmix64: fast, and good enough for toxicity draws, jitter and slice sizes. */
    uint64_t z = (server->random_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_reap(arg);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct proxy_server *server = arg;
    char drain[64];

    (void)what;
    while (read(fd, drain, sizeof(drain)) > 0)
        continue;
    event_base_loopbreak(server->base);
}

static int setup_http(struct proxy_server *server, struct err *err)
{
    server->http = evhttp_new(server->base);
    if (server->http == NULL)
        return err_set(err, "cannot create the HTTP server");
    evhttp_set_gencb(server->http, api_on_request, server);
    evhttp_set_allowed_methods(server->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                 EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                                 EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(server->http, API_BODY_MAX);
    evhttp_set_max_headers_size(server->http, API_HEADERS_MAX);
    evhttp_set_timeout(server->http, API_IDLE_TIMEOUT);
    /* Read an oversized body to its end before sending 413, so the client reads the response. */
    evhttp_set_flags(server->http, EVHTTP_SERVER_LINGERING_CLOSE);
    return 0;
}

struct proxy_server *proxy_server_new(struct err *err)
{
    struct proxy_server *server = calloc(1, sizeof(*server));
    struct event_config *config = event_config_new();

    if (server == NULL || config == NULL)
        abort();
    server->wake_fds[0] = server->wake_fds[1] = -1;
    /* NOTE: timers have millisecond granularity (epoll_wait rounds up), so a
     * slicer delay under 1000 microseconds waits about 1 ms. Precise timers
     * would cost a timerfd_settime call on every loop iteration, a quarter
     * of the syscalls of a proxied request. */
    server->base = event_base_new_with_config(config);
    event_config_free(config);
    if (server->base == NULL) {
        err_set(err, "cannot create the event loop");
        goto fail;
    }
    server->scratch = malloc(PROXY_READ_SIZE);
    if (server->scratch == NULL)
        abort();
    if (getrandom(&server->random_state, sizeof(server->random_state), 0) < 0)
        server->random_state = (uint64_t)proxy_now_us() ^ (uint64_t)getpid();
    if (pipe2(server->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        err_set_errno(err, errno, "cannot create the wake-up pipe");
        goto fail;
    }
    server->reaper = event_new(server->base, -1, 0, on_reap, server);
    server->wake = event_new(server->base, server->wake_fds[0], EV_READ | EV_PERSIST, on_wake,
                             server);
    if (server->reaper == NULL || server->wake == NULL || event_add(server->wake, NULL) != 0) {
        err_set(err, "cannot create the loop's events");
        goto fail;
    }
    if (setup_http(server, err) != 0)
        goto fail;
    return server;

fail:
    proxy_server_free(server);
    return NULL;
}

int proxy_server_listen_api(struct proxy_server *server, const char *host, int port,
                            struct err *err)
{
    char address[300];
    int fds[ADDR_MAX], n = 0;
    struct api_error e;

    if (strchr(host, ':') != NULL && host[0] != '[')
        snprintf(address, sizeof(address), "[%s]:%d", host, port);
    else
        snprintf(address, sizeof(address), "%s:%d", host, port);
    if (addr_listen(address, fds, &n, server->api_address, sizeof(server->api_address), &e) != 0)
        return err_set(err, "cannot start the API on '%s': %s", address, e.message);
    for (int i = 0; i < n; i++) {
        if (evhttp_accept_socket_with_handle(server->http, fds[i]) == NULL) {
            for (int j = i; j < n; j++)
                close(fds[j]);
            return err_set(err, "cannot start the API on '%s'", address);
        }
    }
    log_info("proxy", "API listening address=%s", server->api_address);
    return 0;
}

const char *proxy_server_api_address(const struct proxy_server *server)
{
    return server->api_address;
}

/* Deletes the proxies an earlier configuration created that the new one no longer lists. */
static void drop_unlisted(struct proxy_server *server, json_t *list)
{
    for (size_t i = server->n_proxies; i-- > 0;) {
        struct proxy *proxy = server->proxies[i];
        bool listed = false;
        size_t j;
        json_t *entry;

        if (!proxy->from_config)
            continue;
        json_array_foreach(list, j, entry)
            listed = listed || strcmp(json_string_value(json_object_get(entry, "name")),
                                      proxy->name) == 0;
        if (!listed)
            proxy_delete(proxy);
    }
}

int proxy_server_populate(struct proxy_server *server, const char *json, size_t len,
                          bool from_config, struct err *err)
{
    json_error_t jerr;
    json_t *body = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *out = NULL;
    struct api_error e;
    int rc = -1;

    if (body == NULL)
        return err_set(err, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    if (proxy_populate(server, body, from_config, &out, &e) != 0) {
        err_set(err, "%s", e.message);
        rc = e.status >= 500 ? -2 : -1;
        goto cleanup;
    }
    if (from_config)
        drop_unlisted(server, out);
    rc = 0;

cleanup:
    json_decref(out);
    json_decref(body);
    return rc;
}

struct event_base *proxy_server_base(struct proxy_server *server)
{
    return server->base;
}

int proxy_server_run(struct proxy_server *server)
{
    return event_base_dispatch(server->base) < 0 ? -1 : 0;
}

void proxy_server_stop(struct proxy_server *server)
{
    ssize_t rc = write(server->wake_fds[1], "x", 1);

    /* A full pipe already contains a wake-up, so a failed write loses nothing. */
    (void)rc;
}

void proxy_server_free(struct proxy_server *server)
{
    if (server == NULL)
        return;
    while (server->n_proxies > 0)
        proxy_delete(server->proxies[server->n_proxies - 1]);
    conn_reap(server);
    if (server->http != NULL)
        evhttp_free(server->http);
    if (server->reaper != NULL)
        event_free(server->reaper);
    if (server->wake != NULL)
        event_free(server->wake);
    for (int i = 0; i < 2; i++) {
        if (server->wake_fds[i] >= 0)
            close(server->wake_fds[i]);
    }
    free(server->proxies);
    free(server->scratch);
    if (server->base != NULL)
        event_base_free(server->base);
    free(server);
}
