/* Fuzz target: healing rules files.
 *
 * The input is parsed as a rules file. When it parses, the rules are merged
 * with the built-ins, printed, and used to classify a fixed log, which must
 * give a consistent result. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heal/classify.h"
#include "heal/print.h"
#include "heal/rules.h"

static const char sample_log[] =
    "starting\nModuleNotFoundError: No module named 'x'\ncurl: (7) Connection refused\n"
    "  status               completed, deviated (1.00 s)\nupstream connect error\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heal_rules rules, file;
    struct heal_classification cls;
    struct err err;
    FILE *sink;

    if (heal_rules_parse((const char *)data, size, "fuzz", &file, &err) != 0)
        return 0;
    if (heal_rules_builtin(&rules, &err) != 0)
        abort();
    heal_rules_merge(&rules, &file);
    sink = fopen("/dev/null", "w");
    if (sink != NULL) {
        heal_print_rules(sink, &rules, true);
        heal_print_rules(sink, &rules, false);
        fclose(sink);
    }
    heal_classify_text(&rules, "aftershock run x.yaml", sample_log, strlen(sample_log), 1, &cls);
    if ((cls.rule == NULL) != (cls.category == HEAL_UNKNOWN && cls.strategy == STRATEGY_BACKOFF &&
                               cls.rule == NULL))
        abort();
    heal_rules_release(&rules);
    return 0;
}
