/* Growable NUL-terminated byte buffer. */
#ifndef AFTERSHOCK_UTIL_STRBUF_H
#define AFTERSHOCK_UTIL_STRBUF_H

#include <stddef.h>

/* Invariant: buf is NULL (empty, nothing allocated) or holds len bytes plus a NUL, within cap. */
struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
/* Frees the buffer and leaves sb empty and reusable. */
void strbuf_release(struct strbuf *sb);
/* Returns the buffer (caller frees; never NULL) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_reset(struct strbuf *sb);
/* Returns the contents, "" when empty. */
const char *strbuf_str(const struct strbuf *sb);

#endif
