/* String interning with an open-addressing hash table (FNV-1a). */
#include "report/names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_name(const char *name)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static void rebuild_slots(struct name_table *table, size_t n_slots)
{
    free(table->slots);
    table->slots = calloc(n_slots, sizeof(*table->slots));
    if (table->slots == NULL)
        abort();
    table->n_slots = n_slots;
    for (size_t i = 0; i < table->n; i++) {
        size_t slot = hash_name(table->names[i]) & (n_slots - 1);
        while (table->slots[slot] != 0)
            slot = (slot + 1) & (n_slots - 1);
        table->slots[slot] = i + 1;
    }
}

int name_table_intern(struct name_table *table, const char *name)
{
    size_t slot;

    if (table->n_slots == 0)
        rebuild_slots(table, 64);
    slot = hash_name(name) & (table->n_slots - 1);
    while (table->slots[slot] != 0) {
        size_t index = table->slots[slot] - 1;
        if (strcmp(table->names[index], name) == 0)
            return (int)index;
        slot = (slot + 1) & (table->n_slots - 1);
    }

    if (table->n == table->cap) {
        table->cap = table->cap ? table->cap * 2 : 32;
        table->names = realloc(table->names, table->cap * sizeof(char *));
        if (table->names == NULL)
            abort();
    }
    table->names[table->n] = strdup(name);
    if (table->names[table->n] == NULL)
        abort();
    table->slots[slot] = ++table->n;
    if (table->n * 2 > table->n_slots)
        rebuild_slots(table, table->n_slots * 2);
    return (int)(table->n - 1);
}

struct sort_entry {
    char *name;
    size_t old_index;
};

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const struct sort_entry *)a)->name, ((const struct sort_entry *)b)->name);
}

int *name_table_sort(struct name_table *table)
{
    struct sort_entry *entries = calloc(table->n ? table->n : 1, sizeof(*entries));
    int *remap = calloc(table->n ? table->n : 1, sizeof(*remap));

    if (entries == NULL || remap == NULL)
        abort();
    for (size_t i = 0; i < table->n; i++)
        entries[i] = (struct sort_entry){ table->names[i], i };
    qsort(entries, table->n, sizeof(*entries), compare_entries);
    for (size_t i = 0; i < table->n; i++) {
        table->names[i] = entries[i].name;
        remap[entries[i].old_index] = (int)i;
    }
    free(entries);
    if (table->n > 0)
        rebuild_slots(table, table->n_slots);
    return remap;
}

void name_table_release(struct name_table *table)
{
    for (size_t i = 0; i < table->n; i++)
        free(table->names[i]);
    free(table->names);
    free(table->slots);
    memset(table, 0, sizeof(*table));
}
