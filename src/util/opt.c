/* Option table lookups and typed accessors; parsing itself lives with the dispatcher. */
#include "util/opt.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"
#include "util/ui.h"

static int opt_index(const struct opt_values *v, const char *name)
{
    for (int i = 0; v->specs != NULL && v->specs[i].name != NULL; i++) {
        if (strcmp(v->specs[i].name, name) == 0)
            return i;
    }
    /* Asking for an option that is not in the command's table is a programming error. */
    assert(!"option not in the command's table");
    return -1;
}

int opt_count(const struct opt_values *v, const char *name)
{
    int i = opt_index(v, name);

    return i < 0 ? 0 : v->count[i];
}

bool opt_has(const struct opt_values *v, const char *name)
{
    return opt_count(v, name) > 0;
}

const char *opt_get(const struct opt_values *v, const char *name)
{
    int i = opt_index(v, name);

    if (i < 0 || v->count[i] == 0 || v->values[i] == NULL)
        return NULL;
    return v->values[i][v->count[i] - 1];
}

const char *const *opt_all(const struct opt_values *v, const char *name, int *n)
{
    int i = opt_index(v, name);

    *n = (i < 0 || v->values[i] == NULL) ? 0 : v->count[i];
    return (i < 0) ? NULL : (const char *const *)v->values[i];
}

int opt_duration(const struct opt_values *v, const char *name, double def,
                 double min, double max, double *out)
{
    const char *text = opt_get(v, name);
    double seconds;

    if (text == NULL) {
        *out = def;
        return 0;
    }
    if (time_parse_duration(text, &seconds) != 0 || seconds < min || seconds > max) {
        ui_error("invalid value '%s' for --%s: expected a duration between %g and %g seconds "
                 "(for example 2, 1.5s or 250ms)", text, name, min, max);
        return -1;
    }
    *out = seconds;
    return 0;
}

int opt_number(const struct opt_values *v, const char *name, double def,
               double min, double max, double *out)
{
    const char *text = opt_get(v, name);
    char *end;
    double value;

    if (text == NULL) {
        *out = def;
        return 0;
    }
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(value) || value < min ||
        value > max) {
        ui_error("invalid value '%s' for --%s: expected a number between %g and %g",
                 text, name, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int opt_int(const struct opt_values *v, const char *name, long def, long min, long max,
            long *out)
{
    const char *text = opt_get(v, name);
    char *end;
    long value;

    if (text == NULL) {
        *out = def;
        return 0;
    }
    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || value < min || value > max) {
        ui_error("invalid value '%s' for --%s: expected a whole number between %ld and %ld",
                 text, name, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

void opt_print_table(FILE *out, const struct opt_spec *specs)
{
    for (int i = 0; specs != NULL && specs[i].name != NULL; i++) {
        char left[96];
        const struct opt_spec *s = &specs[i];

        if (s->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", s->short_name, s->name,
                     s->metavar ? " " : "", s->metavar ? s->metavar : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", s->name, s->metavar ? " " : "",
                     s->metavar ? s->metavar : "");
        if (strlen(left) > 28)
            fprintf(out, "  %s\n  %-28s  %s\n", left, "", s->help);
        else
            fprintf(out, "  %-28s  %s\n", left, s->help);
    }
}

void opt_values_release(struct opt_values *v)
{
    for (int i = 0; i < OPT_MAX; i++) {
        free(v->values[i]);
        v->values[i] = NULL;
        v->count[i] = 0;
    }
}
