/* `aftershock check`: placeholder until the command is built. */
#include "cmd/command.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec check_options[] = {
    { NULL, 0, NULL, NULL },
};

static int check_main(const struct command_args *args)
{
    (void)args;
    ui_error("'check' is not built yet");
    return EXIT_RUNFAIL;
}

const struct command command_check = {
    .name = "check",
    .summary = "pre-push validator: experiments, references, imports, paths, workflow, store",
    .usage = "[options]",
    .description = "",
    .options = check_options,
    .min_args = 0,
    .handler = check_main,
};
