/* Reading aftershock.yaml: finding the file, checking every key, filling defaults. */
#include "config/project.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "experiment/load.h"
#include "util/fsutil.h"
#include "util/strbuf.h"

/* Largest configuration file accepted, in bytes. */
#define PROJECT_CONFIG_MAX_SIZE (1024 * 1024)

enum key_kind { KEY_LIST, KEY_STRING };

struct key_spec {
    const char *name;
    enum key_kind kind;
    size_t offset;
    const char *meaning;
};

static const struct key_spec keys[] = {
    { "experiments", KEY_LIST, offsetof(struct project_config, experiments),
      "experiment folders or globs" },
    { "requirements", KEY_LIST, offsetof(struct project_config, requirements),
      "requirements files" },
    { "store", KEY_STRING, offsetof(struct project_config, store),
      "history store path or postgresql:// URL" },
    { "health_targets", KEY_LIST, offsetof(struct project_config, health_targets),
      "probe targets" },
    { "rules", KEY_STRING, offsetof(struct project_config, rules), "healing rules file" },
    { "ledger_dir", KEY_STRING, offsetof(struct project_config, ledger_dir),
      "fault ledger folder" },
    { "reports_dir", KEY_STRING, offsetof(struct project_config, reports_dir),
      "reports folder" },
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static void string_list_free(struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void string_list_add(struct string_list *list, const char *value)
{
    char **items = realloc(list->items, (list->count + 1) * sizeof(*items));

    if (items == NULL)
        abort();
    list->items = items;
    list->items[list->count++] = strdup(value);
    if (list->items[list->count - 1] == NULL)
        abort();
}

static char *xstrdup(const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        abort();
    return copy;
}

static void set_defaults(struct project_config *cfg)
{
    if (cfg->experiments.count == 0)
        string_list_add(&cfg->experiments, "experiments");
    if (cfg->reports_dir == NULL)
        cfg->reports_dir = xstrdup("reports");
}

/* Returns the known key that an unknown one most likely meant: the same
 * name with '-' for '_' or in another case, else NULL. */
static const char *suggest_key(const char *name)
{
    char folded[64];
    size_t n = strlen(name);

    if (n >= sizeof(folded))
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        folded[i] = c == '-' || c == ' ' ? '_' : (c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strcmp(folded, keys[i].name) == 0)
            return keys[i].name;
    }
    return NULL;
}

static int fail_unknown_key(const char *file, const char *key, struct err *err)
{
    struct strbuf known = STRBUF_INIT;
    const char *suggestion = suggest_key(key);
    int rc;

    for (size_t i = 0; i < KEY_COUNT; i++)
        strbuf_addf(&known, "%s%s", i ? ", " : "", keys[i].name);
    if (suggestion != NULL)
        rc = err_set(err, "%s: unknown key '%.100s': rename it to '%s'", file, key, suggestion);
    else
        rc = err_set(err, "%s: unknown key '%.100s': remove it or use one of %s", file, key,
                     strbuf_str(&known));
    strbuf_release(&known);
    return rc;
}

static bool valid_string(const json_t *value)
{
    return json_is_string(value) && json_string_length(value) > 0 &&
           strlen(json_string_value(value)) == json_string_length(value);
}

static int read_list(const char *file, const struct key_spec *spec, const json_t *value,
                     struct string_list *list, struct err *err)
{
    size_t index;
    const json_t *item;

    if (valid_string(value)) {
        string_list_add(list, json_string_value(value));
        return 0;
    }
    if (!json_is_array(value))
        return err_set(err, "%s: key '%s' must be a string or a list of strings (%s)", file,
                       spec->name, spec->meaning);
    json_array_foreach(value, index, item) {
        if (!valid_string(item))
            return err_set(err,
                           "%s: key '%s', item %zu must be a non-empty string without NUL bytes "
                           "(%s)",
                           file, spec->name, index + 1, spec->meaning);
        string_list_add(list, json_string_value(item));
    }
    return 0;
}

static int read_key(const char *file, const struct key_spec *spec, const json_t *value,
                    struct project_config *cfg, struct err *err)
{
    char *field = (char *)cfg + spec->offset;

    /* A key written without a value keeps its default, as YAML users expect. */
    if (json_is_null(value))
        return 0;
    if (spec->kind == KEY_LIST)
        return read_list(file, spec, value, (struct string_list *)(void *)field, err);
    if (!valid_string(value))
        return err_set(err, "%s: key '%s' must be a non-empty string (%s)", file, spec->name,
                       spec->meaning);
    *(char **)(void *)field = xstrdup(json_string_value(value));
    return 0;
}

static int read_mapping(const char *file, const json_t *root, struct project_config *cfg,
                        struct err *err)
{
    const char *key;
    const json_t *value;

    if (json_is_null(root))
        return 0;
    if (!json_is_object(root))
        return err_set(err, "%s: the top level must be a mapping of keys (experiments, "
                            "requirements, store, ...)",
                       file);
    json_object_foreach((json_t *)root, key, value) {
        size_t i;

        for (i = 0; i < KEY_COUNT; i++) {
            if (strcmp(key, keys[i].name) == 0)
                break;
        }
        if (i == KEY_COUNT)
            return fail_unknown_key(file, key, err);
        if (read_key(file, &keys[i], value, cfg, err) != 0)
            return -1;
    }
    return 0;
}

int project_config_parse(const char *text, size_t len, const char *name, const char *root,
                         struct project_config *cfg, struct err *err)
{
    json_t *tree;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if (name == NULL)
        name = PROJECT_CONFIG_NAME;
    tree = experiment_parse(text, len, name, err);
    if (tree == NULL)
        return -1;
    rc = read_mapping(name, tree, cfg, err);
    json_decref(tree);
    if (rc != 0) {
        project_config_free(cfg);
        return -1;
    }
    cfg->path = xstrdup(name);
    cfg->root = xstrdup(root != NULL ? root : ".");
    set_defaults(cfg);
    return 0;
}

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static char *join(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_addstr(&sb, dir);
    if (sb.len == 0 || sb.buf[sb.len - 1] != '/')
        strbuf_addch(&sb, '/');
    strbuf_addstr(&sb, name);
    return strbuf_detach(&sb);
}

/* Searches dir and its parents for the configuration file, stopping after
 * the folder that contains .git so one repository never reads another's
 * file. Returns the path found or NULL. */
static char *find_upwards(const char *dir)
{
    char *current = xstrdup(dir);

    for (;;) {
        char *candidate = join(current, PROJECT_CONFIG_NAME);
        char *git = join(current, ".git");
        bool top = exists(git) || strcmp(current, "/") == 0;
        char *slash;

        free(git);
        if (is_file(candidate)) {
            free(current);
            return candidate;
        }
        free(candidate);
        if (top)
            break;
        slash = strrchr(current, '/');
        if (slash == current)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    free(current);
    return NULL;
}

static int load_file(const char *path, struct project_config *cfg, struct err *err)
{
    size_t len = 0;
    char *text = fs_read_file(path, PROJECT_CONFIG_MAX_SIZE, &len, err);
    char *root = xstrdup(path);
    char *slash = strrchr(root, '/');
    int rc;

    if (text == NULL) {
        free(root);
        return -1;
    }
    if (slash == root)
        slash[1] = '\0';
    else
        *slash = '\0';
    rc = project_config_parse(text, len, path, root, cfg, err);
    free(text);
    free(root);
    return rc;
}

int project_config_load(const char *start, struct project_config *cfg, struct err *err)
{
    char resolved[PATH_MAX];
    struct stat st;
    char *found;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    if (start == NULL || start[0] == '\0')
        start = ".";
    if (realpath(start, resolved) == NULL)
        return err_set_errno(err, errno, "failed to open '%s'", start);
    if (stat(resolved, &st) != 0)
        return err_set_errno(err, errno, "failed to open '%s'", start);
    if (!S_ISDIR(st.st_mode))
        return load_file(resolved, cfg, err);

    found = find_upwards(resolved);
    if (found == NULL) {
        cfg->root = xstrdup(resolved);
        set_defaults(cfg);
        return 0;
    }
    rc = load_file(found, cfg, err);
    free(found);
    return rc;
}

char *project_config_path(const struct project_config *cfg, const char *path)
{
    if (path[0] == '/' || strncmp(path, "postgresql://", 13) == 0 ||
        strncmp(path, "postgres://", 11) == 0)
        return xstrdup(path);
    return join(cfg->root != NULL ? cfg->root : ".", path);
}

void project_config_free(struct project_config *cfg)
{
    free(cfg->path);
    free(cfg->root);
    string_list_free(&cfg->experiments);
    string_list_free(&cfg->requirements);
    free(cfg->store);
    string_list_free(&cfg->health_targets);
    free(cfg->rules);
    free(cfg->ledger_dir);
    free(cfg->reports_dir);
    memset(cfg, 0, sizeof(*cfg));
}
