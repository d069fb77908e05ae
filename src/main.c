/* aftershock: command table and dispatch. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "util/err.h"
#include "util/log.h"
#include "util/ui.h"

/* Every command, in the order `aftershock --help` lists them. */
static const struct command *const commands[] = {
    &command_run,
    &command_probe,
    &command_proxy,
    &command_history,
    &command_report,
    &command_rollback,
    &command_verify,
    &command_deps,
    &command_heal,
    &command_check,
    &command_ci,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Options every command accepts, on top of its own table. */
static const struct opt_spec global_options[] = {
    { "verbose", 'v', NULL, "log debug detail to stderr" },
    { "quiet", 'q', NULL, "log only errors" },
    { "help", 'h', NULL, "print this help and exit" },
    { NULL, 0, NULL, NULL },
};

static void print_main_help(FILE *out)
{
    fprintf(out,
            "usage: aftershock [-v|-q] COMMAND [options] [ARG...]\n"
            "\n"
            "aftershock injects faults into a service, checks that it keeps its steady\n"
            "state and recovers, and heals the validation pipeline's own failures.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s  %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
            "\n"
            "global options:\n"
            "  -v, --verbose   log debug detail to stderr\n"
            "  -q, --quiet     log only errors\n"
            "  -h, --help      print this help and exit\n"
            "      --version   print the version and exit\n"
            "\n"
            "exit codes: 0 success, 1 a finding, 2 usage or invalid input, 3 could not run\n"
            "run 'aftershock COMMAND --help' for a command's options\n");
}

static void print_command_help(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: aftershock %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->description != NULL && cmd->description[0] != '\0')
        fprintf(out, "\n%s", cmd->description);
    fprintf(out, "\noptions:\n");
    opt_print_table(out, cmd->options);
    opt_print_table(out, global_options);
}

/* Finds a command by exact name, or by a prefix that matches exactly one command. */
static const struct command *find_command(const char *name)
{
    const struct command *match = NULL;
    size_t len = strlen(name);
    int matches = 0;

    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
        if (len > 0 && strncmp(commands[i]->name, name, len) == 0) {
            match = commands[i];
            matches++;
        }
    }
    return matches == 1 ? match : NULL;
}

static int count_specs(const struct opt_spec *specs)
{
    int n = 0;

    while (specs != NULL && specs[n].name != NULL)
        n++;
    return n;
}

/* Appends value to the list of arguments of option index i. */
static void record_option(struct opt_values *values, int i, const char *value)
{
    const char **grown = realloc(values->values[i], sizeof(char *) * (size_t)(values->count[i] + 1));

    if (grown == NULL)
        abort();
    grown[values->count[i]] = value;
    values->values[i] = grown;
    values->count[i]++;
}

/* Parses argv with getopt_long from the command's table plus the global
 * options. Returns -1 to continue, or an exit code to stop with. */
static int parse_command_options(const struct command *cmd, int argc, char **argv,
                                 struct opt_values *values)
{
    int n_own = count_specs(cmd->options);
    int n_global = count_specs(global_options);
    struct option long_options[OPT_MAX + 4];
    char short_options[OPT_MAX * 3 + 4];
    size_t s = 0;
    int verbosity = 0;

    if (n_own + n_global > OPT_MAX) {
        ui_error("internal: command '%s' declares too many options", cmd->name);
        return EXIT_RUNFAIL;
    }
    /* Leading ':' makes getopt report a missing argument as ':' and stay quiet. */
    short_options[s++] = ':';
    for (int i = 0; i < n_own + n_global; i++) {
        const struct opt_spec *spec = i < n_own ? &cmd->options[i] : &global_options[i - n_own];

        long_options[i].name = spec->name;
        long_options[i].has_arg = spec->metavar ? required_argument : no_argument;
        long_options[i].flag = NULL;
        long_options[i].val = 256 + i;
        if (spec->short_name) {
            short_options[s++] = spec->short_name;
            if (spec->metavar)
                short_options[s++] = ':';
        }
    }
    memset(&long_options[n_own + n_global], 0, sizeof(struct option));
    short_options[s] = '\0';

    values->specs = cmd->options;
    opterr = 0;
    optind = 1;
    for (;;) {
        int long_index = -1;
        int c = getopt_long(argc, argv, short_options, long_options, &long_index);
        int i = -1;

        if (c == -1)
            break;
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (c == ':')
                ui_error("option '%s' of '%s' needs a value", bad, cmd->name);
            else if (optopt != 0 && (bad == NULL || strncmp(bad, "--", 2) != 0))
                ui_error("unknown option '-%c' for '%s'", optopt, cmd->name);
            else
                ui_error("unknown option '%s' for '%s'", bad, cmd->name);
            ui_hint("run 'aftershock %s --help' to list its options", cmd->name);
            return EXIT_USAGE;
        }
        if (c >= 256) {
            i = c - 256;
        } else {
            for (int j = 0; j < n_own + n_global; j++) {
                const struct opt_spec *spec =
                    j < n_own ? &cmd->options[j] : &global_options[j - n_own];
                if (spec->short_name == c)
                    i = j;
            }
        }
        if (i < 0)
            continue;
        if (i < n_own) {
            record_option(values, i, cmd->options[i].metavar ? optarg : NULL);
            continue;
        }
        const char *global = global_options[i - n_own].name;
        if (strcmp(global, "help") == 0) {
            print_command_help(stdout, cmd);
            return EXIT_OK;
        }
        if (strcmp(global, "verbose") == 0)
            verbosity++;
        else if (strcmp(global, "quiet") == 0)
            verbosity = -1;
    }
    if (verbosity < 0)
        log_set_level(LOG_ERROR);
    else if (verbosity > 0)
        log_set_level(LOG_DEBUG);
    return -1;
}

/* Flushes stdout and turns a failed write (a full disk, a closed pipe) into exit 3. */
static int finish_output(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ui_error("cannot write the output: %s", strerror(errno));
        return EXIT_RUNFAIL;
    }
    return code;
}

int main(int argc, char **argv)
{
    int first = 1;
    const struct command *cmd;
    struct opt_values values;
    int code;

    /* Options before the command name. */
    while (first < argc && argv[first][0] == '-') {
        const char *arg = argv[first];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_main_help(stdout);
            return finish_output(EXIT_OK);
        }
        if (strcmp(arg, "--version") == 0) {
            printf("aftershock %s\n", AFTERSHOCK_VERSION);
            return finish_output(EXIT_OK);
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            log_set_level(LOG_DEBUG);
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            log_set_level(LOG_ERROR);
        } else {
            ui_error("unknown option '%s'", arg);
            ui_hint("run 'aftershock --help' to list commands and options");
            return EXIT_USAGE;
        }
        first++;
    }
    if (first >= argc) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }

    cmd = find_command(argv[first]);
    if (cmd == NULL) {
        ui_error("unknown command '%s'", argv[first]);
        ui_hint("run 'aftershock --help' to list commands");
        return EXIT_USAGE;
    }

    memset(&values, 0, sizeof(values));
    code = parse_command_options(cmd, argc - first, argv + first, &values);
    if (code >= 0) {
        opt_values_release(&values);
        return finish_output(code);
    }

    struct command_args args = {
        .command = cmd,
        .argc = argc - first - optind,
        .argv = argv + first + optind,
        .opts = &values,
    };
    if (args.argc < cmd->min_args) {
        ui_error("'%s' needs %s", cmd->name, cmd->usage);
        ui_hint("run 'aftershock %s --help' for usage", cmd->name);
        opt_values_release(&values);
        return EXIT_USAGE;
    }
    code = cmd->handler(&args);
    opt_values_release(&values);
    return finish_output(code);
}
