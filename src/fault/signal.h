/* Process faults: sending signals, and pausing a process with a guaranteed resume. */
#ifndef AFTERSHOCK_FAULT_SIGNAL_H
#define AFTERSHOCK_FAULT_SIGNAL_H

#include <signal.h>
#include <sys/types.h>

#include "util/err.h"

/* Parses "TERM", "SIGTERM", "term" or a number such as "15". Returns the
 * signal number, or -1 with err naming the text. */
int signal_parse(const char *text, struct err *err);

/* Returns the conventional name ("STOP") of a signal number, or "?". */
const char *signal_name(int signo);

/* Reads a pid from a pid file (first line, decimal). Returns the pid, or -1
 * with err naming the file and what is wrong with it. */
pid_t signal_read_pid_file(const char *path, struct err *err);

/* Sends signo to pid. Returns 0 or -1 with err naming the pid. */
int signal_send(pid_t pid, int signo, struct err *err);

/* A paused process and the guardian that resumes it if aftershock dies.
 * Invariant: while guardian_fd >= 0, the guardian process is alive and will
 * send SIGCONT to pid when guardian_fd's pipe closes without a byte. */
struct signal_pause {
    pid_t pid;
    pid_t guardian_pid;
    int guardian_fd;
};

/* Starts a guardian, then sends SIGSTOP to pid. The guardian ignores SIGINT
 * and SIGTERM and resumes the process when this process ends in any way,
 * including SIGKILL, before signal_resume was called. Returns 0 or -1. */
int signal_pause(pid_t pid, struct signal_pause *pause, struct err *err);

/* Sends SIGCONT to the paused process and releases its guardian. Safe to
 * call twice. Returns 0 or -1 (the process is gone, say) with err set. */
int signal_resume(struct signal_pause *pause, struct err *err);

#endif
