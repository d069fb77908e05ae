/* A small HTTP client on libcurl, shared by probes and the http provider. */
#ifndef AFTERSHOCK_UTIL_HTTP_H
#define AFTERSHOCK_UTIL_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct http_request {
    const char *method;              /* "GET" when NULL */
    const char *url;
    const char *const *headers;      /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;                /* request body or NULL */
    size_t body_len;
    double connect_timeout;          /* seconds; 0 means the total timeout */
    double timeout;                  /* seconds for the whole exchange; 0 means none */
    bool verify_tls;                 /* verify the server certificate and host name */
    bool follow_redirects;
    size_t body_max;                 /* bytes of response body kept; 0 means 1 MiB */
    const char *resolve_address;     /* connect to this numeric address instead of
                                      * resolving the host (for trying each address) */
    volatile sig_atomic_t *stop;     /* abort the transfer once it becomes non-zero; may be NULL */
};

struct http_response {
    long status;
    char *body;                      /* NUL-terminated, never NULL after success */
    size_t body_len;
    bool body_truncated;
    char **header_names;             /* lowercase names, in order */
    char **header_values;
    size_t header_count;
    double elapsed;                  /* seconds */
};

/* Failure kinds, for probes and traffic accounting. */
enum http_error_kind {
    HTTP_ERR_NONE = 0,
    HTTP_ERR_REFUSED,
    HTTP_ERR_TIMEOUT,
    HTTP_ERR_RESET,
    HTTP_ERR_RESOLVE,
    HTTP_ERR_TLS,
    HTTP_ERR_OTHER,
};

/* Calls curl_global_init once, through pthread_once, so any thread may call it. */
void http_global_init(void);

/* Sends a request and reads the response. Returns 0 when a response arrived
 * (whatever its status) or -1 with err set ("connection refused by
 * 127.0.0.1:8080", "timed out after 2 s", ...) and *kind set. A body longer
 * than body_max ends the transfer early and still returns 0, with
 * body_truncated set. A transfer aborted through stop fails with
 * HTTP_ERR_OTHER and "interrupted". Only http and https are allowed, proxies
 * from the environment are ignored, and messages never contain header values
 * or the URL's password. Safe to call from several threads at once. Callers
 * that use https should ignore SIGPIPE, because CURLOPT_NOSIGNAL is set. */
int http_send(const struct http_request *req, struct http_response *res,
              enum http_error_kind *kind, struct err *err);

void http_response_release(struct http_response *res);

#endif
