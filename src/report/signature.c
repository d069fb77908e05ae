/* Failure message normalisation into signatures (rules in signature.h). */
#include "report/signature.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

struct writer {
    char *out;
    size_t size;
    size_t len;
    bool full;
};

/* Bytes in the UTF-8 sequence that lead starts (1 for a stray byte). */
static size_t utf8_length(unsigned char lead)
{
    if ((lead & 0xE0) == 0xC0)
        return 2;
    if ((lead & 0xF0) == 0xE0)
        return 3;
    if ((lead & 0xF8) == 0xF0)
        return 4;
    return 1;
}

/* Drops a UTF-8 sequence left incomplete at the end of the output. */
static void trim_partial_character(struct writer *w)
{
    size_t start = w->len;

    while (start > 0 && ((unsigned char)w->out[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    start--;
    if (start + utf8_length((unsigned char)w->out[start]) > w->len)
        w->len = start;
}

static void emit(struct writer *w, const char *text, size_t n)
{
    if (w->full)
        return;
    if (w->len + n >= w->size) {
        n = w->size - 1 - w->len;
        w->full = true;
    }
    memcpy(w->out + w->len, text, n);
    w->len += n;
    if (w->full)
        trim_partial_character(w);
}

static void emit_str(struct writer *w, const char *text)
{
    emit(w, text, strlen(text));
}

static bool is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static size_t count_hex(const char *p)
{
    size_t n = 0;

    while (isxdigit((unsigned char)p[n]))
        n++;
    return n;
}

static size_t count_digits(const char *p)
{
    size_t n = 0;

    while (isdigit((unsigned char)p[n]))
        n++;
    return n;
}

/* Length of a URL at p: "scheme://" and everything up to white space, a
 * quote or a bracket. */
static size_t match_url(const char *p)
{
    size_t n = 0;

    if (!isalpha((unsigned char)p[0]))
        return 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '+' || p[n] == '.' || p[n] == '-')
        n++;
    if (strncmp(p + n, "://", 3) != 0)
        return 0;
    n += 3;
    while (p[n] != '\0' && !isspace((unsigned char)p[n]) &&
           strchr("\"'`<>()[]{},", p[n]) == NULL)
        n++;
    return n;
}

/* Length of a UUID (8-4-4-4-12 hex digits) at p. */
static size_t match_uuid(const char *p)
{
    static const size_t groups[] = { 8, 4, 4, 4, 12 };
    size_t n = 0;

    for (size_t g = 0; g < 5; g++) {
        if (count_hex(p + n) < groups[g])
            return 0;
        n += groups[g];
        if (g < 4) {
            if (p[n] != '-')
                return 0;
            n++;
        }
    }
    return is_word_char((unsigned char)p[n]) ? 0 : n;
}

/* Length of an ISO 8601 date (YYYY-MM-DD) with an optional time, fraction and zone. */
static size_t match_time(const char *p)
{
    size_t n;

    if (count_digits(p) != 4 || p[4] != '-' || count_digits(p + 5) != 2 || p[7] != '-' ||
        count_digits(p + 8) != 2)
        return 0;
    n = 10;
    if ((p[n] == 'T' || p[n] == ' ') && count_digits(p + n + 1) == 2 && p[n + 3] == ':' &&
        count_digits(p + n + 4) == 2) {
        n += 6;
        if (p[n] == ':' && count_digits(p + n + 1) == 2)
            n += 3;
        if ((p[n] == '.' || p[n] == ',') && count_digits(p + n + 1) > 0)
            n += 1 + count_digits(p + n + 1);
        if (p[n] == 'Z')
            n++;
        else if ((p[n] == '+' || p[n] == '-') && count_digits(p + n + 1) >= 2) {
            size_t zone = count_digits(p + n + 1);
            if (zone == 2 && p[n + 3] == ':' && count_digits(p + n + 4) == 2)
                n += 6;
            else if (zone == 2 || zone == 4)
                n += 1 + zone;
        }
    }
    return n;
}

/* Length of an optional ":port" at p. */
static size_t match_port(const char *p)
{
    size_t digits;

    if (p[0] != ':')
        return 0;
    digits = count_digits(p + 1);
    return digits > 0 && digits <= 5 ? digits + 1 : 0;
}

/* Length of an IPv4 address (four dotted numbers of 1-3 digits) with an optional port. */
static size_t match_ipv4(const char *p)
{
    size_t n = 0;

    for (int part = 0; part < 4; part++) {
        size_t digits = count_digits(p + n);
        if (digits == 0 || digits > 3)
            return 0;
        n += digits;
        if (part < 3) {
            if (p[n] != '.')
                return 0;
            n++;
        }
    }
    if (isalnum((unsigned char)p[n]) || (p[n] == '.' && isdigit((unsigned char)p[n + 1])))
        return 0;
    return n + match_port(p + n);
}

/* Length of a bracketed IPv6 address ("[::1]") with an optional port. */
static size_t match_ipv6(const char *p)
{
    size_t n = 1;
    bool colon = false;

    if (p[0] != '[')
        return 0;
    while (isxdigit((unsigned char)p[n]) || p[n] == ':' || p[n] == '.') {
        colon = colon || p[n] == ':';
        n++;
    }
    if (p[n] != ']' || !colon)
        return 0;
    n++;
    return n + match_port(p + n);
}

/* Length of a path: "/x...", "./x", "../x" or "~/x", up to white space or a closing quote. */
static size_t match_path(const char *p)
{
    size_t n;

    if (p[0] == '/' && p[1] != '\0' &&
        (isalnum((unsigned char)p[1]) || strchr("._-~", p[1]) != NULL))
        n = 1;
    else if (strncmp(p, "./", 2) == 0 || strncmp(p, "~/", 2) == 0)
        n = 2;
    else if (strncmp(p, "../", 3) == 0)
        n = 3;
    else
        return 0;
    while (p[n] != '\0' && !isspace((unsigned char)p[n]) &&
           strchr("\"'`,;()<>[]{}", p[n]) == NULL)
        n++;
    /* A sentence that ends right after the path keeps its full stop or colon. */
    while (n > 1 && (p[n - 1] == '.' || p[n - 1] == ':'))
        n--;
    return n;
}

/* Length of a run of 8 or more hex digits that contains at least one decimal digit. */
static size_t match_hex_id(const char *p)
{
    size_t n = count_hex(p);

    if (n < 8 || is_word_char((unsigned char)p[n]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)p[i]))
            return n;
    }
    return 0;
}

/* Length of a number: digits with an optional fraction. */
static size_t match_number(const char *p)
{
    size_t n = count_digits(p);

    if (n == 0)
        return 0;
    if (p[n] == '.' && isdigit((unsigned char)p[n + 1]))
        n += 1 + count_digits(p + n + 1);
    return n;
}

/* Tries each replacement at p, in the order of the list in signature.h.
 * A path is only tried when path_allowed. Returns the matched length and
 * sets *placeholder, or returns 0. */
static size_t match_variable(const char *p, bool path_allowed, const char **placeholder)
{
    static const struct {
        size_t (*match)(const char *);
        const char *placeholder;
    } rules[] = {
        { match_url, "<url>" },     { match_uuid, "<id>" },    { match_time, "<time>" },
        { match_ipv4, "<addr>" },   { match_ipv6, "<addr>" },  { match_path, "<path>" },
        { match_hex_id, "<id>" },   { match_number, "<n>" },
    };

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && count_hex(p + 2) > 0) {
        *placeholder = "<hex>";
        return 2 + count_hex(p + 2);
    }
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (rules[i].match == match_path && !path_allowed)
            continue;
        size_t n = rules[i].match(p);
        if (n > 0) {
            *placeholder = rules[i].placeholder;
            return n;
        }
    }
    return 0;
}

size_t signature_normalize(const char *message, char *out, size_t size)
{
    struct writer w = { out, size, 0, false };
    const char *p = message ? message : "";
    bool at_boundary = true;
    char previous = '\0';

    if (size == 0)
        return 0;
    while (*p != '\0' && !w.full) {
        const char *placeholder;
        size_t n;

        if (isspace((unsigned char)*p)) {
            while (isspace((unsigned char)*p))
                p++;
            if (w.len > 0 && *p != '\0')
                emit(&w, " ", 1);
            at_boundary = true;
            previous = ' ';
            continue;
        }
        /* A path starts a message or follows a space, quote, bracket or
         * separator; after a number "/2" is a ratio, not a path. */
        bool path_allowed = previous == '\0' || strchr(" \"'`(=:[{,", previous) != NULL;
        if (at_boundary && (n = match_variable(p, path_allowed, &placeholder)) > 0) {
            emit_str(&w, placeholder);
            previous = p[n - 1];
            p += n;
            /* A placeholder ends in '>', a word boundary, so what follows is
             * matched as it will be when the signature is normalised again.
             * Letters after a number ("ms") match no rule and stay. */
            at_boundary = true;
            continue;
        }
        emit(&w, p, 1);
        at_boundary = !is_word_char((unsigned char)*p);
        previous = *p;
        p++;
    }
    out[w.len] = '\0';
    return w.len;
}
