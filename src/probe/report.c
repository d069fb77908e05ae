/* Progress lines, the closing summary and the JSON output of `aftershock probe`. */
#include "probe/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/strbuf.h"
#include "util/ui.h"

#define PROBE_DEFAULT_COLUMNS 80

static int terminal_columns(FILE *out)
{
    struct winsize ws;

    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return PROBE_DEFAULT_COLUMNS;
}

/* Cuts text to at most max bytes without splitting a UTF-8 sequence. */
static void cut_to_width(struct strbuf *line, size_t max)
{
    size_t len = line->len;

    if (len <= max)
        return;
    len = max;
    while (len > 0 && ((unsigned char)line->buf[len] & 0xC0) == 0x80)
        len--;
    line->buf[len] = '\0';
    line->len = len;
}

static const char *plural(unsigned n)
{
    return n == 1 ? "" : "s";
}

static void format_progress_line(struct strbuf *line, const struct probe_status *st,
                                 double left)
{
    strbuf_addf(line, "%s: ", st->target->display);
    if (st->healthy) {
        strbuf_addf(line, "healthy after %u attempt%s", st->attempts, plural(st->attempts));
        return;
    }
    if (st->done) {
        strbuf_addf(line, "gave up after %u attempt%s", st->attempts, plural(st->attempts));
        return;
    }
    strbuf_addf(line, "%u attempt%s, %.1f s left", st->attempts, plural(st->attempts), left);
    if (st->last_error[0] != '\0')
        strbuf_addf(line, ", %s", st->last_error);
}

void probe_progress_draw(void *ctx, const struct probe_status *statuses, size_t n, double left)
{
    struct probe_progress *p = ctx;
    struct strbuf frame = STRBUF_INIT;
    struct strbuf line = STRBUF_INIT;
    int columns = terminal_columns(p->out);

    /* Build the whole frame first, so one write redraws it without flicker. */
    if (p->lines_drawn > 0)
        strbuf_addf(&frame, "\033[%dA", p->lines_drawn);
    for (size_t i = 0; i < n; i++) {
        strbuf_reset(&line);
        format_progress_line(&line, &statuses[i], left);
        cut_to_width(&line, columns > 1 ? (size_t)columns - 1 : 1);
        strbuf_addf(&frame, "\r\033[K%s\n", strbuf_str(&line));
    }
    fputs(strbuf_str(&frame), p->out);
    fflush(p->out);
    p->lines_drawn = (int)n;
    strbuf_release(&line);
    strbuf_release(&frame);
}

void probe_progress_clear(struct probe_progress *p)
{
    if (p->lines_drawn == 0)
        return;
    fprintf(p->out, "\033[%dA\r\033[J", p->lines_drawn);
    fflush(p->out);
    p->lines_drawn = 0;
}

void probe_print_summary(FILE *out, const struct probe_status *statuses, size_t n)
{
    const char *reset = ui_color(out, "reset");

    for (size_t i = 0; i < n; i++) {
        const struct probe_status *st = &statuses[i];

        if (st->healthy) {
            fprintf(out, "%s: %shealthy%s after %u attempt%s in %.1f s\n", st->target->display,
                    ui_color(out, "green"), reset, st->attempts, plural(st->attempts),
                    st->elapsed);
            continue;
        }
        fprintf(out, "%s: %sstill unhealthy%s after %u attempt%s in %.1f s", st->target->display,
                ui_color(out, "red"), reset, st->attempts, plural(st->attempts), st->elapsed);
        if (st->last_error[0] != '\0')
            fprintf(out, ": %s", st->last_error);
        fputc('\n', out);
    }
}

int probe_print_json(FILE *out, const struct probe_status *statuses, size_t n, double elapsed,
                     struct err *err)
{
    json_t *targets = json_array();
    json_t *root;
    bool all_healthy = true;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        const struct probe_status *st = &statuses[i];
        json_t *last_error = st->healthy || st->last_error[0] == '\0'
                                 ? json_null()
                                 : json_string(st->last_error);

        /* json_string rejects invalid UTF-8; keep the field rather than drop the target. */
        if (last_error == NULL)
            last_error = json_string("(error message is not valid UTF-8)");
        json_t *target = json_string(st->target->display);
        if (target == NULL)
            target = json_string("(target is not valid UTF-8)");
        json_array_append_new(targets,
                              json_pack("{s:o, s:b, s:I, s:f, s:o}", "target", target,
                                        "healthy", st->healthy, "attempts",
                                        (json_int_t)st->attempts, "elapsed", st->elapsed,
                                        "last_error", last_error));
        all_healthy = all_healthy && st->healthy;
    }
    root = json_pack("{s:b, s:f, s:o}", "healthy", all_healthy, "elapsed", elapsed, "targets",
                     targets);
    if (root == NULL || json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0)
        rc = err_set(err, "cannot write the JSON result");
    else
        fputc('\n', out);
    json_decref(root);
    return rc;
}
