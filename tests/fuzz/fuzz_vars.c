/* Fuzz target: --var assignments, .env text, value conversion and ${name} substitution.
 *
 * The first line is parsed as a --var argument and converted to every
 * type. The whole input is then parsed as a .env file, and finally
 * substituted, as a string, with the values gathered. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/problems.h"
#include "experiment/substitute.h"

static void convert_all(const char *text)
{
    static const char *const types[] = { "str", "int", "float", "bool", "json", "nope" };
    struct err err;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        json_decref(vars_convert(types[i], text, &err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *newline = memchr(data, '\n', size);
    size_t line_len = newline ? (size_t)(newline - (const char *)data) : size;
    char *line = malloc(line_len + 1);
    json_t *vars = json_object();
    struct problems problems;
    struct err err;

    if (line == NULL)
        abort();
    memcpy(line, data, line_len);
    line[line_len] = '\0';

    vars_parse_assignment(line, vars, &err);
    convert_all(line);
    vars_is_valid_name(line);
    vars_parse_dotenv((const char *)data, size, "fuzz.env", vars, &err);

    json_t *text = json_stringn((const char *)data, size);
    if (text != NULL) {
        json_t *holder = json_pack("{s:[o, {s:o}]}", "field", json_copy(text), "nested",
                                   json_copy(text));
        problems_init(&problems, "fuzz");
        experiment_substitute(holder, vars, "", &problems);
        experiment_substitute(text, vars, "root", &problems);
        problems_release(&problems);
        json_decref(holder);
        json_decref(text);
    }

    json_decref(vars);
    free(line);
    return 0;
}
