/* The raw-socket transport for plain HTTP/1.1 and TCP connects: non-blocking
 * sockets on one epoll set, one request at a time per connection, and
 * connections kept open between requests when the server allows it.
 *
 * A connection is idle (free for the engine) or busy with one request in
 * the CONNECTING, SENDING or READING state. Every busy connection ends its
 * request through finish(), which records it and returns the connection to
 * the idle stack. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "traffic/engine.h"
#include "traffic/http_response.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

#define RAW_EVENTS 256
#define RAW_DEADLINE_SCAN 0.01   /* seconds between scans for requests past their timeout */

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_SENDING, CONN_READING };

struct conn {
    int fd;                  /* -1 when closed */
    enum conn_state state;
    bool reused;             /* the request went out on a connection kept from before */
    bool got_bytes;          /* some of the response arrived */
    double intended, deadline;
    size_t second;
    size_t sent;             /* request bytes written */
    struct http_response *response;
};

struct raw_state {
    int epfd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char target[300];        /* host:port for messages */
    char *request;
    size_t request_len;
    bool tcp, head;
    struct conn *conns;
    int *idle;               /* the first engine->idle entries are idle connection indices */
    double next_scan;
    char buf[65536];
};

/* Splits http://HOST[:PORT][/PATH] or the tcp:// form into host, port and path. */
static int split_url(const char *url, char *host, size_t host_size, char *port,
                     size_t port_size, const char **path, struct err *err)
{
    const char *p = strstr(url, "://"), *end, *colon;
    size_t n;

    p = p ? p + 3 : url;
    end = p + strcspn(p, "/?#");
    *path = *end == '/' ? end : "/";
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (close == NULL)
            return err_set(err, "traffic 'url' '%s' has an unclosed [", url);
        n = (size_t)(close - p - 1);
        colon = close[1] == ':' ? close + 1 : NULL;
        p++;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        n = (size_t)((colon ? colon : end) - p);
    }
    if (n == 0 || n >= host_size || memchr(p, '@', (size_t)(end - p)) != NULL)
        return err_set(err, "traffic 'url' '%s' has no usable host", url);
    memcpy(host, p, n);
    host[n] = '\0';
    n = colon ? (size_t)(end - colon - 1) : 0;
    if (n >= port_size)
        return err_set(err, "traffic 'url' '%s' has an invalid port", url);
    if (colon) {
        memcpy(port, colon + 1, n);
        port[n] = '\0';
    } else {
        snprintf(port, port_size, "80");
    }
    return 0;
}

static bool has_header(const struct traffic_spec *spec, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; spec->headers != NULL && spec->headers[i] != NULL; i++) {
        if (strncasecmp(spec->headers[i], name, n) == 0 && spec->headers[i][n] == ':')
            return true;
    }
    return false;
}

static void build_request(struct raw_state *st, const struct traffic_spec *spec,
                          const char *host_header, const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    size_t path_len = strcspn(path, "#");

    strbuf_addf(&sb, "%s ", spec->method);
    strbuf_add(&sb, path, path_len);
    strbuf_addstr(&sb, " HTTP/1.1\r\n");
    if (!has_header(spec, "Host"))
        strbuf_addf(&sb, "Host: %s\r\n", host_header);
    if (!has_header(spec, "User-Agent"))
        strbuf_addstr(&sb, "User-Agent: aftershock/" AFTERSHOCK_VERSION "\r\n");
    if (!has_header(spec, "Accept"))
        strbuf_addstr(&sb, "Accept: */*\r\n");
    for (size_t i = 0; spec->headers != NULL && spec->headers[i] != NULL; i++)
        strbuf_addf(&sb, "%s\r\n", spec->headers[i]);
    if (spec->body != NULL) {
        if (!has_header(spec, "Content-Type"))
            strbuf_addstr(&sb, "Content-Type: application/octet-stream\r\n");
        strbuf_addf(&sb, "Content-Length: %zu\r\n", strlen(spec->body));
    }
    strbuf_addstr(&sb, "\r\n");
    if (spec->body != NULL)
        strbuf_addstr(&sb, spec->body);
    st->request_len = sb.len;
    st->request = strbuf_detach(&sb);
}

static int resolve(struct raw_state *st, const char *host, const char *port, struct err *err)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return err_set(err, "cannot resolve traffic host '%s' port '%s': %s", host, port,
                       gai_strerror(rc));
    memcpy(&st->addr, res->ai_addr, res->ai_addrlen);
    st->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int raw_init(struct engine *e, struct err *err)
{
    const struct traffic_spec *spec = e->spec;
    struct raw_state *st = calloc(1, sizeof(*st));
    char host[256], port[16], host_header[300];
    const char *path;

    if (st == NULL)
        abort();
    e->state = st;
    st->epfd = -1;
    st->tcp = spec->kind == TRAFFIC_TCP;
    st->head = strcmp(spec->method, "HEAD") == 0;
    st->conns = calloc((size_t)spec->connections, sizeof(struct conn));
    st->idle = calloc((size_t)spec->connections, sizeof(int));
    if (st->conns == NULL || st->idle == NULL)
        abort();
    for (int i = 0; i < spec->connections; i++) {
        st->conns[i].fd = -1;
        st->idle[e->idle++] = i;
    }
    if (split_url(spec->url, host, sizeof(host), port, sizeof(port), &path, err) != 0 ||
        resolve(st, host, port, err) != 0)
        return -1;
    snprintf(host_header, sizeof(host_header), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
             port);
    snprintf(st->target, sizeof(st->target), "%s", host_header);
    build_request(st, spec, host_header, path);
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->epfd < 0)
        return err_set_errno(err, errno, "cannot start the traffic: epoll_create1");
    return 0;
}

static int failure_of(int errnum)
{
    switch (errnum) {
    case ECONNREFUSED:
        return TRAFFIC_FAIL_REFUSED;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
        return TRAFFIC_FAIL_RESET;
    case ETIMEDOUT:
        return TRAFFIC_FAIL_TIMEOUT;
    default:
        return TRAFFIC_FAIL_OTHER;
    }
}

static void close_conn(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void watch(struct raw_state *st, struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u32 = (uint32_t)(c - st->conns);
    epoll_ctl(st->epfd, op, c->fd, &ev);
}

/* Ends the request on c: records it and returns c to the idle stack. */
static void finish(struct engine *e, struct conn *c, int failure, const char *message, bool keep)
{
    struct raw_state *st = e->state;
    char text[400];

    if (failure >= 0 && message == NULL)
        message = "failed";
    if (failure >= 0) {
        snprintf(text, sizeof(text), "%s: %s", st->target, message);
        message = text;
    }
    engine_record(e, c->second, c->intended, time_monotonic(), failure, message);
    if (!keep)
        close_conn(c);
    else
        watch(st, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    c->state = CONN_IDLE;
    st->idle[e->idle++] = (int)(c - st->conns);
}

static void open_conn(struct engine *e, struct conn *c);

/* A kept connection the server had closed: send again on a new one. */
static bool retry_fresh(struct engine *e, struct conn *c)
{
    if (!c->reused || c->got_bytes)
        return false;
    close_conn(c);
    c->reused = false;
    open_conn(e, c);
    return true;
}

static void try_send(struct engine *e, struct conn *c)
{
    struct raw_state *st = e->state;

    while (c->sent < st->request_len) {
        ssize_t n = send(c->fd, st->request + c->sent, st->request_len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(st, c, EPOLLOUT, EPOLL_CTL_MOD);
            return;
        }
        int errnum = n < 0 ? errno : ECONNRESET;
        if (!retry_fresh(e, c))
            finish(e, c, failure_of(errnum), strerror(errnum), false);
        return;
    }
    c->state = CONN_READING;
    watch(st, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

static void begin_request(struct engine *e, struct conn *c)
{
    struct raw_state *st = e->state;

    if (st->tcp) {
        finish(e, c, -1, NULL, false);
        return;
    }
    if (c->response == NULL && (c->response = malloc(sizeof(*c->response))) == NULL)
        abort();
    http_response_init(c->response, st->head);
    c->got_bytes = false;
    c->sent = 0;
    c->state = CONN_SENDING;
    try_send(e, c);
}

static void open_conn(struct engine *e, struct conn *c)
{
    struct raw_state *st = e->state;
    int one = 1;

    c->fd = socket(st->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        finish(e, c, TRAFFIC_FAIL_OTHER, strerror(errno), false);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    watch(st, c, EPOLLOUT, EPOLL_CTL_ADD);
    if (connect(c->fd, (struct sockaddr *)&st->addr, st->addr_len) == 0) {
        begin_request(e, c);
    } else if (errno == EINPROGRESS) {
        c->state = CONN_CONNECTING;
    } else {
        int errnum = errno;
        finish(e, c, failure_of(errnum), strerror(errnum), false);
    }
}

static void raw_start(struct engine *e, double intended, size_t second, double now)
{
    struct raw_state *st = e->state;
    struct conn *c = &st->conns[st->idle[--e->idle]];

    (void)now;
    c->intended = intended;
    c->second = second;
    c->deadline = intended + e->spec->timeout;
    c->reused = c->fd >= 0;
    if (c->reused)
        begin_request(e, c);
    else
        open_conn(e, c);
}

static void on_connected(struct engine *e, struct conn *c)
{
    int errnum = 0;
    socklen_t len = sizeof(errnum);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &errnum, &len) != 0)
        errnum = errno;
    if (errnum != 0)
        finish(e, c, failure_of(errnum), strerror(errnum), false);
    else
        begin_request(e, c);
}

static void on_readable(struct engine *e, struct conn *c)
{
    struct raw_state *st = e->state;

    for (;;) {
        ssize_t n = recv(c->fd, st->buf, sizeof(st->buf), 0);
        size_t used;
        if (n > 0) {
            c->got_bytes = true;
            int rc = http_response_feed(c->response, st->buf, (size_t)n, &used);
            if (rc < 0) {
                finish(e, c, TRAFFIC_FAIL_OTHER, "malformed HTTP response", false);
                return;
            }
            if (rc > 0) {
                bool ok = traffic_status_expected(e->spec, c->response->status);
                char message[64];
                snprintf(message, sizeof(message), "status %d", c->response->status);
                finish(e, c, ok ? -1 : TRAFFIC_FAIL_BAD_STATUS, ok ? NULL : message,
                       c->response->keep_alive && used == (size_t)n);
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        int errnum = n < 0 ? errno : 0;
        if (retry_fresh(e, c))
            return;
        if (n == 0 && http_response_eof(c->response) > 0) {
            bool ok = traffic_status_expected(e->spec, c->response->status);
            finish(e, c, ok ? -1 : TRAFFIC_FAIL_BAD_STATUS, ok ? NULL : "unexpected status",
                   false);
        } else {
            finish(e, c, errnum ? failure_of(errnum) : TRAFFIC_FAIL_RESET,
                   errnum ? strerror(errnum) : "connection closed before the response ended",
                   false);
        }
        return;
    }
}

/* An idle kept connection became readable: the server closed it (or sent
 * something unasked); either way it is not reused. */
static void on_idle_event(struct conn *c)
{
    close_conn(c);
}

static void expire(struct engine *e, double now)
{
    struct raw_state *st = e->state;

    if (now < st->next_scan)
        return;
    st->next_scan = now + RAW_DEADLINE_SCAN;
    for (int i = 0; i < e->spec->connections; i++) {
        struct conn *c = &st->conns[i];
        if (c->state != CONN_IDLE && now >= c->deadline)
            finish(e, c, TRAFFIC_FAIL_TIMEOUT, "no response within the timeout", false);
    }
}

static void raw_wait(struct engine *e, int timeout_ms)
{
    struct raw_state *st = e->state;
    struct epoll_event events[RAW_EVENTS];
    int n = epoll_wait(st->epfd, events, RAW_EVENTS, timeout_ms);

    for (int i = 0; i < n; i++) {
        struct conn *c = &st->conns[events[i].data.u32];
        if (c->fd < 0)
            continue;
        switch (c->state) {
        case CONN_CONNECTING:
            on_connected(e, c);
            break;
        case CONN_SENDING:
            try_send(e, c);
            break;
        case CONN_READING:
            on_readable(e, c);
            break;
        case CONN_IDLE:
            on_idle_event(c);
            break;
        }
    }
    expire(e, time_monotonic());
}

static void raw_release(struct engine *e)
{
    struct raw_state *st = e->state;

    if (st == NULL)
        return;
    for (int i = 0; st->conns != NULL && i < e->spec->connections; i++) {
        close_conn(&st->conns[i]);
        free(st->conns[i].response);
    }
    if (st->epfd >= 0)
        close(st->epfd);
    free(st->conns);
    free(st->idle);
    free(st->request);
    free(st);
    e->state = NULL;
}

const struct transport transport_raw = {
    .init = raw_init,
    .start = raw_start,
    .wait = raw_wait,
    .release = raw_release,
};
