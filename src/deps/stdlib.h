/* Standard-library module names, by Python version. */
#ifndef AFTERSHOCK_DEPS_STDLIB_H
#define AFTERSHOCK_DEPS_STDLIB_H

#include <stdbool.h>
#include <stddef.h>

/* The Python version assumed when no interpreter reports its own. */
#define STDLIB_DEFAULT_MINOR 11

/* True when the top-level module name[0..len) is in the standard library of Python 3.minor. */
bool stdlib_has(const char *name, size_t len, int python_minor);

#endif
