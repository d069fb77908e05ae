/* Proxied connections: accepting, connecting upstream, the socket events, closing and deferred freeing. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "util/log.h"
#include "util/timeutil.h"

static void set_nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Logs an upstream failure at most once a second per proxy, with the number of failures not logged since. */
static void warn_upstream(struct proxy *proxy, const char *what, int errnum)
{
    double now = time_monotonic();

    if (now - proxy->last_warning < 1.0) {
        proxy->suppressed_warnings++;
        return;
    }
    log_warn("proxy", "%s proxy=%s upstream=%s error=\"%s\" suppressed=%llu", what,
             proxy->name, proxy->upstream, strerror(errnum),
             (unsigned long long)proxy->suppressed_warnings);
    proxy->last_warning = now;
    proxy->suppressed_warnings = 0;
}

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *conn = arg;

    (void)fd;
    (void)what;
    link_on_readable(&conn->links[STREAM_UPSTREAM]);
}

static void on_upstream_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *conn = arg;

    (void)fd;
    (void)what;
    link_on_readable(&conn->links[STREAM_DOWNSTREAM]);
}

static void on_client_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *conn = arg;

    (void)fd;
    (void)what;
    link_on_writable(&conn->links[STREAM_DOWNSTREAM]);
}

static void conn_connect_next(struct conn *conn);

/* Both sockets are ready: start reading from both ends. */
static void conn_open(struct conn *conn)
{
    conn->state = CONN_OPEN;
    set_nodelay(conn->upstream_fd);
    event_del(&conn->upstream_write);
    event_add(&conn->client_read, NULL);
    event_add(&conn->upstream_read, NULL);
}

/* The upstream socket is writable: a connect finished, or queued bytes can go. */
static void on_upstream_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *conn = arg;
    int error = 0;
    socklen_t len = sizeof(error);

    (void)what;
    if (conn->state == CONN_OPEN) {
        link_on_writable(&conn->links[STREAM_UPSTREAM]);
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        error = errno;
    if (error == 0) {
        conn_open(conn);
        return;
    }
    event_del(&conn->upstream_write);
    event_del(&conn->upstream_read);
    close(conn->upstream_fd);
    conn->upstream_fd = -1;
    errno = error;
    conn_connect_next(conn);
}

/* Starts a connect to the next upstream address; closes the client when none is left. */
static void conn_connect_next(struct conn *conn)
{
    struct proxy *proxy = conn->proxy;
    struct addr_list *addrs = &proxy->upstream_addrs;
    int last_error = errno != 0 ? errno : ECONNREFUSED;

    while (conn->next_addr < addrs->count) {
        int i = conn->next_addr++;
        int fd = socket(addrs->addrs[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            last_error = errno;
            continue;
        }
        if (connect(fd, (struct sockaddr *)&addrs->addrs[i], addrs->lens[i]) != 0 &&
            errno != EINPROGRESS) {
            last_error = errno;
            close(fd);
            continue;
        }
        conn->upstream_fd = fd;
        conn->links[STREAM_UPSTREAM].dst_fd = fd;
        conn->links[STREAM_DOWNSTREAM].src_fd = fd;
        event_assign(&conn->upstream_read, proxy->server->base, fd, EV_READ | EV_PERSIST,
                     on_upstream_read, conn);
        event_assign(&conn->upstream_write, proxy->server->base, fd, EV_WRITE | EV_PERSIST,
                     on_upstream_write, conn);
        event_add(&conn->upstream_write, NULL);
        return;
    }
    warn_upstream(proxy, "cannot connect upstream; closing the client connection", last_error);
    conn_close(conn, false);
}

/* Resolves the upstream again when it could not be resolved when the proxy started. */
static bool upstream_ready(struct proxy *proxy)
{
    struct api_error e;

    if (proxy->upstream_addrs.count > 0)
        return true;
    /* NOTE: getaddrinfo blocks the loop; it runs only while the name does not resolve. */
    if (addr_resolve(proxy->upstream, false, &proxy->upstream_addrs, &e) == 0)
        return true;
    log_warn("proxy", "cannot resolve upstream proxy=%s error=\"%s\"", proxy->name, e.message);
    return false;
}

void conn_accept(struct proxy *proxy, int client_fd)
{
    struct event_base *base = proxy->server->base;
    struct conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL)
        abort();
    conn->proxy = proxy;
    conn->state = CONN_CONNECTING;
    conn->client_fd = client_fd;
    conn->upstream_fd = -1;
    set_nodelay(client_fd);
    event_assign(&conn->client_read, base, client_fd, EV_READ | EV_PERSIST, on_client_read, conn);
    event_assign(&conn->client_write, base, client_fd, EV_WRITE | EV_PERSIST, on_client_write,
                 conn);
    for (int s = 0; s < 2; s++) {
        struct link *link = &conn->links[s];
        link_init(link, conn, (enum toxic_stream)s);
        link->src_fd = s == STREAM_UPSTREAM ? client_fd : -1;
        link->dst_fd = s == STREAM_DOWNSTREAM ? client_fd : -1;
        link->src_read = s == STREAM_UPSTREAM ? &conn->client_read : &conn->upstream_read;
        link->dst_write = s == STREAM_UPSTREAM ? &conn->upstream_write : &conn->client_write;
    }

    conn->next = proxy->conns;
    if (proxy->conns != NULL)
        proxy->conns->prev = conn;
    proxy->conns = conn;
    proxy->conns_total++;
    proxy->conns_open++;

    /* Toxics apply from the first byte, so their stages exist before the connect. */
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < proxy->n_toxics[s]; i++)
            link_add_stage(&conn->links[s], proxy->toxics[s][i]);
    }
    if (!upstream_ready(proxy)) {
        conn_close(conn, false);
        return;
    }
    errno = 0;
    conn_connect_next(conn);
}

void conn_check_done(struct conn *conn)
{
    if (conn->links[0].shut && conn->links[1].shut)
        conn_close(conn, false);
}

static void close_socket(int fd, bool reset)
{
    if (fd < 0)
        return;
    if (reset) {
        struct linger linger = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
    }
    close(fd);
}

/* Freeing is deferred: conn_close is reached from deep inside the data path
 * (a stage forwarding a chunk, the writer failing, a timer firing), and the
 * callers up the stack still hold pointers to the conn, its links and its
 * stages. conn_close only makes the conn inert: its events are deleted, its
 * sockets closed and its state set to CONN_CLOSED, which every caller
 * checks after a push. It then moves to the server's graveyard, and the
 * reaper event frees it on the next loop iteration, when no callback of
 * this conn is running. */
void conn_close(struct conn *conn, bool reset)
{
    struct proxy *proxy = conn->proxy;
    struct proxy_server *server = proxy->server;

    if (conn->state == CONN_CLOSED)
        return;
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < conn->links[s].n_stages; i++)
            stage_stop(conn->links[s].stages[i]);
    }
    event_del(&conn->client_read);
    event_del(&conn->client_write);
    if (event_initialized(&conn->upstream_read)) {
        event_del(&conn->upstream_read);
        event_del(&conn->upstream_write);
    }
    close_socket(conn->client_fd, reset);
    close_socket(conn->upstream_fd, reset);
    conn->state = CONN_CLOSED;

    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        proxy->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    proxy->conns_open--;

    conn->prev = NULL;
    conn->next = server->graveyard;
    server->graveyard = conn;
    event_active(server->reaper, 0, 0);
}

void conn_reap(struct proxy_server *server)
{
    while (server->graveyard != NULL) {
        struct conn *conn = server->graveyard;

        server->graveyard = conn->next;
        link_release(&conn->links[0]);
        link_release(&conn->links[1]);
        free(conn);
    }
}
