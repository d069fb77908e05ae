/* SVG bar and line charts drawn as plain elements with fixed geometry. */
#include "report/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHART_WIDTH 720.0
#define PLOT_LEFT 48.0
#define PLOT_RIGHT 12.0
#define PLOT_TOP 34.0
#define AXIS_HEIGHT 36.0
#define MAX_X_LABELS 16
#define BAR_HEIGHT 14.0
#define LABEL_WIDTH 200.0

void svg_escape(struct strbuf *out, const char *text)
{
    for (const char *p = text ? text : ""; *p != '\0'; p++) {
        switch (*p) {
        case '&': strbuf_addstr(out, "&amp;"); break;
        case '<': strbuf_addstr(out, "&lt;"); break;
        case '>': strbuf_addstr(out, "&gt;"); break;
        case '"': strbuf_addstr(out, "&quot;"); break;
        case '\'': strbuf_addstr(out, "&#39;"); break;
        default: strbuf_addch(out, *p);
        }
    }
}

static void open_chart(struct strbuf *out, const char *id, const char *title, double height)
{
    strbuf_addf(out, "<svg id=\"%s\" class=\"chart\" role=\"img\" aria-labelledby=\"%s-title\" "
                "viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n"
                "<title id=\"%s-title\">", id, id, CHART_WIDTH, height, id);
    svg_escape(out, title);
    strbuf_addstr(out, "</title>\n");
}

/* Draws the legend across the top of the chart. */
static void legend(struct strbuf *out, const struct svg_series *series, size_t n_series)
{
    double x = PLOT_LEFT;

    for (size_t s = 0; s < n_series; s++) {
        strbuf_addf(out, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"18\" class=\"legend\">", x, series[s].color, x + 16);
        svg_escape(out, series[s].name);
        strbuf_addstr(out, "</text>\n");
        x += 28 + 7.0 * (double)strlen(series[s].name);
    }
}

/* An axis maximum at or above value made of four equal grid steps, each a
 * whole number of 1, 2 or 5 times a power of ten, so grid labels are round
 * and counts never get fractional labels. */
static double nice_max(double value)
{
    double quarter = value / 4, power, steps[] = { 1, 2, 5, 10 };

    if (!(quarter > 1))
        return 4;
    power = pow(10, floor(log10(quarter)));
    for (size_t i = 0; i < 4; i++) {
        if (steps[i] * power >= quarter)
            return 4 * steps[i] * power;
    }
    return 40 * power;
}

/* Horizontal grid lines with their values at 0, 1/4, ... of y_max. */
static void y_grid(struct strbuf *out, double plot_bottom, double plot_height, double y_max,
                   const char *suffix)
{
    for (int i = 0; i <= 4; i++) {
        double y = plot_bottom - plot_height * i / 4.0;
        strbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%.10g%s"
                    "</text>\n", PLOT_LEFT, y, CHART_WIDTH - PLOT_RIGHT, y, PLOT_LEFT - 4, y + 4,
                    y_max * i / 4.0, suffix);
    }
}

/* Labels under the x positions, thinned to at most MAX_X_LABELS. */
static void x_labels(struct strbuf *out, const char *const *labels, size_t n, double slot,
                     double plot_bottom)
{
    size_t every = (n + MAX_X_LABELS - 1) / MAX_X_LABELS;

    for (size_t i = 0; i < n; i += every ? every : 1) {
        strbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\">",
                    PLOT_LEFT + slot * ((double)i + 0.5), plot_bottom + 16);
        svg_escape(out, labels[i]);
        strbuf_addstr(out, "</text>\n");
    }
}

void svg_stacked_bars(struct strbuf *out, const char *id, const char *title,
                      const char *const *labels, size_t n, const struct svg_series *series,
                      size_t n_series)
{
    double height = 260, plot_bottom = height - AXIS_HEIGHT;
    double plot_height = plot_bottom - PLOT_TOP;
    double slot = (CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT) / (double)(n ? n : 1);
    double highest = 0;

    for (size_t i = 0; i < n; i++) {
        double total = 0;
        for (size_t s = 0; s < n_series; s++)
            total += isnan(series[s].values[i]) ? 0 : series[s].values[i];
        highest = fmax(highest, total);
    }
    double y_max = nice_max(highest);

    open_chart(out, id, title, height);
    legend(out, series, n_series);
    y_grid(out, plot_bottom, plot_height, y_max, "");
    for (size_t i = 0; i < n; i++) {
        double y = plot_bottom;
        for (size_t s = 0; s < n_series; s++) {
            double v = isnan(series[s].values[i]) ? 0 : series[s].values[i];
            double h = plot_height * v / y_max;
            if (h <= 0)
                continue;
            y -= h;
            strbuf_addf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"%s\"><title>", PLOT_LEFT + slot * (double)i +
                        slot * 0.15, y, slot * 0.7, h, series[s].color);
            svg_escape(out, labels[i]);
            strbuf_addf(out, ": %.10g ", v);
            svg_escape(out, series[s].name);
            strbuf_addstr(out, "</title></rect>\n");
        }
    }
    x_labels(out, labels, n, slot, plot_bottom);
    strbuf_addstr(out, "</svg>\n");
}

void svg_bar_groups(struct strbuf *out, const char *id, const char *title,
                    const char *const *labels, size_t n, const struct svg_series *series,
                    size_t n_series, bool percent)
{
    double group = BAR_HEIGHT * (double)n_series + 10;
    double height = PLOT_TOP + group * (double)(n ? n : 1) + 10;
    double plot_left = LABEL_WIDTH + 8, plot_width = CHART_WIDTH - plot_left - 60;
    double highest = 0;

    for (size_t i = 0; i < n; i++) {
        for (size_t s = 0; s < n_series; s++)
            highest = fmax(highest, isnan(series[s].values[i]) ? 0 : series[s].values[i]);
    }
    double x_max = percent ? 1.0 : nice_max(highest);

    open_chart(out, id, title, height);
    legend(out, series, n_series);
    for (size_t i = 0; i < n; i++) {
        double top = PLOT_TOP + group * (double)i;
        strbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"end\">",
                    LABEL_WIDTH, top + group / 2);
        svg_escape(out, labels[i]);
        strbuf_addstr(out, "</text>\n");
        for (size_t s = 0; s < n_series; s++) {
            double v = series[s].values[i];
            double y = top + BAR_HEIGHT * (double)s;
            char value[32];
            if (isnan(v))
                snprintf(value, sizeof(value), "n/a");
            else if (percent)
                snprintf(value, sizeof(value), "%.1f%%", v * 100);
            else
                snprintf(value, sizeof(value), "%.10g", v);
            double w = isnan(v) ? 0 : plot_width * v / x_max;
            strbuf_addf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\" fill=\"%s\"><title>", plot_left, y, w,
                        BAR_HEIGHT - 2, series[s].color);
            svg_escape(out, series[s].name);
            strbuf_addf(out, ": %s</title></rect><text x=\"%.1f\" y=\"%.1f\" class=\"value\">%s"
                        "</text>\n", value, plot_left + w + 4, y + BAR_HEIGHT - 4, value);
        }
    }
    strbuf_addstr(out, "</svg>\n");
}

void svg_line(struct strbuf *out, const char *id, const char *title, const char *const *labels,
              size_t n, const struct svg_series *series, double y_max)
{
    double height = 220, plot_bottom = height - AXIS_HEIGHT;
    double plot_height = plot_bottom - PLOT_TOP;
    double slot = (CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT) / (double)(n ? n : 1);
    bool drawing = false;

    open_chart(out, id, title, height);
    legend(out, series, 1);
    y_grid(out, plot_bottom, plot_height, y_max, "");
    strbuf_addf(out, "<path class=\"line\" fill=\"none\" stroke=\"%s\" d=\"", series->color);
    for (size_t i = 0; i < n; i++) {
        double v = series->values[i];
        if (isnan(v)) {
            drawing = false;
            continue;
        }
        strbuf_addf(out, "%s%.1f %.1f ", drawing ? "L" : "M", PLOT_LEFT + slot * ((double)i + 0.5),
                    plot_bottom - plot_height * fmin(v, y_max) / y_max);
        drawing = true;
    }
    strbuf_addstr(out, "\"/>\n");
    for (size_t i = 0; i < n; i++) {
        double v = series->values[i];
        if (isnan(v))
            continue;
        strbuf_addf(out, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                    "<title>", PLOT_LEFT + slot * ((double)i + 0.5),
                    plot_bottom - plot_height * fmin(v, y_max) / y_max, series->color);
        svg_escape(out, labels[i]);
        strbuf_addf(out, ": %.1f</title></circle>\n", v);
    }
    x_labels(out, labels, n, slot, plot_bottom);
    strbuf_addstr(out, "</svg>\n");
}
