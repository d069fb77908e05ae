/* Single health-check attempts for http, tcp and exec targets. */
#include "probe/attempt.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/http.h"
#include "util/spawn.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

/* Response bytes kept for --body-regex; a longer body is matched on its start. */
#define PROBE_BODY_MAX (1024 * 1024)
/* Output kept from an exec target, enough for its first error line. */
#define PROBE_EXEC_CAPTURE 4096
/* Granularity at which a TCP connect notices *stop. */
#define PROBE_POLL_SLICE_MS 50

int probe_check_set_regex(struct probe_check *c, const char *pattern, struct err *err)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re;

    re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);
    if (re == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code, message, sizeof(message));
        return err_set(err, "invalid regular expression '%s': %s at offset %zu", pattern,
                       (const char *)message, (size_t)offset);
    }
    if (c->body_regex != NULL)
        pcre2_code_free(c->body_regex);
    c->body_regex = re;
    c->body_regex_text = pattern;
    return 0;
}

int probe_check_header(const char *line, struct err *err)
{
    static const char token_chars[] = "!#$%&'*+-.^_`|~";
    size_t name_len = strcspn(line, ":");

    /* Only the name goes into messages, because values often carry tokens. */
    if (line[name_len] != ':' || name_len == 0)
        return err_set(err, "invalid header '%.*s': expected 'Name: value'",
                       (int)strcspn(line, ": \t"), line);
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (!isalnum(c) && strchr(token_chars, c) == NULL)
            return err_set(err, "invalid header name '%.*s': use letters, digits and '-'",
                           (int)name_len, line);
    }
    if (strpbrk(line + name_len + 1, "\r\n") != NULL)
        return err_set(err, "invalid header '%.*s': the value contains a line break",
                       (int)name_len, line);
    return 0;
}

void probe_check_release(struct probe_check *c)
{
    if (c->body_regex != NULL)
        pcre2_code_free(c->body_regex);
    c->body_regex = NULL;
}

static bool is_localhost_name(const char *host)
{
    size_t len = strlen(host);
    static const char suffix[] = ".localhost";
    size_t suffix_len = sizeof(suffix) - 1;

    if (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
        return true;
    return len > suffix_len && strncasecmp(host + len - suffix_len, suffix, suffix_len) == 0;
}

static void add_address(struct probe_addresses *out, const char *addr)
{
    for (size_t i = 0; i < out->count; i++) {
        if (strcmp(out->list[i], addr) == 0)
            return;
    }
    if (out->count < PROBE_ADDRESSES_MAX)
        snprintf(out->list[out->count++], sizeof(out->list[0]), "%s", addr);
}

int probe_resolve(const char *host, const char *port, struct probe_addresses *out,
                  struct err *err)
{
    struct addrinfo hints;
    struct addrinfo *found = NULL;
    int rc;

    out->count = 0;
    if (is_localhost_name(host)) {
        add_address(out, "::1");
        add_address(out, "127.0.0.1");
        return 0;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &found);
    if (rc != 0)
        return err_set(err, "cannot resolve host '%s': %s", host,
                       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));

    for (struct addrinfo *ai = found; ai != NULL; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *raw = ai->ai_family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            inet_ntop(ai->ai_family, raw, text, sizeof(text)) != NULL)
            add_address(out, text);
    }
    freeaddrinfo(found);
    if (out->count == 0)
        return err_set(err, "host '%s' has no IPv4 or IPv6 address", host);
    return 0;
}

/* Formats address and port as 127.0.0.1:80 or [::1]:80. */
static void format_endpoint(const char *addr, const char *port, char *out, size_t size)
{
    if (strchr(addr, ':') != NULL)
        snprintf(out, size, "[%s]:%s", addr, port);
    else
        snprintf(out, size, "%s:%s", addr, port);
}

/* Waits for a non-blocking connect on fd to finish. Returns 0 when
 * connected, else an errno value (ETIMEDOUT, EINTR for *stop, ...). */
static int wait_connected(int fd, double timeout, volatile sig_atomic_t *stop)
{
    double deadline = time_monotonic() + timeout;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        double left = deadline - time_monotonic();
        int slice;
        int ready;

        if (stop != NULL && *stop)
            return EINTR;
        if (left <= 0)
            return ETIMEDOUT;
        slice = (int)(left * 1000.0) + 1;
        if (slice > PROBE_POLL_SLICE_MS)
            slice = PROBE_POLL_SLICE_MS;
        ready = poll(&pfd, 1, slice);
        if (ready < 0 && errno != EINTR)
            return errno;
        if (ready > 0) {
            int so_error = 0;
            socklen_t len = sizeof(so_error);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
                return errno;
            return so_error;
        }
    }
}

/* Opens and closes one TCP connection to addr:port. Returns 0 or an errno value. */
static int tcp_connect_once(const char *addr, const char *port, double timeout,
                            volatile sig_atomic_t *stop)
{
    struct addrinfo hints;
    struct addrinfo *ai = NULL;
    int fd;
    int result;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(addr, port, &hints, &ai) != 0)
        return EINVAL;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        result = errno;
        freeaddrinfo(ai);
        return result;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        result = 0;
    else if (errno == EINPROGRESS)
        result = wait_connected(fd, timeout, stop);
    else
        result = errno;
    close(fd);
    freeaddrinfo(ai);
    return result;
}

/* Appends one address's failure to the list of reasons, separated by "; ". */
static void add_reason(struct strbuf *reasons, const char *reason)
{
    if (reasons->len > 0)
        strbuf_addstr(reasons, "; ");
    strbuf_addstr(reasons, reason);
}

/* Joins the failures of every address into reason. HTTP messages end in the same
 * " (URL)", which is then written once at the end instead of after each. */
static void join_reasons(char reasons[][ERR_MSG_MAX], size_t n, struct err *reason)
{
    struct strbuf joined = STRBUF_INIT;
    const char *suffix = n > 1 ? strrchr(reasons[0], '(') : NULL;
    size_t suffix_len = suffix != NULL ? strlen(suffix) + 1 : 0;
    bool shared = suffix != NULL && suffix > reasons[0] && suffix[-1] == ' ';

    for (size_t i = 0; shared && i < n; i++) {
        size_t len = strlen(reasons[i]);
        shared = len > suffix_len && strcmp(reasons[i] + len - suffix_len + 1, suffix) == 0 &&
                 reasons[i][len - suffix_len] == ' ';
    }
    for (size_t i = 0; i < n; i++) {
        if (shared)
            reasons[i][strlen(reasons[i]) - suffix_len] = '\0';
        add_reason(&joined, reasons[i]);
    }
    if (shared)
        strbuf_addf(&joined, " %s", suffix);
    err_set(reason, "%s", n > 0 ? strbuf_str(&joined) : "no time left for a request");
    strbuf_release(&joined);
}

static int attempt_tcp(const struct probe_target *t, double timeout,
                       volatile sig_atomic_t *stop, struct err *reason)
{
    struct probe_addresses addrs;
    struct strbuf reasons = STRBUF_INIT;
    double deadline = time_monotonic() + timeout;

    if (probe_resolve(t->host, t->port, &addrs, reason) != 0)
        return -1;
    for (size_t i = 0; i < addrs.count; i++) {
        double share = (deadline - time_monotonic()) / (double)(addrs.count - i);
        char endpoint[96];
        char failure[160];
        int e;

        if (share <= 0 || (stop != NULL && *stop))
            break;
        e = tcp_connect_once(addrs.list[i], t->port, share, stop);
        if (e == 0) {
            strbuf_release(&reasons);
            return 0;
        }
        format_endpoint(addrs.list[i], t->port, endpoint, sizeof(endpoint));
        if (e == ECONNREFUSED)
            snprintf(failure, sizeof(failure), "connection refused by %s", endpoint);
        else if (e == ETIMEDOUT)
            snprintf(failure, sizeof(failure), "connecting to %s timed out after %.1f s",
                     endpoint, share);
        else if (e == EINTR)
            snprintf(failure, sizeof(failure), "interrupted");
        else
            snprintf(failure, sizeof(failure), "cannot connect to %s: %s", endpoint,
                     strerror(e));
        add_reason(&reasons, failure);
    }
    err_set(reason, "%s", reasons.len > 0 ? strbuf_str(&reasons) : "no time left to connect");
    strbuf_release(&reasons);
    return -1;
}

/* Judges a response: status in range, then the body against the regex. */
static int judge_response(const struct probe_target *t, const struct probe_check *check,
                          const struct http_response *res, struct err *reason)
{
    pcre2_match_data *match;
    int rc;

    if (res->status < check->status_min || res->status > check->status_max) {
        if (check->status_min == check->status_max)
            return err_set(reason, "status %ld from %s, expected %ld", res->status, t->display,
                           check->status_min);
        return err_set(reason, "status %ld from %s, expected %ld-%ld", res->status, t->display,
                       check->status_min, check->status_max);
    }
    if (check->body_regex == NULL)
        return 0;

    match = pcre2_match_data_create_from_pattern(check->body_regex, NULL);
    if (match == NULL)
        return err_set(reason, "out of memory matching the body of %s", t->display);
    rc = pcre2_match(check->body_regex, (PCRE2_SPTR)res->body, res->body_len, 0, 0, match,
                     NULL);
    pcre2_match_data_free(match);
    if (rc >= 0)
        return 0;
    if (rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(rc, message, sizeof(message));
        return err_set(reason, "matching the body of %s against '%s' failed: %s", t->display,
                       check->body_regex_text, (const char *)message);
    }
    return err_set(reason, "body of %s does not match '%s'%s", t->display, check->body_regex_text,
                   res->body_truncated ? " (only its first 1 MiB was read)" : "");
}

/* Sends one GET to each address in turn until a response arrives, then judges that response. */
static int attempt_http(const struct probe_target *t, const struct probe_check *check,
                        double timeout, volatile sig_atomic_t *stop, struct err *reason)
{
    struct probe_addresses addrs;
    char reasons[PROBE_ADDRESSES_MAX][ERR_MSG_MAX];
    size_t failed = 0;
    struct in6_addr scratch;
    bool numeric = inet_pton(AF_INET6, t->host, &scratch) == 1 ||
                   inet_pton(AF_INET, t->host, &scratch) == 1;
    double deadline = time_monotonic() + timeout;

    if (numeric) {
        addrs.count = 1;
        snprintf(addrs.list[0], sizeof(addrs.list[0]), "%s", t->host);
    } else if (probe_resolve(t->host, t->port, &addrs, reason) != 0) {
        return -1;
    }

    for (size_t i = 0; i < addrs.count; i++) {
        struct http_request req;
        struct http_response res;
        enum http_error_kind kind;
        struct err failure;
        double share = (deadline - time_monotonic()) / (double)(addrs.count - i);
        int rc;

        if (share < 0.001 || (stop != NULL && *stop))
            break;
        memset(&req, 0, sizeof(req));
        req.url = t->url;
        req.headers = check->headers;
        req.timeout = share;
        req.verify_tls = !check->insecure;
        req.body_max = check->body_regex != NULL ? PROBE_BODY_MAX : 4096;
        /* A numeric host needs no forced address, and libcurl rejects one for it. */
        req.resolve_address = numeric ? NULL : addrs.list[i];
        req.stop = stop;

        if (http_send(&req, &res, &kind, &failure) != 0) {
            memcpy(reasons[failed++], failure.msg, sizeof(failure.msg));
            continue;
        }
        rc = judge_response(t, check, &res, reason);
        http_response_release(&res);
        return rc;
    }
    join_reasons(reasons, failed, reason);
    return -1;
}

/* Copies the first non-blank line of text, at most max bytes, into out. */
static void first_line(const char *text, char *out, size_t max)
{
    size_t len;

    text += strspn(text, " \t\r\n");
    len = strcspn(text, "\r\n");
    if (len >= max)
        len = max - 1;
    memcpy(out, text, len);
    out[len] = '\0';
}

static int attempt_exec(const struct probe_target *t, double timeout,
                        volatile sig_atomic_t *stop, struct err *reason)
{
    struct spawn_opts opts;
    struct spawn_result res;
    char line[200];
    int rc = -1;

    memset(&opts, 0, sizeof(opts));
    opts.shell_command = t->command;
    opts.timeout = timeout;
    opts.capture_max = PROBE_EXEC_CAPTURE;
    opts.stdin_null = true;
    opts.stop = stop;
    if (spawn_run(&opts, &res, reason) != 0)
        return -1;

    first_line(res.err[0] != '\0' ? res.err : res.out, line, sizeof(line));
    if (res.interrupted)
        err_set(reason, "interrupted");
    else if (res.timed_out)
        err_set(reason, "command timed out after %.1f s", timeout);
    else if (res.signaled)
        err_set(reason, "command killed by signal %d%s%s", res.term_signal,
                line[0] ? ": " : "", line);
    else if (res.exit_code != 0)
        err_set(reason, "command exited with status %d%s%s", res.exit_code, line[0] ? ": " : "",
                line);
    else
        rc = 0;
    spawn_result_release(&res);
    return rc;
}

int probe_attempt(const struct probe_target *target, const struct probe_check *check,
                  double timeout, volatile sig_atomic_t *stop, struct err *reason)
{
    switch (target->kind) {
    case PROBE_HTTP:
        return attempt_http(target, check, timeout, stop, reason);
    case PROBE_TCP:
        return attempt_tcp(target, timeout, stop, reason);
    case PROBE_EXEC:
        return attempt_exec(target, timeout, stop, reason);
    }
    return err_set(reason, "unknown target kind");
}
