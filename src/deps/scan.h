/* Project scan: finds .py and .ipynb files under the roots, scans them in
 * parallel, and records the local modules that make imports first-party. */
#ifndef AFTERSHOCK_DEPS_SCAN_H
#define AFTERSHOCK_DEPS_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "deps/imports.h"
#include "deps/strset.h"
#include "util/err.h"

struct scan_file {
    char *path;              /* as reached from the root given, e.g. "pkg/mod.py" */
    char *dir;               /* folder holding the file */
    bool notebook;
    bool failed;             /* parse or read error: imports.error_* give the cause */
    struct py_imports imports;
};

struct scan_opts {
    const char *const *excludes; /* fnmatch patterns on relative paths and names */
    int n_excludes;
    int python_minor;
    int threads;                 /* 0: one per processor, at most 8 */
};

/* Invariant: files[] is sorted by path. local contains "DIR/NAME" (just
 * "NAME" in ".") for every module file and every folder with Python files
 * below it. */
struct scan_result {
    struct scan_file *files;
    size_t count, cap;
    struct strset local;
    char **roots;
    int n_roots;
};

/* Scans every root (a folder or one file). Returns 0, or -1 with err set when
 * a root cannot be read. Files that cannot be read or parsed are kept with
 * failed set. */
int scan_project(const char *const *roots, int n_roots, const struct scan_opts *opts,
                 struct scan_result *out, struct err *err);

/* True when top-level module name is first-party for a file in folder dir:
 * a module or package beside the file, at a root, or in a root's src/. */
bool scan_is_local(const struct scan_result *scan, const char *dir, const char *name);

void scan_result_release(struct scan_result *scan);

#endif
