/* `aftershock heal`: placeholder until the command is built. */
#include "cmd/command.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec heal_options[] = {
    { NULL, 0, NULL, NULL },
};

static int heal_main(const struct command_args *args)
{
    (void)args;
    ui_error("'heal' is not built yet");
    return EXIT_RUNFAIL;
}

const struct command command_heal = {
    .name = "heal",
    .summary = "run a command, classify its failures and heal them with categorised retries",
    .usage = "[options]",
    .description = "",
    .options = heal_options,
    .min_args = 0,
    .handler = heal_main,
};
