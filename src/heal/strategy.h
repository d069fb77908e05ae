/* Healing strategies: what runs between a failed attempt and the next. The
 * built-in ones call aftershock's own commands through /proc/self/exe. */
#ifndef AFTERSHOCK_HEAL_STRATEGY_H
#define AFTERSHOCK_HEAL_STRATEGY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "heal/rules.h"

/* Settings for running strategies: folder, targets, limits. Strings are borrowed. */
struct heal_strategy_env {
    const char *self_exe;              /* aftershock itself, normally /proc/self/exe */
    const char *project_root;          /* working folder of every strategy */
    const char *const *health_targets; /* probe targets for STRATEGY_PROBE */
    size_t health_target_count;
    double health_timeout;             /* seconds the probe waits for the targets */
    const char *const *deps_args;      /* extra arguments for `deps --fix --install` */
    size_t deps_arg_count;
    const char *ledger_dir;            /* fault ledger for rollback, or NULL for its default */
    const char *store;                 /* history store whose ledger rollback reads, or NULL */
    double timeout;                    /* seconds any strategy process may run */
    volatile sig_atomic_t *stop;       /* ends a running strategy when set */
    int output_fd;                     /* where a strategy's output is copied, or -1 */
};

/* Outcome of one strategy. ran is false for backoff and stop, which run
 * nothing, and for a probe without health targets, which falls back to backoff. */
struct heal_strategy_result {
    bool ran;
    bool ok;
    enum heal_strategy applied;  /* the strategy that really ran (backoff after a fallback) */
    char message[512];           /* one line: what happened */
};

/* Applies strategy for the rule that matched (rule may be NULL). */
void heal_strategy_apply(enum heal_strategy strategy, const struct heal_rule *rule,
                         const struct heal_strategy_env *env, struct heal_strategy_result *out);

#endif
