/* `aftershock ci`: placeholder until the command is built. */
#include "cmd/command.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec ci_options[] = {
    { NULL, 0, NULL, NULL },
};

static int ci_main(const struct command_args *args)
{
    (void)args;
    ui_error("'ci' is not built yet");
    return EXIT_RUNFAIL;
}

const struct command command_ci = {
    .name = "ci",
    .summary = "write the self-healing CI workflow and the run summary",
    .usage = "[options]",
    .description = "",
    .options = ci_options,
    .min_args = 0,
    .handler = ci_main,
};
