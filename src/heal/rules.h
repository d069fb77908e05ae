/* Healing rules: what a failure looks like (output patterns, exit codes, the
 * command), which category it belongs to and which strategy heals it. */
#ifndef AFTERSHOCK_HEAL_RULES_H
#define AFTERSHOCK_HEAL_RULES_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Failure categories. A verdict is a real finding and is never retried. */
enum heal_category {
    HEAL_DEPENDENCY,
    HEAL_CONFIG,
    HEAL_HEALTH,
    HEAL_INJECTION,
    HEAL_NETWORK,
    HEAL_RESOURCE,
    HEAL_TIMEOUT,
    HEAL_VERDICT,
    HEAL_UNKNOWN,
    HEAL_CATEGORY_COUNT,
};

/* Action between a failed attempt and the next one. */
enum heal_strategy {
    STRATEGY_DEFAULT,  /* the category's default (heal_default_strategy) */
    STRATEGY_DEPS,     /* aftershock deps --fix --install */
    STRATEGY_CHECK,    /* aftershock check --fix */
    STRATEGY_PROBE,    /* aftershock probe on the health targets */
    STRATEGY_ROLLBACK, /* aftershock rollback */
    STRATEGY_CLEANUP,  /* remove what aftershock left behind, then roll back */
    STRATEGY_BACKOFF,  /* nothing but the backoff wait */
    STRATEGY_STOP,     /* no retry */
    STRATEGY_COMMAND,  /* the rule's own command, through /bin/sh -c */
};

/* An inclusive range of exit codes. */
struct heal_code_range {
    int low;
    int high;
};

/* One rule. A rule matches a failed attempt when every condition it has
 * holds: one of its patterns matches a line of the output, the exit code is
 * in one of its ranges, and its command pattern matches the command line. A
 * rule without patterns matches on the other conditions alone; a rule needs
 * at least one pattern or exit code range. Strings are owned by the rule. */
struct heal_rule {
    char *name;
    enum heal_category category;
    char **patterns;                 /* PCRE2 patterns, each matched against one line */
    pcre2_code **compiled;           /* one per pattern, same order; NULL until first use
                                      * (see heal_rule_pattern) */
    size_t pattern_count;
    struct heal_code_range *exit_codes;
    size_t exit_code_count;
    char *command_pattern;           /* PCRE2 pattern over the command line, or NULL */
    pcre2_code *command_compiled;
    enum heal_strategy strategy;
    char *strategy_command;          /* for STRATEGY_COMMAND */
    int max_attempts;                /* attempts in total when this rule matched; 0: no limit */
    bool builtin;
    bool disabled;                   /* `enabled: false` in a rules file: removes the rule
                                      * of this name when merged, and never matches */
};

/* An ordered list of rules: the first that matches wins. */
struct heal_rules {
    struct heal_rule *items;
    size_t count;
};

/* Returns the category's name ("dependency", ...), or parses one: returns 0
 * with *out set, or -1 for a name that is not a category. */
const char *heal_category_name(enum heal_category category);
int heal_category_parse(const char *name, enum heal_category *out);

/* Returns the strategy's name ("deps", ...), or parses one as heal_category_parse. */
const char *heal_strategy_name(enum heal_strategy strategy);
int heal_strategy_parse(const char *name, enum heal_strategy *out);

/* Returns the strategy a category uses when its rule names none. */
enum heal_strategy heal_default_strategy(enum heal_category category);

/* Returns the strategy that rule applies: its own or its category's default. */
enum heal_strategy heal_rule_strategy(const struct heal_rule *rule);

/* True when code lies in one of the rule's exit code ranges. */
bool heal_rule_has_exit_code(const struct heal_rule *rule, int code);

/* Returns pattern i of rule compiled, compiling it on first use, because
 * most built-in patterns are never needed and compiling all of them would
 * slow every start. The cache in rule->compiled is the only part this
 * changes, so rules must not be shared between threads. Returns NULL when it does not
 * compile (rules files are checked when loaded, so only a bug gets here). */
pcre2_code *heal_rule_pattern(const struct heal_rule *rule, size_t i);

/* Compiles a PCRE2 pattern as rules use it (no UTF check, so any byte
 * sequence can be matched). Returns NULL with err naming the pattern, the
 * offset and what is wrong. */
pcre2_code *heal_pattern_compile(const char *pattern, struct err *err);

/* Fills rules with the built-in rules. Their output patterns are compiled
 * on first use; heal_rules_compile_all checks them all. Returns 0, or -1
 * with err set when a command pattern does not compile (a bug). */
int heal_rules_builtin(struct heal_rules *rules, struct err *err);

/* Compiles every pattern now. Returns 0, or -1 with err naming the rule and pattern. */
int heal_rules_compile_all(const struct heal_rules *rules, struct err *err);

/* Parses a rules file's text (YAML or JSON, see docs/healing.md). name is
 * used in messages. Returns 0 with out holding the file's rules in order,
 * or -1 with err saying which rule and key is invalid and how to fix it. */
int heal_rules_parse(const char *text, size_t len, const char *name, struct heal_rules *out,
                     struct err *err);

/* Reads and parses a rules file with heal_rules_parse. */
int heal_rules_load(const char *path, struct heal_rules *out, struct err *err);

/* Puts the rules of file in front of base. A rule of file with the name of
 * a rule in base replaces it. A file rule with `enabled: false` only removes
 * the rule of that name. file is emptied. */
void heal_rules_merge(struct heal_rules *base, struct heal_rules *file);

/* Returns the rule named name, or NULL. */
const struct heal_rule *heal_rules_find(const struct heal_rules *rules, const char *name);

void heal_rule_release(struct heal_rule *rule);
void heal_rules_release(struct heal_rules *rules);

#endif
