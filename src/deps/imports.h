/* Import finder: the absolute modules a Python file or notebook imports, and
 * whether each import is optional (guarded) or dynamic (importlib with a literal). */
#ifndef AFTERSHOCK_DEPS_IMPORTS_H
#define AFTERSHOCK_DEPS_IMPORTS_H

#include <stdbool.h>
#include <stddef.h>

struct py_import {
    char *module;   /* dotted module name as written, e.g. "a.b.c" */
    int line;       /* 1-based line of the name (of `from` for from-imports) */
    int col;        /* 1-based byte column of the module name */
    int cell;       /* notebook code cell index (0-based), or -1 for .py files */
    bool optional;  /* under try/except ImportError or if TYPE_CHECKING */
    bool dynamic;   /* importlib.import_module("x") or __import__("x") */
};

/* The result of scanning one file. Invariant: on a parse error, items contains
 * what was found before it (callers drop it) and error_msg is non-empty. */
struct py_imports {
    struct py_import *items;
    size_t count, cap;
    int error_line, error_col;
    char error_msg[200];
};

/* Scanner settings. */
struct py_scan_opts {
    int python_minor; /* target Python 3.x minor version, for version-dependent syntax */
};

/* Finds the imports of decoded Python source (UTF-8, "\n" line ends, NUL-terminated).
 * Returns 0, or -1 when the text is not valid Python 3 (error fields set). */
int py_find_imports(const char *text, size_t len, const struct py_scan_opts *opts,
                    struct py_imports *out);

/* Decodes raw .py file bytes (PEP 263; decoded in place, so data is modified
 * and data[len] must be NUL) and finds their imports; -1 on a parse or
 * decoding error. */
int py_scan_source(char *data, size_t len, const struct py_scan_opts *opts,
                   struct py_imports *out);

/* Finds the imports of a Jupyter notebook's code cells, ignoring IPython
 * magics and shell lines. Lines count from 1 in each cell. A cell that does
 * not parse is skipped, and the first such cell is reported through the
 * error fields. Returns -1 only when the notebook is not valid notebook JSON. */
int py_scan_notebook(const char *data, size_t len, const struct py_scan_opts *opts,
                     struct py_imports *out);

void py_imports_release(struct py_imports *imports);

#endif
