/* pip requirements files: logical lines, options, includes and PEP 508 specifiers. */
#include "deps/requirements.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/strbuf.h"

#define MAX_REQUIREMENTS_SIZE (16u << 20)
#define MAX_INCLUDE_DEPTH 16

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_name_char(char c)
{
    return isascii((unsigned char)c) && (isalnum((unsigned char)c) || c == '-' || c == '_' ||
                                         c == '.');
}

/* Reads a PEP 508 name at p into out; returns the position after it, or NULL. */
static const char *read_name(const char *p, char *out, size_t size)
{
    size_t n = 0;

    if (!isascii((unsigned char)*p) || !isalnum((unsigned char)*p))
        return NULL;
    while (is_name_char(p[n]))
        n++;
    while (n > 0 && !isalnum((unsigned char)p[n - 1]))
        n--;
    if (n == 0 || n >= size)
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return p + n;
}

static const char *read_version_spec(const char *p, const char **why)
{
    static const char *const ops[] = { "===", "==", "!=", "<=", ">=", "~=", "<", ">" };
    bool parens = *p == '(';

    if (parens)
        p = skip_ws(p + 1);
    for (;;) {
        size_t op_len = 0, n = 0;

        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && op_len == 0; i++) {
            if (strncmp(p, ops[i], strlen(ops[i])) == 0)
                op_len = strlen(ops[i]);
        }
        if (op_len == 0) {
            *why = "a version operator (==, >=, ~=, ...) was expected";
            return NULL;
        }
        p = skip_ws(p + op_len);
        while (isascii((unsigned char)p[n]) &&
               (isalnum((unsigned char)p[n]) || strchr(".*+!_-", p[n]) != NULL) && p[n] != '\0')
            n++;
        if (n == 0) {
            *why = "a version was expected after the operator";
            return NULL;
        }
        p = skip_ws(p + n);
        if (*p != ',')
            break;
        p = skip_ws(p + 1);
    }
    if (parens) {
        if (*p != ')') {
            *why = "')' was expected after the versions";
            return NULL;
        }
        p = skip_ws(p + 1);
    }
    return p;
}

/* Checks a marker expression lightly: non-empty, balanced quotes and brackets. */
static bool marker_is_plausible(const char *p)
{
    int depth = 0;
    char quote = 0;
    bool any = false;

    for (; *p != '\0'; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '"' || *p == '\'')
            quote = *p;
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth < 0)
            return false;
        if (!isspace((unsigned char)*p))
            any = true;
    }
    return any && depth == 0 && quote == 0;
}

int req_parse_spec(const char *spec, char *name, size_t name_size, bool *has_marker,
                   const char **why)
{
    const char *p = skip_ws(spec);
    char extra[DIST_NAME_MAX];

    *has_marker = false;
    p = read_name(p, name, name_size);
    if (p == NULL) {
        *why = "a distribution name was expected";
        return -1;
    }
    p = skip_ws(p);
    if (*p == '[') {
        p = skip_ws(p + 1);
        while (*p != ']') {
            p = read_name(p, extra, sizeof(extra));
            if (p == NULL) {
                *why = "an extra name was expected inside [...]";
                return -1;
            }
            p = skip_ws(p);
            if (*p == ',')
                p = skip_ws(p + 1);
            else if (*p != ']') {
                *why = "',' or ']' was expected in the extras";
                return -1;
            }
        }
        p = skip_ws(p + 1);
    }
    if (*p == '@') {
        const char *url = skip_ws(p + 1);
        size_t n = strcspn(url, " \t");

        if (n == 0) {
            *why = "a URL was expected after '@'";
            return -1;
        }
        p = skip_ws(url + n);
    } else if (*p != '\0' && *p != ';') {
        p = read_version_spec(p, why);
        if (p == NULL)
            return -1;
    }
    if (*p == ';') {
        if (!marker_is_plausible(p + 1)) {
            *why = "the environment marker after ';' is empty or unbalanced";
            return -1;
        }
        *has_marker = true;
        return 0;
    }
    if (*p != '\0') {
        *why = "unexpected text after the requirement";
        return -1;
    }
    return 0;
}

struct req_file *req_add_file(struct req_set *set, const char *path, bool pyproject)
{
    struct req_file *file;

    if (set->n_files == set->files_cap) {
        size_t cap = set->files_cap ? set->files_cap * 2 : 8;
        struct req_file *files = realloc(set->files, cap * sizeof(*files));

        if (files == NULL)
            return NULL;
        /* Requirements point at file paths, which are separate allocations and do not move. */
        set->files = files;
        set->files_cap = cap;
    }
    file = &set->files[set->n_files++];
    memset(file, 0, sizeof(*file));
    file->path = strdup(path);
    file->pyproject = pyproject;
    return file;
}

static struct req_file *find_file(struct req_set *set, const char *path)
{
    for (size_t i = 0; i < set->n_files; i++) {
        if (strcmp(set->files[i].path, path) == 0)
            return &set->files[i];
    }
    return NULL;
}

void req_file_fail(struct req_set *set, const char *path, int line, int col, const char *fmt,
                   const char *arg)
{
    struct req_file *file = find_file(set, path);

    if (file == NULL || file->failed)
        return;
    file->failed = true;
    file->error_line = line;
    file->error_col = col;
    snprintf(file->error, sizeof(file->error), fmt, arg);
}

void req_add(struct req_set *set, const char *path, const char *name, int line, int col,
             bool has_marker, bool constraint)
{
    struct req_file *file = find_file(set, path);
    struct requirement *req;

    if (file == NULL)
        return;
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 32;
        struct requirement *items = realloc(set->items, cap * sizeof(*items));

        if (items == NULL)
            return;
        set->items = items;
        set->cap = cap;
    }
    req = &set->items[set->count++];
    snprintf(req->name, sizeof(req->name), "%s", name);
    dist_normalize(name, req->normalized, sizeof(req->normalized));
    req->file = file->path;
    req->line = line;
    req->col = col;
    req->has_marker = has_marker;
    req->constraint = constraint;
}

/* Resolves an included file's path against the including file's folder. */
static char *include_path(const char *from, const char *target)
{
    const char *slash = strrchr(from, '/');
    struct strbuf path = STRBUF_INIT;

    if (target[0] == '/' || slash == NULL)
        strbuf_addstr(&path, target);
    else
        strbuf_addf(&path, "%.*s/%s", (int)(slash - from), from, target);
    return strbuf_detach(&path);
}

static void load_include(struct req_set *set, const char *from, const char *target,
                         bool constraint, int depth, int line)
{
    char *path;
    size_t len;
    struct err err;
    char *text;

    if (strstr(target, "://") != NULL || set->skip_includes)
        return; /* remote includes are pip's business, not something to read here */
    path = include_path(from, target);
    if (find_file(set, path) != NULL) {
        free(path);
        return;
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
        req_file_fail(set, from, line, 1, "includes nested too deeply at '%s'", target);
        free(path);
        return;
    }
    /* Only regular files: a FIFO or device named by -r must not block or flood the scan. */
    struct stat st;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        req_file_fail(set, from, line, 1, "included '%s' is not a regular file", target);
        free(path);
        return;
    }
    text = fs_read_file(path, MAX_REQUIREMENTS_SIZE, &len, &err);
    if (text == NULL) {
        req_file_fail(set, from, line, 1, "%s", err.msg);
        free(path);
        return;
    }
    req_parse_text(set, path, text, len, constraint, depth + 1);
    if (set->n_files > 0 && find_file(set, path) != NULL)
        find_file(set, path)->included = true;
    free(text);
    free(path);
}

/* The name in a "#egg=NAME" fragment of a URL or path, or false. */
static bool egg_name(const char *spec, char *name, size_t size)
{
    const char *egg = strstr(spec, "#egg=");
    size_t n;

    if (egg == NULL)
        return false;
    egg += 5;
    n = strcspn(egg, "&[ \t");
    if (n == 0 || n >= size)
        return false;
    memcpy(name, egg, n);
    name[n] = '\0';
    return dist_is_valid_name(name);
}

/* Handles an option line: -r/-c includes, -e editables; other options are pip's. */
static void parse_option(struct req_set *set, const char *path, const char *opt, bool constraint,
                         int depth, int line)
{
    static const struct { const char *name; int kind; } known[] = {
        { "--requirement", 'r' }, { "-r", 'r' }, { "--constraint", 'c' }, { "-c", 'c' },
        { "--editable", 'e' }, { "-e", 'e' },
    };
    size_t n = strcspn(opt, " \t=");
    int kind = 0;
    const char *value;

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strlen(known[i].name) == n && strncmp(opt, known[i].name, n) == 0)
            kind = known[i].kind;
    }
    if (kind == 0 && (strncmp(opt, "-r", 2) == 0 || strncmp(opt, "-c", 2) == 0 ||
                      strncmp(opt, "-e", 2) == 0) && opt[2] != '-' && opt[2] != '\0') {
        /* The short forms also take the value attached: -rbase.txt. */
        kind = opt[1];
        n = 2;
    }
    if (kind == 0)
        return;
    value = skip_ws(opt + n);
    if (*value == '=')
        value = skip_ws(value + 1);

    char target[4096];
    size_t len = strcspn(value, " \t");

    if (len == 0 || len >= sizeof(target)) {
        req_file_fail(set, path, line, 1, "option '%s' needs a value", kind == 'e' ? "-e" :
                  kind == 'r' ? "-r" : "-c");
        return;
    }
    memcpy(target, value, len);
    target[len] = '\0';
    if (kind == 'e') {
        char name[DIST_NAME_MAX];

        if (egg_name(target, name, sizeof(name)))
            req_add(set, path, name, line, (int)(strstr(opt, "#egg=") - opt) + 6, false,
                    constraint);
        return;
    }
    load_include(set, path, target, kind == 'c' || constraint, depth, line);
}

/* Parses one logical line; col0 is the column where it starts in its first physical line. */
static void parse_line(struct req_set *set, const char *path, char *text, int line,
                       bool constraint, int depth)
{
    char name[DIST_NAME_MAX];
    const char *why = NULL;
    bool marker;
    char *p = (char *)skip_ws(text);
    int col = (int)(p - text) + 1;

    if (*p == '\0')
        return;
    if (*p == '-') {
        parse_option(set, path, p, constraint, depth, line);
        return;
    }

    /* URLs and paths name their distribution with #egg=, if at all. */
    size_t first = strcspn(p, " \t;");

    if (memmem(p, first, "://", 3) != NULL || p[0] == '.' || p[0] == '/' ||
        strncmp(p, "file:", 5) == 0) {
        if (egg_name(p, name, sizeof(name)))
            req_add(set, path, name, line, col + (int)(strstr(p, "#egg=") - p) + 5, false,
                    constraint);
        return;
    }

    /* Per-requirement options (--hash, --config-settings, ...) follow the specifier. */
    for (char *q = p; *q != '\0'; q++) {
        if ((*q == ' ' || *q == '\t') && q[1] == '-' && q[2] == '-') {
            *q = '\0';
            break;
        }
    }
    if (req_parse_spec(p, name, sizeof(name), &marker, &why) != 0) {
        req_file_fail(set, path, line, col, "invalid requirement: %s", why);
        return;
    }
    req_add(set, path, name, line, col, marker, constraint);
}

void req_parse_text(struct req_set *set, const char *path, const char *text, size_t len,
                    bool constraint, int depth)
{
    struct strbuf logical = STRBUF_INIT;
    const char *p = text, *end = text + len;
    int line = 1, start_line = 1;

    if (find_file(set, path) == NULL && req_add_file(set, path, false) == NULL)
        return;
    if (memchr(text, '\0', len) != NULL) {
        req_file_fail(set, path, 1, 1, "%s", "the file contains a NUL byte");
        return;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t keep = n;

        if (keep > 0 && p[keep - 1] == '\r')
            keep--;
        /* A comment starts at '#' at the line start or after whitespace. */
        for (size_t i = 0; i < keep; i++) {
            if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t')) {
                keep = i;
                break;
            }
        }
        if (logical.len == 0)
            start_line = line;
        if (keep > 0 && p[keep - 1] == '\\') {
            strbuf_add(&logical, p, keep - 1);
        } else {
            strbuf_add(&logical, p, keep);
            parse_line(set, path, logical.buf != NULL ? logical.buf : (char *)"", start_line,
                       constraint, depth);
            strbuf_reset(&logical);
        }
        line++;
        p += n + (nl ? 1 : 0);
    }
    if (logical.len > 0)
        parse_line(set, path, logical.buf, start_line, constraint, depth);
    strbuf_release(&logical);
}

int req_load(struct req_set *set, const char *path, struct err *err)
{
    size_t len;
    char *text;
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    if (find_file(set, path) != NULL)
        return 0;
    text = fs_read_file(path, MAX_REQUIREMENTS_SIZE, &len, err);
    if (text == NULL)
        return -1;
    if (strcmp(base, "pyproject.toml") == 0)
        req_parse_pyproject(set, path, text, len);
    else
        req_parse_text(set, path, text, len, false, 0);
    free(text);
    return 0;
}

const struct requirement *req_find(const struct req_set *set, const char *normalized)
{
    for (size_t i = 0; i < set->count; i++) {
        if (!set->items[i].constraint && strcmp(set->items[i].normalized, normalized) == 0)
            return &set->items[i];
    }
    return NULL;
}

void req_set_release(struct req_set *set)
{
    for (size_t i = 0; i < set->n_files; i++)
        free(set->files[i].path);
    free(set->files);
    free(set->items);
    free(set->project_name);
    memset(set, 0, sizeof(*set));
}
