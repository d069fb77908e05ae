/* A small first classification of run failure messages into healing categories.
 *
 * The rules are case-insensitive substrings, tried in order, and the first
 * match wins. They cover the messages of aftershock's own providers (see
 * src/util/http.c and the process provider) and the usual libc and Python
 * texts. The healer brings the full, configurable classification. */
#include <string.h>

#include "store/store.h"

static const struct {
    const char *needle;
    const char *category;
} rules[] = {
    { "timed out", "timeout" },
    { "timeout", "timeout" },
    { "deadline exceeded", "timeout" },
    { "connection refused", "network" },
    { "connection reset", "network" },
    { "cannot resolve", "network" },
    { "could not resolve", "network" },
    { "name or service not known", "network" },
    { "network is unreachable", "network" },
    { "no route to host", "network" },
    { "broken pipe", "network" },
    { "no module named", "dependency" },
    { "modulenotfounderror", "dependency" },
    { "importerror", "dependency" },
    { "command not found", "dependency" },
    { "no space left", "resource" },
    { "cannot allocate memory", "resource" },
    { "out of memory", "resource" },
    { "too many open files", "resource" },
    { "toxic", "injection" },
    { "toxiproxy", "injection" },
    { "permission denied", "config" },
    { "no such file", "config" },
    { "does not exist", "config" },
    { "not executable", "config" },
    { "invalid", "config" },
};

const char *store_classify_failure(const char *message)
{
    if (message == NULL)
        return "unknown";
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (strcasestr(message, rules[i].needle) != NULL)
            return rules[i].category;
    }
    return "unknown";
}
