/* Listen and upstream addresses: parsing "host:port", resolving, and binding listeners. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/internal.h"

#define LISTEN_BACKLOG 4096
/* Attempts to find one free port on both loopback families for "localhost:0". */
#define SHARED_PORT_TRIES 20

int addr_split(const char *text, char *host, size_t host_size, int *port, struct api_error *e)
{
    const char *colon, *host_start = text, *host_end;
    char *end;
    long value;

    if (text[0] == '[') {
        host_start = text + 1;
        host_end = strchr(text, ']');
        if (host_end == NULL || host_end[1] != ':')
            return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid address '%s': expected "
                                 "[IPv6]:PORT", text);
        colon = host_end + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid address '%s': expected "
                                 "HOST:PORT (IPv6 as [ADDRESS]:PORT)", text);
        host_end = colon;
    }
    if ((size_t)(host_end - host_start) >= host_size)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid address '%s': host name too "
                             "long", text);
    errno = 0;
    value = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || !isdigit((unsigned char)colon[1]) || *end != '\0' || errno != 0 ||
        value < 0 || value > 65535)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid address '%s': the port must "
                             "be a number from 0 to 65535", text);
    memcpy(host, host_start, (size_t)(host_end - host_start));
    host[host_end - host_start] = '\0';
    if (host[0] == '\0')
        snprintf(host, host_size, "127.0.0.1");
    *port = (int)value;
    return 0;
}

static void add_loopback(struct addr_list *out, int family, int port)
{
    struct sockaddr_storage *ss = &out->addrs[out->count];

    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        out->lens[out->count] = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_loopback;
        out->lens[out->count] = sizeof(*sin6);
    }
    out->count++;
}

int addr_resolve(const char *text, bool passive, struct addr_list *out, struct api_error *e)
{
    char host[256], service[8];
    struct addrinfo hints, *res = NULL, *ai;
    int port, rc;

    memset(out, 0, sizeof(*out));
    if (addr_split(text, host, sizeof(host), &port, e) != 0)
        return -1;
    if (!passive && port == 0)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": invalid upstream '%s': port 0 cannot "
                             "be connected to", text);
    if (strcmp(host, "localhost") == 0) {
        add_loopback(out, AF_INET, port);
        add_loopback(out, AF_INET6, port);
        return 0;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(service, sizeof(service), "%d", port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": cannot resolve '%s': %s", text,
                             gai_strerror(rc));
    for (ai = res; ai != NULL && out->count < ADDR_MAX; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(out->addrs[0]))
            continue;
        memcpy(&out->addrs[out->count], ai->ai_addr, ai->ai_addrlen);
        out->lens[out->count] = ai->ai_addrlen;
        out->count++;
    }
    freeaddrinfo(res);
    if (out->count == 0)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": '%s' resolves to no TCP address", text);
    return 0;
}

void addr_format(const struct sockaddr *sa, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        snprintf(out, size, "[%s]:%d", ip, ntohs(sin6->sin6_port));
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(out, size, "%s:%d", ip, ntohs(sin->sin_port));
    }
}

/* Sets the error Toxiproxy sends when it cannot listen, e.g.
 * "listen tcp 127.0.0.1:80: bind: permission denied". */
static int listen_error(struct api_error *e, const struct sockaddr *sa, const char *call, int errnum)
{
    char where[128], reason[128];

    addr_format(sa, where, sizeof(where));
    snprintf(reason, sizeof(reason), "%s", strerror(errnum));
    reason[0] = (char)tolower((unsigned char)reason[0]);
    return api_error_set(e, 500, "listen tcp %s: %s: %s", where, call, reason);
}

/* Opens one listening socket on sa. Returns the fd, or -1 with e set and errno kept. */
static int listen_one(const struct sockaddr *sa, socklen_t len, bool v6only, struct api_error *e)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, saved;

    if (fd < 0)
        return listen_error(e, sa, "socket", errno);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ v6only ? 1 : 0 }, sizeof(int));
    if (bind(fd, sa, len) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return listen_error(e, sa, "bind", saved);
    }
    if (listen(fd, LISTEN_BACKLOG) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return listen_error(e, sa, "listen", saved);
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void set_port(struct sockaddr_storage *ss, int port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* Listens on 127.0.0.1 and ::1 on one port. A machine without IPv6 gets the IPv4 listener only. */
static int listen_localhost(struct addr_list *addrs, int *fds, int *n, struct api_error *e)
{
    int port;

    for (int attempt = 0; attempt < SHARED_PORT_TRIES; attempt++) {
        fds[0] = listen_one((struct sockaddr *)&addrs->addrs[0], addrs->lens[0], false, e);
        if (fds[0] < 0)
            return -1;
        port = bound_port(fds[0]);
        set_port(&addrs->addrs[1], port);
        fds[1] = listen_one((struct sockaddr *)&addrs->addrs[1], addrs->lens[1], true, e);
        if (fds[1] >= 0) {
            *n = 2;
            return 0;
        }
        if (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT) {
            *n = 1;
            return 0;
        }
        close(fds[0]);
        /* The port was taken on ::1 only; with a fixed port there is nothing else to try. */
        if (((struct sockaddr_in *)&addrs->addrs[0])->sin_port != 0)
            return -1;
        set_port(&addrs->addrs[1], 0);
    }
    return -1;
}

int addr_listen(const char *text, int *fds, int *n, char *bound, size_t bound_size,
                struct api_error *e)
{
    struct addr_list addrs;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[256];
    int port;

    *n = 0;
    if (addr_split(text, host, sizeof(host), &port, e) != 0 || addr_resolve(text, true, &addrs, e))
        return -1;
    if (strcmp(host, "localhost") == 0) {
        if (listen_localhost(&addrs, fds, n, e) != 0)
            return -1;
    } else {
        fds[0] = listen_one((struct sockaddr *)&addrs.addrs[0], addrs.lens[0], false, e);
        if (fds[0] < 0)
            return -1;
        *n = 1;
    }
    if (getsockname(fds[0], (struct sockaddr *)&ss, &len) == 0)
        addr_format((struct sockaddr *)&ss, bound, bound_size);
    else
        snprintf(bound, bound_size, "%s", text);
    return 0;
}
