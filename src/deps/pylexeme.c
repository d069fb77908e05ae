/* Python lexemes for the tokenizer: identifiers, string literals (f-string
 * fields included), number literals and keywords. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "deps/pytokenize_internal.h"

#define MAX_FSTRING_NESTING 32

void pytok_fail(struct pytokenizer *tk, const char *at, const char *fmt, const char *arg)
{
    if (tk->done)
        return;
    tk->done = true;
    tk->error_line = tk->line;
    tk->error_col = (int)(at - tk->line_start) + 1;
    snprintf(tk->error, sizeof(tk->error), fmt, arg);
}

void pytok_newline(struct pytokenizer *tk, const char *nl)
{
    tk->line++;
    tk->line_start = nl + 1;
}

/* Decodes one UTF-8 sequence (already validated) and returns its length. */
static int decode_utf8(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0xe0) {
        *cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        return 2;
    }
    if (s[0] < 0xf0) {
        *cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        return 3;
    }
    *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
          ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
    return 4;
}

/* False for code points that cannot appear in an identifier: punctuation,
 * symbols and spaces of the common blocks.
 * TODO: this approximates Unicode's XID_Start/XID_Continue with ranges of
 * symbol blocks; rare symbols outside them are accepted as letters. */
static bool is_identifier_code_point(uint32_t cp)
{
    static const uint32_t excluded[][2] = {
        { 0x80, 0xa9 }, { 0xab, 0xb4 }, { 0xb6, 0xb6 }, { 0xb8, 0xb9 }, { 0xbb, 0xbf },
        { 0xd7, 0xd7 }, { 0xf7, 0xf7 }, { 0x2000, 0x203e }, { 0x2041, 0x2053 },
        { 0x2055, 0x206f }, { 0x20a0, 0x20cf }, { 0x2100, 0x2101 }, { 0x2103, 0x2106 },
        { 0x2108, 0x2109 }, { 0x2190, 0x23ff }, { 0x2400, 0x24ff }, { 0x2500, 0x2bff },
        { 0x2e00, 0x2e7f }, { 0x3000, 0x3004 }, { 0x3008, 0x3020 }, { 0xfe10, 0xfe1f },
        { 0xfe30, 0xfe4f }, { 0xfe50, 0xfe6f }, { 0xfeff, 0xfeff }, { 0xff01, 0xff0f },
        { 0xff1a, 0xff20 }, { 0xff3b, 0xff3e }, { 0xff40, 0xff40 }, { 0xff5b, 0xff65 },
        { 0xfff0, 0xffff }, { 0x1f000, 0x1faff },
    };

    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++) {
        if (cp >= excluded[i][0] && cp <= excluded[i][1])
            return false;
    }
    return true;
}

/* Scans an identifier from p; returns its end, or NULL after an invalid character. */
const char *pytok_scan_identifier(struct pytokenizer *tk, const char *p)
{
    for (;;) {
        unsigned char c = (unsigned char)*p;

        if (p < tk->end && pytok_is_ident_char(c)) {
            p++;
        } else if (p < tk->end && c >= 0x80) {
            uint32_t cp;
            int n = decode_utf8((const unsigned char *)p, &cp);

            if (!is_identifier_code_point(cp)) {
                char text[8];

                memcpy(text, p, (size_t)n);
                text[n] = '\0';
                pytok_fail(tk, p, "invalid character '%s' in identifier", text);
                return NULL;
            }
            p += n;
        } else {
            return p;
        }
    }
}

/* Reads a string prefix: sets *fmt and *raw; false when the letters are no prefix. */
bool pytok_string_prefix(const char *s, size_t len, bool *fmt, bool *raw)
{
    bool seen_b = false, seen_u = false;

    *fmt = *raw = false;
    if (len == 0 || len > 2)
        return false;
    for (size_t i = 0; i < len; i++) {
        switch (s[i] | 0x20) {
        case 'r':
            if (*raw)
                return false;
            *raw = true;
            break;
        case 'f':
        case 't':
            if (*fmt || seen_b)
                return false;
            *fmt = true;
            break;
        case 'b':
            if (seen_b || *fmt)
                return false;
            seen_b = true;
            break;
        case 'u':
            if (len != 1)
                return false;
            seen_u = true;
            break;
        default:
            return false;
        }
    }
    return !(seen_u && len != 1);
}

/* Scans an f-string replacement field's expression from just after its '{';
 * returns the position after the field's closing '}'. */
static const char *scan_fexpr(struct pytokenizer *tk, const char *p, char quote, bool triple,
                              int nest);

/* Scans a format spec after ':' until the field's '}' and returns the position after it. */
static const char *scan_fspec(struct pytokenizer *tk, const char *p, char quote, bool triple,
                              int nest)
{
    while (p < tk->end) {
        char c = *p;

        if (c == '}')
            return p + 1;
        if (c == '{') {
            p = scan_fexpr(tk, p + 1, quote, triple, nest);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (c == quote && (!triple || (p[1] == quote && p[2] == quote)))
            break;
        if (c == '\n') {
            if (!triple)
                break;
            pytok_newline(tk, p);
        }
        if (c == '\\' && p + 1 < tk->end) {
            if (p[1] == '\n')
                pytok_newline(tk, p + 1);
            p++;
        }
        p++;
    }
    pytok_fail(tk, p, "f-string: expecting '}'%s", "");
    return NULL;
}

static const char *scan_fexpr(struct pytokenizer *tk, const char *p, char quote, bool triple,
                              int nest)
{
    int depth = 0;

    if (nest > MAX_FSTRING_NESTING) {
        pytok_fail(tk, p, "f-string: expressions nested too deeply%s", "");
        return NULL;
    }
    while (p < tk->end) {
        unsigned char c = (unsigned char)*p;

        if (c == '\n') {
            pytok_newline(tk, p);
            p++;
        } else if (c == '\'' || c == '"') {
            p = pytok_scan_string(tk, p, false, false, nest + 1);
            if (p == NULL)
                return NULL;
        } else if (pytok_is_ident_start(c) || c >= 0x80) {
            const char *start = p;
            bool sub_fmt, sub_raw;

            p = pytok_scan_identifier(tk, p);
            if (p == NULL)
                return NULL;
            if ((*p == '\'' || *p == '"') &&
                pytok_string_prefix(start, (size_t)(p - start), &sub_fmt, &sub_raw)) {
                p = pytok_scan_string(tk, p, sub_fmt, sub_raw, nest + 1);
                if (p == NULL)
                    return NULL;
            }
        } else if (c == '#') {
            while (p < tk->end && *p != '\n')
                p++;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
            p++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) {
                if (c == '}')
                    return p + 1;
                break;
            }
            depth--;
            p++;
        } else if (depth == 0 && c == '!' && p[1] != '=') {
            p++;
        } else if (depth == 0 && c == ':') {
            return scan_fspec(tk, p + 1, quote, triple, nest);
        } else if (c == '\\' && p + 1 < tk->end) {
            if (p[1] == '\n')
                pytok_newline(tk, p + 1);
            p += 2;
        } else {
            p++;
        }
    }
    pytok_fail(tk, p, "f-string: expecting '}'%s", "");
    return NULL;
}

const char *pytok_scan_string(struct pytokenizer *tk, const char *q, bool fmt, bool raw,
                               int nest)
{
    char quote = *q;
    bool triple = q[1] == quote && q[2] == quote;
    const char *p = q + (triple ? 3 : 1);
    int start_line = tk->line;
    const char *start_line_start = tk->line_start;

    while (p < tk->end) {
        char c = *p;

        if (c == '\\') {
            if (p + 1 >= tk->end)
                break;
            if (p[1] == '\n')
                pytok_newline(tk, p + 1);
            if (fmt && !raw && p[1] == 'N' && p[2] == '{') {
                const char *close = memchr(p, '}', (size_t)(tk->end - p));

                if (close == NULL)
                    break;
                p = close + 1;
                continue;
            }
            /* A backslash does not protect a brace: in f"\{x}" the field still opens. */
            p += fmt && (p[1] == '{' || p[1] == '}') ? 1 : 2;
        } else if (c == '\n') {
            if (!triple)
                break;
            pytok_newline(tk, p);
            p++;
        } else if (c == quote) {
            if (!triple)
                return p + 1;
            if (p[1] == quote && p[2] == quote)
                return p + 3;
            p++;
        } else if (fmt && c == '{') {
            if (p[1] == '{') {
                p += 2;
                continue;
            }
            p = scan_fexpr(tk, p + 1, quote, triple, nest);
            if (p == NULL)
                return NULL;
        } else if (fmt && c == '}') {
            if (p[1] != '}') {
                pytok_fail(tk, p, "f-string: single '}' is not allowed%s", "");
                return NULL;
            }
            p += 2;
        } else {
            p++;
        }
    }
    if (triple) {
        char where[32];

        snprintf(where, sizeof(where), "%d", tk->line);
        pytok_fail(tk, q, "unterminated triple-quoted string literal (detected at line %s)", where);
        tk->error_line = start_line;
        tk->error_col = (int)(q - start_line_start) + 1;
    } else {
        pytok_fail(tk, q, "unterminated string literal%s", "");
    }
    return NULL;
}

static const char *scan_digits(const char *p, int base)
{
    for (;;) {
        char c = *p;
        bool ok = base == 16 ? ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
                  : base == 8 ? (c >= '0' && c <= '7')
                  : base == 2 ? (c == '0' || c == '1')
                              : pytok_is_digit(c);

        if (ok) {
            p++;
        } else if (c == '_' && p[1] != '\0' && scan_digits(p + 1, base) != p + 1) {
            p++;
        } else {
            return p;
        }
    }
}

/* Scans a number literal; returns its end or NULL after an invalid literal. */
const char *pytok_scan_number(struct pytokenizer *tk, const char *p)
{
    const char *start = p;

    if (p[0] == '0' && p[1] != '\0' && strchr("xob", p[1] | 0x20) != NULL) {
        int base = (p[1] | 0x20) == 'x' ? 16 : (p[1] | 0x20) == 'o' ? 8 : 2;
        const char *digits = p[2] == '_' ? p + 3 : p + 2;
        const char *end = scan_digits(digits, base);

        if (end == digits) {
            pytok_fail(tk, start, "invalid number literal%s", "");
            return NULL;
        }
        return end;
    }

    p = scan_digits(p, 10);
    bool integer = true;

    if (*p == '.') {
        integer = false;
        p = scan_digits(p + 1, 10);
    }
    if ((*p | 0x20) == 'e') {
        const char *q = p + 1;

        if (*q == '+' || *q == '-')
            q++;
        if (pytok_is_digit(*q)) {
            integer = false;
            p = scan_digits(q, 10);
        }
    }
    if ((*p | 0x20) == 'j') {
        integer = false;
        p++;
    }
    if (integer && start[0] == '0') {
        for (const char *d = start; d < p; d++) {
            if (*d != '0' && *d != '_') {
                pytok_fail(tk, start, "leading zeros in decimal integer literals are not "
                        "permitted%s", "");
                return NULL;
            }
        }
    }
    return p;
}

/* True when text[0..len) is a hard keyword of Python 3. */
bool pytok_keyword_text(const char *text, size_t len)
{
    /* Keywords grouped by first letter, so most names fail after one switch. */
    static const char *const by_letter[26][6] = {
        ['a' - 'a'] = { "and", "as", "assert", "async", "await" },
        ['b' - 'a'] = { "break" },
        ['c' - 'a'] = { "class", "continue" },
        ['d' - 'a'] = { "def", "del" },
        ['e' - 'a'] = { "elif", "else", "except" },
        ['f' - 'a'] = { "finally", "for", "from" },
        ['g' - 'a'] = { "global" },
        ['i' - 'a'] = { "if", "import", "in", "is" },
        ['l' - 'a'] = { "lambda" },
        ['n' - 'a'] = { "nonlocal", "not" },
        ['o' - 'a'] = { "or" },
        ['p' - 'a'] = { "pass" },
        ['r' - 'a'] = { "raise", "return" },
        ['t' - 'a'] = { "try" },
        ['w' - 'a'] = { "while", "with" },
        ['y' - 'a'] = { "yield" },
    };
    const char *const *group;

    if (len < 2 || len > 8)
        return false;
    if (text[0] == 'F')
        return len == 5 && memcmp(text, "False", 5) == 0;
    if (text[0] == 'N')
        return len == 4 && memcmp(text, "None", 4) == 0;
    if (text[0] == 'T')
        return len == 4 && memcmp(text, "True", 4) == 0;
    if (text[0] < 'a' || text[0] > 'z')
        return false;
    group = by_letter[text[0] - 'a'];
    for (int i = 0; i < 6 && group[i] != NULL; i++) {
        if (strnlen(group[i], len + 1) == len && memcmp(group[i], text, len) == 0)
            return true;
    }
    return false;
}
