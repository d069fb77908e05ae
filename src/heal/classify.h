/* Classifying a failed command by its output and exit code, in one pass over
 * a stream of any length with memory bounded by HEAL_LINE_MAX and the rules. */
#ifndef AFTERSHOCK_HEAL_CLASSIFY_H
#define AFTERSHOCK_HEAL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heal/literal.h"
#include "heal/rules.h"

/* Maximum line matched as one. A longer line is matched in pieces of this size. */
#define HEAL_LINE_MAX (64 * 1024)

/* Bytes of a matching line kept for messages and records. */
#define HEAL_LINE_SHOWN 512

/* Bytes of the output's end kept, to name the last line when no rule matches. */
#define HEAL_TAIL_SIZE 8192

/* Output streams a classifier reads; each assembles its own lines. */
#define HEAL_STREAMS 2

/* The result. Invariant: rule is NULL exactly when no rule matched, and then
 * category is HEAL_UNKNOWN and strategy STRATEGY_BACKOFF. */
struct heal_classification {
    const struct heal_rule *rule;  /* points into the rules given to the classifier */
    enum heal_category category;
    enum heal_strategy strategy;
    char line[HEAL_LINE_SHOWN];    /* the last line the rule matched, else the output's
                                    * last non-empty line; "" when there is none */
    bool line_matched;             /* line is a match (not just the last line) */
};

struct heal_line {
    char *data;
    size_t len;
};

/* State of one classification. Invariant: every rule with index >= limit
 * can no longer win, because rule limit - 1 matched without an exit code
 * condition still open, so those rules are left out of the scan. */
struct heal_classifier {
    const struct heal_rules *rules;
    int exit_code;                 /* known before the output, or -1 */
    bool *eligible;                /* command and known exit code allow the rule */
    bool *matched;                 /* a pattern of the rule matched a line */
    char (*lines)[HEAL_LINE_SHOWN];/* last matching line per rule */
    uint64_t *line_at;             /* output offset of that line, to keep the last one */
    size_t pattern_count;          /* patterns of all rules; ids below count them in order */
    uint32_t *pattern_rule;        /* per pattern id: its rule */
    uint32_t *pattern_index;       /* per pattern id: its index in the rule */
    uint32_t *tries;               /* per pattern id: lines tried, to JIT-compile busy ones */
    uint64_t *mark;                /* per pattern id: the line it was last queued for */
    uint32_t *queue;               /* pattern ids to try on the current line */
    uint64_t line_serial;
    size_t limit;
    bool stale;                    /* the scanners must be rebuilt before the next scan */
    struct heal_ac ac;             /* literals of the patterns that have one */
    bool has_ac;
    pcre2_code *rest;              /* patterns without a literal, as alternatives, or NULL */
    bool rest_line_by_line;        /* rest did not compile: try those rules on every line */
    bool *in_rest;                 /* per pattern id: it has no literal */
    pcre2_match_data *match_data;
    pcre2_match_context *match_context;
    pcre2_jit_stack *jit_stack;
    struct heal_line pending[HEAL_STREAMS];
    char tail[HEAL_TAIL_SIZE];     /* ring buffer of the output's last bytes */
    size_t tail_pos;
    uint64_t total;                /* bytes fed */
    uint64_t scanned;              /* output offset of the chunk being scanned */
};

/* Starts a classification of the output of command_line (matched against
 * the rules' command patterns; may be NULL). exit_code is the exit code when
 * it is known before the output (a saved log), or -1 when it is known only
 * at the end. rules must outlive the classifier. */
void heal_classifier_init(struct heal_classifier *c, const struct heal_rules *rules,
                          const char *command_line, int exit_code);

/* Feeds output bytes of one stream (0 stdout, 1 stderr) as they arrive. */
void heal_classifier_feed(struct heal_classifier *c, int stream, const char *data, size_t len);

/* Matches what remains and picks the first rule that matches, with the
 * exit code (-1 when there is none: rules that need exit codes do not match). */
void heal_classifier_finish(struct heal_classifier *c, int exit_code,
                            struct heal_classification *out);

void heal_classifier_release(struct heal_classifier *c);

/* Classifies a whole buffer: init, feed as stdout, finish. */
void heal_classify_text(const struct heal_rules *rules, const char *command_line,
                        const char *text, size_t len, int exit_code,
                        struct heal_classification *out);

#endif
