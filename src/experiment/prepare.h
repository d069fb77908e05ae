/* Preparing an experiment for a run: refs, masking of secrets, and the journal copies. */
#ifndef AFTERSHOCK_EXPERIMENT_PREPARE_H
#define AFTERSHOCK_EXPERIMENT_PREPARE_H

#include <jansson.h>

#include "experiment/problems.h"

/* An experiment ready to run. Invariant: after a successful
 * experiment_prepare, all three trees are set and owned by this struct. */
struct prepared_experiment {
    const char *file;
    json_t *original;  /* as written, with inline secrets masked: the journal's `experiment` */
    json_t *exec;      /* refs resolved and values substituted: what runs */
    json_t *display;   /* like exec, with values that come from secrets masked */
};

/* Loads, validates, resolves and substitutes one experiment file. overrides
 * contains the --var values. Every problem is added to problems, which must
 * be set up for file. Returns 0 when there were none, else -1. */
int experiment_prepare(const char *file, json_t *overrides, const char *base_dir,
                       struct prepared_experiment *out, struct problems *problems);

void prepared_experiment_release(struct prepared_experiment *p);

/* Replaces every activity {"ref": NAME} in the hypothesis probes, method and
 * rollbacks, in place, by a copy of the activity of that name declared in
 * the hypothesis or the method. Unknown names are left as they are (the
 * validator reports them). */
void experiment_resolve_refs(json_t *experiment);

/* Returns a copy of values in which every key that comes from a secret
 * scope of the experiment maps to "***". */
json_t *experiment_mask_values(json_t *experiment, json_t *values);

/* Returns a copy of the experiment with every inline secret value replaced
 * by "***" (env references keep their variable names). */
json_t *experiment_mask_secrets(json_t *experiment);

#endif
