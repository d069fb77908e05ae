/* Private interface of the experiment validator, shared by validate.c, validate_activity.c and validate_resolved.c. */
#ifndef AFTERSHOCK_EXPERIMENT_VALIDATE_INTERNAL_H
#define AFTERSHOCK_EXPERIMENT_VALIDATE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "experiment/problems.h"

/* The part of an experiment that declares an activity, because refs and tolerances follow different rules in each. */
enum activity_place { PLACE_HYPOTHESIS, PLACE_METHOD, PLACE_ROLLBACK };

/* One validation pass. Invariant: declared maps the name of every activity
 * checked so far to its provider type (a string, or null when unknown), and
 * all_names contains every activity name of the experiment. */
struct validation {
    struct problems *problems;
    size_t first_problem;
    bool resolved;
    json_t *declared;
    json_t *all_names;
};

/* True when value is a string that still contains a ${name} reference and
 * the pass runs before substitution, so its type cannot be checked yet. */
bool validation_deferred(const struct validation *v, const json_t *value);

/* Returns "a string", "an integer", ... for messages. */
const char *validation_type_name(const json_t *value);

/* Checks that value is a non-empty string; adds a problem naming field otherwise. */
void validation_require_string(struct validation *v, json_t *value, const char *field);

/* Checks that value (when present) is a number of zero or more, or above
 * zero when positive is true. */
void validation_check_number(struct validation *v, json_t *value, const char *field,
                             bool positive);

/* Checks that value (when present) is a boolean. */
void validation_check_bool(struct validation *v, json_t *value, const char *field);

/* Adds a problem for every key of object that is not in known (a
 * NULL-terminated list), because a misspelled key such as `duraton` would
 * otherwise change what a fault does without a word. */
void validation_check_known_keys(struct validation *v, json_t *object, const char *field,
                                 const char *const *known);

/* Checks one activity (probe, action or ref) declared at field, and records its name. */
void validation_check_activity(struct validation *v, json_t *activity, const char *field,
                               enum activity_place place);

/* Provider checks kept in their own files: validate_traffic.c and
 * validate_stress.c. Each check adds problems under field; the key lists are
 * NULL-terminated and name every key the provider accepts. */
void validation_check_traffic(struct validation *v, json_t *provider, const char *field);
void validation_check_stress(struct validation *v, json_t *provider, const char *field);
extern const char *const validation_traffic_keys[];

extern const char *const validation_stress_keys[];

/* Checks the experiment-wide `traffic` key and the `objectives` list (validate_traffic.c). */
void validation_check_run_traffic(struct validation *v, json_t *traffic);
void validation_check_objectives(struct validation *v, json_t *experiment);

/* Runs every structural check on the experiment. */
void validation_run(struct validation *v, json_t *experiment);

#endif
