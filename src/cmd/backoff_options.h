/* The backoff options that probe and heal share: --interval, --max-interval,
 * --backoff-factor, --jitter and --schedule. */
#ifndef AFTERSHOCK_CMD_BACKOFF_OPTIONS_H
#define AFTERSHOCK_CMD_BACKOFF_OPTIONS_H

#include "util/backoff.h"
#include "util/opt.h"

/* A command's defaults for its backoff options, in seconds. */
struct backoff_defaults {
    double interval;
    double max_interval;  /* raised to --interval when only that is given and longer */
    double factor;
    double jitter;        /* 0 with --schedule */
    double max_duration;  /* upper limit of --interval and --max-interval */
};

/* Reads the backoff options into b. Prints the error and returns -1 when
 * an option is invalid or the options contradict each other. */
int backoff_options_read(const struct opt_values *opts, const struct backoff_defaults *defaults,
                         struct backoff *b);

#endif
