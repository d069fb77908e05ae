/* Resolving configuration and secrets into values, and replacing ${name} references with them. */
#include "experiment/substitute.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/value.h"
#include "util/strbuf.h"

static bool is_name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool vars_is_valid_name(const char *name)
{
    if (!is_name_start(name[0]))
        return false;
    for (const char *p = name + 1; *p != '\0'; p++) {
        if (!is_name_char(*p))
            return false;
    }
    return true;
}

/* Returns the length of the name in a reference "${name}" that starts at
 * text[start], or 0 when no valid "}" ends the name. */
static size_t reference_name_length(const char *text, size_t len, size_t start)
{
    size_t i = start + 2;

    if (i >= len || !is_name_start(text[i]))
        return 0;
    while (i < len && is_name_char(text[i]))
        i++;
    if (i >= len || text[i] != '}')
        return 0;
    return i - (start + 2);
}

static void add_unknown_problem(struct problems *problems, const char *field, const char *name,
                                size_t len)
{
    problems_add(problems, field,
                 "'${%.*s}' does not resolve: declare '%.*s' under configuration or secrets, or "
                 "pass --var %.*s=VALUE",
                 (int)len, name, (int)len, name, (int)len, name);
}

/* Returns the replacement for a string that needs one (a new reference), or
 * NULL when it has no reference. Adds a problem for each reference that
 * does not resolve or is malformed. */
static json_t *substitute_string(json_t *node, json_t *values, const char *field,
                                 struct problems *problems, int *added)
{
    const char *text = json_string_value(node);
    size_t len = json_string_length(node);
    struct strbuf out = STRBUF_INIT;
    json_t *replacement;
    size_t i = 0;

    if (memchr(text, '$', len) == NULL)
        return NULL;

    /* A string that is exactly one reference takes the value with its type. */
    if (len > 3 && text[0] == '$' && text[1] == '{' && reference_name_length(text, len, 0) == len - 3) {
        char *name = strndup(text + 2, len - 3);
        json_t *value = values ? json_object_get(values, name) : NULL;
        free(name);
        if (value != NULL)
            return json_deep_copy(value);
        add_unknown_problem(problems, field, text + 2, len - 3);
        (*added)++;
        return NULL;
    }

    while (i < len) {
        if (text[i] == '$' && i + 2 < len && text[i + 1] == '$' && text[i + 2] == '{') {
            strbuf_addch(&out, '$');
            i += 2;
            continue;
        }
        if (text[i] != '$' || i + 1 >= len || text[i + 1] != '{') {
            strbuf_addch(&out, text[i++]);
            continue;
        }

        size_t name_len = reference_name_length(text, len, i);
        if (name_len == 0) {
            problems_add(problems, field,
                         "'%.40s' is not a valid reference: write ${name} with letters, digits "
                         "and '_', or $${ for a literal ${",
                         text + i);
            (*added)++;
            strbuf_addstr(&out, "${");
            i += 2;
            continue;
        }
        char *name = strndup(text + i + 2, name_len);
        json_t *value = values ? json_object_get(values, name) : NULL;
        free(name);
        if (value == NULL) {
            add_unknown_problem(problems, field, text + i + 2, name_len);
            (*added)++;
            strbuf_add(&out, text + i, name_len + 3);
        } else {
            char *formatted = value_to_text(value);
            strbuf_addstr(&out, formatted);
            free(formatted);
        }
        i += name_len + 3;
    }

    replacement = json_stringn(out.buf ? out.buf : "", out.len);
    strbuf_release(&out);
    return replacement;
}

static int substitute_node(json_t *node, json_t *values, struct strbuf *field,
                           struct problems *problems);

static int substitute_child(json_t *child, json_t *values, struct strbuf *field,
                            struct problems *problems, json_t **replacement)
{
    int added = 0;

    *replacement = NULL;
    if (json_is_string(child))
        *replacement = substitute_string(child, values, strbuf_str(field), problems, &added);
    else
        added = substitute_node(child, values, field, problems);
    return added;
}

static int substitute_node(json_t *node, json_t *values, struct strbuf *field,
                           struct problems *problems)
{
    size_t base = field->len;
    json_t *replacement;
    int added = 0;

    if (json_is_object(node)) {
        const char *key;
        json_t *child;
        json_object_foreach(node, key, child) {
            strbuf_addf(field, "%s%s", base > 0 ? "." : "", key);
            added += substitute_child(child, values, field, problems, &replacement);
            /* Replacing the value of an existing key keeps the iteration valid. */
            if (replacement != NULL)
                json_object_set_new(node, key, replacement);
            field->len = base;
            field->buf[base] = '\0';
        }
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            strbuf_addf(field, "[%zu]", i);
            added += substitute_child(json_array_get(node, i), values, field, problems,
                                      &replacement);
            if (replacement != NULL)
                json_array_set_new(node, i, replacement);
            field->len = base;
            field->buf[base] = '\0';
        }
    }
    return added;
}

int experiment_substitute(json_t *node, json_t *values, const char *field,
                          struct problems *problems)
{
    struct strbuf path = STRBUF_INIT;
    int added = 0;

    strbuf_addstr(&path, field ? field : "");
    if (json_is_string(node)) {
        /* A lone string cannot be swapped for another node, so it gets text. */
        json_t *replacement = substitute_string(node, values, strbuf_str(&path), problems, &added);
        if (replacement != NULL) {
            char *text = value_to_text(replacement);
            json_string_set(node, text);
            free(text);
            json_decref(replacement);
        }
    } else {
        added = substitute_node(node, values, &path, problems);
    }
    strbuf_release(&path);
    return added;
}

/* Reads a `type: env` entry. Returns a new reference, or NULL when the
 * variable is unset and has no default (a problem unless overridden) or
 * does not convert to env_var_type. A secret's value never appears in a
 * problem. */
static json_t *resolve_env(json_t *entry, const char *field, bool overridden, bool secret,
                           struct problems *problems)
{
    const char *key = json_string_value(json_object_get(entry, "key"));
    const char *type = json_string_value(json_object_get(entry, "env_var_type"));
    json_t *fallback = json_object_get(entry, "default");
    const char *text;
    struct err err;
    json_t *value;

    if (key == NULL)
        return NULL;
    text = getenv(key);
    if (text == NULL && fallback != NULL && !json_is_null(fallback)) {
        if (!json_is_string(fallback) || type == NULL)
            return json_deep_copy(fallback);
        text = json_string_value(fallback);
    }
    if (text == NULL) {
        if (!overridden)
            problems_add(problems, field,
                         "environment variable '%s' is not set and the entry has no default",
                         key);
        return NULL;
    }

    value = vars_convert(type != NULL ? type : "str", text, &err);
    if (value == NULL) {
        if (secret)
            problems_add(problems, field, "environment variable '%s' does not convert to %s",
                         key, type);
        else
            problems_add(problems, field, "environment variable '%s': %s", key, err.msg);
    }
    return value;
}

static bool is_typed(json_t *entry, const char *type)
{
    const char *name = json_string_value(json_object_get(entry, "type"));

    return json_is_object(entry) && name != NULL && strcmp(name, type) == 0;
}

/* Adds every secret key; the first scope that declares a key wins. */
static void resolve_secrets(json_t *experiment, json_t *values, json_t *overrides,
                            struct problems *problems)
{
    json_t *secrets = json_object_get(experiment, "secrets");
    const char *scope, *key;
    json_t *entries, *entry;
    struct strbuf field = STRBUF_INIT;

    if (!json_is_object(secrets))
        return;
    json_object_foreach(secrets, scope, entries) {
        if (!json_is_object(entries))
            continue;
        json_object_foreach(entries, key, entry) {
            json_t *value = NULL;
            bool overridden = overrides != NULL && json_object_get(overrides, key) != NULL;

            strbuf_reset(&field);
            strbuf_addf(&field, "secrets.%s.%s", scope, key);
            if (is_typed(entry, "env"))
                value = resolve_env(entry, strbuf_str(&field), overridden, true, problems);
            else if (!is_typed(entry, "vault"))
                value = json_deep_copy(entry);
            if (value != NULL && json_object_get(values, key) == NULL)
                json_object_set(values, key, value);
            json_decref(value);
        }
    }
    strbuf_release(&field);
}

/* Adds every configuration key, replacing a secret of the same name. */
static void resolve_configuration(json_t *experiment, json_t *values, json_t *overrides,
                                  struct problems *problems)
{
    json_t *configuration = json_object_get(experiment, "configuration");
    const char *key;
    json_t *entry;
    struct strbuf field = STRBUF_INIT;

    if (!json_is_object(configuration))
        return;
    json_object_foreach(configuration, key, entry) {
        json_t *value = NULL;
        bool overridden = overrides != NULL && json_object_get(overrides, key) != NULL;

        strbuf_reset(&field);
        strbuf_addf(&field, "configuration.%s", key);
        if (is_typed(entry, "env"))
            value = resolve_env(entry, strbuf_str(&field), overridden, false, problems);
        else if (!is_typed(entry, "probe"))
            value = json_deep_copy(entry);
        if (value != NULL)
            json_object_set_new(values, key, value);
    }
    strbuf_release(&field);
}

json_t *experiment_resolve_values(json_t *experiment, json_t *overrides,
                                  struct problems *problems)
{
    size_t before = problems->count;
    json_t *values = json_object();

    resolve_secrets(experiment, values, overrides, problems);
    resolve_configuration(experiment, values, overrides, problems);
    if (json_is_object(overrides))
        json_object_update(values, overrides);

    if (problems->count > before) {
        json_decref(values);
        return NULL;
    }
    return values;
}
