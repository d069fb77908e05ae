/* Running a list of activities (the method or the rollbacks), with background activities on threads. */
#ifndef AFTERSHOCK_EXPERIMENT_METHOD_H
#define AFTERSHOCK_EXPERIMENT_METHOD_H

#include <jansson.h>

#include "experiment/activity.h"

/* Runs the activities in order and returns their records in the same order.
 * An activity with `background: true` starts on its own thread and the list
 * goes on; every background activity is waited for before returning. Once
 * *env->stop is set, no further activity starts. */
json_t *method_run(const struct activity_env *env, json_t *exec_list, json_t *display_list);

#endif
