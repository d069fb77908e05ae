/* Installing distributions with `PYTHON -m pip install` (no shell) and
 * checking afterwards that modules import with that interpreter. */
#ifndef AFTERSHOCK_DEPS_INSTALL_H
#define AFTERSHOCK_DEPS_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct install_outcome {
    const char *name;   /* distribution (not owned) */
    bool ok;
    char message[512];  /* pip's last error line on failure */
};

struct import_outcome {
    const char *module; /* not owned */
    bool ok;
    char message[300];  /* the exception on failure */
};

/* Splits --pip-args text into words (whitespace separated; single or double
 * quotes group). Returns a NULL-terminated array the caller frees with
 * install_free_words, or NULL with err set on an unbalanced quote. */
char **install_split_words(const char *text, struct err *err);
void install_free_words(char **words);

/* Returned by install_run when pip rejects the interpreter as externally
 * managed (PEP 668), for example Debian's /usr/bin/python3. */
#define INSTALL_EXTERNALLY_MANAGED (-2)

/* Runs `python -m pip install [pip_args] NAME...` once for all names, then,
 * if that fails, once per name to tell which ones fail. Every name must be
 * a valid PEP 508 distribution name (checked again here). Returns 0 when pip
 * ran (outcomes filled), -1 with err set when it could not be started, or
 * INSTALL_EXTERNALLY_MANAGED with err set (nothing was installed). */
int install_run(const char *python, char *const *pip_args, const char *const *names,
                size_t n, struct install_outcome *outcomes, struct err *err);

/* Imports each module with `python -c` from the root folder, so project
 * files cannot shadow installed ones. Returns 0, or -1 with err set when the
 * interpreter could not be run. */
int install_check_imports(const char *python, const char *const *modules, size_t n,
                          struct import_outcome *outcomes, struct err *err);

#endif
