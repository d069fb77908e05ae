/* The HTTP client: one libcurl easy handle per request, bounded capture, and
 * curl errors turned into error kinds and messages that name the address. */
#include "util/http.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define HTTP_DEFAULT_BODY_MAX (1024 * 1024)
#define HTTP_MAX_REDIRECTS 10

/* Response data the libcurl callbacks collect during a transfer. */
struct capture {
    struct strbuf body;
    size_t body_max;
    bool body_truncated;
    char **names;
    char **values;
    size_t count;
    size_t cap;
    volatile sig_atomic_t *stop;
};

/* Parts of the request URL used in messages and for CURLOPT_RESOLVE. */
struct url_parts {
    char *display;  /* the URL without its password, for messages */
    char *host;     /* as in the URL: IPv6 literals keep their brackets */
    char *port;     /* explicit or the scheme's default */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void)
{
    pthread_once(&global_once, global_init_once);
}

static size_t write_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct capture *c = userdata;
    size_t n = size * nmemb;
    size_t room = c->body.len < c->body_max ? c->body_max - c->body.len : 0;

    if (n > room) {
        /* Returning less than n ends the transfer; http_send treats it as success. */
        strbuf_add(&c->body, data, room);
        c->body_truncated = true;
        return room;
    }
    strbuf_add(&c->body, data, n);
    return n;
}

static void clear_headers(struct capture *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    c->count = 0;
}

static char *dup_range(const char *start, size_t len)
{
    char *s = malloc(len + 1);

    if (s == NULL)
        abort();
    memcpy(s, start, len);
    s[len] = '\0';
    return s;
}

/* Receives each header line. A status line starts a new response (after a
 * 100 Continue or a redirect), so the headers kept are the last response's. */
static size_t write_header(char *data, size_t size, size_t nitems, void *userdata)
{
    struct capture *c = userdata;
    size_t n = size * nitems;
    size_t len = n;
    const char *colon;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_headers(c);
        return n;
    }
    while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    colon = memchr(data, ':', len);
    if (colon == NULL || colon == data)
        return n;

    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->names = realloc(c->names, c->cap * sizeof(char *));
        c->values = realloc(c->values, c->cap * sizeof(char *));
        if (c->names == NULL || c->values == NULL)
            abort();
    }
    char *name = dup_range(data, (size_t)(colon - data));
    for (char *p = name; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *value = colon + 1;
    const char *end = data + len;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    c->names[c->count] = name;
    c->values[c->count] = dup_range(value, (size_t)(end - value));
    c->count++;
    return n;
}

static int check_stop(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                      curl_off_t ulnow)
{
    const struct capture *c = clientp;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return c->stop != NULL && *c->stop ? 1 : 0;
}

static char *url_get(CURLU *u, CURLUPart part, unsigned flags)
{
    char *value = NULL;
    char *copy;

    if (curl_url_get(u, part, &value, flags) != CURLUE_OK || value == NULL)
        return NULL;
    copy = strdup(value);
    curl_free(value);
    return copy;
}

/* Splits url into the parts messages need. Returns -1 with err set when the URL is invalid. */
static int url_parts_read(const char *url, struct url_parts *parts, struct err *err)
{
    CURLU *u = curl_url();
    CURLUcode rc;

    memset(parts, 0, sizeof(*parts));
    if (u == NULL)
        return err_set(err, "out of memory parsing URL");
    rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        curl_url_cleanup(u);
        return err_set(err, "invalid URL: %s", curl_url_strerror(rc));
    }
    parts->host = url_get(u, CURLUPART_HOST, 0);
    parts->port = url_get(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    parts->display = url_get(u, CURLUPART_URL, 0);
    curl_url_cleanup(u);
    if (parts->host == NULL || parts->port == NULL || parts->display == NULL)
        return err_set(err, "invalid URL: no host or port");
    return 0;
}

static void url_parts_release(struct url_parts *parts)
{
    free(parts->display);
    free(parts->host);
    free(parts->port);
}

/* Writes the address a failed request was aimed at: the address curl
 * connected to when it reports one, else the forced address, else the
 * URL's host. */
static void describe_address(CURL *curl, const struct http_request *req,
                             const struct url_parts *parts, char *out, size_t size)
{
    char *ip = NULL;
    long port = 0;
    const char *addr = NULL;

    if (curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL &&
        ip[0] != '\0')
        addr = ip;
    else if (req->resolve_address != NULL)
        addr = req->resolve_address;
    if (addr == NULL) {
        snprintf(out, size, "%s:%s", parts->host, parts->port);
        return;
    }
    if (curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK || port <= 0)
        port = strtol(parts->port, NULL, 10);
    if (strchr(addr, ':') != NULL)
        snprintf(out, size, "[%s]:%ld", addr, port);
    else
        snprintf(out, size, "%s:%ld", addr, port);
}

/* Turns a failed transfer into an error kind and a message naming the address and URL. */
static int report_failure(CURL *curl, CURLcode code, const char *detail,
                          const struct http_request *req, const struct url_parts *parts,
                          enum http_error_kind *kind, struct err *err)
{
    char addr[300];
    long os_errno = 0;
    double waited = 0;
    const char *cause = detail[0] != '\0' ? detail : curl_easy_strerror(code);

    describe_address(curl, req, parts, addr, sizeof(addr));
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);

    switch (code) {
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED) {
            *kind = HTTP_ERR_REFUSED;
            return err_set(err, "connection refused by %s (%s)", addr, parts->display);
        }
        if (os_errno == ETIMEDOUT) {
            *kind = HTTP_ERR_TIMEOUT;
            return err_set(err, "connecting to %s timed out (%s)", addr, parts->display);
        }
        *kind = HTTP_ERR_OTHER;
        return err_set(err, "cannot connect to %s: %s (%s)", addr,
                       os_errno ? strerror((int)os_errno) : cause, parts->display);
    case CURLE_OPERATION_TIMEDOUT:
        *kind = HTTP_ERR_TIMEOUT;
        curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &waited);
        return err_set(err, "timed out after %.1f s waiting for %s (%s)", waited, addr,
                       parts->display);
    case CURLE_COULDNT_RESOLVE_HOST:
        *kind = HTTP_ERR_RESOLVE;
        return err_set(err, "cannot resolve host '%s' (%s)", parts->host, parts->display);
    case CURLE_GOT_NOTHING:
        *kind = HTTP_ERR_RESET;
        return err_set(err, "empty reply from %s (%s)", addr, parts->display);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        *kind = os_errno == ECONNRESET || code == CURLE_PARTIAL_FILE ? HTTP_ERR_RESET
                                                                     : HTTP_ERR_OTHER;
        if (os_errno == ECONNRESET)
            return err_set(err, "connection reset by %s (%s)", addr, parts->display);
        return err_set(err, "connection to %s broke: %s (%s)", addr, cause, parts->display);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        *kind = HTTP_ERR_TLS;
        return err_set(err, "TLS handshake with %s failed: %s (%s)", addr, cause, parts->display);
    case CURLE_ABORTED_BY_CALLBACK:
        *kind = HTTP_ERR_OTHER;
        return err_set(err, "interrupted");
    default:
        *kind = HTTP_ERR_OTHER;
        return err_set(err, "request to %s failed: %s (%s)", addr, cause, parts->display);
    }
}

static long to_millis(double seconds)
{
    double ms = ceil(seconds * 1000.0);

    if (ms < 1)
        return 1;
    if (ms > 86400000.0 * 365)
        return 86400000L * 365;
    return (long)ms;
}

/* Builds the CURLOPT_RESOLVE entry "host:port:address" that sends the
 * request to req->resolve_address. Returns NULL when nothing is to be forced:
 * no address was given, or the URL already names a numeric address. */
static struct curl_slist *build_resolve(const struct http_request *req,
                                        const struct url_parts *parts)
{
    char entry[600];
    struct in_addr scratch;

    if (req->resolve_address == NULL || parts->host[0] == '[' ||
        inet_pton(AF_INET, parts->host, &scratch) == 1)
        return NULL;
    if (strchr(req->resolve_address, ':') != NULL)
        snprintf(entry, sizeof(entry), "%s:%s:[%s]", parts->host, parts->port,
                 req->resolve_address);
    else
        snprintf(entry, sizeof(entry), "%s:%s:%s", parts->host, parts->port,
                 req->resolve_address);
    return curl_slist_append(NULL, entry);
}

/* Applies the request's method, body, headers, timeouts and TLS settings. */
static void set_request_options(CURL *curl, const struct http_request *req,
                                struct curl_slist *headers)
{
    const char *method = req->method != NULL ? req->method : "GET";

    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* An empty proxy turns off the *_proxy environment variables, so a
     * request goes only to the address it names. */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "aftershock/" AFTERSHOCK_VERSION);

    if (req->body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, req->body != NULL ? "POST" : "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (headers != NULL)
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    if (req->timeout > 0)
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, to_millis(req->timeout));
    if (req->connect_timeout > 0)
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, to_millis(req->connect_timeout));
    else if (req->timeout > 0)
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, to_millis(req->timeout));

    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, req->verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, req->verify_tls ? 2L : 0L);
    if (req->follow_redirects) {
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
    }
}

/* Points libcurl's callbacks at cap and its error text at detail. */
static void set_capture_options(CURL *curl, struct capture *cap, char *detail)
{
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, cap);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, cap);
    /* The progress callback is the only place libcurl lets a transfer be aborted. */
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_stop);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, cap);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

/* Builds the header list. A body gets "Expect:" so curl does not wait for
 * 100 Continue. Returns -1 with err set for a line without a colon; the
 * message names the header but not its value. */
static int build_headers(const struct http_request *req, struct curl_slist **out,
                         struct err *err)
{
    struct curl_slist *list = NULL;

    for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
        const char *line = req->headers[i];
        const char *colon = strchr(line, ':');

        if (colon == NULL || colon == line) {
            curl_slist_free_all(list);
            return err_set(err, "invalid header '%.*s': expected 'Name: value'",
                           (int)strcspn(line, ":"), line);
        }
        list = curl_slist_append(list, line);
        if (list == NULL)
            return err_set(err, "out of memory building headers");
    }
    if (req->body != NULL)
        list = curl_slist_append(list, "Expect:");
    *out = list;
    return 0;
}

int http_send(const struct http_request *req, struct http_response *res,
              enum http_error_kind *kind, struct err *err)
{
    struct capture cap;
    struct url_parts parts;
    struct curl_slist *headers = NULL;
    struct curl_slist *resolve = NULL;
    char detail[CURL_ERROR_SIZE] = "";
    CURL *curl = NULL;
    CURLcode code;
    int rc = -1;

    http_global_init();
    memset(res, 0, sizeof(*res));
    memset(&cap, 0, sizeof(cap));
    strbuf_init(&cap.body);
    cap.body_max = req->body_max ? req->body_max : HTTP_DEFAULT_BODY_MAX;
    cap.stop = req->stop;
    *kind = HTTP_ERR_OTHER;

    if (url_parts_read(req->url, &parts, err) != 0)
        goto cleanup;
    if (build_headers(req, &headers, err) != 0)
        goto cleanup;
    curl = curl_easy_init();
    if (curl == NULL) {
        err_set(err, "cannot start a request to %s", parts.display);
        goto cleanup;
    }

    set_request_options(curl, req, headers);
    resolve = build_resolve(req, &parts);
    if (resolve != NULL)
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    set_capture_options(curl, &cap, detail);

    code = curl_easy_perform(curl);
    if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && cap.body_truncated)) {
        report_failure(curl, code, detail, req, &parts, kind, err);
        goto cleanup;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &res->elapsed);
    res->body_len = cap.body.len;
    res->body = strbuf_detach(&cap.body);
    res->body_truncated = cap.body_truncated;
    res->header_names = cap.names;
    res->header_values = cap.values;
    res->header_count = cap.count;
    cap.names = NULL;
    cap.values = NULL;
    cap.count = 0;
    *kind = HTTP_ERR_NONE;
    rc = 0;

cleanup:
    if (curl != NULL)
        curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    clear_headers(&cap);
    free(cap.names);
    free(cap.values);
    strbuf_release(&cap.body);
    url_parts_release(&parts);
    return rc;
}

void http_response_release(struct http_response *res)
{
    free(res->body);
    for (size_t i = 0; i < res->header_count; i++) {
        free(res->header_names[i]);
        free(res->header_values[i]);
    }
    free(res->header_names);
    free(res->header_values);
    memset(res, 0, sizeof(*res));
}
