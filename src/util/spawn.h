/* Running child processes without a shell (or through /bin/sh -c when asked),
 * with a timeout that ends the whole process group and bounded output capture. */
#ifndef AFTERSHOCK_UTIL_SPAWN_H
#define AFTERSHOCK_UTIL_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

struct spawn_opts {
    char *const *argv;           /* program and arguments, run without a shell */
    const char *shell_command;   /* used instead of argv: run through /bin/sh -c */
    const char *cwd;             /* working folder, or NULL for the current one */
    double timeout;              /* seconds; 0 for none. On expiry the process group gets
                                  * SIGTERM, then SIGKILL one second later */
    size_t capture_max;          /* bytes kept of each stream; 0 means 64 KiB. Output past
                                  * it is read and dropped, so the child never blocks */
    bool stdin_null;             /* connect stdin to /dev/null (default: inherit) */
    volatile sig_atomic_t *stop; /* when it becomes non-zero the child is ended as on timeout */
    volatile pid_t *pid_out;     /* receives the child's pid as soon as it exists, 0 at exit */
};

struct spawn_result {
    int exit_code;      /* the exit status, or 128 + signal number when killed */
    bool signaled;      /* ended by a signal */
    int term_signal;
    bool timed_out;     /* ended because the timeout passed */
    bool interrupted;   /* ended because *stop was set */
    char *out;          /* captured stdout, NUL-terminated, never NULL after success */
    char *err;          /* captured stderr, NUL-terminated, never NULL after success */
    size_t out_len;     /* bytes in out, which may itself contain NUL bytes */
    size_t err_len;     /* bytes in err */
    bool out_truncated;
    bool err_truncated;
    double duration;    /* seconds from start to exit */
};

/* Runs the process to completion. Returns 0 when it ran (whatever its exit
 * status) or -1 with err set when it could not be started: exec failures such
 * as a missing program are reported here, with the program named. */
int spawn_run(const struct spawn_opts *opts, struct spawn_result *res, struct err *err);

void spawn_result_release(struct spawn_result *res);

/* In a forked child: runs shell_command through /bin/sh -c, or else argv
 * looked up in PATH. When exec fails, writes its errno to report_fd (a
 * close-on-exec pipe the parent reads) and exits with 127. */
__attribute__((noreturn)) void spawn_exec_child(const char *shell_command, char *const *argv,
                                                int report_fd);

/* Sends sig to the process group of pid, or to pid alone when it leads none. */
void spawn_signal_group(pid_t pid, int sig);

#endif
