/* Python source decoding: BOM, PEP 263 coding lines, strict UTF-8, universal newlines. */
#include "deps/pysource.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t pysource_utf8_check(const char *data, size_t len)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];

        /* Eight ASCII bytes at a time: the common case for source code. */
        if (c < 0x80 && i + 8 <= len) {
            uint64_t word;

            memcpy(&word, s + i, 8);
            if ((word & 0x8080808080808080ULL) == 0 &&
                ((word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }

        size_t need;
        uint32_t min, cp;

        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return i;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += need + 1;
    }
    return len;
}

/* Finds a coding declaration in one line (without its end); writes the name into out. */
static bool find_coding_spec(const char *line, size_t len, char *out, size_t out_size)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f'))
        i++;
    if (i >= len || line[i] != '#')
        return false;
    for (; i + 6 < len; i++) {
        if (memcmp(line + i, "coding", 6) != 0 || (line[i + 6] != ':' && line[i + 6] != '='))
            continue;
        size_t j = i + 7, n = 0;

        while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        while (j < len && n + 1 < out_size &&
               (isalnum((unsigned char)line[j]) || line[j] == '-' || line[j] == '_' ||
                line[j] == '.'))
            out[n++] = line[j++];
        out[n] = '\0';
        if (n > 0)
            return true;
    }
    return false;
}

/* A line that lets the second line carry the coding declaration: blank or a comment. */
static bool is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f'))
        i++;
    return i >= len || line[i] == '#' || line[i] == '\r';
}

/* Normalises a codec name the way CPython's tokenizer does before comparing it. */
static void normal_name(const char *name, char *out, size_t out_size)
{
    size_t n = 0;

    for (; name[n] != '\0' && n + 1 < out_size; n++)
        out[n] = name[n] == '_' ? '-' : (char)tolower((unsigned char)name[n]);
    out[n] = '\0';
    if (strcmp(out, "utf-8") == 0 || strncmp(out, "utf-8-", 6) == 0)
        snprintf(out, out_size, "utf-8");
    else if (strcmp(out, "latin-1") == 0 || strcmp(out, "iso-8859-1") == 0 ||
             strcmp(out, "iso-latin-1") == 0 || strncmp(out, "latin-1-", 8) == 0 ||
             strncmp(out, "iso-8859-1-", 11) == 0 || strncmp(out, "iso-latin-1-", 12) == 0)
        snprintf(out, out_size, "iso-8859-1");
}

/* Maps Python codec aliases that iconv spells differently; NULL when iconv should try the name. */
static const char *iconv_alias(const char *normal)
{
    static const char *const aliases[][2] = {
        { "utf8", "UTF-8" }, { "u8", "UTF-8" }, { "utf", "UTF-8" }, { "cp65001", "UTF-8" },
        { "latin1", "ISO-8859-1" }, { "latin", "ISO-8859-1" }, { "l1", "ISO-8859-1" },
        { "iso8859-1", "ISO-8859-1" }, { "8859", "ISO-8859-1" }, { "cp819", "ISO-8859-1" },
        { "ascii", "ASCII" }, { "us-ascii", "ASCII" }, { "646", "ASCII" },
        { "shift-jis", "SHIFT_JIS" }, { "sjis", "SHIFT_JIS" }, { "euc-jp", "EUC-JP" },
        { "latin-9", "ISO-8859-15" }, { "latin9", "ISO-8859-15" }, { "l9", "ISO-8859-15" },
    };

    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(normal, aliases[i][0]) == 0)
            return aliases[i][1];
    }
    return NULL;
}

static char *convert_latin1(const char *data, size_t len, size_t *out_len)
{
    char *out = malloc(len * 2 + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];

        if (c < 0x80) {
            out[n++] = (char)c;
        } else {
            out[n++] = (char)(0xc0 | (c >> 6));
            out[n++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

static char *convert_iconv(iconv_t cd, const char *data, size_t len, size_t *out_len)
{
    size_t cap = len * 4 + 16;
    char *out = malloc(cap);
    char *in_p = (char *)data, *out_p = out;
    size_t in_left = len, out_left = cap - 1;

    if (out == NULL)
        return NULL;
    if (iconv(cd, &in_p, &in_left, &out_p, &out_left) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &out_p, &out_left) == (size_t)-1) {
        free(out);
        return NULL;
    }
    *out_p = '\0';
    *out_len = (size_t)(out_p - out);
    return out;
}

/* Rewrites "\r\n" and lone "\r" as "\n" in place; returns the new length. */
static size_t normalize_newlines(char *text, size_t len)
{
    char *cr = memchr(text, '\r', len);
    size_t w;

    if (cr == NULL)
        return len;
    w = (size_t)(cr - text);
    for (size_t r = w; r < len; r++) {
        if (text[r] == '\r') {
            text[w++] = '\n';
            if (r + 1 < len && text[r + 1] == '\n')
                r++;
        } else {
            text[w++] = text[r];
        }
    }
    text[w] = '\0';
    return w;
}

/* Returns the line and column of byte offset pos in text. */
static void locate(const char *text, size_t pos, int *line, int *col)
{
    const char *line_start = text;

    *line = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            (*line)++;
            line_start = text + i + 1;
        }
    }
    *col = (int)(text + pos - line_start) + 1;
}

static void set_error(struct pysource_error *error, int line, int col, const char *msg)
{
    error->line = line;
    error->col = col;
    snprintf(error->msg, sizeof(error->msg), "%s", msg);
}

char *pysource_decode(char *data, size_t len, size_t *out_len, bool *allocated,
                      struct pysource_error *error)
{
    bool bom = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
    char spec[64] = "", normal[64] = "";
    const char *line1, *line2, *nl;
    size_t len1, len2;
    char *out;
    size_t n;

    if (bom) {
        data += 3;
        len -= 3;
    }

    /* The coding declaration sits on line 1, or on line 2 below a blank or comment line. */
    line1 = data;
    nl = memchr(data, '\n', len);
    len1 = nl ? (size_t)(nl - data) : len;
    if (!find_coding_spec(line1, len1, spec, sizeof(spec)) && nl != NULL &&
        is_blank_or_comment(line1, len1)) {
        line2 = nl + 1;
        nl = memchr(line2, '\n', len - (size_t)(line2 - data));
        len2 = nl ? (size_t)(nl - line2) : len - (size_t)(line2 - data);
        find_coding_spec(line2, len2, spec, sizeof(spec));
    }
    if (spec[0] != '\0')
        normal_name(spec, normal, sizeof(normal));

    if (spec[0] != '\0' && bom && strcmp(normal, "utf-8") != 0) {
        char msg[128];

        snprintf(msg, sizeof(msg), "encoding problem: %s with BOM", spec);
        set_error(error, 0, 0, msg);
        return NULL;
    }

    if (spec[0] == '\0' || strcmp(normal, "utf-8") == 0 ||
        (iconv_alias(normal) != NULL && strcmp(iconv_alias(normal), "UTF-8") == 0)) {
        out = data;
        n = len;
    } else if (strcmp(normal, "iso-8859-1") == 0 ||
               (iconv_alias(normal) && strcmp(iconv_alias(normal), "ISO-8859-1") == 0)) {
        out = convert_latin1(data, len, &n);
    } else {
        const char *alias = iconv_alias(normal);
        iconv_t cd = iconv_open("UTF-8", alias != NULL ? alias : spec);
        char msg[128];

        if (cd == (iconv_t)-1)
            cd = iconv_open("UTF-8", normal);
        if (cd == (iconv_t)-1) {
            snprintf(msg, sizeof(msg), "unknown encoding: %s", spec);
            set_error(error, 0, 0, msg);
            return NULL;
        }
        out = convert_iconv(cd, data, len, &n);
        iconv_close(cd);
        if (out == NULL) {
            snprintf(msg, sizeof(msg), "bytes that are not valid %s", spec);
            set_error(error, 0, 0, msg);
            return NULL;
        }
    }
    if (out == NULL) {
        set_error(error, 0, 0, "out of memory");
        return NULL;
    }
    *allocated = out != data;

    size_t bad = pysource_utf8_check(out, n);

    if (bad < n) {
        int line, col;
        char msg[128];

        locate(out, bad, &line, &col);
        if (out[bad] == '\0')
            snprintf(msg, sizeof(msg), "source code contains a NUL byte");
        else
            snprintf(msg, sizeof(msg), "invalid UTF-8 byte 0x%02x; declare the file's coding "
                     "on line 1 or 2", (unsigned char)out[bad]);
        set_error(error, line, col, msg);
        if (*allocated)
            free(out);
        return NULL;
    }
    *out_len = normalize_newlines(out, n);
    return out;
}
