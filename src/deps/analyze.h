/* Findings: imports not covered by declared requirements, requirements not
 * imported, standard-library modules declared, optional imports undeclared. */
#ifndef AFTERSHOCK_DEPS_ANALYZE_H
#define AFTERSHOCK_DEPS_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>

#include "deps/distmap.h"
#include "deps/requirements.h"
#include "deps/scan.h"

/* Finding codes; docs/deps.md lists them. */
#define DEP_MISSING "DEP001"         /* imported, not declared (error) */
#define DEP_UNUSED "DEP002"          /* declared, not imported (warning) */
#define DEP_STDLIB "DEP003"          /* a standard-library module declared (warning) */
#define DEP_OPTIONAL "DEP004"        /* optional import not declared (warning) */
#define DEP_PARSE "DEP005"           /* a Python file that does not parse (warning) */
#define DEP_REQUIREMENTS "DEP006"    /* a requirements file that does not parse (error) */

struct finding {
    const char *code;
    bool error;          /* error or warning */
    char *path;
    int line, col;
    int cell;            /* notebook cell (0-based) or -1 */
    char *module;        /* import name, or NULL */
    char *distribution;  /* distribution name, or NULL */
    char *message;
};

/* A distribution to add or install, with the top-level modules that need it. */
struct needed_dist {
    char name[DIST_NAME_MAX];
    char normalized[DIST_NAME_MAX];
    bool declared;       /* already declared (install only), or missing from the files */
    char **modules;
    size_t n_modules;
};

struct analysis {
    struct finding *findings;
    size_t count, cap;
    struct needed_dist *needed;
    size_t n_needed, needed_cap;
    char **third_party;  /* top-level third-party modules imported without a guard */
    size_t n_third_party;
    size_t missing, unused, warnings, errors;
};

struct analysis_opts {
    int python_minor;
    const char *const *first_party;
    int n_first_party;
};

/* Compares scanned imports with declared requirements. */
void analyze(const struct scan_result *scan, const struct req_set *reqs,
             const struct installed *installed, const struct analysis_opts *opts,
             struct analysis *out);

void analysis_release(struct analysis *a);

#endif
