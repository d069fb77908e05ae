/* A list of validation problems, each "file: path.to.field: what is wrong". */
#ifndef AFTERSHOCK_EXPERIMENT_PROBLEMS_H
#define AFTERSHOCK_EXPERIMENT_PROBLEMS_H

#include <stddef.h>
#include <stdio.h>

/* Invariant: items holds count heap strings; file is borrowed and outlives the list. */
struct problems {
    const char *file;
    char **items;
    size_t count;
};

void problems_init(struct problems *p, const char *file);

/* Adds "FILE: FIELD: MESSAGE". field is a dotted path such as
 * "method[2].provider.path", or "" for the whole document. */
void problems_add(struct problems *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds message as it is, for a message that already names the file, such
 * as a load error "NAME:LINE:COLUMN: what is wrong". */
void problems_add_located(struct problems *p, const char *message);

/* Prints each problem on its own line, prefixed with "aftershock: error: ". */
void problems_print(const struct problems *p, FILE *out);

void problems_release(struct problems *p);

#endif
