/* A JSONPath subset: parsing an expression into segments, then selecting values from a document. */
#include "experiment/jsonpath.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/value.h"
#include "util/strbuf.h"

/* Most values one query may visit or select, so `$..*..*` on a large
 * document ends with an error instead of exhausting memory. */
#define JSONPATH_MAX_NODES 1000000

/* Largest index or slice bound accepted. */
#define JSONPATH_MAX_INDEX 1000000000000LL

enum selector_kind { SELECT_NAME, SELECT_INDEX, SELECT_SLICE, SELECT_WILDCARD, SELECT_FILTER };

enum filter_op { OP_EXISTS, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

/* One step of the relative path after '@' in a filter: a name, or an index when name is NULL. */
struct relative_step {
    char *name;
    long long index;
};

struct filter {
    struct relative_step *steps;
    size_t count;
    enum filter_op op;
    json_t *literal;
};

struct selector {
    enum selector_kind kind;
    char *name;
    long long index;
    bool has_start, has_end;
    long long start, end, step;
    struct filter filter;
};

/* One '.x', '..x' or '[...]' part; several selectors make a union. */
struct segment {
    bool descendant;
    struct selector *selectors;
    size_t count;
};

struct jsonpath {
    struct segment *segments;
    size_t count;
};

struct parser {
    const char *expr;
    size_t pos;
    struct err *err;
};

static int parse_fail(struct parser *p, const char *what)
{
    return err_set(p->err, "invalid JSONPath '%.200s' at position %zu: %s", p->expr, p->pos + 1,
                   what);
}

static void *grow(void *items, size_t count, size_t size)
{
    void *grown = realloc(items, (count + 1) * size);

    if (grown == NULL)
        abort();
    memset((char *)grown + count * size, 0, size);
    return grown;
}

static char peek(const struct parser *p)
{
    return p->expr[p->pos];
}

static void skip_spaces(struct parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || (unsigned char)c >= 0x80;
}

static void filter_release(struct filter *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->steps[i].name);
    free(f->steps);
    json_decref(f->literal);
}

static void jsonpath_free(struct jsonpath *path)
{
    for (size_t i = 0; i < path->count; i++) {
        struct segment *s = &path->segments[i];
        for (size_t j = 0; j < s->count; j++) {
            free(s->selectors[j].name);
            filter_release(&s->selectors[j].filter);
        }
        free(s->selectors);
    }
    free(path->segments);
}

static int parse_name(struct parser *p, char **out)
{
    size_t start = p->pos;

    while (is_name_char(peek(p)))
        p->pos++;
    if (p->pos == start)
        return parse_fail(p, "expected a member name");
    *out = strndup(p->expr + start, p->pos - start);
    if (*out == NULL)
        abort();
    if (peek(p) == '(')
        return parse_fail(p, "functions such as 'length()' are not supported");
    return 0;
}

static int parse_escape(struct parser *p, struct strbuf *out)
{
    static const char from[] = "\\'\"/bfnrt";
    static const char to[] = "\\'\"/\b\f\n\r\t";
    const char *hit;
    char c = peek(p);

    if (c != '\0' && (hit = strchr(from, c)) != NULL) {
        strbuf_addch(out, to[hit - from]);
        p->pos++;
        return 0;
    }
    if (c == 'u') {
        unsigned code = 0;
        for (int i = 1; i <= 4; i++) {
            char h = p->expr[p->pos + (size_t)i];
            if (!isxdigit((unsigned char)h))
                return parse_fail(p, "'\\u' needs four hexadecimal digits");
            code = code * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0'
                                                                   : tolower((unsigned char)h) - 'a' + 10);
        }
        if (code == 0 || (code >= 0xD800 && code <= 0xDFFF))
            return parse_fail(p, "'\\u0000' and surrogate escapes are not supported");
        p->pos += 5;
        if (code < 0x80) {
            strbuf_addch(out, (char)code);
        } else if (code < 0x800) {
            strbuf_addch(out, (char)(0xC0 | (code >> 6)));
            strbuf_addch(out, (char)(0x80 | (code & 0x3F)));
        } else {
            strbuf_addch(out, (char)(0xE0 | (code >> 12)));
            strbuf_addch(out, (char)(0x80 | ((code >> 6) & 0x3F)));
            strbuf_addch(out, (char)(0x80 | (code & 0x3F)));
        }
        return 0;
    }
    return parse_fail(p, "unknown escape in a quoted string");
}

/* Parses a string in single or double quotes, with JSON escapes. */
static int parse_quoted(struct parser *p, char **out)
{
    struct strbuf text = STRBUF_INIT;
    char quote = peek(p);

    p->pos++;
    for (;;) {
        char c = peek(p);
        if (c == '\0') {
            strbuf_release(&text);
            return parse_fail(p, "unterminated quoted string");
        }
        p->pos++;
        if (c == quote)
            break;
        if (c == '\\') {
            if (parse_escape(p, &text) != 0) {
                strbuf_release(&text);
                return -1;
            }
            continue;
        }
        strbuf_addch(&text, c);
    }
    *out = strbuf_detach(&text);
    return 0;
}

static int parse_int(struct parser *p, long long *out)
{
    bool negative = false;
    long long value = 0;
    size_t start;

    if (peek(p) == '-') {
        negative = true;
        p->pos++;
    }
    start = p->pos;
    while (isdigit((unsigned char)peek(p))) {
        value = value * 10 + (peek(p) - '0');
        if (value > JSONPATH_MAX_INDEX)
            return parse_fail(p, "index is too large");
        p->pos++;
    }
    if (p->pos == start)
        return parse_fail(p, "expected an integer");
    *out = negative ? -value : value;
    return 0;
}

/* Parses an index "N" or a slice "start:end:step" with each part optional. */
static int parse_index_or_slice(struct parser *p, struct selector *s)
{
    long long *bounds[3] = { &s->start, &s->end, &s->step };
    bool given[3] = { false, false, false };
    int part = 0;

    s->step = 1;
    for (;;) {
        skip_spaces(p);
        if (peek(p) == '-' || isdigit((unsigned char)peek(p))) {
            if (parse_int(p, bounds[part]) != 0)
                return -1;
            given[part] = true;
            skip_spaces(p);
        }
        if (peek(p) != ':' || part == 2)
            break;
        p->pos++;
        part++;
    }
    if (part == 0) {
        if (!given[0])
            return parse_fail(p, "expected an index, a slice, a quoted name, '*' or '?('");
        s->kind = SELECT_INDEX;
        s->index = s->start;
        return 0;
    }
    s->kind = SELECT_SLICE;
    s->has_start = given[0];
    s->has_end = given[1];
    if (given[2] && s->step == 0)
        return parse_fail(p, "a slice step cannot be 0");
    if (!given[2])
        s->step = 1;
    return 0;
}

static bool is_number_char(char c)
{
    return isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

static int parse_literal(struct parser *p, json_t **out)
{
    static const char *const words[] = { "true", "false", "null" };
    char c = peek(p);

    if (c == '\'' || c == '"') {
        char *text = NULL;
        if (parse_quoted(p, &text) != 0)
            return -1;
        *out = json_string(text);
        free(text);
        return *out != NULL ? 0 : parse_fail(p, "string is not valid UTF-8");
    }
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(p->expr + p->pos, words[i], n) == 0 && !is_name_char(p->expr[p->pos + n])) {
            p->pos += n;
            *out = i == 2 ? json_null() : json_boolean(i == 0);
            return 0;
        }
    }
    if (c == '@' || c == '$')
        return parse_fail(p, "comparing two paths is not supported; compare with a literal");
    if (c != '-' && c != '+' && c != '.' && !isdigit((unsigned char)c))
        return parse_fail(p, "expected a literal: a number, a quoted string, true, false or null");

    size_t start = p->pos;
    while (is_number_char(peek(p)))
        p->pos++;
    char token[64];
    size_t n = p->pos - start;
    if (n >= sizeof(token))
        return parse_fail(p, "number is too long");
    memcpy(token, p->expr + start, n);
    token[n] = '\0';

    char *end = NULL;
    errno = 0;
    if (strpbrk(token, ".eE") == NULL) {
        long long integer = strtoll(token, &end, 10);
        if (*end != '\0' || errno != 0)
            return parse_fail(p, "invalid number");
        *out = json_integer(integer);
    } else {
        double real = strtod(token, &end);
        if (*end != '\0' || !isfinite(real))
            return parse_fail(p, "invalid number");
        *out = json_real(real);
    }
    return 0;
}

static int parse_operator(struct parser *p, enum filter_op *op)
{
    static const struct {
        const char *text;
        enum filter_op op;
    } ops[] = { { "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
                { "=", OP_EQ },  { "<", OP_LT },  { ">", OP_GT } };

    if (strncmp(p->expr + p->pos, "=~", 2) == 0)
        return parse_fail(p, "regular expressions in filters are not supported");
    if (peek(p) == '&' || peek(p) == '|' || strncmp(p->expr + p->pos, "and", 3) == 0 ||
        strncmp(p->expr + p->pos, "or", 2) == 0)
        return parse_fail(p, "a filter holds one comparison; '&&', '||', 'and' and 'or' are "
                             "not supported");
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(p->expr + p->pos, ops[i].text, n) == 0) {
            *op = ops[i].op;
            p->pos += n;
            return 0;
        }
    }
    return parse_fail(p, "expected ')' or a comparison (==, !=, <, <=, >, >=)");
}

/* Parses the relative path of a filter: '@' then '.name', '['name']' or '[N]' steps. */
static int parse_relative(struct parser *p, struct filter *f)
{
    if (peek(p) == '$')
        return parse_fail(p, "a filter may refer only to the current item '@', not to '$'");
    if (peek(p) == '!')
        return parse_fail(p, "negation in filters is not supported");
    if (peek(p) != '@')
        return parse_fail(p, "a filter must start with '@'");
    p->pos++;

    for (;;) {
        struct relative_step step = { NULL, 0 };
        if (peek(p) == '.' && p->expr[p->pos + 1] == '.')
            return parse_fail(p, "'..' is not supported inside a filter");
        if (peek(p) == '.') {
            p->pos++;
            if (peek(p) == '*')
                return parse_fail(p, "'*' is not supported inside a filter");
            if (parse_name(p, &step.name) != 0) {
                free(step.name);
                return -1;
            }
        } else if (peek(p) == '[') {
            p->pos++;
            skip_spaces(p);
            if (peek(p) == '\'' || peek(p) == '"') {
                if (parse_quoted(p, &step.name) != 0)
                    return -1;
            } else if (parse_int(p, &step.index) != 0) {
                return -1;
            }
            skip_spaces(p);
            if (peek(p) != ']') {
                free(step.name);
                return parse_fail(p, "expected ']'");
            }
            p->pos++;
        } else {
            return 0;
        }
        f->steps = grow(f->steps, f->count, sizeof(*f->steps));
        f->steps[f->count++] = step;
    }
}

static int parse_filter(struct parser *p, struct selector *s)
{
    struct filter *f = &s->filter;

    s->kind = SELECT_FILTER;
    p->pos++; /* '?' */
    skip_spaces(p);
    if (peek(p) != '(')
        return parse_fail(p, "expected '(' after '?'");
    p->pos++;
    skip_spaces(p);
    if (parse_relative(p, f) != 0)
        return -1;
    skip_spaces(p);
    f->op = OP_EXISTS;
    if (peek(p) != ')') {
        if (parse_operator(p, &f->op) != 0)
            return -1;
        skip_spaces(p);
        if (parse_literal(p, &f->literal) != 0)
            return -1;
        skip_spaces(p);
    }
    if (peek(p) != ')')
        return parse_operator(p, &f->op) != 0 ? -1 : parse_fail(p, "expected ')'");
    p->pos++;
    skip_spaces(p);
    return 0;
}

static int parse_bracket(struct parser *p, struct segment *seg)
{
    p->pos++; /* '[' */
    for (;;) {
        struct selector *s;
        skip_spaces(p);
        seg->selectors = grow(seg->selectors, seg->count, sizeof(*seg->selectors));
        s = &seg->selectors[seg->count++];

        if (peek(p) == '(')
            return parse_fail(p, "script expressions such as '[(...)]' are not supported");
        if (peek(p) == '*' && seg->count == 1) {
            s->kind = SELECT_WILDCARD;
            p->pos++;
        } else if (peek(p) == '?' && seg->count == 1) {
            if (parse_filter(p, s) != 0)
                return -1;
        } else if (peek(p) == '\'' || peek(p) == '"') {
            s->kind = SELECT_NAME;
            if (parse_quoted(p, &s->name) != 0)
                return -1;
        } else if (parse_index_or_slice(p, s) != 0) {
            return -1;
        }

        skip_spaces(p);
        if (peek(p) == ']') {
            p->pos++;
            return 0;
        }
        if (peek(p) != ',' || s->kind == SELECT_WILDCARD || s->kind == SELECT_FILTER)
            return parse_fail(p, "expected ']'");
        p->pos++;
    }
}

static int parse_segment(struct parser *p, struct jsonpath *path)
{
    struct segment *seg;

    path->segments = grow(path->segments, path->count, sizeof(*path->segments));
    seg = &path->segments[path->count++];

    if (peek(p) == '[')
        return parse_bracket(p, seg);
    if (peek(p) != '.')
        return parse_fail(p, "expected '.', '..' or '['");
    p->pos++;
    if (peek(p) == '.') {
        seg->descendant = true;
        p->pos++;
        if (peek(p) == '[')
            return parse_bracket(p, seg);
    }
    seg->selectors = grow(NULL, 0, sizeof(*seg->selectors));
    seg->count = 1;
    if (peek(p) == '*') {
        seg->selectors[0].kind = SELECT_WILDCARD;
        p->pos++;
        return 0;
    }
    seg->selectors[0].kind = SELECT_NAME;
    return parse_name(p, &seg->selectors[0].name);
}

static int jsonpath_parse(const char *expr, struct jsonpath *path, struct err *err)
{
    struct parser p = { expr, 0, err };

    memset(path, 0, sizeof(*path));
    skip_spaces(&p);
    if (peek(&p) == '\0')
        return parse_fail(&p, "the expression is empty");
    if (peek(&p) == '$') {
        p.pos++;
    } else if (peek(&p) == '@') {
        return parse_fail(&p, "a path starts at the root '$'");
    } else if (is_name_char(peek(&p))) {
        /* A path without '$' starts at the root, as in "foo[*].baz". */
        path->segments = grow(NULL, 0, sizeof(*path->segments));
        path->count = 1;
        path->segments[0].selectors = grow(NULL, 0, sizeof(struct selector));
        path->segments[0].count = 1;
        path->segments[0].selectors[0].kind = SELECT_NAME;
        if (parse_name(&p, &path->segments[0].selectors[0].name) != 0)
            return -1;
    }

    for (;;) {
        skip_spaces(&p);
        if (peek(&p) == '\0')
            return 0;
        if (parse_segment(&p, path) != 0)
            return -1;
    }
}

int jsonpath_check(const char *expr, struct err *err)
{
    struct jsonpath path;
    int rc = jsonpath_parse(expr, &path, err);

    jsonpath_free(&path);
    return rc;
}

/* Evaluation. */

struct evaluation {
    const char *expr;
    size_t visited;
    struct err *err;
};

static int add_match(struct evaluation *ev, json_t *out, json_t *value)
{
    if (++ev->visited > JSONPATH_MAX_NODES)
        return err_set(ev->err, "JSONPath '%.200s' visits more than %d values", ev->expr,
                       JSONPATH_MAX_NODES);
    json_array_append(out, value);
    return 0;
}

static int add_descendants(struct evaluation *ev, json_t *node, json_t *out)
{
    if (add_match(ev, out, node) != 0)
        return -1;
    if (json_is_object(node)) {
        const char *key;
        json_t *value;
        json_object_foreach(node, key, value) {
            if (add_descendants(ev, value, out) != 0)
                return -1;
        }
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            if (add_descendants(ev, json_array_get(node, i), out) != 0)
                return -1;
        }
    }
    return 0;
}

static json_t *array_at(json_t *array, long long index)
{
    long long size = (long long)json_array_size(array);

    if (index < 0)
        index += size;
    if (index < 0 || index >= size)
        return NULL;
    return json_array_get(array, (size_t)index);
}

static bool filter_passes(const struct filter *f, json_t *item)
{
    json_t *value = item;
    int order;

    for (size_t i = 0; i < f->count && value != NULL; i++) {
        if (f->steps[i].name != NULL)
            value = json_is_object(value) ? json_object_get(value, f->steps[i].name) : NULL;
        else
            value = json_is_array(value) ? array_at(value, f->steps[i].index) : NULL;
    }
    if (value == NULL)
        return false;

    switch (f->op) {
    case OP_EXISTS:
        return true;
    case OP_EQ:
        return value_equal(value, f->literal);
    case OP_NE:
        return !value_equal(value, f->literal);
    default:
        break;
    }
    if (!value_compare(value, f->literal, &order))
        return false;
    switch (f->op) {
    case OP_LT:
        return order < 0;
    case OP_LE:
        return order <= 0;
    case OP_GT:
        return order > 0;
    default:
        return order >= 0;
    }
}

/* Turns a slice bound into an index the way Python does: a negative bound
 * counts from the end, and the result is clamped to [low, high]. */
static long long slice_bound(long long bound, long long size, long long low, long long high)
{
    if (bound < 0)
        bound += size;
    if (bound < low)
        return low;
    if (bound > high)
        return high;
    return bound;
}

static int select_slice(struct evaluation *ev, const struct selector *s, json_t *array,
                        json_t *out)
{
    long long size = (long long)json_array_size(array);
    long long step = s->step, start, end;

    if (step > 0) {
        start = slice_bound(s->has_start ? s->start : 0, size, 0, size);
        end = slice_bound(s->has_end ? s->end : size, size, 0, size);
        for (long long i = start; i < end; i += step) {
            if (add_match(ev, out, json_array_get(array, (size_t)i)) != 0)
                return -1;
        }
        return 0;
    }
    /* Stepping backwards, -1 stands for "before the first item". */
    start = s->has_start ? slice_bound(s->start, size, -1, size - 1) : size - 1;
    end = s->has_end ? slice_bound(s->end, size, -1, size - 1) : -1;
    for (long long i = start; i > end; i += step) {
        if (add_match(ev, out, json_array_get(array, (size_t)i)) != 0)
            return -1;
    }
    return 0;
}

/* Applies one selector to node. A filter keeps the passing items of an
 * array, or node itself when it is not an array or comes from '..'. */
static int select_from(struct evaluation *ev, const struct selector *s, json_t *node,
                       bool from_descent, json_t *out)
{
    json_t *child = NULL;

    switch (s->kind) {
    case SELECT_NAME:
        child = json_is_object(node) ? json_object_get(node, s->name) : NULL;
        return child != NULL ? add_match(ev, out, child) : 0;
    case SELECT_INDEX:
        child = json_is_array(node) ? array_at(node, s->index) : NULL;
        return child != NULL ? add_match(ev, out, child) : 0;
    case SELECT_SLICE:
        return json_is_array(node) ? select_slice(ev, s, node, out) : 0;
    case SELECT_WILDCARD:
        if (json_is_object(node)) {
            const char *key;
            json_object_foreach(node, key, child) {
                if (add_match(ev, out, child) != 0)
                    return -1;
            }
        } else if (json_is_array(node)) {
            for (size_t i = 0; i < json_array_size(node); i++) {
                if (add_match(ev, out, json_array_get(node, i)) != 0)
                    return -1;
            }
        }
        return 0;
    case SELECT_FILTER:
        if (json_is_array(node) && !from_descent) {
            for (size_t i = 0; i < json_array_size(node); i++) {
                child = json_array_get(node, i);
                if (filter_passes(&s->filter, child) && add_match(ev, out, child) != 0)
                    return -1;
            }
            return 0;
        }
        return filter_passes(&s->filter, node) ? add_match(ev, out, node) : 0;
    }
    return 0;
}

static int apply_segment(struct evaluation *ev, const struct segment *seg, json_t *current,
                         json_t *next)
{
    json_t *nodes = current;
    int rc = 0;

    if (seg->descendant) {
        nodes = json_array();
        for (size_t i = 0; i < json_array_size(current) && rc == 0; i++)
            rc = add_descendants(ev, json_array_get(current, i), nodes);
    }
    for (size_t i = 0; i < json_array_size(nodes) && rc == 0; i++) {
        for (size_t j = 0; j < seg->count && rc == 0; j++)
            rc = select_from(ev, &seg->selectors[j], json_array_get(nodes, i), seg->descendant,
                             next);
    }
    if (nodes != current)
        json_decref(nodes);
    return rc;
}

int jsonpath_query(const char *expr, json_t *doc, json_t *matches, struct err *err)
{
    struct evaluation ev = { expr, 0, err };
    struct jsonpath path;
    json_t *current = NULL;
    int rc = -1;

    if (jsonpath_parse(expr, &path, err) != 0)
        goto cleanup;

    current = json_array();
    json_array_append(current, doc);
    for (size_t i = 0; i < path.count; i++) {
        json_t *next = json_array();
        if (apply_segment(&ev, &path.segments[i], current, next) != 0) {
            json_decref(next);
            goto cleanup;
        }
        json_decref(current);
        current = next;
    }
    json_array_extend(matches, current);
    rc = 0;

cleanup:
    json_decref(current);
    jsonpath_free(&path);
    return rc;
}
