/* pyproject.toml dependencies, read with a TOML reader limited to what they
 * use: tables, dotted and quoted keys, strings, arrays and inline tables.
 * Other values (numbers, dates, booleans) are skipped as raw text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/requirements.h"
#include "util/strbuf.h"

#define MAX_KEY_PARTS 16
#define MAX_NESTING 32

/* One event: a key (or table header) at path, or a string array element under path. */
struct toml_event {
    const char *const *path;
    int n_path;
    bool array_element;   /* a string inside an array; path is the array's key */
    const char *string;   /* the string value, or NULL for other values and tables */
    int line, col;        /* of the key, or of the string element */
};

struct toml_reader {
    const char *p, *end, *line_start;
    int line;
    char *table[MAX_KEY_PARTS];
    int n_table;
    char *path[MAX_KEY_PARTS * 2];
    int n_path;
    bool failed;
    int error_line, error_col;
    char error[160];
    void (*on_event)(const struct toml_event *, void *);
    void *ctx;
};

static void toml_fail(struct toml_reader *r, const char *msg)
{
    if (r->failed)
        return;
    r->failed = true;
    r->error_line = r->line;
    r->error_col = (int)(r->p - r->line_start) + 1;
    snprintf(r->error, sizeof(r->error), "%s", msg);
}

static void skip_space(struct toml_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
        r->p++;
}

/* Skips spaces, comments and newlines (inside arrays). */
static void skip_space_lines(struct toml_reader *r)
{
    for (;;) {
        skip_space(r);
        if (r->p < r->end && *r->p == '#') {
            while (r->p < r->end && *r->p != '\n')
                r->p++;
        }
        if (r->p < r->end && (*r->p == '\n' ||
                              (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n'))) {
            if (*r->p == '\r')
                r->p++;
            r->p++;
            r->line++;
            r->line_start = r->p;
            continue;
        }
        return;
    }
}

static void add_utf8(struct strbuf *sb, unsigned long cp)
{
    if (cp < 0x80) {
        strbuf_addch(sb, (char)cp);
    } else if (cp < 0x800) {
        strbuf_addch(sb, (char)(0xc0 | (cp >> 6)));
        strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        strbuf_addch(sb, (char)(0xe0 | (cp >> 12)));
        strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
        strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
    } else {
        strbuf_addch(sb, (char)(0xf0 | (cp >> 18)));
        strbuf_addch(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
        strbuf_addch(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
        strbuf_addch(sb, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Reads a basic or literal string (single- or multi-line) at r->p into sb. */
static bool read_string(struct toml_reader *r, struct strbuf *sb)
{
    char quote = *r->p;
    bool multi = r->end - r->p >= 3 && r->p[1] == quote && r->p[2] == quote;

    r->p += multi ? 3 : 1;
    if (multi && r->p < r->end && *r->p == '\n') {
        r->p++;
        r->line++;
        r->line_start = r->p;
    }
    while (r->p < r->end) {
        char c = *r->p;

        if (c == quote && (!multi || (r->end - r->p >= 3 && r->p[1] == quote && r->p[2] == quote))) {
            r->p += multi ? 3 : 1;
            return true;
        }
        if (c == '\n') {
            if (!multi)
                break;
            r->line++;
            r->line_start = r->p + 1;
        }
        if (c == '\\' && quote == '"') {
            char e = r->p + 1 < r->end ? r->p[1] : '\0';
            const char *simple = strchr("btnfr\"\\e", e);

            if (e != '\0' && simple != NULL) {
                static const char decoded[] = "\b\t\n\f\r\"\\\x1b";

                strbuf_addch(sb, decoded[simple - "btnfr\"\\e"]);
                r->p += 2;
                continue;
            }
            if (e == 'u' || e == 'U') {
                int digits = e == 'u' ? 4 : 8;
                char hex[9] = { 0 };

                if (r->end - r->p < 2 + digits) {
                    toml_fail(r, "incomplete \\u escape in a string");
                    return false;
                }
                memcpy(hex, r->p + 2, (size_t)digits);
                add_utf8(sb, strtoul(hex, NULL, 16));
                r->p += 2 + digits;
                continue;
            }
            if (multi && (e == '\n' || e == ' ' || e == '\t' || e == '\r')) {
                /* A line-ending backslash trims the newline and the whitespace after it. */
                r->p++;
                skip_space_lines(r);
                continue;
            }
            toml_fail(r, "invalid escape sequence in a string");
            return false;
        }
        strbuf_addch(sb, c);
        r->p++;
    }
    toml_fail(r, "unterminated string");
    return false;
}

/* Reads one key part: bare, "basic" or 'literal'. */
static char *read_key_part(struct toml_reader *r)
{
    struct strbuf sb = STRBUF_INIT;

    if (r->p < r->end && (*r->p == '"' || *r->p == '\'')) {
        if (!read_string(r, &sb)) {
            strbuf_release(&sb);
            return NULL;
        }
        return strbuf_detach(&sb);
    }
    while (r->p < r->end && ((*r->p >= 'a' && *r->p <= 'z') || (*r->p >= 'A' && *r->p <= 'Z') ||
                             (*r->p >= '0' && *r->p <= '9') || *r->p == '_' || *r->p == '-'))
        strbuf_addch(&sb, *r->p++);
    if (sb.len == 0) {
        toml_fail(r, "a key was expected");
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* Reads a dotted key, appending its parts to r->path. */
static bool read_key(struct toml_reader *r)
{
    for (;;) {
        char *part;

        skip_space(r);
        if (r->n_path >= MAX_KEY_PARTS * 2) {
            toml_fail(r, "key nested too deeply");
            return false;
        }
        part = read_key_part(r);
        if (part == NULL)
            return false;
        r->path[r->n_path++] = part;
        skip_space(r);
        if (r->p >= r->end || *r->p != '.')
            return true;
        r->p++;
    }
}

static void emit(struct toml_reader *r, bool element, const char *string, int line, int col)
{
    struct toml_event ev = { (const char *const *)r->path, r->n_path, element, string, line,
                             col };

    if (!r->failed)
        r->on_event(&ev, r->ctx);
}

static void pop_path(struct toml_reader *r, int keep)
{
    while (r->n_path > keep)
        free(r->path[--r->n_path]);
}

static bool read_value(struct toml_reader *r, int nesting);

static bool read_inline_table(struct toml_reader *r, int nesting)
{
    int keep = r->n_path;

    r->p++;
    skip_space_lines(r);
    while (r->p < r->end && *r->p != '}') {
        int line = r->line, col = (int)(r->p - r->line_start) + 1;

        if (!read_key(r))
            return false;
        emit(r, false, NULL, line, col);
        skip_space(r);
        if (r->p >= r->end || *r->p != '=') {
            toml_fail(r, "'=' was expected after the key");
            return false;
        }
        r->p++;
        if (!read_value(r, nesting + 1))
            return false;
        pop_path(r, keep);
        skip_space_lines(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            skip_space_lines(r);
        }
    }
    if (r->p >= r->end) {
        toml_fail(r, "unterminated inline table");
        return false;
    }
    r->p++;
    return true;
}

static bool read_array(struct toml_reader *r, int nesting)
{
    r->p++;
    skip_space_lines(r);
    while (r->p < r->end && *r->p != ']') {
        if (*r->p == '"' || *r->p == '\'') {
            struct strbuf sb = STRBUF_INIT;
            int line = r->line, col = (int)(r->p - r->line_start) + 2;

            if (!read_string(r, &sb)) {
                strbuf_release(&sb);
                return false;
            }
            emit(r, true, strbuf_str(&sb), line, col);
            strbuf_release(&sb);
        } else if (!read_value(r, nesting + 1)) {
            return false;
        }
        skip_space_lines(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            skip_space_lines(r);
        } else if (r->p < r->end && *r->p != ']') {
            toml_fail(r, "',' or ']' was expected in the array");
            return false;
        }
    }
    if (r->p >= r->end) {
        toml_fail(r, "unterminated array");
        return false;
    }
    r->p++;
    return true;
}

static bool read_value(struct toml_reader *r, int nesting)
{
    skip_space(r);
    if (nesting > MAX_NESTING) {
        toml_fail(r, "values nested too deeply");
        return false;
    }
    if (r->p >= r->end || *r->p == '\n' || *r->p == '#') {
        toml_fail(r, "a value was expected");
        return false;
    }
    if (*r->p == '"' || *r->p == '\'') {
        struct strbuf sb = STRBUF_INIT;
        int line = r->line, col = (int)(r->p - r->line_start) + 2;
        bool ok = read_string(r, &sb);

        if (ok)
            emit(r, false, strbuf_str(&sb), line, col);
        strbuf_release(&sb);
        return ok;
    }
    if (*r->p == '[')
        return read_array(r, nesting);
    if (*r->p == '{')
        return read_inline_table(r, nesting);

    /* Numbers, booleans and dates: raw text up to a delimiter. */
    const char *start = r->p;

    while (r->p < r->end && strchr(",]}#\n\r", *r->p) == NULL)
        r->p++;
    if (r->p == start) {
        toml_fail(r, "a value was expected");
        return false;
    }
    return true;
}

static bool read_table_header(struct toml_reader *r)
{
    bool array = r->p + 1 < r->end && r->p[1] == '[';
    int line = r->line, col = (int)(r->p - r->line_start) + 1;

    r->p += array ? 2 : 1;
    pop_path(r, 0);
    if (!read_key(r))
        return false;
    skip_space(r);
    if (r->p >= r->end || *r->p != ']' || (array && (r->p + 1 >= r->end || r->p[1] != ']'))) {
        toml_fail(r, "']' was expected after the table name");
        return false;
    }
    r->p += array ? 2 : 1;
    for (int i = 0; i < r->n_table; i++)
        free(r->table[i]);
    r->n_table = 0;
    for (int i = 0; i < r->n_path && i < MAX_KEY_PARTS; i++)
        r->table[r->n_table++] = strdup(r->path[i]);
    emit(r, false, NULL, line, col);
    pop_path(r, 0);
    return true;
}

static void toml_read(struct toml_reader *r)
{
    while (!r->failed) {
        skip_space_lines(r);
        if (r->p >= r->end)
            break;
        if (*r->p == '[') {
            if (!read_table_header(r))
                break;
        } else {
            int line = r->line, col = (int)(r->p - r->line_start) + 1;

            pop_path(r, 0);
            for (int i = 0; i < r->n_table; i++)
                r->path[r->n_path++] = strdup(r->table[i]);
            if (!read_key(r))
                break;
            emit(r, false, NULL, line, col);
            skip_space(r);
            if (r->p >= r->end || *r->p != '=') {
                toml_fail(r, "'=' was expected after the key");
                break;
            }
            r->p++;
            if (!read_value(r, 0))
                break;
            pop_path(r, 0);
        }
        skip_space(r);
        if (r->p < r->end && *r->p == '#') {
            while (r->p < r->end && *r->p != '\n')
                r->p++;
        }
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p != '\n') {
            toml_fail(r, "a new line was expected after the value");
            break;
        }
    }
    pop_path(r, 0);
    for (int i = 0; i < r->n_table; i++)
        free(r->table[i]);
}

struct pyproject_ctx {
    struct req_set *set;
    const char *path;
};

static bool path_is(const struct toml_event *ev, int n, const char *const *parts)
{
    if (ev->n_path != n)
        return false;
    for (int i = 0; i < n; i++) {
        if (parts[i] != NULL && strcmp(ev->path[i], parts[i]) != 0)
            return false;
    }
    return true;
}

static void add_spec(struct pyproject_ctx *ctx, const struct toml_event *ev)
{
    char name[DIST_NAME_MAX];
    const char *why = NULL;
    bool marker;

    if (req_parse_spec(ev->string, name, sizeof(name), &marker, &why) != 0) {
        req_file_fail(ctx->set, ctx->path, ev->line, ev->col, "invalid requirement: %s", why);
        return;
    }
    req_add(ctx->set, ctx->path, name, ev->line, ev->col, marker, false);
}

static void on_pyproject_event(const struct toml_event *ev, void *arg)
{
    struct pyproject_ctx *ctx = arg;
    static const char *const project_deps[] = { "project", "dependencies" };
    static const char *const optional_deps[] = { "project", "optional-dependencies", NULL };
    static const char *const groups[] = { "dependency-groups", NULL };
    static const char *const project_name[] = { "project", "name" };
    static const char *const poetry_name[] = { "tool", "poetry", "name" };
    static const char *const poetry_deps[] = { "tool", "poetry", "dependencies", NULL };
    static const char *const poetry_dev[] = { "tool", "poetry", "dev-dependencies", NULL };
    static const char *const poetry_group[] = { "tool", "poetry", "group", NULL,
                                                "dependencies", NULL };

    if (ev->array_element) {
        if (path_is(ev, 2, project_deps) || path_is(ev, 3, optional_deps) ||
            path_is(ev, 2, groups))
            add_spec(ctx, ev);
        return;
    }
    if (ev->string != NULL && (path_is(ev, 2, project_name) || path_is(ev, 3, poetry_name))) {
        free(ctx->set->project_name);
        ctx->set->project_name = strdup(ev->string);
        return;
    }
    if (ev->string == NULL && (path_is(ev, 4, poetry_deps) || path_is(ev, 4, poetry_dev) ||
                               path_is(ev, 6, poetry_group))) {
        const char *name = ev->path[ev->n_path - 1];

        if (strcmp(name, "python") == 0)
            return;
        if (!dist_is_valid_name(name)) {
            req_file_fail(ctx->set, ctx->path, ev->line, ev->col,
                          "invalid distribution name '%s'", name);
            return;
        }
        req_add(ctx->set, ctx->path, name, ev->line, ev->col, false, false);
    }
}

void req_parse_pyproject(struct req_set *set, const char *path, const char *text, size_t len)
{
    struct pyproject_ctx ctx = { set, path };
    struct toml_reader r;
    struct req_file *file = req_add_file(set, path, true);

    if (file == NULL)
        return;
    memset(&r, 0, sizeof(r));
    r.p = r.line_start = text;
    r.end = text + len;
    r.line = 1;
    r.on_event = on_pyproject_event;
    r.ctx = &ctx;
    toml_read(&r);
    if (r.failed)
        req_file_fail(set, path, r.error_line, r.error_col, "invalid TOML: %s", r.error);
}
