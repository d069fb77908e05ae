/* The process-wide stop flag set by SIGINT, SIGTERM and optionally SIGHUP. */
#include "util/interrupt.h"

#include <string.h>

volatile sig_atomic_t interrupt_requested;
static volatile sig_atomic_t first_signal;

static void on_signal(int signo)
{
    if (first_signal == 0)
        first_signal = signo;
    interrupt_requested = 1;
}

void interrupt_install(bool hangup)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (hangup)
        sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int interrupt_signal(void)
{
    return first_signal;
}
