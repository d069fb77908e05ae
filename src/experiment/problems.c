/* Collecting validation problems so every one of them is reported in one pass. */
#include "experiment/problems.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

void problems_init(struct problems *p, const char *file)
{
    p->file = file;
    p->items = NULL;
    p->count = 0;
}

void problems_add(struct problems *p, const char *field, const char *fmt, ...)
{
    struct strbuf line = STRBUF_INIT;
    va_list ap;
    int n;

    if (p->file != NULL && p->file[0] != '\0')
        strbuf_addf(&line, "%s: ", p->file);
    if (field != NULL && field[0] != '\0')
        strbuf_addf(&line, "%s: ", field);

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *message = malloc((size_t)n + 1);
        if (message == NULL)
            abort();
        va_start(ap, fmt);
        vsnprintf(message, (size_t)n + 1, fmt, ap);
        va_end(ap);
        strbuf_add(&line, message, (size_t)n);
        free(message);
    }

    char **grown = realloc(p->items, (p->count + 1) * sizeof(*p->items));
    if (grown == NULL)
        abort();
    p->items = grown;
    p->items[p->count++] = strbuf_detach(&line);
}

void problems_add_located(struct problems *p, const char *message)
{
    char **grown = realloc(p->items, (p->count + 1) * sizeof(*p->items));

    if (grown == NULL)
        abort();
    p->items = grown;
    p->items[p->count] = strdup(message);
    if (p->items[p->count] == NULL)
        abort();
    p->count++;
}

void problems_print(const struct problems *p, FILE *out)
{
    for (size_t i = 0; i < p->count; i++)
        fprintf(out, "aftershock: error: %s\n", p->items[i]);
}

void problems_release(struct problems *p)
{
    for (size_t i = 0; i < p->count; i++)
        free(p->items[i]);
    free(p->items);
    p->items = NULL;
    p->count = 0;
}
