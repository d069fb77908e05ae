/* `aftershock report`: the weekly intelligence report from the history store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "report/format.h"
#include "report/report.h"
#include "store/store.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/ui.h"

#define DEFAULT_LOOKBACK_DAYS 7
#define MAX_LOOKBACK_DAYS 3660
#define DEFAULT_TOP 10
#define REPORT_FOLDER "reports"

static const struct opt_spec report_options[] = {
    { "db", 0, "PATH|URL", "history store: a SQLite file or a postgresql:// URL (default "
      "$AFTERSHOCK_DB, else reports/chaos_history.db)" },
    { "lookback-days", 'd', "N", "length of the period in days, ending at --until (default 7)" },
    { "since", 0, "TIME", "start of the period instead of --lookback-days: "
      "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM] (UTC without a zone) or an age such as 30d" },
    { "until", 0, "TIME", "end of the period, exclusive (default: --now)" },
    { "now", 0, "TIME", "the report's generation time, which ages and the default --until "
      "count from (default: the current time)" },
    { "format", 'f', "FORMAT", "markdown, html or json (default markdown)" },
    { "output", 'o', "FILE", "where to write the report, - for stdout (default "
      "reports/chaos_weekly_report_YYYY-MM-DD.EXT, dated by --now)" },
    { "top", 0, "N", "rows in the signature and slowest experiment tables (default 10)" },
    { NULL, 0, NULL, NULL },
};

enum report_format { FORMAT_MARKDOWN, FORMAT_HTML, FORMAT_JSON };

static const char *const format_names[] = { "markdown", "html", "json" };
static const char *const format_extensions[] = { "md", "html", "json" };

/* Reads the period options. Prints the error and returns -1 when invalid. */
static int read_period(const struct opt_values *opts, struct report_options *ro)
{
    struct err err;
    long days, top;

    ro->now = time_wall();
    if (opt_get(opts, "now") != NULL &&
        store_time_parse(opt_get(opts, "now"), ro->now, &ro->now, &err) != 0) {
        ui_error("--now: %s", err.msg);
        return -1;
    }
    ro->until = ro->now;
    if (opt_get(opts, "until") != NULL &&
        store_time_parse(opt_get(opts, "until"), ro->now, &ro->until, &err) != 0) {
        ui_error("--until: %s", err.msg);
        return -1;
    }
    if (opt_has(opts, "since") && opt_has(opts, "lookback-days")) {
        ui_error("--since '%s' cannot be combined with --lookback-days", opt_get(opts, "since"));
        ui_hint("--since sets the start of the period itself; drop one of the two");
        return -1;
    }
    if (opt_int(opts, "lookback-days", DEFAULT_LOOKBACK_DAYS, 1, MAX_LOOKBACK_DAYS, &days) != 0 ||
        opt_int(opts, "top", DEFAULT_TOP, 1, 1000, &top) != 0)
        return -1;
    ro->top = (int)top;
    ro->since = ro->until - (double)days * 86400.0;
    if (opt_get(opts, "since") != NULL &&
        store_time_parse(opt_get(opts, "since"), ro->now, &ro->since, &err) != 0) {
        ui_error("--since: %s", err.msg);
        return -1;
    }
    if (!(ro->since < ro->until)) {
        ui_error("the period is empty: --since '%s' is not before --until", opt_get(opts, "since"));
        return -1;
    }
    if (ro->until - ro->since > MAX_LOOKBACK_DAYS * 86400.0) {
        ui_error("the period is longer than %d days", MAX_LOOKBACK_DAYS);
        return -1;
    }
    return 0;
}

static int read_format(const struct opt_values *opts, enum report_format *format)
{
    const char *name = opt_get(opts, "format");

    *format = FORMAT_MARKDOWN;
    if (name == NULL)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *format = (enum report_format)i;
            return 0;
        }
    }
    ui_error("invalid value '%s' for --format: use markdown, html or json", name);
    return -1;
}

static void render(const struct report *report, enum report_format format, struct strbuf *out)
{
    if (format == FORMAT_JSON) {
        json_t *doc = report_to_json(report);
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                         JSON_REAL_PRECISION(12));
        if (text == NULL)
            abort();
        strbuf_addstr(out, text);
        strbuf_addch(out, '\n');
        free(text);
        json_decref(doc);
    } else if (format == FORMAT_HTML) {
        report_write_html(report, out);
    } else {
        report_write_markdown(report, out);
    }
}

/* Writes the rendered report to --output, stdout, or the dated default file. */
static int write_output(const struct opt_values *opts, enum report_format format, double now,
                        const struct strbuf *text)
{
    const char *output = opt_get(opts, "output");
    char path[256], date[REPORT_FMT_MAX];
    struct err err;

    if (output != NULL && strcmp(output, "-") == 0) {
        fwrite(strbuf_str(text), 1, text->len, stdout);
        return EXIT_OK;
    }
    if (output == NULL) {
        report_fmt_date(store_epoch_ms(now), date, sizeof(date));
        snprintf(path, sizeof(path), "%s/chaos_weekly_report_%s.%s", REPORT_FOLDER, date,
                 format_extensions[format]);
        if (fs_mkdirs(REPORT_FOLDER, &err) != 0) {
            ui_error("%s", err.msg);
            return EXIT_RUNFAIL;
        }
        output = path;
    } else if (fs_mkdirs_for_file(output, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("pass --output to write the report elsewhere, or - for stdout");
        return EXIT_RUNFAIL;
    }
    if (fs_write_atomic(output, strbuf_str(text), text->len, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("pass --output to write the report elsewhere, or - for stdout");
        return EXIT_RUNFAIL;
    }
    printf("report written to %s\n", output);
    return EXIT_OK;
}

static int report_main(const struct command_args *args)
{
    struct report_options ro;
    enum report_format format;
    struct report report;
    struct strbuf text = STRBUF_INIT;
    struct store *store = NULL;
    struct err err;
    int code;

    if (args->argc > 0) {
        ui_error("unexpected argument '%s'", args->argv[0]);
        ui_hint("the period is set with --lookback-days, or --since and --until");
        return EXIT_USAGE;
    }
    if (read_period(args->opts, &ro) != 0 || read_format(args->opts, &format) != 0)
        return EXIT_USAGE;
    if (store_open(store_location(opt_get(args->opts, "db")), STORE_READ, &store, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("runs are recorded by 'aftershock run'; pass --db or set AFTERSHOCK_DB to read "
                "another store");
        return EXIT_RUNFAIL;
    }
    if (report_build(store, &ro, &report, &err) != 0) {
        ui_error("%s", err.msg);
        store_close(store);
        return EXIT_RUNFAIL;
    }
    store_close(store);
    log_debug("report", "built runs=%lld previous_runs=%lld",
              (long long)report.totals[0].runs, (long long)report.totals[1].runs);

    render(&report, format, &text);
    code = write_output(args->opts, format, ro.now, &text);
    report_release(&report);
    strbuf_release(&text);
    return code;
}

const struct command command_report = {
    .name = "report",
    .summary = "write the weekly report from the history store: markdown, HTML or JSON",
    .usage = "[options]",
    .description =
        "Compares a period (the last 7 days by default) with the period of the same\n"
        "length before it: totals and pass rate, a per-day trend, failure categories,\n"
        "top failure signatures, flaky experiments, healing success, time to recovery,\n"
        "slowest experiments, the resilience score, and recommendations that cite the\n"
        "numbers behind them. docs/reports.md explains every number.\n"
        "\n"
        "exit codes: 0 written; 2 invalid options; 3 the store could not be read or\n"
        "the report could not be written.\n",
    .options = report_options,
    .min_args = 0,
    .handler = report_main,
};
