/* Fuzz target for the probe target parser and the status range parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct probe_target target;
    struct err err;
    long min = 0, max = 0;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err_clear(&err);

    if (probe_target_parse(text, &target, &err) == 0) {
        /* The invariant of struct probe_target must hold for every accepted input. */
        if (target.text == NULL || target.display == NULL)
            abort();
        if (target.kind == PROBE_EXEC && target.command == NULL)
            abort();
        if (target.kind != PROBE_EXEC) {
            long port = strtol(target.port, NULL, 10);
            if (target.host == NULL || port < 1 || port > 65535)
                abort();
        }
        if (target.kind == PROBE_HTTP && target.url == NULL)
            abort();
        probe_target_release(&target);
    } else if (err.msg[0] == '\0') {
        abort();
    }

    if (probe_parse_status(text, &min, &max, &err) == 0 && (min < 100 || max > 599 || min > max))
        abort();

    free(text);
    return 0;
}
