/* Fuzz target: JSONPath expressions, and jsonpath and regex tolerances, over a JSON document.
 *
 * Input: the expression, a newline, then the JSON document. Without a
 * newline, or when the document does not parse, a fixed document is used. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/jsonpath.h"
#include "experiment/tolerance.h"

static const char fallback_doc[] =
    "{\"store\": {\"book\": [{\"title\": \"a\", \"price\": 8.95, \"tags\": [\"x\"]},"
    " {\"title\": \"b\", \"price\": 12, \"isbn\": \"1\"}], \"bicycle\": {\"price\": 19.95}},"
    " \"n\": null, \"t\": true, \"s\": \"text\"}";

static void check_as_tolerances(const char *expr, json_t *doc)
{
    json_t *tolerances[3];
    struct err err;
    bool met;

    tolerances[0] = json_pack("{s:s, s:s}", "type", "jsonpath", "path", expr);
    tolerances[1] = json_pack("{s:s, s:s, s:i, s:[i, s]}", "type", "jsonpath", "path", expr,
                              "count", 2, "expect", 1, "a");
    tolerances[2] = json_pack("{s:s, s:s}", "type", "regex", "pattern", expr);
    for (int i = 0; i < 3; i++) {
        if (tolerances[i] != NULL)
            tolerance_check(tolerances[i], doc, &met, &err);
        json_decref(tolerances[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *newline = memchr(data, '\n', size);
    size_t expr_len = newline ? (size_t)(newline - (const char *)data) : size;
    char *expr = malloc(expr_len + 1);
    json_t *doc = NULL, *matches = json_array();
    struct err err;

    if (expr == NULL)
        abort();
    memcpy(expr, data, expr_len);
    expr[expr_len] = '\0';

    if (newline != NULL)
        doc = json_loadb(newline + 1, size - expr_len - 1, JSON_DECODE_ANY, NULL);
    if (doc == NULL)
        doc = json_loads(fallback_doc, 0, NULL);

    if (jsonpath_query(expr, doc, matches, &err) == 0)
        json_array_clear(matches);
    jsonpath_check(expr, &err);
    check_as_tolerances(expr, doc);

    json_decref(matches);
    json_decref(doc);
    free(expr);
    return 0;
}
