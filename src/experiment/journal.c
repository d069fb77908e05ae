/* Journal output: atomic file writes, run summaries and dry-run plans. */
#include "experiment/journal.h"

#include <stdlib.h>
#include <string.h>

#include "resilience/resilience.h"
#include "util/fsutil.h"
#include "util/ui.h"

int journal_write(json_t *journal, const char *path, struct err *err)
{
    char *text = json_dumps(journal, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    int rc;

    if (text == NULL)
        return err_set(err, "cannot encode the journal for '%s'", path);
    size_t len = strlen(text);
    char *with_newline = realloc(text, len + 2);
    if (with_newline == NULL)
        abort();
    with_newline[len] = '\n';
    with_newline[len + 1] = '\0';
    rc = fs_write_atomic(path, with_newline, len + 1, err);
    free(with_newline);
    return rc;
}

static int count_failed(json_t *records)
{
    size_t i;
    json_t *record;
    int failed = 0;

    json_array_foreach(records, i, record) {
        const char *status = json_string_value(json_object_get(record, "status"));
        if (status != NULL && strcmp(status, "succeeded") != 0)
            failed++;
    }
    return failed;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_state(FILE *out, const char *label, json_t *state)
{
    char heading[32];

    snprintf(heading, sizeof(heading), "steady state %s", label);
    if (state == NULL || json_is_null(state)) {
        fprintf(out, "  %-20s not checked\n", heading);
        return;
    }
    bool met = json_is_true(json_object_get(state, "steady_state_met"));
    size_t probes = json_array_size(json_object_get(state, "probes"));
    fprintf(out, "  %-20s %s%s%s (%zu %s)\n", heading, ui_color(out, met ? "green" : "red"),
            met ? "met" : "not met", ui_color(out, "reset"), probes,
            plural(probes, "probe", "probes"));
}

static void print_failures(FILE *out, json_t *records)
{
    size_t i;
    json_t *record;

    json_array_foreach(records, i, record) {
        json_t *exception = json_object_get(record, "exception");
        const char *name =
            json_string_value(json_object_get(json_object_get(record, "activity"), "name"));
        if (json_array_size(exception) == 0)
            continue;
        fprintf(out, "    failed: %s: %s\n", name ? name : "?",
                json_string_value(json_array_get(exception, 0)));
    }
}

void journal_print_summary(FILE *out, json_t *journal, const char *journal_path)
{
    json_t *experiment = json_object_get(journal, "experiment");
    json_t *states = json_object_get(journal, "steady_states");
    json_t *run = json_object_get(journal, "run");
    json_t *rollbacks = json_object_get(journal, "rollbacks");
    json_t *during = json_object_get(states, "during");
    const char *status = json_string_value(json_object_get(journal, "status"));
    bool deviated = json_is_true(json_object_get(journal, "deviated"));
    bool ok = status != NULL && strcmp(status, "completed") == 0 && !deviated;

    fprintf(out, "%s%s%s\n", ui_color(out, "bold"),
            json_string_value(json_object_get(experiment, "title")), ui_color(out, "reset"));
    fprintf(out, "  %-20s %s%s%s%s (%.2f s)\n", "status", ui_color(out, ok ? "green" : "red"),
            status ? status : "?", deviated ? ", deviated" : "", ui_color(out, "reset"),
            json_number_value(json_object_get(journal, "duration")));
    print_state(out, "before", json_object_get(states, "before"));
    if (json_array_size(during) > 0) {
        size_t i, unmet = 0;
        json_t *state;
        json_array_foreach(during, i, state) {
            if (!json_is_true(json_object_get(state, "steady_state_met")))
                unmet++;
        }
        fprintf(out, "  %-20s %zu %s, %zu not met\n", "steady state during",
                json_array_size(during), plural(json_array_size(during), "check", "checks"), unmet);
    }
    print_state(out, "after", json_object_get(states, "after"));
    fprintf(out, "  %-20s %zu %s, %d failed\n", "method", json_array_size(run),
            plural(json_array_size(run), "activity", "activities"), count_failed(run));
    print_failures(out, run);
    fprintf(out, "  %-20s %zu %s, %d failed\n", "rollbacks", json_array_size(rollbacks),
            plural(json_array_size(rollbacks), "activity", "activities"), count_failed(rollbacks));
    print_failures(out, rollbacks);
    if (journal_path != NULL)
        fprintf(out, "  %-20s %s\n", "journal", journal_path);
}

/* Prints one activity line of a plan: kind, name, provider and what it does. */
static void print_plan_activity(FILE *out, json_t *activity)
{
    json_t *provider = json_object_get(activity, "provider");
    const char *type = json_string_value(json_object_get(provider, "type"));
    const char *name = json_string_value(json_object_get(activity, "name"));
    const char *kind = json_string_value(json_object_get(activity, "type"));
    bool background = json_is_true(json_object_get(activity, "background"));

    fprintf(out, "    %-6s %s%s: ", kind ? kind : "?", name ? name : "?",
            background ? " (background)" : "");
    if (type != NULL && strcmp(type, "http") == 0) {
        const char *method = json_string_value(json_object_get(provider, "method"));
        fprintf(out, "http %s %s", method ? method : "GET",
                json_string_value(json_object_get(provider, "url")));
    } else if (type != NULL && strcmp(type, "process") == 0) {
        char *args = json_dumps(json_object_get(provider, "arguments"),
                                JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(out, "process %s%s%s", json_string_value(json_object_get(provider, "path")),
                args ? " " : "", args ? args : "");
        free(args);
    } else {
        char *text = json_dumps(provider, JSON_COMPACT);
        fprintf(out, "%s", text ? text : "?");
        free(text);
    }
    json_t *tolerance = json_object_get(activity, "tolerance");
    if (tolerance != NULL) {
        char *text = json_dumps(tolerance, JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(out, " (tolerance %s)", text ? text : "?");
        free(text);
    }
    fputc('\n', out);
}

static void print_plan_list(FILE *out, const char *label, json_t *list)
{
    size_t i;
    json_t *activity;

    fprintf(out, "  %s: %zu\n", label, json_array_size(list));
    json_array_foreach(list, i, activity)
        print_plan_activity(out, activity);
}

void journal_print_plan(FILE *out, json_t *experiment, const char *file,
                        const struct runner_opts *strategies)
{
    enum hypothesis_strategy hs = strategies->hypothesis_strategy;
    bool during = hs == HYPOTHESIS_DURING_METHOD_ONLY || hs == HYPOTHESIS_CONTINUOUSLY;
    json_t *hypothesis = json_object_get(experiment, "steady-state-hypothesis");

    fprintf(out, "%s%s%s (%s)\n", ui_color(out, "bold"),
            json_string_value(json_object_get(experiment, "title")), ui_color(out, "reset"), file);
    fprintf(out, "  strategies: hypothesis %s", hypothesis_strategy_name(hs));
    if (during)
        fprintf(out, " (every %g s%s)", strategies->hypothesis_frequency,
                strategies->fail_fast ? ", fail-fast" : "");
    fprintf(out, ", rollbacks %s\n", rollback_strategy_name(strategies->rollback_strategy));
    if (hypothesis != NULL) {
        fprintf(out, "  steady state hypothesis: %s\n",
                json_string_value(json_object_get(hypothesis, "title")));
        print_plan_list(out, "probes", json_object_get(hypothesis, "probes"));
    } else {
        fprintf(out, "  steady state hypothesis: none\n");
    }
    print_plan_list(out, "method", json_object_get(experiment, "method"));
    print_plan_list(out, "rollbacks", json_object_get(experiment, "rollbacks"));
    resilience_print_plan(out, experiment);
}
