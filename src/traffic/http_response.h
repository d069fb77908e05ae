/* An incremental parser for HTTP/1.x responses, for the raw traffic sender. */
#ifndef AFTERSHOCK_TRAFFIC_HTTP_RESPONSE_H
#define AFTERSHOCK_TRAFFIC_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_RESPONSE_HEAD_MAX 16384

enum http_response_state {
    HTTP_RESPONSE_HEAD,         /* reading the status line and headers */
    HTTP_RESPONSE_LENGTH,       /* a body of Content-Length bytes */
    HTTP_RESPONSE_CHUNK_SIZE,   /* a chunk-size line */
    HTTP_RESPONSE_CHUNK_DATA,
    HTTP_RESPONSE_CHUNK_END,    /* the CRLF after chunk data */
    HTTP_RESPONSE_TRAILER,      /* trailer lines after the last chunk */
    HTTP_RESPONSE_UNTIL_CLOSE,  /* a body that ends when the server closes */
    HTTP_RESPONSE_DONE,
    HTTP_RESPONSE_ERROR,
};

/* Invariant: head holds head_len bytes of an unfinished head, or of the
 * current chunk-size or trailer line; remaining counts body bytes still due
 * in the LENGTH and CHUNK_DATA states. */
struct http_response {
    enum http_response_state state;
    bool no_body;               /* the request was HEAD: no response has a body */
    int status;
    bool keep_alive;            /* the connection may carry another request */
    uint64_t remaining;
    char head[HTTP_RESPONSE_HEAD_MAX];
    size_t head_len;
};

/* Prepares p for the response to one request; no_body for HEAD requests. */
void http_response_init(struct http_response *p, bool no_body);

/* Feeds received bytes. Returns 1 when the response is complete (*used
 * bytes were part of it), 0 when more is needed (all bytes used), -1 when
 * the response is malformed. 1xx interim responses are skipped. */
int http_response_feed(struct http_response *p, const char *data, size_t len, size_t *used);

/* The server closed the connection. Returns 1 when that completes the
 * response (a body read until close), -1 otherwise. */
int http_response_eof(struct http_response *p);

#endif
