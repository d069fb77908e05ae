/* Python 3 tokenizer: strings of every prefix (f-strings with nested fields),
 * comments, continuations, brackets and indentation, over decoded UTF-8 text. */
#ifndef AFTERSHOCK_DEPS_PYTOKENIZE_H
#define AFTERSHOCK_DEPS_PYTOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

enum pytok_type {
    PYTOK_END,
    PYTOK_NAME,
    PYTOK_NUMBER,
    PYTOK_STRING,
    PYTOK_OP,
    PYTOK_NEWLINE,  /* end of a logical line */
    PYTOK_INDENT,
    PYTOK_DEDENT,
    PYTOK_ERROR,    /* the tokenizer stopped; pytokenizer.error has the reason */
};

struct pytoken {
    enum pytok_type type;
    const char *start;  /* into the source; the whole literal for strings, prefix included */
    size_t len;
    int line;           /* 1-based */
    int col;            /* 1-based byte column */
    bool keyword;       /* a NAME that is a hard keyword (not match, case, type, _) */
};

#define PYTOK_MAX_DEPTH 200
#define PYTOK_MAX_INDENT 100

/* Tokenizer state. Invariant: depth brackets are open, listed in brackets[],
 * and indents[0..n_indents) is strictly increasing from 0. */
struct pytokenizer {
    const char *src, *end, *p;
    const char *line_start;
    int line;
    int depth;
    char brackets[PYTOK_MAX_DEPTH];
    int bracket_lines[PYTOK_MAX_DEPTH]; /* where each open bracket is, for errors */
    int bracket_cols[PYTOK_MAX_DEPTH];
    int indents[PYTOK_MAX_INDENT];
    int alt_indents[PYTOK_MAX_INDENT]; /* the same levels counting a tab as one column */
    int n_indents;
    int pending;          /* > 0: INDENT owed, < 0: that many DEDENTs owed */
    bool at_line_start;
    bool line_has_tokens; /* a token was returned since the last NEWLINE */
    bool done;
    int error_line, error_col;
    char error[160];
};

/* Starts tokenizing text[0..len), which must be followed by a NUL byte. */
void pytok_init(struct pytokenizer *tk, const char *text, size_t len);

/* Reads the next token. After PYTOK_END or PYTOK_ERROR it keeps returning the same type. */
enum pytok_type pytok_next(struct pytokenizer *tk, struct pytoken *tok);

/* True when a token is the operator op. Inline, so that strlen of a literal folds away. */
static inline bool pytok_is_op(const struct pytoken *tok, const char *op)
{
    return tok->type == PYTOK_OP && __builtin_strlen(op) == tok->len &&
           __builtin_memcmp(tok->start, op, tok->len) == 0;
}

/* True when a token is the name or keyword name. */
static inline bool pytok_is_name(const struct pytoken *tok, const char *name)
{
    return tok->type == PYTOK_NAME && __builtin_strlen(name) == tok->len &&
           __builtin_memcmp(tok->start, name, tok->len) == 0;
}

/* True for Python 3 hard keywords (not the soft ones: match, case, type, _). */
static inline bool pytok_is_keyword(const struct pytoken *tok)
{
    return tok->type == PYTOK_NAME && tok->keyword;
}

#endif
