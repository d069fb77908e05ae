/* Python 3 tokenizer over decoded UTF-8 text, after CPython's tokenizer rules
 * (Python 3.12: f-string fields may nest strings with any quote). */
#include "deps/pytokenize.h"
#include "deps/pytokenize_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>


void pytok_init(struct pytokenizer *tk, const char *text, size_t len)
{
    memset(tk, 0, sizeof(*tk));
    tk->src = tk->p = tk->line_start = text;
    tk->end = text + len;
    tk->line = 1;
    tk->n_indents = 1;
    tk->at_line_start = true;
}

static enum pytok_type emit(struct pytokenizer *tk, struct pytoken *tok, enum pytok_type type,
                            const char *start, const char *end)
{
    tok->type = type;
    tok->start = start;
    tok->len = (size_t)(end - start);
    tok->line = tk->line;
    tok->col = (int)(start - tk->line_start) + 1;
    tok->keyword = false;
    if (type != PYTOK_NEWLINE && type != PYTOK_INDENT && type != PYTOK_DEDENT)
        tk->line_has_tokens = true;
    return type;
}

static enum pytok_type emit_error(struct pytokenizer *tk, struct pytoken *tok)
{
    tok->type = PYTOK_ERROR;
    tok->start = tk->p;
    tok->len = 0;
    tok->line = tk->error_line;
    tok->col = tk->error_col;
    return PYTOK_ERROR;
}

/* Measures the indentation of a new logical line and queues INDENT or DEDENT tokens. */
static bool measure_indent(struct pytokenizer *tk)
{
    const char *q = tk->p;
    int col = 0, alt = 0;
    int top;

    for (;; q++) {
        if (*q == ' ') {
            col++, alt++;
        } else if (*q == '\t') {
            col = (col / 8 + 1) * 8;
            alt++;
        } else if (*q == '\f') {
            col = alt = 0;
        } else {
            break;
        }
    }
    if (q >= tk->end || *q == '#' || *q == '\n' || (*q == '\\' && q[1] == '\n')) {
        /* Blank and comment-only lines do not count for indentation. */
        const char *nl = q < tk->end ? memchr(q, '\n', (size_t)(tk->end - q)) : NULL;

        if (q < tk->end && *q == '\\')
            nl = q + 1;
        if (nl == NULL) {
            tk->p = tk->end;
            tk->at_line_start = false;
        } else {
            tk->p = nl + 1;
            pytok_newline(tk, nl);
        }
        return true;
    }
    tk->at_line_start = false;
    tk->p = q;
    top = tk->indents[tk->n_indents - 1];
    if (col > top) {
        if (alt <= tk->alt_indents[tk->n_indents - 1]) {
            pytok_fail(tk, q, "inconsistent use of tabs and spaces in indentation%s", "");
            return false;
        }
        if (tk->n_indents >= PYTOK_MAX_INDENT) {
            pytok_fail(tk, q, "too many levels of indentation%s", "");
            return false;
        }
        tk->indents[tk->n_indents] = col;
        tk->alt_indents[tk->n_indents] = alt;
        tk->n_indents++;
        tk->pending = 1;
    } else if (col < top) {
        int dedents = 0;

        while (tk->n_indents > 1 && col < tk->indents[tk->n_indents - 1]) {
            tk->n_indents--;
            dedents++;
        }
        if (col != tk->indents[tk->n_indents - 1]) {
            pytok_fail(tk, q, "unindent does not match any outer indentation level%s", "");
            return false;
        }
        if (alt != tk->alt_indents[tk->n_indents - 1]) {
            pytok_fail(tk, q, "inconsistent use of tabs and spaces in indentation%s", "");
            return false;
        }
        tk->pending = -dedents;
    } else if (alt != tk->alt_indents[tk->n_indents - 1]) {
        pytok_fail(tk, q, "inconsistent use of tabs and spaces in indentation%s", "");
        return false;
    }
    return true;
}

static enum pytok_type scan_operator(struct pytokenizer *tk, struct pytoken *tok)
{
    const char *p = tk->p;
    char c = *p;
    size_t len = 1;

    switch (c) {
    case '(':
    case '[':
    case '{':
        if (tk->depth >= PYTOK_MAX_DEPTH) {
            pytok_fail(tk, p, "too many nested parentheses%s", "");
            return emit_error(tk, tok);
        }
        tk->bracket_lines[tk->depth] = tk->line;
        tk->bracket_cols[tk->depth] = (int)(p - tk->line_start) + 1;
        tk->brackets[tk->depth++] = c;
        break;
    case ')':
    case ']':
    case '}': {
        char text[2] = { c, '\0' };
        char open = '{';

        if (c == ')')
            open = '(';
        else if (c == ']')
            open = '[';

        if (tk->depth == 0) {
            pytok_fail(tk, p, "unmatched '%s'", text);
            return emit_error(tk, tok);
        }
        if (tk->brackets[tk->depth - 1] != open) {
            pytok_fail(tk, p, "closing parenthesis '%s' does not match the opening one", text);
            return emit_error(tk, tok);
        }
        tk->depth--;
        break;
    }
    case ',':
    case ';':
    case '~':
        break;
    case '.':
        len = p[1] == '.' && p[2] == '.' ? 3 : 1;
        break;
    case ':':
    case '=':
    case '+':
    case '%':
    case '&':
    case '|':
    case '^':
    case '@':
        len = p[1] == '=' ? 2 : 1;
        break;
    case '-':
        len = p[1] == '=' || p[1] == '>' ? 2 : 1;
        break;
    case '!':
        if (p[1] != '=') {
            pytok_fail(tk, p, "invalid syntax: '!' without '='%s", "");
            return emit_error(tk, tok);
        }
        len = 2;
        break;
    case '*':
    case '/':
        /* *, **, *=, **= and the same for / */
        if (p[1] == c)
            len = p[2] == '=' ? 3 : 2;
        else if (p[1] == '=')
            len = 2;
        break;
    case '<':
    case '>':
        if (c == '<' && p[1] == '>') {
            pytok_fail(tk, p, "invalid syntax: '<>' is not an operator in Python 3%s", "");
            return emit_error(tk, tok);
        }
        if (p[1] == c)
            len = p[2] == '=' ? 3 : 2;
        else if (p[1] == '=')
            len = 2;
        break;
    default: {
        char text[2] = { c, '\0' };

        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            pytok_fail(tk, p, "invalid non-printable character%s", "");
        else
            pytok_fail(tk, p, "invalid character '%s'", text);
        return emit_error(tk, tok);
    }
    }
    tk->p = p + len;
    return emit(tk, tok, PYTOK_OP, p, tk->p);
}

enum pytok_type pytok_next(struct pytokenizer *tk, struct pytoken *tok)
{
    for (;;) {
        if (tk->done)
            return tk->error[0] != '\0' ? emit_error(tk, tok)
                                        : emit(tk, tok, PYTOK_END, tk->p, tk->p);
        if (tk->pending > 0) {
            tk->pending = 0;
            return emit(tk, tok, PYTOK_INDENT, tk->p, tk->p);
        }
        if (tk->pending < 0) {
            tk->pending++;
            return emit(tk, tok, PYTOK_DEDENT, tk->p, tk->p);
        }
        if (tk->at_line_start && tk->depth == 0) {
            if (!measure_indent(tk))
                return emit_error(tk, tok);
            continue;
        }

        const char *p = tk->p;

        while (*p == ' ' || *p == '\t' || *p == '\f')
            p++;
        tk->p = p;
        if (p >= tk->end) {
            if (tk->depth > 0) {
                char text[2] = { tk->brackets[tk->depth - 1], '\0' };

                pytok_fail(tk, p, "'%s' was never closed", text);
                tk->error_line = tk->bracket_lines[tk->depth - 1];
                tk->error_col = tk->bracket_cols[tk->depth - 1];
                return emit_error(tk, tok);
            }
            if (tk->line_has_tokens) {
                tk->line_has_tokens = false;
                return emit(tk, tok, PYTOK_NEWLINE, p, p);
            }
            if (tk->n_indents > 1) {
                tk->n_indents--;
                return emit(tk, tok, PYTOK_DEDENT, p, p);
            }
            tk->done = true;
            continue;
        }

        unsigned char c = (unsigned char)*p;

        if (c == '#') {
            const char *nl = memchr(p, '\n', (size_t)(tk->end - p));

            tk->p = nl != NULL ? nl : tk->end;
            continue;
        }
        if (c == '\\') {
            if (p[1] == '\n') {
                pytok_newline(tk, p + 1);
                tk->p = p + 2;
                if (tk->p >= tk->end) {
                    pytok_fail(tk, p, "unexpected end of file after line continuation%s", "");
                    return emit_error(tk, tok);
                }
                continue;
            }
            pytok_fail(tk, p, "unexpected character after line continuation character%s", "");
            return emit_error(tk, tok);
        }
        if (c == '\n') {
            pytok_newline(tk, p);
            tk->p = p + 1;
            if (tk->depth == 0) {
                tk->at_line_start = true;
                if (tk->line_has_tokens) {
                    struct pytoken *t = tok;

                    tk->line_has_tokens = false;
                    t->type = PYTOK_NEWLINE;
                    t->start = p;
                    t->len = 1;
                    t->line = tk->line - 1;
                    t->col = 0;
                    t->keyword = false;
                    return PYTOK_NEWLINE;
                }
            }
            continue;
        }
        if (pytok_is_ident_start(c) || c >= 0x80) {
            const char *end = pytok_scan_identifier(tk, p);
            bool fmt, raw;

            if (end == NULL)
                return emit_error(tk, tok);
            if ((*end == '\'' || *end == '"') && pytok_string_prefix(p, (size_t)(end - p), &fmt, &raw)) {
                int line = tk->line;
                const char *line_start = tk->line_start;
                const char *close = pytok_scan_string(tk, end, fmt, raw, 0);

                if (close == NULL)
                    return emit_error(tk, tok);
                tk->p = close;
                emit(tk, tok, PYTOK_STRING, p, close);
                tok->line = line;
                tok->col = (int)(p - line_start) + 1;
                return PYTOK_STRING;
            }
            tk->p = end;
            emit(tk, tok, PYTOK_NAME, p, end);
            tok->keyword = pytok_keyword_text(p, (size_t)(end - p));
            return PYTOK_NAME;
        }
        if (pytok_is_digit((char)c) || (c == '.' && pytok_is_digit(p[1]))) {
            const char *end = pytok_scan_number(tk, p);

            if (end == NULL)
                return emit_error(tk, tok);
            tk->p = end;
            return emit(tk, tok, PYTOK_NUMBER, p, end);
        }
        if (c == '\'' || c == '"') {
            int line = tk->line;
            const char *line_start = tk->line_start;
            const char *close = pytok_scan_string(tk, p, false, false, 0);

            if (close == NULL)
                return emit_error(tk, tok);
            tk->p = close;
            emit(tk, tok, PYTOK_STRING, p, close);
            tok->line = line;
            tok->col = (int)(p - line_start) + 1;
            return PYTOK_STRING;
        }
        return scan_operator(tk, tok);
    }
}
