/* A healing session: run the command, classify each failure, apply its
 * strategy, back off and retry, and record every attempt. */
#ifndef AFTERSHOCK_HEAL_SESSION_H
#define AFTERSHOCK_HEAL_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "heal/rules.h"
#include "heal/strategy.h"
#include "util/backoff.h"

/* A set of exit codes given on the command line, such as "1,3,120-130". */
struct heal_code_set {
    struct heal_code_range *ranges;
    size_t count;
};

struct heal_session_opts {
    char *const *argv;              /* command without a shell, or NULL */
    const char *shell_command;      /* command through /bin/sh -c, or NULL */
    const char *command_line;       /* the command as one line, for rules and records */
    int max_retries;                /* retries after the first attempt */
    double timeout;                 /* seconds per attempt; 0 for none */
    double deadline;                /* seconds for the whole session; 0 for none */
    struct backoff backoff;
    struct heal_code_set retry_on;  /* when not empty: only these exit codes are retried */
    struct heal_code_set never_retry_on;
    const struct heal_rules *rules;
    struct heal_strategy_env strategy;
    const char *store_location;     /* history store, or NULL to record nothing */
    volatile sig_atomic_t *stop;    /* set by SIGINT/SIGTERM: end the attempt, no retry */
    int out_fd;                     /* normally 1 */
    int err_fd;                     /* normally 2: the command's stderr and heal's messages */
};

/* Parses "1,3,120-130" (codes 0-255). Returns 0, or -1 for invalid text;
 * set is unchanged on failure. */
int heal_code_set_parse(const char *text, struct heal_code_set *set);
bool heal_code_set_has(const struct heal_code_set *set, int code);
void heal_code_set_release(struct heal_code_set *set);

/* Runs the session. Returns the last attempt's exit code. */
int heal_session_run(const struct heal_session_opts *opts);

#endif
