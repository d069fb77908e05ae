/* Placeholder until the command is implemented. */
#include "cmd/command.h"
#include "util/err.h"

static const struct opt_spec probe_options[] = {
    { NULL, 0, NULL, NULL },
};

static int probe_main(const struct command_args *args)
{
    (void)args;
    return EXIT_RUNFAIL;
}

const struct command command_probe = {
    .name = "probe",
    .summary = "not implemented yet",
    .usage = "[options]",
    .description = "",
    .options = probe_options,
    .min_args = 0,
    .handler = probe_main,
};
