/* User-facing error, warning and hint lines. */
#include "util/ui.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/redact.h"

static void ui_vprint(const char *prefix, const char *fmt, va_list ap)
{
    char *message = NULL;

    if (vasprintf(&message, fmt, ap) < 0)
        return;
    char *masked = redact_text(message);
    fprintf(stderr, "%s%s\n", prefix, masked);
    fflush(stderr);
    free(masked);
    free(message);
}

void ui_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ui_vprint("aftershock: error: ", fmt, ap);
    va_end(ap);
}

void ui_warning(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ui_vprint("aftershock: warning: ", fmt, ap);
    va_end(ap);
}

void ui_hint(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ui_vprint("hint: ", fmt, ap);
    va_end(ap);
}

bool ui_is_terminal(FILE *stream)
{
    return isatty(fileno(stream)) == 1;
}

bool ui_color_enabled(FILE *stream)
{
    const char *no_color = getenv("NO_COLOR");

    if (no_color != NULL && no_color[0] != '\0')
        return false;
    return ui_is_terminal(stream);
}

const char *ui_color(FILE *stream, const char *name)
{
    static const struct { const char *name; const char *code; } colors[] = {
        { "green", "\033[32m" }, { "red", "\033[31m" }, { "yellow", "\033[33m" },
        { "bold", "\033[1m" }, { "dim", "\033[2m" }, { "reset", "\033[0m" },
    };

    if (!ui_color_enabled(stream))
        return "";
    for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++) {
        if (strcmp(colors[i].name, name) == 0)
            return colors[i].code;
    }
    return "";
}
