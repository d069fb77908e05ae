/* Fuzz target: objectives lists, traffic declarations and journals judged by verify.
 *
 * The input is read as JSON. It is parsed as an objectives list, as a
 * traffic declaration, and as a journal whose verdicts are then turned into
 * the table, JSON and JUnit forms, and as an experiment whose dry-run plan
 * is printed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "resilience/resilience.h"
#include "traffic/traffic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    struct objective *objectives;
    struct traffic_spec spec;
    struct judgement judgement;
    size_t n;
    struct err err;

    if (doc == NULL)
        return 0;
    if (objectives_parse(doc, &objectives, &n, &err) == 0)
        objectives_free(objectives, n);
    traffic_spec_parse(doc, &spec, &err);
    traffic_spec_release(&spec);
    traffic_spec_parse(json_object_get(doc, "traffic"), &spec, &err);
    traffic_spec_release(&spec);

    if (resilience_judge(doc, "fuzz.json", &judgement, &err) == 0) {
        FILE *null = fopen("/dev/null", "w");
        json_t *out = resilience_to_json(&judgement, 1);
        char *junit = resilience_junit_text(&judgement, 1);
        if (null != NULL) {
            resilience_print_table(null, &judgement);
            fclose(null);
        }
        json_decref(out);
        free(junit);
        judgement_release(&judgement);
    }
    /* The dry-run plan reads the traffic and objectives of any experiment. */
    FILE *plan = fopen("/dev/null", "w");
    if (plan != NULL) {
        resilience_print_plan(plan, doc);
        resilience_print_plan(plan, json_object_get(doc, "experiment"));
        fclose(plan);
    }
    json_decref(doc);
    return 0;
}
