/* YAML 1.1 scalar resolution, matching what PyYAML's safe_load builds from each scalar. */
#include "experiment/yaml_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest numeric scalar converted; longer ones are strings or errors. */
#define NUMBER_TEXT_MAX 256

static bool text_is(const char *text, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(text, word, len) == 0;
}

static bool text_is_any(const char *text, size_t len, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        if (text_is(text, len, words[i]))
            return true;
    }
    return false;
}

static bool is_null_text(const char *text, size_t len)
{
    static const char *const words[] = { "~", "null", "Null", "NULL", NULL };

    return len == 0 || text_is_any(text, len, words);
}

/* Returns 1 or 0 for a YAML 1.1 boolean word, -1 for anything else. */
static int bool_value(const char *text, size_t len)
{
    static const char *const yes[] = { "yes", "Yes", "YES", "true", "True", "TRUE",
                                       "on", "On", "ON", NULL };
    static const char *const no[] = { "no", "No", "NO", "false", "False", "FALSE",
                                      "off", "Off", "OFF", NULL };

    if (text_is_any(text, len, yes))
        return 1;
    if (text_is_any(text, len, no))
        return 0;
    return -1;
}

static bool all_in(const char *text, size_t len, const char *set)
{
    for (size_t i = 0; i < len; i++) {
        if (strchr(set, text[i]) == NULL || text[i] == '\0')
            return false;
    }
    return true;
}

/* Matches one or more ":[0-5]?[0-9]" groups from text[*pos] to the end. */
static bool match_sexagesimal_tail(const char *text, size_t len, size_t *pos)
{
    size_t i = *pos;
    int groups = 0;

    while (i < len && text[i] == ':') {
        i++;
        if (i >= len || !isdigit((unsigned char)text[i]))
            return false;
        if (i + 1 < len && isdigit((unsigned char)text[i + 1])) {
            if (text[i] > '5')
                return false;
            i++;
        }
        i++;
        groups++;
    }
    *pos = i;
    return groups > 0;
}

/* The YAML 1.1 int forms: binary 0b, hex 0x, octal with a leading 0,
 * decimal, and base 60 (1:30), each with an optional sign and underscores. */
static bool match_int(const char *text, size_t len)
{
    size_t i = 0;

    if (i < len && (text[i] == '-' || text[i] == '+'))
        i++;
    if (i >= len)
        return false;
    const char *rest = text + i;
    size_t n = len - i;

    if (n > 2 && rest[0] == '0' && rest[1] == 'b')
        return all_in(rest + 2, n - 2, "01_");
    if (n > 2 && rest[0] == '0' && rest[1] == 'x')
        return all_in(rest + 2, n - 2, "0123456789abcdefABCDEF_");
    if (rest[0] == '0')
        return n == 1 || all_in(rest + 1, n - 1, "01234567_");
    if (rest[0] < '1' || rest[0] > '9')
        return false;

    size_t j = 1;
    while (j < n && (isdigit((unsigned char)rest[j]) || rest[j] == '_'))
        j++;
    if (j == n)
        return true;
    return match_sexagesimal_tail(rest, n, &j) && j == n;
}

/* Matches "[eE][-+][0-9]+" from text[*pos]; PyYAML requires the sign. */
static bool match_exponent(const char *text, size_t len, size_t *pos)
{
    size_t i = *pos;

    if (i >= len || (text[i] != 'e' && text[i] != 'E'))
        return false;
    i++;
    if (i >= len || (text[i] != '-' && text[i] != '+'))
        return false;
    i++;
    if (i >= len || !isdigit((unsigned char)text[i]))
        return false;
    while (i < len && isdigit((unsigned char)text[i]))
        i++;
    *pos = i;
    return true;
}

static void skip_digits(const char *text, size_t len, size_t *pos)
{
    while (*pos < len && (isdigit((unsigned char)text[*pos]) || text[*pos] == '_'))
        (*pos)++;
}

/* The YAML 1.1 float forms PyYAML resolves: 1.5, 1., .5, 1.5e+3, 1:30.5,
 * .inf with a sign, and .nan. A number without a dot (1e3) is not a float. */
static bool match_float(const char *text, size_t len)
{
    static const char *const inf[] = { ".inf", ".Inf", ".INF", NULL };
    static const char *const nan_words[] = { ".nan", ".NaN", ".NAN", NULL };
    size_t i = 0;

    if (text_is_any(text, len, nan_words))
        return true;
    if (len > 0 && text[0] == '.') {
        if (text_is_any(text, len, inf))
            return true;
        if (len < 2 || !isdigit((unsigned char)text[1]))
            return false;
        i = 1;
        skip_digits(text, len, &i);
        return i == len || (match_exponent(text, len, &i) && i == len);
    }

    if (i < len && (text[i] == '-' || text[i] == '+'))
        i++;
    if (i < len && text_is_any(text + i, len - i, inf))
        return true;
    if (i >= len || !isdigit((unsigned char)text[i]))
        return false;
    skip_digits(text, len, &i);
    if (i < len && text[i] == ':') {
        if (!match_sexagesimal_tail(text, len, &i) || i >= len || text[i] != '.')
            return false;
        i++;
        skip_digits(text, len, &i);
        return i == len;
    }
    if (i >= len || text[i] != '.')
        return false;
    i++;
    skip_digits(text, len, &i);
    return i == len || (match_exponent(text, len, &i) && i == len);
}

/* Copies text without underscores into out; returns false when it does not fit. */
static bool strip_underscores(const char *text, size_t len, char *out, size_t size)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (text[i] == '_')
            continue;
        if (n + 1 >= size)
            return false;
        out[n++] = text[i];
    }
    out[n] = '\0';
    return true;
}

/* Copies the first 40 bytes of text into buf (at least 41 bytes) for messages. */
static const char *text_prefix(const char *text, size_t len, char *buf)
{
    size_t n = len < 40 ? len : 40;

    memcpy(buf, text, n);
    buf[n] = '\0';
    return buf;
}

static bool accumulate(unsigned long long *acc, unsigned base, unsigned digit)
{
    if (*acc > (ULLONG_MAX - digit) / base)
        return false;
    *acc = *acc * base + digit;
    return true;
}

static bool parse_unsigned(const char *digits, unsigned base, unsigned long long *out)
{
    unsigned long long acc = 0;

    if (*digits == '\0')
        return false;
    for (const char *p = digits; *p != '\0'; p++) {
        unsigned digit;
        if (isdigit((unsigned char)*p))
            digit = (unsigned)(*p - '0');
        else if (isxdigit((unsigned char)*p))
            digit = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        else
            return false;
        if (digit >= base || !accumulate(&acc, base, digit))
            return false;
    }
    *out = acc;
    return true;
}

/* Adds up "a:b:c" as a * 60^2 + b * 60 + c. */
static bool parse_base60(const char *digits, unsigned long long *out)
{
    unsigned long long acc = 0;
    const char *p = digits;

    for (;;) {
        unsigned long long part = 0;
        char buf[NUMBER_TEXT_MAX];
        size_t n = strcspn(p, ":");
        if (n == 0 || n >= sizeof(buf))
            return false;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (!parse_unsigned(buf, 10, &part))
            return false;
        if (acc > (ULLONG_MAX - part) / 60)
            return false;
        acc = acc * 60 + part;
        p += n;
        if (*p == '\0')
            break;
        p++;
    }
    *out = acc;
    return true;
}

/* Converts a scalar that match_int accepted, as PyYAML's int constructor does. */
static json_t *construct_int(const char *text, size_t len, char *why, size_t why_size)
{
    char buf[NUMBER_TEXT_MAX];
    unsigned long long magnitude = 0;
    bool negative = false;
    bool ok;

    if (!strip_underscores(text, len, buf, sizeof(buf))) {
        snprintf(why, why_size, "integer '%.40s...' is too long", text_prefix(text, len, buf));
        return NULL;
    }
    const char *digits = buf;
    if (*digits == '-' || *digits == '+') {
        negative = *digits == '-';
        digits++;
    }

    if (strncmp(digits, "0b", 2) == 0)
        ok = parse_unsigned(digits + 2, 2, &magnitude);
    else if (strncmp(digits, "0x", 2) == 0)
        ok = parse_unsigned(digits + 2, 16, &magnitude);
    else if (digits[0] == '0')
        ok = parse_unsigned(digits, 8, &magnitude);
    else if (strchr(digits, ':') != NULL)
        ok = parse_base60(digits, &magnitude);
    else
        ok = parse_unsigned(digits, 10, &magnitude);

    if (ok && !negative && magnitude > (unsigned long long)LLONG_MAX)
        ok = false;
    if (ok && negative && magnitude > (unsigned long long)LLONG_MAX + 1ULL)
        ok = false;
    if (!ok) {
        snprintf(why, why_size, "integer '%.*s' is invalid or out of range", (int)len, text);
        return NULL;
    }
    if (negative)
        return json_integer(magnitude == (unsigned long long)LLONG_MAX + 1ULL
                                ? LLONG_MIN
                                : -(long long)magnitude);
    return json_integer((long long)magnitude);
}

static bool parse_double(const char *text, double *out)
{
    char *end = NULL;

    if (*text == '\0' || strpbrk(text, "xX") != NULL || isspace((unsigned char)*text))
        return false;
    errno = 0;
    *out = strtod(text, &end);
    return end != NULL && *end == '\0';
}

/* Converts float text as PyYAML's float constructor does: underscores
 * dropped, .inf and .nan, base 60 parts, else a decimal number. */
static json_t *construct_float(const char *text, size_t len, char *why, size_t why_size)
{
    char buf[NUMBER_TEXT_MAX];
    double sign = 1.0, value = 0.0;
    bool ok = true;

    if (!strip_underscores(text, len, buf, sizeof(buf))) {
        snprintf(why, why_size, "number '%.40s...' is too long", text_prefix(text, len, buf));
        return NULL;
    }
    for (char *p = buf; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *digits = buf;
    if (*digits == '-' || *digits == '+') {
        sign = *digits == '-' ? -1.0 : 1.0;
        digits++;
    }

    if (strcmp(digits, ".inf") == 0 || strcmp(digits, ".nan") == 0) {
        ok = false;
    } else if (strchr(digits, ':') != NULL) {
        const char *p = digits;
        while (ok) {
            char part[NUMBER_TEXT_MAX];
            double number;
            size_t n = strcspn(p, ":");
            memcpy(part, p, n);
            part[n] = '\0';
            ok = parse_double(part, &number);
            value = value * 60.0 + number;
            p += n;
            if (*p == '\0')
                break;
            p++;
        }
    } else {
        ok = parse_double(digits, &value);
    }

    if (!ok || !isfinite(value)) {
        snprintf(why, why_size,
                 "'%.*s' is not a finite number, which JSON cannot hold; quote it to keep "
                 "the text",
                 (int)(len > 60 ? 60 : len), text);
        return NULL;
    }
    return json_real(sign * value);
}

static json_t *make_string(const char *text, size_t len, char *why, size_t why_size)
{
    json_t *node = json_stringn(text, len);

    if (node == NULL)
        snprintf(why, why_size, "string is not valid UTF-8");
    return node;
}

json_t *yaml_scalar_plain(const char *text, size_t len, char *why, size_t why_size)
{
    int truth;

    if (is_null_text(text, len))
        return json_null();
    truth = bool_value(text, len);
    if (truth >= 0)
        return json_boolean(truth);
    if (match_int(text, len))
        return construct_int(text, len, why, why_size);
    if (match_float(text, len))
        return construct_float(text, len, why, why_size);
    /* Timestamps, "<<" outside a key and "=" stay strings: JSON has no
     * date type, and safe_load has no constructor for the other two. */
    return make_string(text, len, why, why_size);
}

json_t *yaml_scalar_tagged(const char *tag, const char *text, size_t len, char *why,
                           size_t why_size)
{
    if (strcmp(tag, "str") == 0)
        return make_string(text, len, why, why_size);
    if (strcmp(tag, "null") == 0)
        return json_null();

    if (strcmp(tag, "bool") == 0) {
        static const char *const words[] = { "yes", "true", "on", "no", "false", "off", NULL };
        char lower[8];
        if (len < sizeof(lower)) {
            for (size_t i = 0; i < len; i++)
                lower[i] = (char)tolower((unsigned char)text[i]);
            for (size_t i = 0; words[i] != NULL; i++) {
                if (text_is(lower, len, words[i]))
                    return json_boolean(i < 3);
            }
        }
        snprintf(why, why_size, "'%.*s' is not a valid !!bool value", (int)(len > 60 ? 60 : len),
                 text);
        return NULL;
    }

    if (strcmp(tag, "int") == 0) {
        if (match_int(text, len))
            return construct_int(text, len, why, why_size);
        snprintf(why, why_size, "'%.*s' is not a valid !!int value", (int)(len > 60 ? 60 : len),
                 text);
        return NULL;
    }

    if (strcmp(tag, "float") == 0) {
        if (match_int(text, len)) {
            json_t *integer = construct_int(text, len, why, why_size);
            json_t *real = integer ? json_real((double)json_integer_value(integer)) : NULL;
            json_decref(integer);
            return real;
        }
        return construct_float(text, len, why, why_size);
    }

    snprintf(why, why_size, "tag '!!%s' does not apply to a scalar", tag);
    return NULL;
}
