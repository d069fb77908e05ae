/* `aftershock probe`: waits until every target is healthy, with exponential
 * backoff and jitter, under one deadline. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/backoff_options.h"
#include "cmd/command.h"
#include "probe/attempt.h"
#include "probe/report.h"
#include "probe/target.h"
#include "probe/wait.h"
#include "util/backoff.h"
#include "util/err.h"
#include "util/interrupt.h"
#include "util/http.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/ui.h"

/* Defaults, measured with bench/probe_lag (results in docs/benchmarks.md).
 * The first wait of 100 ms notices a service that is almost up at once.
 * Growing by 1.25 notices a service ready after 1.5 s about 0.1-0.3 s later.
 * The 3 s cap makes a long wait cost fewer requests than a 1 s poll. */
#define PROBE_DEFAULT_TIMEOUT 60.0
#define PROBE_DEFAULT_ATTEMPT_TIMEOUT 2.0
#define PROBE_DEFAULT_INTERVAL 0.1
#define PROBE_DEFAULT_MAX_INTERVAL 3.0
#define PROBE_DEFAULT_FACTOR 1.25
#define PROBE_DEFAULT_JITTER 0.2
#define PROBE_DEFAULT_STATUS_MIN 200
#define PROBE_DEFAULT_STATUS_MAX 399
#define PROBE_MAX_DURATION 86400.0
#define PROBE_PROGRESS_INTERVAL 0.2

static const struct opt_spec probe_options[] = {
    { "timeout", 't', "DURATION", "deadline for the whole wait (default 60s)" },
    { "attempt-timeout", 0, "DURATION", "limit on one attempt (default 2s)" },
    { "interval", 0, "DURATION", "wait after the first failed attempt (default 100ms)" },
    { "max-interval", 0, "DURATION", "longest wait between attempts (default 3s, or --interval when longer)" },
    { "backoff-factor", 0, "NUMBER", "growth of the wait per failed attempt (default 1.25)" },
    { "jitter", 0, "FRACTION", "random spread of each wait, 0-1 (default 0.2, 0 with --schedule)" },
    { "schedule", 0, "LIST", "fixed waits such as 2,4,8,10; the last one repeats" },
    { "status", 0, "CODE[-CODE]", "accepted HTTP status or range (default 200-399)" },
    { "body-regex", 0, "REGEX", "PCRE2 pattern the HTTP body must match" },
    { "header", 'H', "'NAME: VALUE'", "extra HTTP request header; repeatable" },
    { "insecure", 'k', NULL, "skip TLS certificate and host name verification" },
    { "json", 0, NULL, "print the result as a JSON object" },
    { NULL, 0, NULL, NULL },
};

static const struct backoff_defaults probe_backoff = {
    .interval = PROBE_DEFAULT_INTERVAL,
    .max_interval = PROBE_DEFAULT_MAX_INTERVAL,
    .factor = PROBE_DEFAULT_FACTOR,
    .jitter = PROBE_DEFAULT_JITTER,
    .max_duration = PROBE_MAX_DURATION,
};

/* Reads the HTTP check options into check. Prints the error and returns -1 when invalid. */
static int read_check(const struct opt_values *opts, struct probe_check *check)
{
    const char *status = opt_get(opts, "status");
    const char *regex = opt_get(opts, "body-regex");
    const char *const *headers;
    int n_headers;
    struct err err;

    check->status_min = PROBE_DEFAULT_STATUS_MIN;
    check->status_max = PROBE_DEFAULT_STATUS_MAX;
    if (status != NULL &&
        probe_parse_status(status, &check->status_min, &check->status_max, &err) != 0) {
        ui_error("--status: %s", err.msg);
        return -1;
    }
    if (regex != NULL && probe_check_set_regex(check, regex, &err) != 0) {
        ui_error("--body-regex: %s", err.msg);
        return -1;
    }
    headers = opt_all(opts, "header", &n_headers);
    for (int i = 0; i < n_headers; i++) {
        if (probe_check_header(headers[i], &err) != 0) {
            ui_error("--header: %s", err.msg);
            return -1;
        }
    }
    check->insecure = opt_has(opts, "insecure");
    return 0;
}

/* Copies the --header values into a NULL-terminated list the check points at. */
static const char **collect_headers(const struct opt_values *opts)
{
    int n;
    const char *const *values = opt_all(opts, "header", &n);
    const char **list = calloc((size_t)n + 1, sizeof(char *));

    if (list == NULL)
        abort();
    for (int i = 0; i < n; i++)
        list[i] = values[i];
    return list;
}

/* Prints the outcome and returns the exit code: 0 when every target is
 * healthy, 1 when one is not, 128 + the signal number when SIGINT or SIGTERM
 * stopped the wait with a target unhealthy, 3 when the output could not be
 * written. */
static int report_result(const struct opt_values *opts, const struct probe_status *statuses,
                         size_t n, double elapsed)
{
    struct err err;
    int code = EXIT_OK;

    for (size_t i = 0; i < n; i++) {
        if (!statuses[i].healthy)
            code = EXIT_FINDING;
    }
    if (interrupt_requested)
        ui_warning("wait interrupted before its deadline");
    if (code == EXIT_FINDING && interrupt_signal() != 0)
        code = 128 + interrupt_signal();

    if (!opt_has(opts, "json")) {
        probe_print_summary(stdout, statuses, n);
        return code;
    }
    if (probe_print_json(stdout, statuses, n, elapsed, &err) != 0) {
        ui_error("%s", err.msg);
        return EXIT_RUNFAIL;
    }
    return code;
}

static int probe_main(const struct command_args *args)
{
    size_t n = (size_t)args->argc;
    struct probe_target *targets = calloc(n, sizeof(*targets));
    struct probe_status *statuses = calloc(n, sizeof(*statuses));
    struct probe_check check = { 0 };
    struct probe_config config = { 0 };
    struct probe_progress progress = { .out = stderr, .lines_drawn = 0 };
    const char **headers = NULL;
    size_t parsed = 0;
    struct err err;
    int code = EXIT_USAGE;

    if (targets == NULL || statuses == NULL)
        abort();
    for (; parsed < n; parsed++) {
        if (probe_target_parse(args->argv[parsed], &targets[parsed], &err) != 0) {
            ui_error("%s", err.msg);
            goto cleanup;
        }
    }
    if (opt_duration(args->opts, "timeout", PROBE_DEFAULT_TIMEOUT, 0.001, PROBE_MAX_DURATION,
                     &config.timeout) != 0 ||
        opt_duration(args->opts, "attempt-timeout", PROBE_DEFAULT_ATTEMPT_TIMEOUT, 0.001,
                     PROBE_MAX_DURATION, &config.attempt_timeout) != 0 ||
        backoff_options_read(args->opts, &probe_backoff, &config.backoff) != 0 ||
        read_check(args->opts, &check) != 0)
        goto cleanup;
    headers = collect_headers(args->opts);
    check.headers = headers;
    config.check = &check;
    config.stop = &interrupt_requested;

    http_global_init();
    /* libcurl runs with CURLOPT_NOSIGNAL, so a TLS write to a closed peer raises
     * SIGPIPE, which interrupt_install ignores. */
    interrupt_install(false);
    bool show_progress = ui_is_terminal(stderr) && log_threshold < LOG_DEBUG;
    double start = time_monotonic();
    if (probe_wait(&config, targets, n, statuses, show_progress ? probe_progress_draw : NULL,
                   PROBE_PROGRESS_INTERVAL, &progress, &err) != 0) {
        probe_progress_clear(&progress);
        ui_error("%s", err.msg);
        code = EXIT_RUNFAIL;
        goto cleanup;
    }
    double elapsed = time_monotonic() - start;
    probe_progress_clear(&progress);
    code = report_result(args->opts, statuses, n, elapsed);

cleanup:
    for (size_t i = 0; i < parsed; i++)
        probe_target_release(&targets[i]);
    probe_check_release(&check);
    free(headers);
    free(targets);
    free(statuses);
    return code;
}

const struct command command_probe = {
    .name = "probe",
    .summary = "wait until every target is healthy, with backoff, under one deadline",
    .usage = "[options] TARGET...",
    .description =
        "Targets:\n"
        "  http://URL, https://URL  healthy when the response status is accepted (--status)\n"
        "                           and the body matches --body-regex when given\n"
        "  tcp://HOST:PORT          healthy when a connection is accepted\n"
        "  exec:COMMAND             healthy when COMMAND, run by /bin/sh -c, exits with 0\n"
        "\n"
        "Each target is polled on its own until it is healthy; a host name is tried at\n"
        "every address it resolves to, and localhost at both ::1 and 127.0.0.1.\n"
        "Redirects are not followed, so a 3xx status is judged as it is.\n"
        "\n"
        "Exit status: 0 every target is healthy, 1 the deadline passed with a target\n"
        "still unhealthy, 2 invalid arguments, 130 or 143 the wait was interrupted by\n"
        "SIGINT or SIGTERM with a target still unhealthy.\n",
    .options = probe_options,
    .min_args = 1,
    .handler = probe_main,
};
