/* The command entry every file in cmd/ exports, and what its handler receives. */
#ifndef AFTERSHOCK_CMD_COMMAND_H
#define AFTERSHOCK_CMD_COMMAND_H

#include "util/opt.h"

struct command;

/* Handler input: the positional arguments (options removed) and the parsed options. */
struct command_args {
    const struct command *command;
    int argc;
    char **argv;
    const struct opt_values *opts;
};

struct command {
    const char *name;
    const char *summary;     /* one line for `aftershock --help` */
    const char *usage;       /* arguments after the command name, e.g. "[options] TARGET..." */
    const char *description; /* paragraphs printed by `aftershock NAME --help` */
    const struct opt_spec *options;
    int min_args;            /* minimum number of positional arguments */
    /* Returns an exit code (enum exit_code). */
    int (*handler)(const struct command_args *args);
};

extern const struct command command_probe;
extern const struct command command_proxy;
extern const struct command command_run;
extern const struct command command_history;
extern const struct command command_report;
extern const struct command command_rollback;
extern const struct command command_verify;
extern const struct command command_deps;
extern const struct command command_heal;
extern const struct command command_check;
extern const struct command command_ci;

#endif
