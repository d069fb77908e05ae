/* The streaming classifier.
 *
 * Output arrives in chunks, and complete lines are searched in bulk. Most
 * patterns contain a literal that every match must contain. An Aho-Corasick
 * automaton finds those literals in one pass over the bytes, so a line that
 * matches nothing costs one table lookup per byte. Patterns without such a
 * literal are searched with one PCRE2 alternation. Either way a line that
 * may match is then tried against the candidate rules one by one, on that
 * line alone, which keeps every pattern inside one line as grep does. Once a
 * rule matches with no exit code left to check, no later rule can win, so
 * the scanners are rebuilt without them. */
#include "heal/classify.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/strbuf.h"

/* Limits on one match, so a pathological rule pattern cannot stall a run. */
#define MATCH_LIMIT 10000000
#define DEPTH_LIMIT 10000
#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

/* Lines are ordered by scan number, then by position in the scanned chunk. */
#define POSITION_BITS 40

/* A pattern tried on this many lines is JIT-compiled: compiling costs about
 * as much as a few hundred interpreted matches on a short line. */
#define JIT_AFTER_TRIES 256

static bool rule_needs_exit_code(const struct heal_classifier *c, size_t i)
{
    return c->rules->items[i].exit_code_count > 0 && c->exit_code < 0;
}

/* Compiles the patterns without a literal as one alternation. */
static void build_rest(struct heal_classifier *c, const struct strbuf *text, bool combinable)
{
    int code;
    PCRE2_SIZE offset;

    if (combinable)
        c->rest = pcre2_compile((PCRE2_SPTR)strbuf_str(text), text->len,
                                PCRE2_MULTILINE | PCRE2_NO_AUTO_CAPTURE, &code, &offset, NULL);
    if (c->rest == NULL) {
        /* Back references, leading verbs such as (*CRLF) and comments only work on their own. */
        log_debug("heal", "matching some rules line by line: their patterns do not combine");
        c->rest_line_by_line = true;
    } else {
        pcre2_jit_compile(c->rest, PCRE2_JIT_COMPLETE);
    }
}

/* Builds the scanners for rules [0, limit): the literal automaton and the rest. */
static void rebuild(struct heal_classifier *c)
{
    struct strbuf rest = STRBUF_INIT;
    struct heal_literal *literals = NULL;
    size_t n_literals = 0, cap = 0;
    bool combinable = true, any_rest = false;

    heal_ac_release(&c->ac);
    c->has_ac = false;
    pcre2_code_free(c->rest);
    c->rest = NULL;
    c->rest_line_by_line = false;
    c->stale = false;
    for (size_t g = 0; g < c->pattern_count; g++)
        c->in_rest[g] = false;
    for (size_t i = 0, g = 0; i < c->limit; g += c->rules->items[i].pattern_count, i++) {
        const struct heal_rule *rule = &c->rules->items[i];

        if (!c->eligible[i])
            continue;
        for (size_t p = 0; p < rule->pattern_count; p++) {
            char literal[256];
            size_t len = heal_literal_extract(rule->patterns[p], literal, sizeof(literal));

            if (len > 0) {
                if (n_literals == cap) {
                    cap = cap ? cap * 2 : 64;
                    literals = realloc(literals, cap * sizeof(*literals));
                    if (literals == NULL)
                        abort();
                }
                char *copy = malloc(len);
                if (copy == NULL)
                    abort();
                memcpy(copy, literal, len);
                literals[n_literals++] = (struct heal_literal){ copy, len, (uint32_t)(g + p) };
                continue;
            }
            /* \E ends a \Q quote the pattern may leave open. A comment could
             * still swallow the closing parenthesis, so such patterns are not combined. */
            if (strchr(rule->patterns[p], '#') != NULL && strstr(rule->patterns[p], "(?") != NULL)
                combinable = false;
            strbuf_addstr(&rest, any_rest ? "|(?:" : "(?:");
            strbuf_addstr(&rest, rule->patterns[p]);
            strbuf_addstr(&rest, "\\E)");
            any_rest = true;
            c->in_rest[g + p] = true;
        }
    }
    if (n_literals > 0)
        c->has_ac = heal_ac_build(&c->ac, literals, n_literals) == 0;
    if (any_rest)
        build_rest(c, &rest, combinable);
    for (size_t i = 0; i < n_literals; i++)
        free((char *)literals[i].bytes);
    free(literals);
    strbuf_release(&rest);
}

void heal_classifier_init(struct heal_classifier *c, const struct heal_rules *rules,
                          const char *command_line, int exit_code)
{
    size_t n = rules->count;
    size_t command_len = command_line != NULL ? strlen(command_line) : 0;

    memset(c, 0, sizeof(*c));
    c->rules = rules;
    c->exit_code = exit_code;
    c->eligible = calloc(n + 1, sizeof(*c->eligible));
    c->matched = calloc(n + 1, sizeof(*c->matched));
    for (size_t i = 0; i < n; i++)
        c->pattern_count += rules->items[i].pattern_count;
    size_t np = c->pattern_count + 1;
    c->in_rest = calloc(np, sizeof(*c->in_rest));
    c->pattern_rule = calloc(np, sizeof(*c->pattern_rule));
    c->pattern_index = calloc(np, sizeof(*c->pattern_index));
    c->tries = calloc(np, sizeof(*c->tries));
    c->mark = calloc(np, sizeof(*c->mark));
    c->queue = calloc(np, sizeof(*c->queue));
    c->lines = calloc(n + 1, sizeof(*c->lines));
    c->line_at = calloc(n + 1, sizeof(*c->line_at));
    c->match_data = pcre2_match_data_create(1, NULL);
    c->match_context = pcre2_match_context_create(NULL);
    c->jit_stack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
    if (c->eligible == NULL || c->matched == NULL || c->in_rest == NULL || c->lines == NULL ||
        c->line_at == NULL || c->mark == NULL || c->queue == NULL || c->match_data == NULL ||
        c->match_context == NULL || c->pattern_rule == NULL || c->pattern_index == NULL ||
        c->tries == NULL)
        abort();
    for (size_t i = 0, g = 0; i < n; i++) {
        for (size_t p = 0; p < rules->items[i].pattern_count; p++, g++) {
            c->pattern_rule[g] = (uint32_t)i;
            c->pattern_index[g] = (uint32_t)p;
        }
    }
    pcre2_set_match_limit(c->match_context, MATCH_LIMIT);
    pcre2_set_depth_limit(c->match_context, DEPTH_LIMIT);
    if (c->jit_stack != NULL)
        pcre2_jit_stack_assign(c->match_context, NULL, c->jit_stack);

    for (size_t i = 0; i < n; i++) {
        const struct heal_rule *rule = &rules->items[i];
        bool ok = !rule->disabled;

        if (ok && rule->command_compiled != NULL)
            ok = command_line != NULL &&
                 pcre2_match(rule->command_compiled, (PCRE2_SPTR)command_line, command_len, 0, 0,
                             c->match_data, c->match_context) >= 0;
        if (ok && exit_code >= 0 && rule->exit_code_count > 0)
            ok = heal_rule_has_exit_code(rule, exit_code);
        c->eligible[i] = ok;
    }
    c->limit = n;
    /* Built on the first output, so a command that prints nothing costs no compilation. */
    c->stale = true;
}

/* Tries pattern id g on one line, JIT-compiling patterns that are tried often. */
static bool pattern_matches(struct heal_classifier *c, uint32_t g, const char *line, size_t len)
{
    const struct heal_rule *rule = &c->rules->items[c->pattern_rule[g]];
    pcre2_code *re = heal_rule_pattern(rule, c->pattern_index[g]);

    if (re == NULL)
        return false;
    if (++c->tries[g] == JIT_AFTER_TRIES)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return pcre2_match(re, (PCRE2_SPTR)line, len, 0, 0, c->match_data, c->match_context) >= 0;
}

/* Copies a line for display: without its line end, control bytes as '?'. */
static void keep_line(char *out, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= HEAL_LINE_SHOWN)
        len = HEAL_LINE_SHOWN - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        out[i] = ch < 0x20 && ch != '\t' ? '?' : (char)ch;
    }
    out[len] = '\0';
}

/* Queues pattern id g for the current line unless it is queued already or its rule cannot win. */
static void queue_pattern(struct heal_classifier *c, uint32_t g, size_t *n)
{
    if (c->pattern_rule[g] >= c->limit || c->mark[g] == c->line_serial)
        return;
    c->mark[g] = c->line_serial;
    c->queue[(*n)++] = g;
}

/* Tries the queued patterns on one line and narrows the scan when a rule is sure to win. */
static void match_line(struct heal_classifier *c, const char *line, size_t len, size_t n,
                       uint64_t at)
{
    size_t new_limit = c->limit;

    for (size_t q = 0; q < n; q++) {
        uint32_t g = c->queue[q], i = c->pattern_rule[g];

        /* A rule already seen on this line needs no second pattern. */
        if (i >= new_limit || (c->matched[i] && c->line_at[i] == at) ||
            !pattern_matches(c, g, line, len))
            continue;
        c->matched[i] = true;
        if (at >= c->line_at[i]) {
            c->line_at[i] = at;
            keep_line(c->lines[i], line, len);
        }
        if (!rule_needs_exit_code(c, i))
            new_limit = i + 1;
    }
    if (new_limit < c->limit) {
        c->limit = new_limit;
        c->stale = true;
    }
}

/* Finds the line around position i of data: [*start, *end), end past the newline. */
static void line_around(const char *data, size_t len, size_t floor, size_t i, size_t *start,
                        size_t *end)
{
    const char *before = i > floor ? memrchr(data + floor, '\n', i - floor) : NULL;
    const char *after = i < len ? memchr(data + i, '\n', len - i) : NULL;

    *start = before != NULL ? (size_t)(before - data) + 1 : floor;
    *end = after != NULL ? (size_t)(after - data) + 1 : len;
}

/* Scans with the literal automaton: a line is tried only against the rules
 * whose literals occur in it. */
static void scan_literals(struct heal_classifier *c, const char *data, size_t len)
{
    const struct heal_ac *ac = &c->ac;
    const uint8_t *bytes = (const uint8_t *)data;
    const uint32_t *next = ac->next;
    const uint8_t *byte_class = ac->byte_class;
    size_t floor = 0, i = 0;
    uint32_t t = 0;

    while (i < len) {
        t = next[(t & ~HEAL_AC_OUTPUT) + byte_class[bytes[i]]];
        if (!(t & HEAL_AC_OUTPUT)) {
            i++;
            continue;
        }

        /* A literal ends at i: collect every literal of the rest of the line. */
        size_t start, end, n = 0;
        line_around(data, len, floor, i, &start, &end);
        c->line_serial++;
        for (;;) {
            if (t & HEAL_AC_OUTPUT) {
                uint32_t s = (t & ~HEAL_AC_OUTPUT) / ac->nclasses;
                for (uint32_t k = ac->out_start[s]; k < ac->out_start[s + 1]; k++)
                    queue_pattern(c, ac->ids[k], &n);
            }
            if (++i >= end)
                break;
            t = next[(t & ~HEAL_AC_OUTPUT) + byte_class[bytes[i]]];
        }
        match_line(c, data + start, end - start, n, (c->scanned << POSITION_BITS) + start);
        t = 0;
        floor = end;
        i = end;
    }
}

/* Scans with the alternation of the patterns that have no literal. */
static void scan_rest(struct heal_classifier *c, const char *data, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        size_t found = pos, start, end, n = 0;

        if (!c->rest_line_by_line) {
            if (pcre2_match(c->rest, (PCRE2_SPTR)data, len, pos, 0, c->match_data,
                            c->match_context) < 0)
                break;
            found = pcre2_get_ovector_pointer(c->match_data)[0];
        }
        line_around(data, len, pos, found, &start, &end);
        c->line_serial++;
        for (uint32_t g = 0; g < c->pattern_count; g++) {
            if (c->in_rest[g])
                queue_pattern(c, g, &n);
        }
        match_line(c, data + start, end - start, n, (c->scanned << POSITION_BITS) + start);
        pos = end;
    }
}

/* Matches data, which contains whole lines (the last may lack its newline). */
static void scan_lines(struct heal_classifier *c, const char *data, size_t len)
{
    if (c->stale)
        rebuild(c);
    c->scanned++;
    if (c->has_ac)
        scan_literals(c, data, len);
    if (c->rest != NULL || c->rest_line_by_line)
        scan_rest(c, data, len);
}

static void tail_add(struct heal_classifier *c, const char *data, size_t len)
{
    if (len >= HEAL_TAIL_SIZE) {
        data += len - HEAL_TAIL_SIZE;
        len = HEAL_TAIL_SIZE;
    }
    for (size_t i = 0; i < len; i++) {
        c->tail[c->tail_pos] = data[i];
        c->tail_pos = (c->tail_pos + 1) % HEAL_TAIL_SIZE;
    }
}

/* Appends to a stream's unfinished line, matching it as a line when it is full. */
static void pending_add(struct heal_classifier *c, struct heal_line *p, const char *data,
                        size_t len)
{
    while (len > 0) {
        size_t room = HEAL_LINE_MAX - p->len;
        size_t take = len < room ? len : room;

        if (p->data == NULL) {
            p->data = malloc(HEAL_LINE_MAX);
            if (p->data == NULL)
                abort();
        }
        memcpy(p->data + p->len, data, take);
        p->len += take;
        data += take;
        len -= take;
        if (p->len == HEAL_LINE_MAX) {
            scan_lines(c, p->data, p->len);
            p->len = 0;
        }
    }
}

void heal_classifier_feed(struct heal_classifier *c, int stream, const char *data, size_t len)
{
    struct heal_line *p = &c->pending[stream == 1 ? 1 : 0];

    c->total += len;
    tail_add(c, data, len);
    if (len == 0)
        return;

    /* First finish the line left from the previous chunk. */
    if (p->len > 0) {
        const char *newline = memchr(data, '\n', len);
        size_t take = newline != NULL ? (size_t)(newline - data) + 1 : len;

        pending_add(c, p, data, take);
        if (newline == NULL)
            return;
        scan_lines(c, p->data, p->len);
        p->len = 0;
        data += take;
        len -= take;
    }

    /* Then every complete line straight from the chunk, and keep the rest. */
    const char *last = len > 0 ? memrchr(data, '\n', len) : NULL;
    if (last != NULL) {
        size_t whole = (size_t)(last - data) + 1;
        scan_lines(c, data, whole);
        data += whole;
        len -= whole;
    }
    pending_add(c, p, data, len);
}

/* Finds the last non-empty line in the tail ring. */
static void last_line(const struct heal_classifier *c, char *out)
{
    size_t n = c->total < HEAL_TAIL_SIZE ? c->total : HEAL_TAIL_SIZE;
    char *text = malloc(n + 1);
    size_t start = (c->tail_pos + HEAL_TAIL_SIZE - n) % HEAL_TAIL_SIZE;

    if (text == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        text[i] = c->tail[(start + i) % HEAL_TAIL_SIZE];
    size_t end = n;
    out[0] = '\0';
    while (end > 0) {
        while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' ||
                           text[end - 1] == ' ' || text[end - 1] == '\t'))
            end--;
        size_t begin = end;
        while (begin > 0 && text[begin - 1] != '\n')
            begin--;
        if (end > begin) {
            keep_line(out, text + begin, end - begin);
            break;
        }
    }
    free(text);
}

void heal_classifier_finish(struct heal_classifier *c, int exit_code,
                            struct heal_classification *out)
{
    for (int s = 0; s < HEAL_STREAMS; s++) {
        if (c->pending[s].len > 0)
            scan_lines(c, c->pending[s].data, c->pending[s].len);
        c->pending[s].len = 0;
    }

    memset(out, 0, sizeof(*out));
    out->category = HEAL_UNKNOWN;
    out->strategy = STRATEGY_BACKOFF;
    for (size_t i = 0; i < c->rules->count; i++) {
        const struct heal_rule *rule = &c->rules->items[i];

        if (!c->eligible[i])
            continue;
        if (rule->exit_code_count > 0 && (exit_code < 0 || !heal_rule_has_exit_code(rule, exit_code)))
            continue;
        if (rule->pattern_count > 0 && !c->matched[i])
            continue;
        out->rule = rule;
        out->category = rule->category;
        out->strategy = heal_rule_strategy(rule);
        if (rule->pattern_count > 0) {
            memcpy(out->line, c->lines[i], sizeof(out->line));
            out->line_matched = true;
        }
        break;
    }
    if (!out->line_matched)
        last_line(c, out->line);
}

void heal_classifier_release(struct heal_classifier *c)
{
    for (int s = 0; s < HEAL_STREAMS; s++)
        free(c->pending[s].data);
    free(c->eligible);
    free(c->matched);
    free(c->in_rest);
    free(c->pattern_rule);
    free(c->pattern_index);
    free(c->tries);
    free(c->lines);
    free(c->line_at);
    free(c->mark);
    free(c->queue);
    heal_ac_release(&c->ac);
    pcre2_code_free(c->rest);
    pcre2_match_data_free(c->match_data);
    pcre2_match_context_free(c->match_context);
    pcre2_jit_stack_free(c->jit_stack);
    memset(c, 0, sizeof(*c));
}

void heal_classify_text(const struct heal_rules *rules, const char *command_line,
                        const char *text, size_t len, int exit_code,
                        struct heal_classification *out)
{
    struct heal_classifier c;

    heal_classifier_init(&c, rules, command_line, exit_code);
    heal_classifier_feed(&c, 0, text, len);
    heal_classifier_finish(&c, exit_code, out);
    heal_classifier_release(&c);
}
