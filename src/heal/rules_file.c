/* Reading a healing rules file (YAML or JSON) into rules. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/load.h"
#include "heal/rules.h"
#include "util/fsutil.h"

/* Largest rules file read, and limits that keep a hostile file cheap to match. */
#define RULES_FILE_MAX (1024 * 1024)
#define RULES_MAX 1000
#define RULE_PATTERNS_MAX 256
#define RULE_EXIT_CODES_MAX 256

static const char *const rule_keys[] = {
    "name", "category", "patterns", "pattern", "exit_codes", "command", "strategy",
    "run", "max_attempts", "verdict", "enabled", "description", NULL,
};

static char *copy_string(const char *text)
{
    char *copy = strdup(text);

    if (copy == NULL)
        abort();
    return copy;
}

static int check_keys(json_t *object, const char *file, const char *rule, struct err *err)
{
    const char *key;
    json_t *value;

    json_object_foreach(object, key, value) {
        bool known = false;

        for (size_t i = 0; rule_keys[i] != NULL && !known; i++)
            known = strcmp(rule_keys[i], key) == 0;
        if (!known)
            return err_set(err, "%s: rule '%s': unknown key '%s'; use name, category, patterns, "
                           "exit_codes, command, strategy, run, max_attempts, verdict or enabled",
                           file, rule, key);
    }
    return 0;
}

static int add_pattern(struct heal_rule *rule, const char *pattern, const char *file,
                       struct err *err)
{
    struct err why;
    pcre2_code *re;

    if (rule->pattern_count >= RULE_PATTERNS_MAX)
        return err_set(err, "%s: rule '%s': more than %d patterns", file, rule->name,
                       RULE_PATTERNS_MAX);
    re = heal_pattern_compile(pattern, &why);
    if (re == NULL)
        return err_set(err, "%s: rule '%s': %s", file, rule->name, why.msg);
    rule->patterns[rule->pattern_count] = copy_string(pattern);
    rule->compiled[rule->pattern_count] = re;
    rule->pattern_count++;
    return 0;
}

/* Reads `patterns` (a list of strings) or `pattern` (one string). */
static int read_patterns(json_t *object, struct heal_rule *rule, const char *file,
                         struct err *err)
{
    json_t *list = json_object_get(object, "patterns");
    json_t *single = json_object_get(object, "pattern");
    size_t n = json_array_size(list) + (single != NULL ? 1 : 0);
    size_t i;
    json_t *item;

    if (list != NULL && !json_is_array(list))
        return err_set(err, "%s: rule '%s': 'patterns' must be a list of strings", file,
                       rule->name);
    rule->patterns = calloc(n + 1, sizeof(*rule->patterns));
    rule->compiled = calloc(n + 1, sizeof(*rule->compiled));
    if (rule->patterns == NULL || rule->compiled == NULL)
        abort();
    if (single != NULL) {
        if (!json_is_string(single))
            return err_set(err, "%s: rule '%s': 'pattern' must be a string", file, rule->name);
        if (add_pattern(rule, json_string_value(single), file, err) != 0)
            return -1;
    }
    json_array_foreach(list, i, item) {
        if (!json_is_string(item))
            return err_set(err, "%s: rule '%s': pattern %zu is not a string", file, rule->name,
                           i + 1);
        if (add_pattern(rule, json_string_value(item), file, err) != 0)
            return -1;
    }
    return 0;
}

/* Parses "3", "120-130" or an integer into a range of exit codes 0-255. */
static int parse_code_range(json_t *item, struct heal_code_range *range)
{
    long low, high;
    char *end;

    if (json_is_integer(item)) {
        low = high = (long)json_integer_value(item);
    } else if (json_is_string(item)) {
        const char *text = json_string_value(item);

        errno = 0;
        low = strtol(text, &end, 10);
        high = low;
        if (end == text || errno != 0)
            return -1;
        if (*end == '-') {
            const char *rest = end + 1;
            high = strtol(rest, &end, 10);
            if (end == rest || errno != 0)
                return -1;
        }
        if (*end != '\0')
            return -1;
    } else {
        return -1;
    }
    if (low < 0 || high > 255 || low > high)
        return -1;
    range->low = (int)low;
    range->high = (int)high;
    return 0;
}

static int read_exit_codes(json_t *object, struct heal_rule *rule, const char *file,
                           struct err *err)
{
    json_t *codes = json_object_get(object, "exit_codes");
    size_t i;
    json_t *item;

    if (codes == NULL)
        return 0;
    if (!json_is_array(codes))
        codes = json_pack("[O]", codes);
    else
        json_incref(codes);
    if (json_array_size(codes) > RULE_EXIT_CODES_MAX) {
        json_decref(codes);
        return err_set(err, "%s: rule '%s': more than %d exit codes", file, rule->name,
                       RULE_EXIT_CODES_MAX);
    }
    rule->exit_codes = calloc(json_array_size(codes) + 1, sizeof(*rule->exit_codes));
    if (rule->exit_codes == NULL)
        abort();
    json_array_foreach(codes, i, item) {
        if (parse_code_range(item, &rule->exit_codes[i]) != 0) {
            json_decref(codes);
            return err_set(err, "%s: rule '%s': exit code %zu is not a code 0-255 or a range "
                           "such as \"120-130\"", file, rule->name, i + 1);
        }
        rule->exit_code_count++;
    }
    json_decref(codes);
    return 0;
}

static int read_string(json_t *object, const char *key, char **out, const char *file,
                       const char *rule, struct err *err)
{
    json_t *value = json_object_get(object, key);

    if (value == NULL)
        return 0;
    if (!json_is_string(value) || json_string_length(value) == 0)
        return err_set(err, "%s: rule '%s': '%s' must be a non-empty string", file, rule, key);
    *out = copy_string(json_string_value(value));
    return 0;
}

/* Reads category, strategy, run, verdict, max_attempts and enabled. */
static int read_behaviour(json_t *object, struct heal_rule *rule, const char *file,
                          struct err *err)
{
    json_t *verdict = json_object_get(object, "verdict");
    json_t *enabled = json_object_get(object, "enabled");
    json_t *attempts = json_object_get(object, "max_attempts");
    char *text = NULL;

    if (read_string(object, "category", &text, file, rule->name, err) != 0)
        return -1;
    if (text != NULL && heal_category_parse(text, &rule->category) != 0) {
        err_set(err, "%s: rule '%s': unknown category '%s'; use dependency, config, health, "
                "injection, network, resource, timeout, verdict or unknown", file, rule->name,
                text);
        free(text);
        return -1;
    }
    bool has_category = text != NULL;
    free(text);
    text = NULL;
    if (read_string(object, "strategy", &text, file, rule->name, err) != 0)
        return -1;
    if (text != NULL && heal_strategy_parse(text, &rule->strategy) != 0) {
        err_set(err, "%s: rule '%s': unknown strategy '%s'; use deps, check, probe, rollback, "
                "cleanup, backoff, stop, or give a command with 'run'", file, rule->name, text);
        free(text);
        return -1;
    }
    free(text);
    if (read_string(object, "run", &rule->strategy_command, file, rule->name, err) != 0)
        return -1;
    if (rule->strategy_command != NULL) {
        if (rule->strategy != STRATEGY_DEFAULT && rule->strategy != STRATEGY_COMMAND)
            return err_set(err, "%s: rule '%s': 'run' and 'strategy: %s' contradict each other; "
                           "keep one", file, rule->name, heal_strategy_name(rule->strategy));
        rule->strategy = STRATEGY_COMMAND;
    } else if (rule->strategy == STRATEGY_COMMAND) {
        return err_set(err, "%s: rule '%s': 'strategy: command' needs the command in 'run'",
                       file, rule->name);
    }

    if (verdict != NULL && !json_is_boolean(verdict))
        return err_set(err, "%s: rule '%s': 'verdict' must be true or false", file, rule->name);
    if (json_is_true(verdict)) {
        if (has_category && rule->category != HEAL_VERDICT)
            return err_set(err, "%s: rule '%s': a verdict rule has the category verdict; "
                           "remove 'category' or 'verdict'", file, rule->name);
        rule->category = HEAL_VERDICT;
        has_category = true;
    }
    if (enabled != NULL && !json_is_boolean(enabled))
        return err_set(err, "%s: rule '%s': 'enabled' must be true or false", file, rule->name);
    rule->disabled = json_is_false(enabled);
    if (!has_category && !rule->disabled)
        return err_set(err, "%s: rule '%s': 'category' is missing; use dependency, config, "
                       "health, injection, network, resource, timeout, verdict or unknown",
                       file, rule->name);
    if (attempts != NULL && (!json_is_integer(attempts) || json_integer_value(attempts) < 1 ||
                             json_integer_value(attempts) > 1000))
        return err_set(err, "%s: rule '%s': 'max_attempts' must be an integer from 1 to 1000",
                       file, rule->name);
    rule->max_attempts = attempts != NULL ? (int)json_integer_value(attempts) : 0;
    if (rule->category == HEAL_VERDICT)
        rule->max_attempts = 1;
    return 0;
}

static int read_rule(json_t *object, size_t index, const char *file, struct heal_rule *rule,
                     struct err *err)
{
    json_t *name = json_object_get(object, "name");
    char label[32];

    memset(rule, 0, sizeof(*rule));
    snprintf(label, sizeof(label), "#%zu", index + 1);
    if (!json_is_object(object))
        return err_set(err, "%s: rule %s is not a mapping", file, label);
    if (!json_is_string(name) || json_string_length(name) == 0)
        return err_set(err, "%s: rule %s has no 'name'; give every rule a unique name", file,
                       label);
    rule->name = copy_string(json_string_value(name));
    if (check_keys(object, file, rule->name, err) != 0 ||
        read_behaviour(object, rule, file, err) != 0 ||
        read_patterns(object, rule, file, err) != 0 || read_exit_codes(object, rule, file, err) != 0)
        return -1;
    if (read_string(object, "command", &rule->command_pattern, file, rule->name, err) != 0)
        return -1;
    if (rule->command_pattern != NULL) {
        struct err why;

        rule->command_compiled = heal_pattern_compile(rule->command_pattern, &why);
        if (rule->command_compiled == NULL)
            return err_set(err, "%s: rule '%s': command %s", file, rule->name, why.msg);
    }
    if (!rule->disabled && rule->pattern_count == 0 && rule->exit_code_count == 0)
        return err_set(err, "%s: rule '%s' matches nothing: give it 'patterns' or 'exit_codes'",
                       file, rule->name);
    return 0;
}

int heal_rules_parse(const char *text, size_t len, const char *name, struct heal_rules *out,
                     struct err *err)
{
    json_t *doc = experiment_parse(text, len, name, err);
    json_t *list, *item;
    size_t i;

    out->items = NULL;
    out->count = 0;
    if (doc == NULL)
        return -1;
    list = json_is_object(doc) ? json_object_get(doc, "rules") : doc;
    if (json_is_object(doc) && json_object_size(doc) != 1 && list != NULL) {
        json_decref(doc);
        return err_set(err, "%s: only the key 'rules' is allowed at the top", name);
    }
    if (!json_is_array(list)) {
        json_decref(doc);
        return err_set(err, "%s: expected 'rules:' followed by a list of rules", name);
    }
    if (json_array_size(list) > RULES_MAX) {
        json_decref(doc);
        return err_set(err, "%s: more than %d rules", name, RULES_MAX);
    }
    out->items = calloc(json_array_size(list) + 1, sizeof(*out->items));
    if (out->items == NULL)
        abort();
    json_array_foreach(list, i, item) {
        out->count++;
        if (read_rule(item, i, name, &out->items[i], err) != 0)
            goto fail;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(out->items[j].name, out->items[i].name) == 0) {
                err_set(err, "%s: two rules are named '%s'; names must be unique", name,
                        out->items[i].name);
                goto fail;
            }
        }
    }
    json_decref(doc);
    return 0;

fail:
    json_decref(doc);
    heal_rules_release(out);
    return -1;
}

int heal_rules_load(const char *path, struct heal_rules *out, struct err *err)
{
    size_t len;
    char *text = fs_read_file(path, RULES_FILE_MAX, &len, err);
    int rc;

    out->items = NULL;
    out->count = 0;
    if (text == NULL)
        return -1;
    rc = heal_rules_parse(text, len, path, out, err);
    free(text);
    return rc;
}
