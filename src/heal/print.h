/* Printing classifications and rules as text or JSON. */
#ifndef AFTERSHOCK_HEAL_PRINT_H
#define AFTERSHOCK_HEAL_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "heal/classify.h"
#include "heal/rules.h"

/* Prints a classification of a saved log; exit_code is -1 when none was given. */
void heal_print_classification(FILE *out, const struct heal_classification *cls, int exit_code,
                               bool json);

/* Prints the rules in order: one line each, or a JSON array with every field. */
void heal_print_rules(FILE *out, const struct heal_rules *rules, bool json);

/* True when a failure of this classification is retried, unless another limit ends healing. */
bool heal_classification_retried(const struct heal_classification *cls);

#endif
