/* Import finder: walks the token stream of one file, tracking statements,
 * blocks and the guards that make an import optional. It also rejects the
 * Python 2 and broken constructs that show at the token level. */
#include "deps/imports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/pysource.h"
#include "deps/pytokenize.h"

enum block_kind { BLOCK_OTHER, BLOCK_TRY, BLOCK_TYPE_CHECKING };

struct block {
    enum block_kind kind;
    bool is_inline;       /* body on the header's line; ends with the logical line */
    size_t import_start;  /* index of the first import found in the body */
};

/* A try body that has ended, waiting for its except clauses. */
struct closed_try {
    bool valid;
    size_t start, end;    /* imports found in the body: [start, end) */
};

#define MAX_BLOCKS (PYTOK_MAX_INDENT + 4)
#define HISTORY 8 /* a power of two: the ring index is masked */

/* Finder state. Invariant: blocks[0..n_blocks) are the open blocks, innermost
 * last; type_checking counts those of kind BLOCK_TYPE_CHECKING. */
struct finder {
    struct pytokenizer tk;
    const struct py_scan_opts *opts;
    struct py_imports *out;
    int cell;

    struct block blocks[MAX_BLOCKS];
    int n_blocks;
    struct closed_try closed[MAX_BLOCKS + 1];
    int type_checking;
    bool has_import_module;   /* `from importlib import import_module` was seen */

    struct pytoken pushback;
    bool has_pushback;

    /* The current simple or compound statement. */
    bool stmt_start;
    int stmt_ntok;            /* tokens of the statement so far */
    struct pytoken stmt_toks[4];
    bool compound;            /* begins with a compound keyword (or match/case) */
    bool soft_compound;
    bool header_done;
    bool is_except, is_raise;
    bool except_catches, except_after_as;
    int lambdas;

    bool header_pending;      /* a header's ':' ended the last token */
    enum block_kind pending_kind;
    bool expect_indent;
    int header_line;

    struct pytoken history[HISTORY]; /* ring of the logical line's last tokens */
    unsigned n_history;              /* tokens pushed since the line began */
};

static int finder_fail(struct finder *f, const struct pytoken *tok, const char *fmt,
                       const char *arg)
{
    f->out->error_line = tok->line;
    f->out->error_col = tok->col;
    snprintf(f->out->error_msg, sizeof(f->out->error_msg), fmt, arg);
    return -1;
}

static enum pytok_type next_token(struct finder *f, struct pytoken *tok)
{
    if (f->has_pushback) {
        f->has_pushback = false;
        *tok = f->pushback;
        return tok->type;
    }
    return pytok_next(&f->tk, tok);
}

static int add_import(struct finder *f, const char *module, size_t len, int line, int col,
                      bool dynamic)
{
    struct py_imports *out = f->out;
    struct py_import *item;

    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        struct py_import *items = realloc(out->items, cap * sizeof(*items));

        if (items == NULL)
            return -1;
        out->items = items;
        out->cap = cap;
    }
    item = &out->items[out->count];
    item->module = strndup(module, len);
    if (item->module == NULL)
        return -1;
    item->line = line;
    item->col = col;
    item->cell = f->cell;
    item->optional = f->type_checking > 0;
    item->dynamic = dynamic;
    out->count++;
    return 0;
}

static bool is_plain_name(const struct pytoken *tok)
{
    return tok->type == PYTOK_NAME && !pytok_is_keyword(tok);
}

/* Reads a dotted name whose first part is tok; leaves the token after it in *tok. */
static int read_dotted(struct finder *f, struct pytoken *tok, char *buf, size_t size,
                       size_t *len)
{
    size_t n = 0;

    for (;;) {
        if (!is_plain_name(tok))
            return finder_fail(f, tok, "invalid syntax: a module name was expected%s", "");
        if (n + tok->len + 2 > size)
            return finder_fail(f, tok, "module name too long%s", "");
        memcpy(buf + n, tok->start, tok->len);
        n += tok->len;
        next_token(f, tok);
        if (!pytok_is_op(tok, "."))
            break;
        buf[n++] = '.';
        next_token(f, tok);
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}

static bool ends_statement(const struct pytoken *tok)
{
    return tok->type == PYTOK_NEWLINE || pytok_is_op(tok, ";");
}

/* Parses `import a.b [as c], ...` after the `import` keyword. */
static int parse_import(struct finder *f)
{
    struct pytoken tok;
    char name[1024];
    size_t len;

    for (;;) {
        next_token(f, &tok);
        if (tok.type == PYTOK_ERROR)
            return 0;

        int line = tok.line, col = tok.col;

        if (read_dotted(f, &tok, name, sizeof(name), &len) != 0)
            return -1;
        if (add_import(f, name, len, line, col, false) != 0)
            return finder_fail(f, &tok, "out of memory%s", "");
        if (pytok_is_name(&tok, "as")) {
            next_token(f, &tok);
            if (!is_plain_name(&tok))
                return finder_fail(f, &tok, "invalid syntax: a name was expected after 'as'%s",
                                   "");
            next_token(f, &tok);
        }
        if (!pytok_is_op(&tok, ","))
            break;
    }
    if (tok.type != PYTOK_ERROR && !ends_statement(&tok))
        return finder_fail(f, &tok, "invalid syntax in import statement%s", "");
    f->pushback = tok;
    f->has_pushback = true;
    return 0;
}

/* Parses the names after `from X import`; notes whether import_module is among them. */
static int parse_from_names(struct finder *f, struct pytoken *tok, bool *import_module)
{
    bool parens = false;

    next_token(f, tok);
    if (pytok_is_op(tok, "*")) {
        next_token(f, tok);
        return 0;
    }
    if (pytok_is_op(tok, "(")) {
        parens = true;
        next_token(f, tok);
    }
    for (;;) {
        if (!is_plain_name(tok))
            return finder_fail(f, tok, "invalid syntax: a name was expected in from-import%s",
                               "");
        if (pytok_is_name(tok, "import_module"))
            *import_module = true;
        next_token(f, tok);
        if (pytok_is_name(tok, "as")) {
            next_token(f, tok);
            if (!is_plain_name(tok))
                return finder_fail(f, tok, "invalid syntax: a name was expected after 'as'%s",
                                   "");
            next_token(f, tok);
        }
        if (!pytok_is_op(tok, ","))
            break;
        next_token(f, tok);
        if (parens && pytok_is_op(tok, ")"))
            break;
    }
    if (parens) {
        if (!pytok_is_op(tok, ")"))
            return finder_fail(f, tok, "invalid syntax: ')' was expected%s", "");
        next_token(f, tok);
    }
    return 0;
}

/* Parses `from [.]*X import ...` after the `from` keyword; relative imports are not recorded. */
static int parse_from(struct finder *f, const struct pytoken *from)
{
    struct pytoken tok;
    char name[1024];
    size_t len = 0;
    int dots = 0, col = 0;
    bool import_module = false;

    next_token(f, &tok);
    while (pytok_is_op(&tok, ".") || pytok_is_op(&tok, "...")) {
        dots += (int)tok.len;
        next_token(f, &tok);
    }
    if (is_plain_name(&tok)) {
        col = tok.col;
        if (read_dotted(f, &tok, name, sizeof(name), &len) != 0)
            return -1;
    } else if (dots == 0) {
        return finder_fail(f, &tok, "invalid syntax: a module name was expected after 'from'%s",
                           "");
    }
    if (!pytok_is_name(&tok, "import"))
        return finder_fail(f, &tok, "invalid syntax: 'import' was expected%s", "");
    if (parse_from_names(f, &tok, &import_module) != 0)
        return -1;
    if (tok.type != PYTOK_ERROR && !ends_statement(&tok))
        return finder_fail(f, &tok, "invalid syntax in from-import statement%s", "");
    if (dots == 0) {
        if (add_import(f, name, len, from->line, col, false) != 0)
            return finder_fail(f, &tok, "out of memory%s", "");
        if (import_module && strcmp(name, "importlib") == 0)
            f->has_import_module = true;
    }
    f->pushback = tok;
    f->has_pushback = true;
    return 0;
}

/* The k-th newest token of the line's history (k = 1 is the newest). */
static const struct pytoken *recent(const struct finder *f, unsigned k)
{
    return &f->history[(f->n_history - k) & (HISTORY - 1)];
}

/* Records a dynamic import when the history ends with NAME ( "literal" and tok closes it. */
static int check_dynamic(struct finder *f, const struct pytoken *tok)
{
    unsigned n = f->n_history;
    const struct pytoken *str, *fn;
    bool match = false;

    if (n < 3 || !(pytok_is_op(tok, ")") || pytok_is_op(tok, ",")))
        return 0;
    str = recent(f, 1);
    fn = recent(f, 3);
    if (str->type != PYTOK_STRING || !pytok_is_op(recent(f, 2), "("))
        return 0;
    if (pytok_is_name(fn, "__import__") ||
        (pytok_is_name(fn, "import_module") && f->has_import_module))
        match = n < 4 || !pytok_is_op(recent(f, 4), ".");
    if (pytok_is_name(fn, "import_module") && n >= 5 && pytok_is_op(recent(f, 4), ".") &&
        pytok_is_name(recent(f, 5), "importlib"))
        match = true;
    if (!match)
        return 0;

    /* Only a plain literal naming an absolute module counts. */
    const char *s = str->start;
    size_t len = str->len;

    if (*s == 'u' || *s == 'U')
        s++, len--;
    if (*s != '"' && *s != '\'')
        return 0;
    size_t quote = (len >= 6 && s[1] == s[0] && s[2] == s[0]) ? 3 : 1;

    if (len < 2 * quote + 1)
        return 0;
    for (size_t i = quote; i < len - quote; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (c == '.' && i > quote)))
            return 0;
    }
    if (add_import(f, s + quote, len - 2 * quote, str->line, str->col + (int)quote, true) != 0)
        return finder_fail(f, tok, "out of memory%s", "");
    return 0;
}

static void push_block(struct finder *f, enum block_kind kind, bool is_inline)
{
    if (f->n_blocks >= MAX_BLOCKS)
        return;
    f->blocks[f->n_blocks].kind = kind;
    f->blocks[f->n_blocks].is_inline = is_inline;
    f->blocks[f->n_blocks].import_start = f->out->count;
    f->n_blocks++;
    f->closed[f->n_blocks].valid = false;
    if (kind == BLOCK_TYPE_CHECKING)
        f->type_checking++;
}

static void pop_block(struct finder *f)
{
    struct block *b;

    if (f->n_blocks == 0)
        return;
    b = &f->blocks[--f->n_blocks];
    if (b->kind == BLOCK_TYPE_CHECKING)
        f->type_checking--;
    f->closed[f->n_blocks + 1].valid = false;
    if (b->kind == BLOCK_TRY) {
        f->closed[f->n_blocks].valid = true;
        f->closed[f->n_blocks].start = b->import_start;
        f->closed[f->n_blocks].end = f->out->count;
    }
}

static void reset_statement(struct finder *f)
{
    f->stmt_start = true;
    f->stmt_ntok = 0;
    f->compound = f->soft_compound = f->header_done = false;
    f->is_except = f->is_raise = false;
    f->except_catches = f->except_after_as = false;
    f->lambdas = 0;
}

static bool is_compound_keyword(const struct pytoken *tok)
{
    if (!pytok_is_keyword(tok))
        return false;
    return pytok_is_name(tok, "if") || pytok_is_name(tok, "elif") ||
           pytok_is_name(tok, "else") || pytok_is_name(tok, "while") ||
           pytok_is_name(tok, "for") || pytok_is_name(tok, "try") ||
           pytok_is_name(tok, "except") || pytok_is_name(tok, "finally") ||
           pytok_is_name(tok, "with") || pytok_is_name(tok, "def") ||
           pytok_is_name(tok, "class") || pytok_is_name(tok, "async");
}

static bool catches_import_error(const struct pytoken *tok)
{
    return pytok_is_name(tok, "ImportError") || pytok_is_name(tok, "ModuleNotFoundError") ||
           pytok_is_name(tok, "Exception") || pytok_is_name(tok, "BaseException");
}

/* Decides what block a header's ':' opens. */
static enum block_kind header_kind(const struct finder *f)
{
    const struct pytoken *t = f->stmt_toks;

    if (pytok_is_name(&t[0], "try"))
        return BLOCK_TRY;
    if (pytok_is_name(&t[0], "if")) {
        if (f->stmt_ntok == 3 && pytok_is_name(&t[1], "TYPE_CHECKING"))
            return BLOCK_TYPE_CHECKING;
        if (f->stmt_ntok == 5 && t[1].type == PYTOK_NAME && pytok_is_op(&t[2], ".") &&
            pytok_is_name(&t[3], "TYPE_CHECKING"))
            return BLOCK_TYPE_CHECKING;
    }
    return BLOCK_OTHER;
}

/* Handles a ':' at bracket depth 0: a lambda's, a block header's, or an annotation's. */
static void handle_colon(struct finder *f)
{
    if (f->lambdas > 0) {
        f->lambdas--;
        return;
    }
    if (f->header_done || !(f->compound || (f->soft_compound && f->stmt_ntok > 2)))
        return;
    f->header_done = true;
    f->header_pending = true;
    f->pending_kind = header_kind(f);
    f->header_line = f->stmt_toks[0].line;
    if (f->is_except && (f->stmt_ntok == 2 || f->except_catches) &&
        f->closed[f->n_blocks].valid) {
        /* A bare except or one naming ImportError makes the try body's imports optional. */
        for (size_t i = f->closed[f->n_blocks].start; i < f->closed[f->n_blocks].end; i++)
            f->out->items[i].optional = true;
    }
}

/* True when two tokens side by side cannot be valid Python 3, as in `print "x"`.
 * TODO: the finder checks tokens and statement shapes only, not the whole
 * grammar, so a file with other syntax errors (x = = 1) has its imports read. */
static bool invalid_adjacency(const struct finder *f, const struct pytoken *prev,
                              const struct pytoken *tok)
{
    bool prev_atom = is_plain_name(prev) || prev->type == PYTOK_NUMBER ||
                     prev->type == PYTOK_STRING || pytok_is_op(prev, ")") ||
                     pytok_is_op(prev, "]") || pytok_is_op(prev, "}");
    bool tok_atom = is_plain_name(tok) || tok->type == PYTOK_NUMBER ||
                    tok->type == PYTOK_STRING || pytok_is_name(tok, "None") ||
                    pytok_is_name(tok, "True") || pytok_is_name(tok, "False");

    if (!prev_atom || !tok_atom)
        return false;
    if (prev->type == PYTOK_STRING && tok->type == PYTOK_STRING)
        return false;
    /* Soft keywords open statements: match x:, case "a":, type X = int. */
    if (f->stmt_ntok == 1 && (pytok_is_name(prev, "match") || pytok_is_name(prev, "case") ||
                              pytok_is_name(prev, "type")))
        return false;
    return true;
}

/* Starts a statement with its first token. */
static void begin_statement(struct finder *f, const struct pytoken *tok)
{
    struct closed_try *closed = &f->closed[f->n_blocks];

    f->stmt_start = false;
    if (closed->valid && !pytok_is_name(tok, "except") && !pytok_is_name(tok, "else") &&
        !pytok_is_name(tok, "finally"))
        closed->valid = false;
    f->compound = is_compound_keyword(tok);
    f->soft_compound = pytok_is_name(tok, "match") || pytok_is_name(tok, "case");
    f->is_except = pytok_is_name(tok, "except");
    f->is_raise = pytok_is_name(tok, "raise");
}

/* Processes one ordinary token inside a logical line. */
static int handle_token(struct finder *f, const struct pytoken *tok)
{
    int depth = f->tk.depth;

    if (f->n_history > 0 && invalid_adjacency(f, recent(f, 1), tok)) {
        const struct pytoken *prev = recent(f, 1);

        if (f->stmt_ntok == 1 && (pytok_is_name(prev, "print") || pytok_is_name(prev, "exec")))
            return finder_fail(f, prev, "missing parentheses in call to '%s' (Python 2 syntax)",
                               pytok_is_name(prev, "print") ? "print" : "exec");
        return finder_fail(f, tok, "invalid syntax%s", "");
    }
    if (f->stmt_ntok < 4)
        f->stmt_toks[f->stmt_ntok] = *tok;
    f->stmt_ntok++;

    if (check_dynamic(f, tok) != 0)
        return -1;
    f->history[f->n_history++ & (HISTORY - 1)] = *tok;

    if (f->is_except && !f->header_done) {
        if (pytok_is_name(tok, "as"))
            f->except_after_as = true;
        else if (!f->except_after_as && catches_import_error(tok))
            f->except_catches = true;
    }
    if (depth > 0)
        return 0;
    if (pytok_is_name(tok, "lambda")) {
        f->lambdas++;
    } else if (pytok_is_op(tok, ":")) {
        handle_colon(f);
    } else if (pytok_is_op(tok, ";")) {
        reset_statement(f);
        f->n_history = 0;
    } else if (pytok_is_op(tok, ",") && !f->header_done) {
        if (f->is_raise)
            return finder_fail(f, tok, "invalid syntax: 'raise E, V' is Python 2 syntax%s", "");
        if (f->is_except && !f->except_after_as && f->opts->python_minor < 14)
            return finder_fail(f, tok, "invalid syntax: 'except E, e' is Python 2 syntax; use "
                               "'except E as e'%s", "");
    }
    return 0;
}

static int handle_newline(struct finder *f)
{
    if (f->header_pending) {
        f->header_pending = false;
        f->expect_indent = true;
    } else {
        while (f->n_blocks > 0 && f->blocks[f->n_blocks - 1].is_inline)
            pop_block(f);
    }
    reset_statement(f);
    f->n_history = 0;
    return 0;
}

static int finder_run(struct finder *f)
{
    struct pytoken tok;

    reset_statement(f);
    for (;;) {
        enum pytok_type type = next_token(f, &tok);

        if (type == PYTOK_ERROR) {
            f->out->error_line = f->tk.error_line;
            f->out->error_col = f->tk.error_col;
            snprintf(f->out->error_msg, sizeof(f->out->error_msg), "%s", f->tk.error);
            return -1;
        }
        if (f->expect_indent && type != PYTOK_INDENT) {
            char line[16];

            snprintf(line, sizeof(line), "%d", f->header_line);
            return finder_fail(f, &tok, "expected an indented block after the header on line %s",
                               line);
        }
        switch (type) {
        case PYTOK_END:
            return 0;
        case PYTOK_INDENT:
            if (!f->expect_indent)
                return finder_fail(f, &tok, "unexpected indent%s", "");
            f->expect_indent = false;
            push_block(f, f->pending_kind, false);
            continue;
        case PYTOK_DEDENT:
            pop_block(f);
            continue;
        case PYTOK_NEWLINE:
            handle_newline(f);
            continue;
        default:
            break;
        }
        if (f->header_pending) {
            /* The block's body follows on the header's own line. */
            f->header_pending = false;
            push_block(f, f->pending_kind, true);
            reset_statement(f);
            f->n_history = 0;
        }
        if (f->stmt_start) {
            begin_statement(f, &tok);
            if (pytok_is_name(&tok, "import")) {
                if (parse_import(f) != 0)
                    return -1;
                continue;
            }
            if (pytok_is_name(&tok, "from")) {
                if (parse_from(f, &tok) != 0)
                    return -1;
                continue;
            }
        }
        if (handle_token(f, &tok) != 0)
            return -1;
    }
}

int py_find_imports(const char *text, size_t len, const struct py_scan_opts *opts,
                    struct py_imports *out)
{
    struct finder *f = calloc(1, sizeof(*f));
    int rc;

    if (f == NULL) {
        snprintf(out->error_msg, sizeof(out->error_msg), "out of memory");
        return -1;
    }
    pytok_init(&f->tk, text, len);
    f->opts = opts;
    f->out = out;
    f->cell = -1;
    rc = finder_run(f);
    free(f);
    return rc;
}

int py_scan_source(char *data, size_t len, const struct py_scan_opts *opts,
                   struct py_imports *out)
{
    struct pysource_error error;
    size_t text_len;
    bool allocated = false;
    char *text = pysource_decode(data, len, &text_len, &allocated, &error);
    int rc;

    if (text == NULL) {
        out->error_line = error.line;
        out->error_col = error.col;
        snprintf(out->error_msg, sizeof(out->error_msg), "%s", error.msg);
        return -1;
    }
    rc = py_find_imports(text, text_len, opts, out);
    if (allocated)
        free(text);
    return rc;
}

void py_imports_release(struct py_imports *imports)
{
    for (size_t i = 0; i < imports->count; i++)
        free(imports->items[i].module);
    free(imports->items);
    memset(imports, 0, sizeof(*imports));
}
