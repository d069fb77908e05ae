/* Shared helpers of the report model: rates, scores, names, and freeing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

double report_rate(double part, double whole)
{
    return whole > 0 ? part / whole : NAN;
}

double report_score_value(const struct report_score *s)
{
    return s->weight > 0 ? 100.0 * s->weight_passed / s->weight : NAN;
}

const char *report_experiment(const struct report *report, int experiment)
{
    if (experiment < 0 || (size_t)experiment >= report->experiments.n)
        return "?";
    return report->experiments.names[experiment];
}

void report_release(struct report *r)
{
    for (size_t i = 0; i < r->n_categories; i++)
        free(r->categories[i].name);
    for (size_t i = 0; i < r->n_signatures; i++) {
        free(r->signatures[i].signature);
        free(r->signatures[i].category);
        free(r->signatures[i].example);
    }
    for (size_t i = 0; i < r->n_strategies; i++) {
        free(r->strategies[i].category);
        free(r->strategies[i].strategy);
    }
    for (size_t i = 0; i < r->n_recommendations; i++) {
        free(r->recommendations[i].message);
        json_decref(r->recommendations[i].evidence);
    }
    free(r->categories);
    free(r->signatures);
    free(r->strategies);
    free(r->recommendations);
    free(r->days);
    free(r->flaky);
    free(r->recovery_experiments);
    free(r->slowest);
    name_table_release(&r->experiments);
    memset(r, 0, sizeof(*r));
}
