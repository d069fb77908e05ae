/* A set of strings with open addressing and FNV-1a hashing. */
#include "deps/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t find_slot(char *const *slots, size_t cap, const char *s, size_t len)
{
    size_t i = (size_t)hash_bytes(s, len) & (cap - 1);

    while (slots[i] != NULL && (strlen(slots[i]) != len || memcmp(slots[i], s, len) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

static bool grow(struct strset *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    char **slots = calloc(cap, sizeof(*slots));

    if (slots == NULL)
        return false;
    for (size_t i = 0; i < set->cap; i++) {
        if (set->slots[i] != NULL)
            slots[find_slot(slots, cap, set->slots[i], strlen(set->slots[i]))] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return true;
}

bool strset_addn(struct strset *set, const char *s, size_t len)
{
    size_t i;

    if ((set->count + 1) * 4 >= set->cap * 3 && !grow(set))
        return false;
    i = find_slot(set->slots, set->cap, s, len);
    if (set->slots[i] != NULL)
        return false;
    set->slots[i] = strndup(s, len);
    if (set->slots[i] == NULL)
        return false;
    set->count++;
    return true;
}

bool strset_add(struct strset *set, const char *s)
{
    return strset_addn(set, s, strlen(s));
}

bool strset_hasn(const struct strset *set, const char *s, size_t len)
{
    if (set->cap == 0)
        return false;
    return set->slots[find_slot(set->slots, set->cap, s, len)] != NULL;
}

bool strset_has(const struct strset *set, const char *s)
{
    return strset_hasn(set, s, strlen(s));
}

void strset_release(struct strset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
    memset(set, 0, sizeof(*set));
}
