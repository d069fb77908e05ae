/* Steady-state checks: probes plus tolerances. */
#include "experiment/hypothesis.h"

#include <string.h>

#include "experiment/tolerance.h"
#include "util/log.h"

json_t *hypothesis_check(const struct activity_env *env, json_t *exec_hypothesis,
                         json_t *display_hypothesis, bool *met)
{
    json_t *exec_probes = json_object_get(exec_hypothesis, "probes");
    json_t *display_probes = json_object_get(display_hypothesis, "probes");
    json_t *records = json_array();
    size_t i;
    json_t *probe;

    *met = true;
    json_array_foreach(exec_probes, i, probe) {
        json_t *record;
        struct err err;
        bool probe_met = false;

        if (env->stop != NULL && *env->stop) {
            *met = false;
            break;
        }
        record = activity_execute(env, probe, json_array_get(display_probes, i));
        if (strcmp(json_string_value(json_object_get(record, "status")), "succeeded") == 0) {
            if (tolerance_check(json_object_get(probe, "tolerance"),
                                json_object_get(record, "output"), &probe_met, &err) != 0) {
                probe_met = false;
                json_object_set_new(record, "exception", json_pack("[s]", err.msg));
            }
        }
        json_object_set_new(record, "tolerance_met", json_boolean(probe_met));
        json_array_append_new(records, record);
        if (!probe_met) {
            log_warn("hypothesis", "probe=%s tolerance not met",
                     json_string_value(json_object_get(probe, "name")));
            *met = false;
            break;
        }
    }
    return json_pack("{s:b, s:o}", "steady_state_met", *met, "probes", records);
}
