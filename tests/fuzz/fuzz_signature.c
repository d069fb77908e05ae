/* Fuzz target: failure signature normalisation and the history store's time parser.
 *
 * The whole input is normalised into buffers of several sizes (checking
 * that the result is NUL-terminated, no longer than the buffer, and stable
 * when normalised again), classified, and parsed as a time. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/signature.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = { 1, 2, 7, 64, SIGNATURE_MAX };
    char *text = malloc(size + 1);
    char out[SIGNATURE_MAX], again[SIGNATURE_MAX];
    struct err err;
    double epoch;

    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t len = signature_normalize(text, out, sizes[i]);
        if (len >= sizes[i] || strlen(out) != len)
            abort();
    }
    /* A signature of a signature is itself, unless cutting made it end mid-token. */
    size_t len = signature_normalize(text, out, sizeof(out));
    signature_normalize(out, again, sizeof(again));
    if (len < SIGNATURE_MAX - 16 && strcmp(out, again) != 0)
        abort();

    store_classify_failure(text);
    store_time_parse(text, 1772323200.0, &epoch, &err);
    free(text);
    return 0;
}
