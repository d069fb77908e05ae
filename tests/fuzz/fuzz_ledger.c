/* Fuzz target: fault ledger files.
 *
 * The input is parsed as a ledger file. When it parses, it is formatted and
 * parsed again, and the second parse must succeed with the same faults. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ledger_file file, again;
    struct err err;
    char *text;

    if (ledger_file_parse((const char *)data, size, &file, &err) != 0)
        return 0;
    text = ledger_file_format(&file);
    if (ledger_file_parse(text, strlen(text), &again, &err) != 0)
        abort();
    if (again.count != file.count || again.run.pid != file.run.pid)
        abort();
    for (size_t i = 0; i < file.count; i++) {
        if (again.entries[i].id != file.entries[i].id ||
            again.entries[i].kind != file.entries[i].kind)
            abort();
    }
    free(text);
    ledger_file_release(&file);
    ledger_file_release(&again);
    return 0;
}
