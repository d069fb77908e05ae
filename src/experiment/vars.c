/* Substitution values given on the command line: --var assignments and --var-file files. */
#include "experiment/substitute.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "experiment/load.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

static bool type_is(const char *type, const char *a, const char *b, const char *c)
{
    return strcmp(type, a) == 0 || (b && strcmp(type, b) == 0) || (c && strcmp(type, c) == 0);
}

/* Copies text without leading and trailing blanks into a new string. */
static char *trimmed_copy(const char *text)
{
    size_t len;

    while (isspace((unsigned char)*text))
        text++;
    len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    char *copy = strndup(text, len);
    if (copy == NULL)
        abort();
    return copy;
}

static json_t *convert_int(const char *text, struct err *err)
{
    char *number = trimmed_copy(text);
    char *end = NULL;
    long long value;
    bool ok;

    errno = 0;
    value = strtoll(number, &end, 10);
    ok = number[0] != '\0' && *end == '\0' && errno == 0;
    free(number);
    if (!ok) {
        err_set(err, "'%.60s' is not an int", text);
        return NULL;
    }
    return json_integer(value);
}

static json_t *convert_float(const char *text, struct err *err)
{
    char *number = trimmed_copy(text);
    char *end = NULL;
    double value;
    bool ok;

    value = strtod(number, &end);
    ok = number[0] != '\0' && *end == '\0' && isfinite(value) && strpbrk(number, "xX") == NULL;
    free(number);
    if (!ok) {
        err_set(err, "'%.60s' is not a finite float", text);
        return NULL;
    }
    return json_real(value);
}

static json_t *convert_bool(const char *text, struct err *err)
{
    static const char *const truths[] = { "true", "yes", "on", "1", NULL };
    static const char *const lies[] = { "false", "no", "off", "0", NULL };
    char *word = trimmed_copy(text);
    json_t *value = NULL;

    for (int i = 0; truths[i] != NULL && value == NULL; i++) {
        if (strcasecmp(word, truths[i]) == 0)
            value = json_true();
        else if (strcasecmp(word, lies[i]) == 0)
            value = json_false();
    }
    free(word);
    if (value == NULL)
        err_set(err, "'%.60s' is not a bool; use true or false", text);
    return value;
}

json_t *vars_convert(const char *type, const char *text, struct err *err)
{
    json_t *value;

    if (type_is(type, "str", "string", "bytes")) {
        value = json_string(text);
        if (value == NULL)
            err_set(err, "the value is not valid UTF-8");
        return value;
    }
    if (type_is(type, "int", "integer", NULL))
        return convert_int(text, err);
    if (type_is(type, "float", "number", NULL))
        return convert_float(text, err);
    if (type_is(type, "bool", NULL, NULL))
        return convert_bool(text, err);
    if (type_is(type, "json", NULL, NULL)) {
        json_error_t error;
        value = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
        if (value == NULL)
            err_set(err, "the value is not valid JSON: %s at column %d", error.text,
                    error.column);
        return value;
    }
    err_set(err, "unknown type '%.40s'; use str, int, float, bool or json", type);
    return NULL;
}

int vars_parse_assignment(const char *text, json_t *vars, struct err *err)
{
    const char *equals = strchr(text, '=');
    const char *type = "str";
    char *name, *colon;
    struct err why;
    json_t *value;

    if (equals == NULL || equals == text)
        return err_set(err, "invalid --var '%.60s': expected NAME=VALUE or NAME:TYPE=VALUE",
                       text);
    name = strndup(text, (size_t)(equals - text));
    if (name == NULL)
        abort();
    colon = strchr(name, ':');
    if (colon != NULL) {
        *colon = '\0';
        type = colon + 1;
    }

    if (!vars_is_valid_name(name)) {
        err_set(err, "invalid --var name '%.60s': a name starts with a letter or '_' and "
                     "holds only letters, digits and '_'",
                name);
        free(name);
        return -1;
    }
    value = vars_convert(type, equals + 1, &why);
    if (value == NULL) {
        err_set(err, "invalid --var '%s': %s", name, why.msg);
        free(name);
        return -1;
    }
    json_object_set_new(vars, name, value);
    free(name);
    return 0;
}

/* Reads a quoted .env value from line[*pos] (at the opening quote) into out.
 * Double quotes take \n, \t, \r, \" and \\ escapes; single quotes none. */
static bool read_quoted(const char *line, size_t len, size_t *pos, struct strbuf *out)
{
    char quote = line[*pos];
    size_t i = *pos + 1;

    for (; i < len; i++) {
        char c = line[i];
        if (c == quote) {
            *pos = i + 1;
            return true;
        }
        if (c == '\\' && quote == '"' && i + 1 < len) {
            const char *hit = strchr("nrt\"\\", line[i + 1]);
            if (hit != NULL && line[i + 1] != '\0') {
                strbuf_addch(out, "\n\r\t\"\\"[hit - "nrt\"\\"]);
                i++;
                continue;
            }
        }
        strbuf_addch(out, c);
    }
    return false;
}

/* Parses one non-blank, non-comment .env line into a name and value. */
static int parse_dotenv_line(const char *line, size_t len, const char *where, json_t *vars,
                             struct err *err)
{
    struct strbuf value = STRBUF_INIT;
    size_t i = 0, name_end;
    char *name;
    int rc = 0;

    if (len > 7 && strncmp(line, "export", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
        i = 7;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
    }
    name_end = i;
    while (name_end < len && line[name_end] != '=')
        name_end++;
    if (name_end >= len)
        return err_set(err, "%s: expected NAME=VALUE", where);
    size_t name_len = name_end;
    while (name_len > i && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
        name_len--;
    name = strndup(line + i, name_len - i);
    if (name == NULL)
        abort();
    if (!vars_is_valid_name(name)) {
        rc = err_set(err, "%s: invalid name '%.60s'; a name starts with a letter or '_' and "
                          "holds only letters, digits and '_'",
                     where, name);
        goto cleanup;
    }

    i = name_end + 1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && (line[i] == '"' || line[i] == '\'')) {
        if (!read_quoted(line, len, &i, &value)) {
            rc = err_set(err, "%s: the quoted value of '%s' is not closed on this line", where,
                         name);
            goto cleanup;
        }
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < len && line[i] != '#') {
            rc = err_set(err, "%s: unexpected text after the quoted value of '%s'", where, name);
            goto cleanup;
        }
    } else {
        size_t end = i;
        while (end < len && !(line[end] == '#' && end > i &&
                              (line[end - 1] == ' ' || line[end - 1] == '\t')))
            end++;
        while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
            end--;
        strbuf_add(&value, line + i, end - i);
    }

    json_t *string = json_stringn(strbuf_str(&value), value.len);
    if (string == NULL)
        rc = err_set(err, "%s: the value of '%s' is not valid UTF-8", where, name);
    else
        json_object_set_new(vars, name, string);

cleanup:
    free(name);
    strbuf_release(&value);
    return rc;
}

int vars_parse_dotenv(const char *text, size_t len, const char *name, json_t *vars,
                      struct err *err)
{
    size_t start = 0, line_number = 0;

    if (memchr(text, '\0', len) != NULL)
        return err_set(err, "%s: contains a NUL byte, so it is not a .env text file", name);
    while (start < len) {
        const char *newline = memchr(text + start, '\n', len - start);
        size_t end = newline ? (size_t)(newline - text) : len;
        size_t line_end = end;
        char where[512];

        line_number++;
        if (line_end > start && text[line_end - 1] == '\r')
            line_end--;
        while (start < line_end && (text[start] == ' ' || text[start] == '\t'))
            start++;
        snprintf(where, sizeof(where), "%s:%zu", name, line_number);
        if (start < line_end && text[start] != '#' &&
            parse_dotenv_line(text + start, line_end - start, where, vars, err) != 0)
            return -1;
        start = end + 1;
    }
    return 0;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

/* True for the Chaos Toolkit layout {configuration: {...}, secrets: {scope: {...}}}. */
static bool is_sectioned(json_t *root)
{
    const char *key;
    json_t *value;

    if (json_object_size(root) == 0)
        return false;
    json_object_foreach(root, key, value) {
        if ((strcmp(key, "configuration") != 0 && strcmp(key, "secrets") != 0) ||
            !json_is_object(value))
            return false;
    }
    return true;
}

static void add_sections(json_t *root, json_t *vars)
{
    json_t *secrets = json_object_get(root, "secrets");
    const char *scope;
    json_t *entries;

    json_object_foreach(secrets, scope, entries) {
        if (json_is_object(entries))
            json_object_update(vars, entries);
    }
    if (json_object_get(root, "configuration") != NULL)
        json_object_update(vars, json_object_get(root, "configuration"));
}

int vars_load_file(const char *path, json_t *vars, struct err *err)
{
    size_t len = 0;
    char *text = fs_read_file(path, EXPERIMENT_MAX_SIZE, &len, err);
    json_t *parsed = NULL;
    int rc = -1;

    if (text == NULL)
        return -1;

    if (has_suffix(path, ".env")) {
        const char *key;
        json_t *value;
        parsed = json_object();
        if (vars_parse_dotenv(text, len, path, parsed, err) != 0)
            goto cleanup;
        json_object_foreach(parsed, key, value) {
            if (setenv(key, json_string_value(value), 1) != 0) {
                err_set_errno(err, errno, "%s: cannot set environment variable '%s'", path, key);
                goto cleanup;
            }
        }
        json_object_update(vars, parsed);
        rc = 0;
        goto cleanup;
    }

    parsed = experiment_parse(text, len, path, err);
    if (parsed == NULL)
        goto cleanup;
    if (!json_is_object(parsed)) {
        err_set(err, "%s: a var file must be a mapping of names to values", path);
        goto cleanup;
    }
    if (is_sectioned(parsed))
        add_sections(parsed, vars);
    else
        json_object_update(vars, parsed);
    rc = 0;

cleanup:
    json_decref(parsed);
    free(text);
    return rc;
}
