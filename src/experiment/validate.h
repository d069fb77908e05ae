/* Structural validation of an experiment, before anything runs. */
#ifndef AFTERSHOCK_EXPERIMENT_VALIDATE_H
#define AFTERSHOCK_EXPERIMENT_VALIDATE_H

#include <jansson.h>

#include "experiment/problems.h"

/* Provider types that `run` can execute. */
#define EXPERIMENT_PROVIDER_TYPES "http, process, signal, toxic, traffic, stress"

/* Checks the experiment's structure and adds every problem found (missing
 * title, description or method, hypothesis without title, probe without
 * tolerance, invalid tolerance, unknown provider type, unknown `ref`, invalid
 * pauses, runtime strategies, ...). Values that may still contain ${}
 * references are not checked here. Returns the number of problems added. */
int experiment_validate(json_t *experiment, struct problems *problems);

/* Checks what needs substituted values: every process provider's path exists
 * and is executable (looked up in PATH when it has no slash, relative to
 * base_dir otherwise). Call it on the substituted experiment. It also
 * repeats the structural checks, this time on the values that held ${}
 * references, so call it only after experiment_validate found no problem,
 * or problems repeat. Returns the number of problems added. */
int experiment_validate_resolved(json_t *experiment, const char *base_dir,
                                 struct problems *problems);

/* Returns the number of a signal given as a name ("TERM", "SIGTERM", in any
 * case), a number, or a string of digits; -1 when it names no signal. */
int experiment_signal_number(const json_t *signal);

#endif
