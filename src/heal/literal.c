/* Literal extraction from patterns and the Aho-Corasick automaton. */
#include "heal/literal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Returns the index just past a character class starting at p[i] == '[', or 0 when unclosed. */
static size_t skip_class(const char *p, size_t i)
{
    i++;
    if (p[i] == '^')
        i++;
    if (p[i] == ']')
        i++;
    while (p[i] != '\0') {
        if (p[i] == '\\' && p[i + 1] != '\0') {
            i += 2;
        } else if (p[i] == '[' && p[i + 1] == ':') {
            const char *end = strstr(p + i + 2, ":]");
            if (end == NULL)
                return 0;
            i = (size_t)(end - p) + 2;
        } else if (p[i] == ']') {
            return i + 1;
        } else {
            i++;
        }
    }
    return 0;
}

/* Returns the index just past a group starting at p[i] == '(', or 0 when unclosed. */
static size_t skip_group(const char *p, size_t i)
{
    int depth = 0;

    while (p[i] != '\0') {
        if (p[i] == '\\' && p[i + 1] != '\0') {
            i += 2;
        } else if (p[i] == '[') {
            i = skip_class(p, i);
            if (i == 0)
                return 0;
        } else {
            if (p[i] == '(')
                depth++;
            else if (p[i] == ')' && --depth == 0)
                return i + 1;
            i++;
        }
    }
    return 0;
}

/* True for syntax that changes how the rest reads: option settings such as
 * (?i), verbs such as (*UTF), quoting with \Q, or a top-level alternation. */
static bool unsafe_for_literals(const char *p)
{
    for (const char *s = strstr(p, "(?"); s != NULL; s = strstr(s + 2, "(?")) {
        if (strchr(":=!<>|", s[2]) == NULL || s[2] == '\0')
            return true;
    }
    if (strstr(p, "(*") != NULL || strstr(p, "\\Q") != NULL)
        return true;
    for (size_t i = 0; p[i] != '\0';) {
        if (p[i] == '|')
            return true;
        if (p[i] == '\\' && p[i + 1] != '\0') {
            /* Escapes that take arguments (\x41, \p{L}, \g1, octal) are not read here. */
            if (strchr("xocpPgkNu0123456789", p[i + 1]) != NULL)
                return true;
            i += 2;
        } else if (p[i] == '[' || p[i] == '(') {
            size_t end = p[i] == '[' ? skip_class(p, i) : skip_group(p, i);
            if (end == 0)
                return true;
            i = end;
        } else {
            i++;
        }
    }
    return false;
}

size_t heal_literal_extract(const char *p, char *out, size_t size)
{
    char run[256];
    size_t run_len = 0, best = 0, i = 0;

    if (unsafe_for_literals(p))
        return 0;
    while (p[i] != '\0') {
        int literal = -1;   /* the byte of a literal atom, or -1 */
        size_t next;

        if (p[i] == '\\') {
            unsigned char n = (unsigned char)p[i + 1];
            /* Escaped punctuation is literal; letters and digits are classes, anchors or codes. */
            if (n != '\0' && n < 0x80 && !(n >= '0' && n <= '9') &&
                !((n | 0x20) >= 'a' && (n | 0x20) <= 'z'))
                literal = n;
            next = i + (n != '\0' ? 2 : 1);
        } else if (p[i] == '[') {
            next = skip_class(p, i);
        } else if (p[i] == '(') {
            next = skip_group(p, i);
        } else if (strchr(".^$", p[i]) != NULL) {
            next = i + 1;
        } else {
            literal = (unsigned char)p[i];
            next = i + 1;
        }
        if (next == 0)
            return 0;

        /* A quantifier that allows zero repeats drops the atom; '+' keeps one copy. */
        char q = p[next];
        bool optional = q == '?' || q == '*' || (q == '{' && p[next + 1] == '0');
        bool repeated = q == '+' || q == '{';
        if (literal >= 0 && !optional && literal != '\n' && run_len < sizeof(run))
            run[run_len++] = (char)literal;
        if (literal < 0 || optional || repeated) {
            if (run_len > best && run_len <= size) {
                memcpy(out, run, run_len);
                best = run_len;
            }
            run_len = 0;
        }
        if (q == '?' || q == '*' || q == '+') {
            next++;
            if (p[next] == '?' || p[next] == '+')
                next++;
        } else if (q == '{') {
            const char *end = strchr(p + next, '}');
            if (end == NULL)
                return 0;
            next = (size_t)(end - p) + 1;
            if (p[next] == '?' || p[next] == '+')
                next++;
        }
        i = next;
    }
    if (run_len > best && run_len <= size) {
        memcpy(out, run, run_len);
        best = run_len;
    }
    return best >= HEAL_LITERAL_MIN ? best : 0;
}

/* A trie node while building. */
struct node {
    uint32_t fail;
    uint32_t *ids;
    size_t n_ids;
};

int heal_ac_build(struct heal_ac *ac, const struct heal_literal *lits, size_t n)
{
    size_t max_states = 1;
    struct node *nodes;
    uint32_t *queue;

    memset(ac, 0, sizeof(*ac));
    for (size_t i = 0; i < n; i++)
        max_states += lits[i].len;
    if (n == 0 || max_states >= HEAL_AC_OUTPUT / 256)
        return -1;

    /* Byte classes: one per byte that some literal uses, class 0 for the rest. */
    ac->nclasses = 1;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < lits[i].len; j++) {
            unsigned char b = (unsigned char)lits[i].bytes[j];
            if (ac->byte_class[b] == 0 && ac->nclasses < 256)
                ac->byte_class[b] = (uint8_t)ac->nclasses++;
        }
    }
    ac->next = calloc(max_states * ac->nclasses, sizeof(*ac->next));
    nodes = calloc(max_states, sizeof(*nodes));
    queue = calloc(max_states, sizeof(*queue));
    if (ac->next == NULL || nodes == NULL || queue == NULL)
        abort();

    /* The trie; 0 in the table means "no edge" until failure links fill it. */
    ac->nstates = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = 0;
        for (size_t j = 0; j < lits[i].len; j++) {
            uint32_t c = ac->byte_class[(unsigned char)lits[i].bytes[j]];
            if (ac->next[s * ac->nclasses + c] == 0)
                ac->next[s * ac->nclasses + c] = ac->nstates++;
            s = ac->next[s * ac->nclasses + c];
        }
        nodes[s].ids = realloc(nodes[s].ids, (nodes[s].n_ids + 1) * sizeof(uint32_t));
        if (nodes[s].ids == NULL)
            abort();
        nodes[s].ids[nodes[s].n_ids++] = lits[i].id;
    }

    /* Breadth-first: failure links, full transitions and inherited outputs. */
    size_t head = 0, tail = 0;
    for (uint32_t c = 0; c < ac->nclasses; c++) {
        uint32_t t = ac->next[c];
        if (t != 0)
            queue[tail++] = t;
    }
    while (head < tail) {
        uint32_t s = queue[head++];
        struct node *fail = &nodes[nodes[s].fail];

        if (fail->n_ids > 0) {
            nodes[s].ids = realloc(nodes[s].ids, (nodes[s].n_ids + fail->n_ids) * sizeof(uint32_t));
            if (nodes[s].ids == NULL)
                abort();
            memcpy(nodes[s].ids + nodes[s].n_ids, fail->ids, fail->n_ids * sizeof(uint32_t));
            nodes[s].n_ids += fail->n_ids;
        }
        for (uint32_t c = 0; c < ac->nclasses; c++) {
            uint32_t *edge = &ac->next[s * ac->nclasses + c];
            uint32_t via_fail = ac->next[nodes[s].fail * ac->nclasses + c];
            if (*edge != 0) {
                nodes[*edge].fail = via_fail;
                queue[tail++] = *edge;
            } else {
                *edge = via_fail;
            }
        }
    }

    size_t total = 0;
    ac->out_start = calloc(ac->nstates + 1, sizeof(*ac->out_start));
    for (uint32_t s = 0; s < ac->nstates; s++)
        total += nodes[s].n_ids;
    ac->ids = calloc(total + 1, sizeof(*ac->ids));
    if (ac->out_start == NULL || ac->ids == NULL)
        abort();
    total = 0;
    for (uint32_t s = 0; s < ac->nstates; s++) {
        ac->out_start[s] = (uint32_t)total;
        if (nodes[s].n_ids > 0)
            memcpy(ac->ids + total, nodes[s].ids, nodes[s].n_ids * sizeof(uint32_t));
        total += nodes[s].n_ids;
        free(nodes[s].ids);
    }
    ac->out_start[ac->nstates] = (uint32_t)total;

    /* Store targets as row offsets, flagged when they have outputs. */
    for (size_t k = 0; k < (size_t)ac->nstates * ac->nclasses; k++) {
        uint32_t t = ac->next[k];
        ac->next[k] = t * ac->nclasses |
                      (ac->out_start[t] != ac->out_start[t + 1] ? HEAL_AC_OUTPUT : 0);
    }
    free(nodes);
    free(queue);
    return 0;
}

void heal_ac_release(struct heal_ac *ac)
{
    free(ac->next);
    free(ac->out_start);
    free(ac->ids);
    memset(ac, 0, sizeof(*ac));
}
