/* Fuzz target: the byte sizes and fill paths of stress providers.
 *
 * The input's first line is parsed as a size; a size that parses must be
 * within the documented range, and its formatted text must fit. The rest is
 * checked as a fill file path; a path that passes must be relative and
 * contain no `..` component. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stress/stress.h"

static void check_path(const char *file)
{
    struct err err;
    const char *p = file;

    if (stress_fill_check_path("/var/tmp", file, &err) != 0)
        return;
    if (file[0] == '/')
        abort();
    while (*p != '\0') {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            abort();
        p += len;
        while (*p == '/')
            p++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *newline, formatted[32];
    struct err err;
    uint64_t bytes;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    newline = strchr(text, '\n');
    if (newline != NULL)
        *newline = '\0';

    if (stress_parse_size(text, &bytes, &err) == 0) {
        if (bytes < 1 || bytes > (UINT64_C(1) << 62))
            abort();
        stress_format_size(bytes, formatted, sizeof(formatted));
        if (strlen(formatted) == 0)
            abort();
    }
    if (newline != NULL)
        check_path(newline + 1);
    free(text);
    return 0;
}
