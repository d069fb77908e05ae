/* User-facing messages: `aftershock: error: ...` on stderr, colour only on a terminal. */
#ifndef AFTERSHOCK_UTIL_UI_H
#define AFTERSHOCK_UTIL_UI_H

#include <stdbool.h>
#include <stdio.h>

/* Prints "aftershock: error: MESSAGE" to stderr. */
void ui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "aftershock: warning: MESSAGE" to stderr. */
void ui_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "hint: MESSAGE" to stderr. */
void ui_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when stream is a terminal and NO_COLOR is unset or empty. */
bool ui_color_enabled(FILE *stream);

/* True when stream is a terminal, so progress lines may be redrawn. */
bool ui_is_terminal(FILE *stream);

/* Returns an ANSI colour sequence for "green", "red", "yellow", "bold" or "reset",
 * or "" when colour is disabled for stream. */
const char *ui_color(FILE *stream, const char *name);

#endif
