/* Healing rules: names of categories and strategies, pattern compilation, merging, freeing. */
#include "heal/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const category_names[HEAL_CATEGORY_COUNT] = {
    [HEAL_DEPENDENCY] = "dependency", [HEAL_CONFIG] = "config",   [HEAL_HEALTH] = "health",
    [HEAL_INJECTION] = "injection",   [HEAL_NETWORK] = "network", [HEAL_RESOURCE] = "resource",
    [HEAL_TIMEOUT] = "timeout",       [HEAL_VERDICT] = "verdict", [HEAL_UNKNOWN] = "unknown",
};

static const char *const strategy_names[] = {
    [STRATEGY_DEFAULT] = "default", [STRATEGY_DEPS] = "deps",
    [STRATEGY_CHECK] = "check",     [STRATEGY_PROBE] = "probe",
    [STRATEGY_ROLLBACK] = "rollback", [STRATEGY_CLEANUP] = "cleanup",
    [STRATEGY_BACKOFF] = "backoff", [STRATEGY_STOP] = "stop",
    [STRATEGY_COMMAND] = "command",
};

#define STRATEGY_COUNT (sizeof(strategy_names) / sizeof(strategy_names[0]))

const char *heal_category_name(enum heal_category category)
{
    if ((int)category < 0 || category >= HEAL_CATEGORY_COUNT)
        return "unknown";
    return category_names[category];
}

int heal_category_parse(const char *name, enum heal_category *out)
{
    for (int i = 0; i < HEAL_CATEGORY_COUNT; i++) {
        if (strcmp(category_names[i], name) == 0) {
            *out = (enum heal_category)i;
            return 0;
        }
    }
    return -1;
}

const char *heal_strategy_name(enum heal_strategy strategy)
{
    if ((size_t)strategy >= STRATEGY_COUNT)
        return "default";
    return strategy_names[strategy];
}

int heal_strategy_parse(const char *name, enum heal_strategy *out)
{
    for (size_t i = 0; i < STRATEGY_COUNT; i++) {
        if (strcmp(strategy_names[i], name) == 0) {
            *out = (enum heal_strategy)i;
            return 0;
        }
    }
    return -1;
}

enum heal_strategy heal_default_strategy(enum heal_category category)
{
    switch (category) {
    case HEAL_DEPENDENCY:
        return STRATEGY_DEPS;
    case HEAL_CONFIG:
        return STRATEGY_CHECK;
    case HEAL_HEALTH:
        return STRATEGY_PROBE;
    case HEAL_INJECTION:
        return STRATEGY_ROLLBACK;
    case HEAL_RESOURCE:
        return STRATEGY_CLEANUP;
    case HEAL_VERDICT:
        return STRATEGY_STOP;
    case HEAL_NETWORK:
    case HEAL_TIMEOUT:
    case HEAL_UNKNOWN:
    case HEAL_CATEGORY_COUNT:
        break;
    }
    return STRATEGY_BACKOFF;
}

enum heal_strategy heal_rule_strategy(const struct heal_rule *rule)
{
    /* A verdict stops whatever strategy its rule names. */
    if (rule->category == HEAL_VERDICT)
        return STRATEGY_STOP;
    if (rule->strategy == STRATEGY_DEFAULT)
        return heal_default_strategy(rule->category);
    return rule->strategy;
}

bool heal_rule_has_exit_code(const struct heal_rule *rule, int code)
{
    for (size_t i = 0; i < rule->exit_code_count; i++) {
        if (code >= rule->exit_codes[i].low && code <= rule->exit_codes[i].high)
            return true;
    }
    return false;
}

pcre2_code *heal_pattern_compile(const char *pattern, struct err *err)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_MULTILINE, &code, &offset, NULL);

    if (re == NULL) {
        PCRE2_UCHAR message[256];

        pcre2_get_error_message(code, message, sizeof(message));
        err_set(err, "invalid pattern '%s' at offset %zu: %s", pattern, (size_t)offset,
                (const char *)message);
        return NULL;
    }
    return re;
}

pcre2_code *heal_rule_pattern(const struct heal_rule *rule, size_t i)
{
    struct err err;

    if (rule->compiled[i] == NULL)
        rule->compiled[i] = heal_pattern_compile(rule->patterns[i], &err);
    return rule->compiled[i];
}

int heal_rules_compile_all(const struct heal_rules *rules, struct err *err)
{
    for (size_t r = 0; r < rules->count; r++) {
        const struct heal_rule *rule = &rules->items[r];

        for (size_t i = 0; i < rule->pattern_count; i++) {
            struct err why;

            if (rule->compiled[i] != NULL)
                continue;
            rule->compiled[i] = heal_pattern_compile(rule->patterns[i], &why);
            if (rule->compiled[i] == NULL)
                return err_set(err, "rule '%s': %s", rule->name, why.msg);
        }
    }
    return 0;
}

const struct heal_rule *heal_rules_find(const struct heal_rules *rules, const char *name)
{
    for (size_t i = 0; i < rules->count; i++) {
        if (strcmp(rules->items[i].name, name) == 0)
            return &rules->items[i];
    }
    return NULL;
}

void heal_rules_merge(struct heal_rules *base, struct heal_rules *file)
{
    size_t kept = 0, total = file->count + base->count;
    struct heal_rule *merged = calloc(total > 0 ? total : 1, sizeof(*merged));

    if (merged == NULL)
        abort();
    for (size_t i = 0; i < file->count; i++) {
        if (!file->items[i].disabled)
            merged[kept++] = file->items[i];
    }
    for (size_t i = 0; i < base->count; i++) {
        if (heal_rules_find(file, base->items[i].name) != NULL)
            heal_rule_release(&base->items[i]);
        else
            merged[kept++] = base->items[i];
    }
    for (size_t i = 0; i < file->count; i++) {
        if (file->items[i].disabled)
            heal_rule_release(&file->items[i]);
    }
    free(base->items);
    free(file->items);
    base->items = merged;
    base->count = kept;
    file->items = NULL;
    file->count = 0;
}

void heal_rule_release(struct heal_rule *rule)
{
    for (size_t i = 0; i < rule->pattern_count; i++) {
        free(rule->patterns[i]);
        pcre2_code_free(rule->compiled != NULL ? rule->compiled[i] : NULL);
    }
    free(rule->patterns);
    free(rule->compiled);
    free(rule->exit_codes);
    free(rule->name);
    free(rule->command_pattern);
    pcre2_code_free(rule->command_compiled);
    free(rule->strategy_command);
    memset(rule, 0, sizeof(*rule));
}

void heal_rules_release(struct heal_rules *rules)
{
    for (size_t i = 0; i < rules->count; i++)
        heal_rule_release(&rules->items[i]);
    free(rules->items);
    rules->items = NULL;
    rules->count = 0;
}
