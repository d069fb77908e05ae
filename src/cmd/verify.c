/* `aftershock verify`: placeholder until the command is built. */
#include "cmd/command.h"
#include "util/err.h"
#include "util/ui.h"

static const struct opt_spec verify_options[] = {
    { NULL, 0, NULL, NULL },
};

static int verify_main(const struct command_args *args)
{
    (void)args;
    ui_error("'verify' is not built yet");
    return EXIT_RUNFAIL;
}

const struct command command_verify = {
    .name = "verify",
    .summary = "judge experiment objectives from journals; print verdicts, a score and JUnit",
    .usage = "[options]",
    .description = "",
    .options = verify_options,
    .min_args = 0,
    .handler = verify_main,
};
