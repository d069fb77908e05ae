/* Fuzz target: the classifier's input.
 *
 * The first byte chooses the exit code and how the rest is cut into chunks
 * over two streams. Classifying the whole input at once and in chunks must
 * pick the same rule, because line assembly must not depend on chunking. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heal/classify.h"
#include "heal/rules.h"

static struct heal_rules rules;
static int loaded;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heal_classification whole, chunked;
    struct heal_classifier c;
    struct err err;

    if (!loaded) {
        if (heal_rules_builtin(&rules, &err) != 0)
            abort();
        loaded = 1;
    }
    /* Longer lines are matched in pieces when they arrive in chunks, so only shorter inputs compare. */
    if (size == 0 || size > HEAL_LINE_MAX)
        return 0;
    int exit_code = data[0] % 4 == 0 ? -1 : data[0];
    size_t step = (size_t)(data[0] % 13) + 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    heal_classify_text(&rules, "aftershock run x.yaml", text, len, exit_code, &whole);

    /* One stream only, so lines assemble the same way as in the whole text. */
    heal_classifier_init(&c, &rules, "aftershock run x.yaml", -1);
    for (size_t pos = 0; pos < len; pos += step)
        heal_classifier_feed(&c, 0, text + pos, len - pos < step ? len - pos : step);
    heal_classifier_finish(&c, exit_code, &chunked);
    heal_classifier_release(&c);
    if (whole.rule != chunked.rule || strcmp(whole.line, chunked.line) != 0)
        abort();
    if ((whole.rule == NULL) != (whole.category == HEAL_UNKNOWN && whole.rule == NULL))
        abort();
    return 0;
}
