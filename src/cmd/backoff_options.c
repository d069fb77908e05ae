/* Reading the backoff options that probe and heal share. */
#include "cmd/backoff_options.h"

#include <string.h>

#include "util/err.h"
#include "util/ui.h"

int backoff_options_read(const struct opt_values *opts, const struct backoff_defaults *defaults,
                         struct backoff *b)
{
    const char *schedule = opt_get(opts, "schedule");
    double max_default;
    struct err err;

    memset(b, 0, sizeof(*b));
    if (schedule != NULL) {
        if (opt_has(opts, "interval") || opt_has(opts, "max-interval") ||
            opt_has(opts, "backoff-factor")) {
            ui_error("--schedule '%s' cannot be combined with --interval, --max-interval or "
                     "--backoff-factor", schedule);
            ui_hint("a schedule lists every wait itself; drop one of the two");
            return -1;
        }
        if (backoff_parse_schedule(schedule, b, &err) != 0) {
            ui_error("--schedule: %s", err.msg);
            return -1;
        }
    }
    if (opt_duration(opts, "interval", defaults->interval, 0.001, defaults->max_duration,
                     &b->initial) != 0)
        return -1;

    /* A long --interval alone raises the default cap instead of contradicting it. */
    max_default = defaults->max_interval;
    if (b->initial > max_default)
        max_default = b->initial;
    if (opt_duration(opts, "max-interval", max_default, 0.001, defaults->max_duration,
                     &b->max) != 0 ||
        opt_number(opts, "backoff-factor", defaults->factor, 1.0, 100.0, &b->factor) != 0 ||
        opt_number(opts, "jitter", schedule != NULL ? 0.0 : defaults->jitter, 0.0, 1.0,
                   &b->jitter) != 0)
        return -1;
    if (schedule == NULL && b->max < b->initial) {
        ui_error("--max-interval %g s is shorter than --interval %g s", b->max, b->initial);
        ui_hint("raise --max-interval or lower --interval");
        return -1;
    }
    return 0;
}
