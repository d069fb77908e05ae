/* `aftershock deps`: placeholder until the command is built. */
#include "cmd/command.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec deps_options[] = {
    { NULL, 0, NULL, NULL },
};

static int deps_main(const struct command_args *args)
{
    (void)args;
    ui_error("'deps' is not built yet");
    return EXIT_RUNFAIL;
}

const struct command command_deps = {
    .name = "deps",
    .summary = "find Python imports not covered by declared requirements, fix and install them",
    .usage = "[options]",
    .description = "",
    .options = deps_options,
    .min_args = 0,
    .handler = deps_main,
};
