/* Command-line options described as a table, so usage text and parsing come from one source. */
#ifndef AFTERSHOCK_UTIL_OPT_H
#define AFTERSHOCK_UTIL_OPT_H

#include <stdbool.h>
#include <stdio.h>

#define OPT_MAX 64

/* One option. A table of them ends with an entry whose name is NULL. */
struct opt_spec {
    const char *name;    /* long name without the leading dashes */
    char short_name;     /* single-letter alias, or 0 */
    const char *metavar; /* argument placeholder shown in usage; NULL for a flag */
    const char *help;    /* one line: what the option sets, with its unit and default */
};

/* Parsed options. Invariant: count[i] is the number of times specs[i] was
 * given, and values[i] holds that many arguments in order (flags: none). */
struct opt_values {
    const struct opt_spec *specs;
    int count[OPT_MAX];
    const char **values[OPT_MAX];
};

/* Number of times option `name` was given (0 when absent). */
int opt_count(const struct opt_values *v, const char *name);

/* True when flag or option `name` was given. */
bool opt_has(const struct opt_values *v, const char *name);

/* Last argument given for `name`, or NULL. */
const char *opt_get(const struct opt_values *v, const char *name);

/* Every argument given for `name`, in order; *n gets their number. */
const char *const *opt_all(const struct opt_values *v, const char *name, int *n);

/* Reads `name` as a duration in seconds (see time_parse_duration) within
 * [min, max], or def when absent. Prints an error naming the option and the
 * value and returns -1 when invalid. */
int opt_duration(const struct opt_values *v, const char *name, double def,
                 double min, double max, double *out);

/* Reads `name` as a number within [min, max], or def when absent; errors as opt_duration. */
int opt_number(const struct opt_values *v, const char *name, double def,
               double min, double max, double *out);

/* Reads `name` as an integer within [min, max], or def when absent; errors as opt_duration. */
int opt_int(const struct opt_values *v, const char *name, long def, long min, long max,
            long *out);

/* Prints one line per option, aligned, to out. */
void opt_print_table(FILE *out, const struct opt_spec *specs);

void opt_values_release(struct opt_values *v);

#endif
