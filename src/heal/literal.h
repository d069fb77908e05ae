/* Required literals of patterns and an Aho-Corasick automaton over them,
 * so the classifier can skip lines that no pattern can match. */
#ifndef AFTERSHOCK_HEAL_LITERAL_H
#define AFTERSHOCK_HEAL_LITERAL_H

#include <stddef.h>
#include <stdint.h>

/* Shortest literal worth searching for; a pattern with none as long is
 * matched by PCRE2 over every line instead. */
#define HEAL_LITERAL_MIN 3

/* Finds the longest run of bytes that every match of pattern contains, read
 * conservatively from PCRE2 syntax (anything unclear gives no literal, never
 * a wrong one). Writes it to out (at most size bytes, not NUL-terminated)
 * and returns its length, or 0 when there is none of HEAL_LITERAL_MIN bytes. */
size_t heal_literal_extract(const char *pattern, char *out, size_t size);

/* A literal and the id reported when it is found. */
struct heal_literal {
    const char *bytes;
    size_t len;
    uint32_t id;
};

/* A deterministic Aho-Corasick automaton. Bytes are mapped to classes
 * (every byte that occurs in no literal shares class 0), so the transition
 * table has nstates * nclasses entries. A state is stored as its row offset
 * (state * nclasses), with HEAL_AC_OUTPUT set when a literal ends there, so
 * the scan loop needs one load per byte:
 *     t = next[(t & ~HEAL_AC_OUTPUT) + byte_class[byte]]
 * Invariant: outputs of state s are ids[out_start[s] .. out_start[s + 1]),
 * including those of its suffixes. */
#define HEAL_AC_OUTPUT 0x80000000u

struct heal_ac {
    uint8_t byte_class[256];
    uint32_t nclasses;
    uint32_t nstates;
    uint32_t *next;
    uint32_t *out_start;
    uint32_t *ids;
};

/* Builds the automaton. Returns 0, or -1 when there is no literal. */
int heal_ac_build(struct heal_ac *ac, const struct heal_literal *literals, size_t n);

void heal_ac_release(struct heal_ac *ac);

#endif
