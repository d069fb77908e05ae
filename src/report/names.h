/* Interned names (experiments, commits): each distinct string gets a small integer. */
#ifndef AFTERSHOCK_REPORT_NAMES_H
#define AFTERSHOCK_REPORT_NAMES_H

#include <stddef.h>

/* Invariant: names[i] is the i-th distinct name added. slots is a hash
 * table of n_slots entries, each 0 when empty or an index + 1, and it is
 * never more than half full. */
struct name_table {
    char **names;
    size_t n;
    size_t cap;
    size_t *slots;
    size_t n_slots;
};

#define NAME_TABLE_INIT { NULL, 0, 0, NULL, 0 }

/* Returns the index of name, adding a copy when it is new. */
int name_table_intern(struct name_table *table, const char *name);

/* Sorts the names bytewise and returns an array (caller frees) that maps
 * each old index to its new one. */
int *name_table_sort(struct name_table *table);

void name_table_release(struct name_table *table);

#endif
