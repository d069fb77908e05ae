/* Parsing HTTP/1.x responses as their bytes arrive: status, framing (length, chunked, close), keep-alive. */
#include "traffic/http_response.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void http_response_init(struct http_response *p, bool no_body)
{
    p->state = HTTP_RESPONSE_HEAD;
    p->no_body = no_body;
    p->status = 0;
    p->keep_alive = false;
    p->remaining = 0;
    p->head_len = 0;
}

/* True when a comma-separated header value lists token (any case). */
static bool has_token(const char *value, size_t len, const char *token)
{
    size_t n = strlen(token);

    for (size_t i = 0; i + n <= len; i++) {
        if (strncasecmp(value + i, token, n) == 0 && (i == 0 || !isalnum((unsigned char)value[i - 1])) &&
            (i + n == len || !isalnum((unsigned char)value[i + n])))
            return true;
    }
    return false;
}

static int parse_length(const char *value, size_t len, uint64_t *out)
{
    uint64_t n = 0;
    size_t i = 0;

    while (i < len && (value[i] == ' ' || value[i] == '\t'))
        i++;
    if (i == len || !isdigit((unsigned char)value[i]))
        return -1;
    for (; i < len && isdigit((unsigned char)value[i]); i++) {
        if (n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(value[i] - '0');
    }
    while (i < len && (value[i] == ' ' || value[i] == '\t'))
        i++;
    if (i != len)
        return -1;
    *out = n;
    return 0;
}

/* Reads the status line and headers in head[0..len) and picks the framing. */
static int parse_head(struct http_response *p, size_t len)
{
    const char *h = p->head, *end = h + len, *line;
    bool http11, chunked = false, has_length = false, close = false, keep = false;
    uint64_t length = 0;

    if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
        !isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
        !isdigit((unsigned char)h[11]))
        return -1;
    http11 = h[7] == '1';
    p->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    if (p->status < 100)
        return -1;
    line = memchr(h, '\n', len);
    for (line = line ? line + 1 : end; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *stop = eol ? eol : end, *colon;
        size_t n = (size_t)(stop - line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        colon = memchr(line, ':', n);
        if (colon != NULL) {
            size_t name = (size_t)(colon - line), vlen = n - name - 1;
            const char *value = colon + 1;
            if (name == 14 && strncasecmp(line, "content-length", 14) == 0) {
                uint64_t v;
                if (parse_length(value, vlen, &v) != 0 || (has_length && v != length))
                    return -1;
                length = v;
                has_length = true;
            } else if (name == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
                chunked = has_token(value, vlen, "chunked");
            } else if (name == 10 && strncasecmp(line, "connection", 10) == 0) {
                close = close || has_token(value, vlen, "close");
                keep = keep || has_token(value, vlen, "keep-alive");
            }
        }
        line = eol ? eol + 1 : end;
    }
    p->keep_alive = !close && (http11 || keep);

    if (p->status >= 100 && p->status < 200 && p->status != 101) {
        p->state = HTTP_RESPONSE_HEAD;  /* an interim response; the real one follows */
        return 0;
    }
    if (p->no_body || p->status == 204 || p->status == 304 || p->status == 101) {
        p->state = HTTP_RESPONSE_DONE;
    } else if (chunked) {
        p->state = HTTP_RESPONSE_CHUNK_SIZE;
    } else if (has_length) {
        p->remaining = length;
        p->state = length > 0 ? HTTP_RESPONSE_LENGTH : HTTP_RESPONSE_DONE;
    } else {
        p->keep_alive = false;
        p->state = HTTP_RESPONSE_UNTIL_CLOSE;
    }
    return 0;
}

/* Appends bytes to head up to the end of a line (or the blank line ending the
 * head when whole_head); returns the bytes used, and sets *complete. */
static int take_line(struct http_response *p, const char *data, size_t len, bool whole_head,
                     size_t *used, bool *complete)
{
    *complete = false;
    for (*used = 0; *used < len;) {
        if (p->head_len >= sizeof(p->head))
            return -1;
        char c = data[(*used)++];
        p->head[p->head_len++] = c;
        if (c != '\n')
            continue;
        if (!whole_head || (p->head_len >= 2 && p->head[p->head_len - 2] == '\n') ||
            (p->head_len >= 3 && p->head[p->head_len - 2] == '\r' &&
             p->head[p->head_len - 3] == '\n')) {
            *complete = true;
            return 0;
        }
    }
    return 0;
}

static int chunk_size(struct http_response *p)
{
    uint64_t n = 0;
    size_t i = 0, digits = 0;

    for (; i < p->head_len && isxdigit((unsigned char)p->head[i]); i++, digits++) {
        if (n > (UINT64_MAX >> 4))
            return -1;
        n = n * 16 + (uint64_t)(isdigit((unsigned char)p->head[i])
                                    ? p->head[i] - '0'
                                    : tolower((unsigned char)p->head[i]) - 'a' + 10);
    }
    if (digits == 0 || (p->head[i] != ';' && p->head[i] != '\r' && p->head[i] != '\n' &&
                        p->head[i] != ' ' && p->head[i] != '\t'))
        return -1;
    p->remaining = n;
    p->state = n > 0 ? HTTP_RESPONSE_CHUNK_DATA : HTTP_RESPONSE_TRAILER;
    return 0;
}

/* One step of the state machine on data; returns bytes used or -1. */
static long step(struct http_response *p, const char *data, size_t len)
{
    size_t used = 0;
    bool complete;

    switch (p->state) {
    case HTTP_RESPONSE_HEAD:
    case HTTP_RESPONSE_CHUNK_SIZE:
    case HTTP_RESPONSE_CHUNK_END:
    case HTTP_RESPONSE_TRAILER:
        if (take_line(p, data, len, p->state == HTTP_RESPONSE_HEAD, &used, &complete) != 0)
            return -1;
        /* Only CRLF (or LF) may follow chunk data. */
        if (p->state == HTTP_RESPONSE_CHUNK_END && !complete &&
            (p->head_len > 1 || p->head[0] != '\r'))
            return -1;
        if (!complete)
            return (long)used;
        if (p->state == HTTP_RESPONSE_HEAD) {
            if (parse_head(p, p->head_len) != 0)
                return -1;
        } else if (p->state == HTTP_RESPONSE_CHUNK_SIZE) {
            if (chunk_size(p) != 0)
                return -1;
        } else if (p->state == HTTP_RESPONSE_CHUNK_END) {
            if (!(p->head_len == 1 || (p->head_len == 2 && p->head[0] == '\r')))
                return -1;
            p->state = HTTP_RESPONSE_CHUNK_SIZE;
        } else if (p->head_len == 1 || (p->head_len == 2 && p->head[0] == '\r')) {
            p->state = HTTP_RESPONSE_DONE;  /* the blank line after the trailers */
        }
        p->head_len = 0;
        return (long)used;
    case HTTP_RESPONSE_LENGTH:
    case HTTP_RESPONSE_CHUNK_DATA:
        used = len < p->remaining ? len : (size_t)p->remaining;
        p->remaining -= used;
        if (p->remaining == 0)
            p->state = p->state == HTTP_RESPONSE_LENGTH ? HTTP_RESPONSE_DONE
                                                        : HTTP_RESPONSE_CHUNK_END;
        return (long)used;
    case HTTP_RESPONSE_UNTIL_CLOSE:
        return (long)len;
    default:
        return -1;
    }
}

int http_response_feed(struct http_response *p, const char *data, size_t len, size_t *used)
{
    *used = 0;
    while (p->state != HTTP_RESPONSE_DONE) {
        if (*used == len)
            return 0;
        long n = step(p, data + *used, len - *used);
        if (n < 0) {
            p->state = HTTP_RESPONSE_ERROR;
            return -1;
        }
        *used += (size_t)n;
    }
    return 1;
}

int http_response_eof(struct http_response *p)
{
    if (p->state == HTTP_RESPONSE_UNTIL_CLOSE) {
        p->state = HTTP_RESPONSE_DONE;
        return 1;
    }
    return p->state == HTTP_RESPONSE_DONE ? 1 : -1;
}
