/* Masking secret values in text that leaves the process: logs, errors, journals. */
#ifndef AFTERSHOCK_UTIL_REDACT_H
#define AFTERSHOCK_UTIL_REDACT_H

#include <jansson.h>

/* Minimum length of a secret value searched for in free text, because
 * masking every "1" or "ab" would garble messages. Structured places (the
 * experiment's secrets, substituted fields) are masked whatever the length. */
#define REDACT_MIN_LENGTH 4

#define REDACT_MASK "***"

/* Adds a secret value to the process-wide list; later log lines, user errors
 * and redact_* calls replace it with "***". Not thread-safe: call it before
 * starting threads. */
void redact_add_secret(const char *value);

/* Returns a copy of text (caller frees) with every known secret masked. */
char *redact_text(const char *text);

/* Masks every known secret inside every string of node, in place. */
void redact_tree(json_t *node);

/* Forgets every secret (for tests). */
void redact_clear(void);

#endif
