/* A proxy server on its own thread, so `run` can serve an experiment's proxies for the duration of a run. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "proxy/proxy.h"
#include "util/log.h"

/* Invariant: from proxy_thread_start until proxy_thread_stop has joined
 * the thread, only that thread touches server, so it needs no lock.
 * Clients reach it through its HTTP API. */
struct proxy_thread {
    struct proxy_server *server;
    pthread_t thread;
    char api_url[160];
};

static void *thread_main(void *arg)
{
    struct proxy_thread *t = arg;

    if (proxy_server_run(t->server) != 0)
        log_error("proxy", "the embedded proxy's event loop failed api=%s", t->api_url);
    return NULL;
}

struct proxy_thread *proxy_thread_start(const char *proxies_json, size_t len, struct err *err)
{
    struct proxy_thread *t = calloc(1, sizeof(*t));
    sigset_t all, previous;
    int rc;

    if (t == NULL)
        abort();
    t->server = proxy_server_new(err);
    if (t->server == NULL)
        goto fail;
    if (proxy_server_populate(t->server, proxies_json, len, false, err) != 0 ||
        proxy_server_listen_api(t->server, PROXY_DEFAULT_API_HOST, 0, err) != 0)
        goto fail;
    snprintf(t->api_url, sizeof(t->api_url), "http://%s", proxy_server_api_address(t->server));

    /* The thread blocks every signal: the caller's handlers keep them, and a
     * write to a closed socket returns EPIPE instead of raising SIGPIPE. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    rc = pthread_create(&t->thread, NULL, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rc != 0) {
        err_set(err, "cannot start the proxy thread: error %d", rc);
        goto fail;
    }
    log_info("proxy", "embedded proxy started api=%s", t->api_url);
    return t;

fail:
    proxy_server_free(t->server);
    free(t);
    return NULL;
}

const char *proxy_thread_api_url(const struct proxy_thread *t)
{
    return t->api_url;
}

void proxy_thread_stop(struct proxy_thread *t)
{
    if (t == NULL)
        return;
    proxy_server_stop(t->server);
    pthread_join(t->thread, NULL);
    proxy_server_free(t->server);
    log_info("proxy", "embedded proxy stopped api=%s", t->api_url);
    free(t);
}
