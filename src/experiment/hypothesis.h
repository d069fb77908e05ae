/* Steady-state hypothesis checks, before, during and after the method. */
#ifndef AFTERSHOCK_EXPERIMENT_HYPOTHESIS_H
#define AFTERSHOCK_EXPERIMENT_HYPOTHESIS_H

#include <jansson.h>
#include <stdbool.h>

#include "experiment/activity.h"

/* Runs the hypothesis probes in order, checking each output against its
 * tolerance, and stops at the first probe whose tolerance is not met (as the
 * Chaos Toolkit does). Returns {"steady_state_met": bool, "probes": [record
 * with "tolerance_met"]} and sets *met. A missing hypothesis is met. */
json_t *hypothesis_check(const struct activity_env *env, json_t *exec_hypothesis,
                         json_t *display_hypothesis, bool *met);

#endif
