/* Fuzz target: requirements files, pyproject.toml, specifiers and --fix appends.
 *
 * The input is parsed as a requirements file (includes are not followed) and
 * as pyproject.toml, and its first line as one specifier. Then two lines are
 * appended to it, and the result must start with the exact input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deps/fix.h"
#include "deps/requirements.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req_set set;
    const char *text = (const char *)data;
    const char *newline = memchr(data, '\n', size);
    size_t line_len = newline ? (size_t)(newline - text) : size;
    char *line = malloc(line_len + 1);
    char name[DIST_NAME_MAX];
    const char *why = NULL;
    bool marker;
    const char *lines[] = { "PyYAML", "numpy==1.0" };
    size_t out_len;
    char *out;

    if (line == NULL)
        abort();
    memset(&set, 0, sizeof(set));
    set.skip_includes = true;
    req_parse_text(&set, "fuzz.txt", text, size, false, 0);
    req_parse_pyproject(&set, "pyproject.toml", text, size);
    for (size_t i = 0; i < set.count; i++) {
        if (!dist_is_valid_name(set.items[i].name) && set.items[i].name[0] != '\0')
            abort();
    }
    req_set_release(&set);

    memcpy(line, data, line_len);
    line[line_len] = '\0';
    req_parse_spec(line, name, sizeof(name), &marker, &why);
    free(line);

    out = fix_append(text, size, lines, 2, &out_len);
    if (out_len < size || memcmp(out, data, size) != 0)
        abort();
    free(out);
    return 0;
}
