/* Fuzz target: the raw traffic sender's HTTP/1.x response parser.
 *
 * The first byte picks a piece size and whether the request was HEAD; the
 * rest is fed in pieces of that size, as recv() would hand it over, then
 * the connection is closed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "traffic/http_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_response *p = malloc(sizeof(*p));
    size_t step, at = 1;

    if (p == NULL)
        abort();
    if (size == 0) {
        free(p);
        return 0;
    }
    step = (size_t)(data[0] & 0x7f) + 1;
    http_response_init(p, (data[0] & 0x80) != 0);
    while (at < size) {
        size_t n = size - at < step ? size - at : step, used;
        int rc = http_response_feed(p, (const char *)data + at, n, &used);
        if (used > n)
            abort();
        if (rc != 0) {
            /* A completed response leaves the rest for the next one. */
            if (rc > 0)
                http_response_init(p, false);
            else
                break;
        }
        at += used > 0 ? used : n;
    }
    http_response_eof(p);
    free(p);
    return 0;
}
