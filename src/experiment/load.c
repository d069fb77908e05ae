/* Reading experiment files: choosing JSON or YAML and reporting errors with their position. */
#include "experiment/load.h"

#include <stdbool.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "experiment/yaml_internal.h"
#include "util/fsutil.h"

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

static size_t skip_bom(const char *text, size_t len)
{
    return len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

static bool looks_like_json(const char *text, size_t len)
{
    for (size_t i = skip_bom(text, len); i < len; i++) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')
            continue;
        return text[i] == '{';
    }
    return false;
}

static json_t *parse_json(const char *text, size_t len, const char *name, struct err *err)
{
    json_error_t error;
    size_t start = skip_bom(text, len);
    json_t *root;

    /* Duplicate keys are rejected because the later one would silently
     * replace the earlier, dropping part of a method or hypothesis. */
    root = json_loadb(text + start, len - start, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    if (root == NULL)
        err_set(err, "%s:%d:%d: %s", name, error.line, error.column, error.text);
    return root;
}

json_t *experiment_parse(const char *text, size_t len, const char *name, struct err *err)
{
    bool json;

    if (name == NULL || name[0] == '\0')
        name = "<input>";
    if (has_suffix(name, ".json"))
        json = true;
    else if (has_suffix(name, ".yaml") || has_suffix(name, ".yml"))
        json = false;
    else
        json = looks_like_json(text, len);

    if (len > EXPERIMENT_MAX_SIZE) {
        err_set(err, "%s: larger than %d bytes", name, EXPERIMENT_MAX_SIZE);
        return NULL;
    }
    return json ? parse_json(text, len, name, err) : yaml_parse(text, len, name, err);
}

json_t *experiment_load(const char *path, struct err *err)
{
    size_t len = 0;
    char *text = fs_read_file(path, EXPERIMENT_MAX_SIZE, &len, err);
    json_t *root;

    if (text == NULL)
        return NULL;
    root = experiment_parse(text, len, path, err);
    free(text);
    if (root != NULL && !json_is_object(root)) {
        err_set(err, "%s:1:1: the top level must be a mapping of experiment fields (title, "
                     "description, method, ...)",
                path);
        json_decref(root);
        return NULL;
    }
    return root;
}
