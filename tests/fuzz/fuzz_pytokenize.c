/* Fuzz target: Python source decoding, tokenizing and import finding, and notebooks.
 *
 * The input is scanned as a .py file (decoded in place from a copy) and,
 * separately, as notebook JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deps/imports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct py_scan_opts opts = { .python_minor = 11 };
    struct py_imports imports = { 0 };
    char *copy = malloc(size + 1);

    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    py_scan_source(copy, size, &opts, &imports);
    for (size_t i = 0; i < imports.count; i++) {
        if (imports.items[i].module == NULL || imports.items[i].line < 1)
            abort();
    }
    py_imports_release(&imports);

    py_scan_notebook((const char *)data, size, &opts, &imports);
    py_imports_release(&imports);
    free(copy);
    return 0;
}
