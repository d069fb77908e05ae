/* A process-wide stop flag that SIGINT and SIGTERM set, for commands that
 * poll a flag (through spawn, http or backoff waits) instead of handling
 * the signals themselves. */
#ifndef AFTERSHOCK_UTIL_INTERRUPT_H
#define AFTERSHOCK_UTIL_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Set to 1 by the first handled signal; never cleared. */
extern volatile sig_atomic_t interrupt_requested;

/* Installs the handler for SIGINT and SIGTERM, and for SIGHUP when hangup
 * is true, and ignores SIGPIPE, so a reader of the output that goes away
 * or a TLS write to a closed peer does not end the process. */
void interrupt_install(bool hangup);

/* Returns the number of the first signal handled, or 0. */
int interrupt_signal(void);

#endif
