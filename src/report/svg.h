/* Inline SVG charts for the HTML report: no scripts, fonts or network resources. */
#ifndef AFTERSHOCK_REPORT_SVG_H
#define AFTERSHOCK_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

/* One series of values, one value per label. NAN marks a missing value. */
struct svg_series {
    const char *name;
    const char *color; /* CSS colour */
    const double *values;
};

/* Appends text with &, <, >, " and ' escaped for HTML and SVG. */
void svg_escape(struct strbuf *out, const char *text);

/* Vertical bars, one per label, with the series stacked from the bottom.
 * The chart element gets id and a <title> for screen readers. */
void svg_stacked_bars(struct strbuf *out, const char *id, const char *title,
                      const char *const *labels, size_t n, const struct svg_series *series,
                      size_t n_series);

/* Horizontal bars: one group per label, one bar per series. With percent
 * the values are fractions drawn on a 0-100% scale. */
void svg_bar_groups(struct strbuf *out, const char *id, const char *title,
                    const char *const *labels, size_t n, const struct svg_series *series,
                    size_t n_series, bool percent);

/* A line with a dot per value from 0 to y_max; missing values break the line. */
void svg_line(struct strbuf *out, const char *id, const char *title, const char *const *labels,
              size_t n, const struct svg_series *series, double y_max);

#endif
