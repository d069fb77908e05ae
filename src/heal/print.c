/* Text and JSON output of `heal --classify` and `heal --list-rules`. */
#include "heal/print.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

bool heal_classification_retried(const struct heal_classification *cls)
{
    if (cls->category == HEAL_VERDICT || cls->strategy == STRATEGY_STOP)
        return false;
    return cls->rule == NULL || cls->rule->max_attempts != 1;
}

static void dump(FILE *out, json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);

    if (text != NULL)
        fprintf(out, "%s\n", text);
    free(text);
    json_decref(doc);
}

void heal_print_classification(FILE *out, const struct heal_classification *cls, int exit_code,
                               bool json)
{
    const char *rule = cls->rule != NULL ? cls->rule->name : NULL;

    if (!json) {
        fprintf(out, "category: %s\n", heal_category_name(cls->category));
        fprintf(out, "rule:     %s\n", rule != NULL ? rule : "(none matched)");
        fprintf(out, "strategy: %s\n", heal_strategy_name(cls->strategy));
        fprintf(out, "retried:  %s\n", heal_classification_retried(cls) ? "yes" : "no");
        fprintf(out, "%s %s\n", cls->line_matched ? "line:    " : "last line:",
                cls->line[0] != '\0' ? cls->line : "(no output)");
        return;
    }
    char *line = utf8_sanitize(cls->line, strlen(cls->line));
    json_t *doc = json_pack("{s:s, s:s?, s:s, s:b, s:s, s:b}", "category",
                            heal_category_name(cls->category), "rule", rule, "strategy",
                            heal_strategy_name(cls->strategy), "retried",
                            heal_classification_retried(cls), "line", line, "line_matched",
                            cls->line_matched);
    json_object_set_new(doc, "exit_code", exit_code >= 0 ? json_integer(exit_code) : json_null());
    free(line);
    dump(out, doc);
}

static json_t *rule_json(const struct heal_rule *rule)
{
    json_t *patterns = json_array(), *codes = json_array();

    for (size_t i = 0; i < rule->pattern_count; i++)
        json_array_append_new(patterns, json_string(rule->patterns[i]));
    for (size_t i = 0; i < rule->exit_code_count; i++) {
        char range[32];
        if (rule->exit_codes[i].low == rule->exit_codes[i].high) {
            json_array_append_new(codes, json_integer(rule->exit_codes[i].low));
            continue;
        }
        snprintf(range, sizeof(range), "%d-%d", rule->exit_codes[i].low,
                 rule->exit_codes[i].high);
        json_array_append_new(codes, json_string(range));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:s?, s:s, s:s?, s:i, s:b}", "name", rule->name,
                     "category", heal_category_name(rule->category), "patterns", patterns,
                     "exit_codes", codes, "command", rule->command_pattern, "strategy",
                     heal_strategy_name(heal_rule_strategy(rule)), "run", rule->strategy_command,
                     "max_attempts", rule->max_attempts, "builtin", rule->builtin);
}

void heal_print_rules(FILE *out, const struct heal_rules *rules, bool json)
{
    if (json) {
        json_t *list = json_array();
        for (size_t i = 0; i < rules->count; i++)
            json_array_append_new(list, rule_json(&rules->items[i]));
        dump(out, json_pack("{s:o}", "rules", list));
        return;
    }
    for (size_t i = 0; i < rules->count; i++) {
        const struct heal_rule *rule = &rules->items[i];

        fprintf(out, "%-30s %-10s %-9s %zu pattern%s", rule->name,
                heal_category_name(rule->category), heal_strategy_name(heal_rule_strategy(rule)),
                rule->pattern_count, rule->pattern_count == 1 ? "" : "s");
        for (size_t c = 0; c < rule->exit_code_count; c++) {
            if (rule->exit_codes[c].low == rule->exit_codes[c].high)
                fprintf(out, "%s%d", c == 0 ? ", exit " : ",", rule->exit_codes[c].low);
            else
                fprintf(out, "%s%d-%d", c == 0 ? ", exit " : ",", rule->exit_codes[c].low,
                        rule->exit_codes[c].high);
        }
        if (rule->command_pattern != NULL)
            fprintf(out, ", for matching commands");
        if (rule->max_attempts > 0)
            fprintf(out, ", at most %d attempt%s", rule->max_attempts,
                    rule->max_attempts == 1 ? "" : "s");
        fprintf(out, "%s\n", rule->builtin ? "" : " (rules file)");
    }
}
