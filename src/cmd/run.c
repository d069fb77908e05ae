/* Placeholder until the command is implemented. */
#include "cmd/command.h"
#include "util/err.h"

static const struct opt_spec run_options[] = {
    { NULL, 0, NULL, NULL },
};

static int run_main(const struct command_args *args)
{
    (void)args;
    return EXIT_RUNFAIL;
}

const struct command command_run = {
    .name = "run",
    .summary = "not implemented yet",
    .usage = "[options]",
    .description = "",
    .options = run_options,
    .min_args = 0,
    .handler = run_main,
};
