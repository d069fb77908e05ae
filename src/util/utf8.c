/* Replaces invalid UTF-8 with U+FFFD. */
#include "util/utf8.h"

#include "util/strbuf.h"

/* Length of the valid sequence starting at p (at most left bytes), or 0. */
static size_t utf8_sequence_length(const unsigned char *p, size_t left)
{
    size_t need;
    unsigned int cp;

    if (p[0] >= 0x01 && p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        need = 2;
        cp = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 3;
        cp = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (left < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

char *utf8_sanitize(const char *data, size_t len)
{
    struct strbuf sb = STRBUF_INIT;
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_sequence_length(p + i, len - i);
        if (n == 0) {
            strbuf_addstr(&sb, "\xEF\xBF\xBD");
            i++;
        } else {
            strbuf_add(&sb, p + i, n);
            i += n;
        }
    }
    return strbuf_detach(&sb);
}
