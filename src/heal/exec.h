/* Running one attempt of a healed command: its output streams live to ours,
 * unchanged, while a classifier reads it; a timeout ends its process group. */
#ifndef AFTERSHOCK_HEAL_EXEC_H
#define AFTERSHOCK_HEAL_EXEC_H

#include <signal.h>
#include <stdbool.h>

#include "heal/classify.h"
#include "util/err.h"

/* Exit code reported for an attempt that the timeout ended, as timeout(1) does. */
#define HEAL_EXIT_TIMEOUT 124

/* Seconds between SIGTERM and SIGKILL when an attempt is ended. */
#define HEAL_KILL_GRACE 2.0

struct heal_exec_opts {
    char *const *argv;           /* program and arguments, run without a shell */
    const char *shell_command;   /* used instead of argv: run through /bin/sh -c */
    double timeout;              /* seconds; 0 for none */
    bool inherit_stdin;          /* else stdin is /dev/null */
    const char *session;         /* exported as AFTERSHOCK_HEAL_SESSION */
    int attempt;                 /* exported as AFTERSHOCK_HEAL_ATTEMPT */
    volatile sig_atomic_t *stop; /* non-zero: end the attempt as on timeout */
    int out_fd;                  /* where stdout is copied (normally 1) */
    int err_fd;                  /* where stderr is copied (normally 2) */
};

struct heal_exec_result {
    int exit_code;     /* exit status; 128 + signal when killed; HEAL_EXIT_TIMEOUT on timeout;
                        * 127 or 126 when the program could not be started */
    bool signaled;
    int term_signal;
    bool timed_out;
    bool interrupted;  /* ended because *stop was set */
    double started;    /* wall clock, seconds since the epoch */
    double duration;   /* seconds */
};

/* Runs one attempt, feeding its output to classifier. A program that cannot
 * be started counts as an attempt that failed with 127 (not found) or 126,
 * with the reason written to err_fd and fed to the classifier. Returns 0, or
 * -1 with err set when no process could be created at all. */
int heal_exec_run(const struct heal_exec_opts *opts, struct heal_classifier *classifier,
                  struct heal_exec_result *result, struct err *err);

#endif
