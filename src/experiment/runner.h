/* Running one experiment: steady state, method, rollbacks, and the journal they produce. */
#ifndef AFTERSHOCK_EXPERIMENT_RUNNER_H
#define AFTERSHOCK_EXPERIMENT_RUNNER_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

struct fault_ledger;

enum rollback_strategy {
    ROLLBACK_DEFAULT,  /* run unless the steady state before the method was not met */
    ROLLBACK_ALWAYS,
    ROLLBACK_NEVER,
    ROLLBACK_DEVIATED, /* run only when the steady state deviated */
};

enum hypothesis_strategy {
    HYPOTHESIS_DEFAULT,             /* before and after the method */
    HYPOTHESIS_BEFORE_METHOD_ONLY,
    HYPOTHESIS_AFTER_METHOD_ONLY,
    HYPOTHESIS_DURING_METHOD_ONLY,  /* repeatedly while the method runs, not before or after */
    HYPOTHESIS_CONTINUOUSLY,        /* before, repeatedly during, and after */
};

/* Parses a strategy name; returns 0, or -1 for an unknown name. */
int rollback_strategy_parse(const char *name, enum rollback_strategy *out);
int hypothesis_strategy_parse(const char *name, enum hypothesis_strategy *out);
const char *rollback_strategy_name(enum rollback_strategy s);
const char *hypothesis_strategy_name(enum hypothesis_strategy s);

struct runner_opts {
    enum rollback_strategy rollback_strategy;
    enum hypothesis_strategy hypothesis_strategy;
    double hypothesis_frequency;      /* seconds between checks during the method */
    bool fail_fast;                   /* stop the method at the first deviation during it */
    const char *base_dir;             /* folder relative process paths start from */
    struct fault_ledger *ledger;      /* records faults before they are applied; may be NULL */
};

/* Installs SIGINT and SIGTERM handlers for a run. The first signal
 * interrupts the steady state checks and the method, but rollbacks still
 * run. A second signal also cuts rollbacks short. */
void runner_install_signal_handlers(void);

/* Returns the number of the first interrupting signal, or 0 when none arrived. */
int runner_interrupt_signal(void);

/* Runs an experiment and returns its journal (a new reference, never NULL)
 * with `status` completed, failed or interrupted. `exec` is the substituted
 * experiment that is executed. `display` is the same experiment with secret
 * values masked, recorded in activity records. `original` is the document as
 * written (secrets masked), stored under the journal's `experiment` key. */
json_t *runner_run(json_t *exec, json_t *display, json_t *original,
                   const struct runner_opts *opts);

#endif
