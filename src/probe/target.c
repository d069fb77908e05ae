/* Parsing of probe targets and expected status ranges. */
#include "probe/target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TARGET_FORMS "expected http://URL, https://URL, tcp://HOST:PORT or exec:COMMAND"
#define HOST_NAME_MAX_LEN 253

static char *dup_or_abort(const char *s, size_t len)
{
    char *copy = strndup(s, len);

    if (copy == NULL)
        abort();
    return copy;
}

/* Reads a decimal port 1-65535 made only of digits. */
static bool parse_port(const char *text, long *port)
{
    long value = 0;
    size_t len = strlen(text);

    if (len == 0 || len > 5 || strspn(text, "0123456789") != len)
        return false;
    value = strtol(text, NULL, 10);
    if (value < 1 || value > 65535)
        return false;
    *port = value;
    return true;
}

/* True for a host name made of letters, digits, '-', '_' and '.'. */
static bool valid_host_name(const char *host)
{
    size_t len = strlen(host);

    if (len == 0 || len > HOST_NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

/* Splits "HOST:PORT" or "[IPV6]:PORT" after "tcp://". */
static int parse_tcp(const char *text, struct probe_target *t, struct err *err)
{
    const char *rest = text + strlen("tcp://");
    const char *host_start = rest;
    const char *host_end;
    const char *port_text;
    char port_buf[16];
    long port;

    if (rest[0] == '[') {
        host_start = rest + 1;
        host_end = strchr(host_start, ']');
        if (host_end == NULL)
            return err_set(err, "invalid target '%s': missing ']' after the IPv6 address",
                           text);
        if (host_end[1] != ':')
            return err_set(err, "missing port in '%s': expected tcp://[ADDRESS]:PORT", text);
        port_text = host_end + 2;
    } else {
        const char *colon = strrchr(rest, ':');
        if (colon == NULL)
            return err_set(err, "missing port in '%s': expected tcp://HOST:PORT", text);
        host_end = colon;
        port_text = colon + 1;
        if (memchr(rest, ':', (size_t)(colon - rest)) != NULL)
            return err_set(err, "invalid target '%s': put an IPv6 address in brackets, "
                           "as in tcp://[::1]:8080", text);
    }

    t->host = dup_or_abort(host_start, (size_t)(host_end - host_start));
    if (rest[0] == '[') {
        struct in6_addr scratch;
        if (inet_pton(AF_INET6, t->host, &scratch) != 1)
            return err_set(err, "invalid IPv6 address '%s' in '%s'", t->host, text);
    } else if (!valid_host_name(t->host)) {
        return err_set(err, t->host[0] == '\0' ? "missing host in '%s': expected tcp://HOST:PORT"
                                               : "invalid host in '%s': expected a host name "
                                                 "or address before the port", text);
    }
    if (port_text[0] == '\0')
        return err_set(err, "missing port in '%s': expected tcp://HOST:PORT", text);
    if (!parse_port(port_text, &port))
        return err_set(err, "invalid port '%s' in '%s': expected a number from 1 to 65535",
                       port_text, text);
    snprintf(port_buf, sizeof(port_buf), "%ld", port);
    t->port = dup_or_abort(port_buf, strlen(port_buf));
    return 0;
}

/* Reads one part of a parsed URL into a string the target owns, or NULL. */
static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *value = NULL;
    char *copy;

    if (curl_url_get(u, part, &value, flags) != CURLUE_OK || value == NULL)
        return NULL;
    copy = dup_or_abort(value, strlen(value));
    curl_free(value);
    return copy;
}

/* Checks an http or https URL with libcurl's parser and keeps its host and port. */
static int parse_http(const char *text, struct probe_target *t, struct err *err)
{
    CURLU *u = curl_url();
    CURLUcode rc;
    char *port_text = NULL;
    long port;
    int result = -1;

    if (u == NULL)
        return err_set(err, "out of memory parsing '%s'", text);
    rc = curl_url_set(u, CURLUPART_URL, text, 0);
    if (rc == CURLUE_BAD_PORT_NUMBER) {
        err_set(err, "invalid port in '%s': expected a number from 1 to 65535", text);
        goto cleanup;
    }
    if (rc != CURLUE_OK) {
        err_set(err, "invalid URL '%s': %s", text, curl_url_strerror(rc));
        goto cleanup;
    }

    t->host = url_part(u, CURLUPART_HOST, 0);
    port_text = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (t->host == NULL || t->host[0] == '\0') {
        err_set(err, "missing host in '%s'", text);
        goto cleanup;
    }
    if (port_text == NULL || !parse_port(port_text, &port)) {
        err_set(err, "invalid port in '%s': expected a number from 1 to 65535", text);
        goto cleanup;
    }

    /* libcurl keeps the brackets of an IPv6 literal; the resolver wants them off. */
    if (t->host[0] == '[') {
        size_t len = strlen(t->host);
        char *bare = dup_or_abort(t->host + 1, len >= 2 ? len - 2 : 0);
        free(t->host);
        t->host = bare;
    }
    t->port = port_text;
    port_text = NULL;
    t->url = dup_or_abort(text, strlen(text));

    /* A password in the URL must not reach progress lines, results or logs. */
    char *password = url_part(u, CURLUPART_PASSWORD, 0);
    if (password != NULL) {
        free(password);
        curl_url_set(u, CURLUPART_PASSWORD, "xxxxx", 0);
        free(t->display);
        t->display = url_part(u, CURLUPART_URL, 0);
        if (t->display == NULL)
            t->display = dup_or_abort("(URL with a password)", 21);
    }
    result = 0;

cleanup:
    free(port_text);
    curl_url_cleanup(u);
    return result;
}

int probe_target_parse(const char *text, struct probe_target *target, struct err *err)
{
    const char *sep;
    int rc;

    memset(target, 0, sizeof(*target));
    target->text = dup_or_abort(text, strlen(text));
    target->display = dup_or_abort(text, strlen(text));

    if (strncasecmp(text, "exec:", 5) == 0) {
        const char *command = text + 5;
        target->kind = PROBE_EXEC;
        if (command[strspn(command, " \t\n")] == '\0') {
            rc = err_set(err, "empty command in '%s': expected exec:COMMAND", text);
            goto done;
        }
        target->command = dup_or_abort(command, strlen(command));
        return 0;
    }

    sep = strstr(text, "://");
    if (sep == NULL) {
        rc = err_set(err, "invalid target '%s': %s", text, TARGET_FORMS);
        goto done;
    }
    if (strncasecmp(text, "http://", 7) == 0 || strncasecmp(text, "https://", 8) == 0) {
        target->kind = PROBE_HTTP;
        rc = parse_http(text, target, err);
    } else if (strncasecmp(text, "tcp://", 6) == 0) {
        target->kind = PROBE_TCP;
        rc = parse_tcp(text, target, err);
    } else {
        rc = err_set(err, "unknown scheme '%.*s' in '%s': %s", (int)(sep - text), text, text,
                     TARGET_FORMS);
    }

done:
    if (rc != 0)
        probe_target_release(target);
    return rc;
}

void probe_target_release(struct probe_target *target)
{
    free(target->text);
    free(target->display);
    free(target->url);
    free(target->host);
    free(target->port);
    free(target->command);
    memset(target, 0, sizeof(*target));
}

/* Reads a status code 100-599 from [start, end). */
static bool parse_code(const char *start, const char *end, long *code)
{
    size_t len = (size_t)(end - start);
    char buf[4];

    if (len != 3 || strspn(start, "0123456789") < 3)
        return false;
    memcpy(buf, start, 3);
    buf[3] = '\0';
    *code = strtol(buf, NULL, 10);
    return *code >= 100 && *code <= 599;
}

int probe_parse_status(const char *text, long *min, long *max, struct err *err)
{
    const char *dash = strchr(text, '-');
    const char *end = text + strlen(text);
    long lo, hi;

    if (dash == NULL) {
        if (!parse_code(text, end, &lo))
            goto invalid;
        *min = lo;
        *max = lo;
        return 0;
    }
    if (!parse_code(text, dash, &lo) || !parse_code(dash + 1, end, &hi))
        goto invalid;
    if (lo > hi)
        return err_set(err, "invalid status range '%s': the first code is larger than the "
                       "second", text);
    *min = lo;
    *max = hi;
    return 0;

invalid:
    return err_set(err, "invalid status '%s': expected a code such as 200 or a range such as "
                   "200-299, with codes from 100 to 599", text);
}
