/* Lexeme scanners shared by the tokenizer's files; not part of its interface. */
#ifndef AFTERSHOCK_DEPS_PYTOKENIZE_INTERNAL_H
#define AFTERSHOCK_DEPS_PYTOKENIZE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "deps/pytokenize.h"

static inline bool pytok_is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool pytok_is_ident_char(unsigned char c)
{
    return pytok_is_ident_start(c) || (c >= '0' && c <= '9');
}

static inline bool pytok_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Stops the tokenizer with a message (fmt has one %s for arg) placed at `at`. */
void pytok_fail(struct pytokenizer *tk, const char *at, const char *fmt, const char *arg);

/* Counts the line that ends at newline character nl. */
void pytok_newline(struct pytokenizer *tk, const char *nl);

/* Scans an identifier from p; returns its end, or NULL after an invalid character. */
const char *pytok_scan_identifier(struct pytokenizer *tk, const char *p);

/* Reads a string prefix: sets *fmt and *raw; false when the letters are no prefix. */
bool pytok_string_prefix(const char *s, size_t len, bool *fmt, bool *raw);

/* Scans a string literal whose opening quote is at q; returns the position
 * after its closing quote, or NULL after an error. */
const char *pytok_scan_string(struct pytokenizer *tk, const char *q, bool fmt, bool raw,
                              int nest);

/* Scans a number literal; returns its end or NULL after an invalid literal. */
const char *pytok_scan_number(struct pytokenizer *tk, const char *p);

/* True when text[0..len) is a hard keyword of Python 3. */
bool pytok_keyword_text(const char *text, size_t len);

#endif
