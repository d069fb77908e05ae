/* Output of `aftershock deps`: text, JSON, GitHub annotations and the markdown audit. */
#ifndef AFTERSHOCK_DEPS_REPORT_H
#define AFTERSHOCK_DEPS_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "deps/analyze.h"
#include "deps/install.h"
#include "deps/requirements.h"
#include "deps/scan.h"

/* Everything one run found and changed. */
struct deps_run {
    const struct scan_result *scan;
    const struct req_set *reqs;
    const struct analysis *analysis;
    const char *python;
    bool python_found;
    const char *python_version;      /* "3.11" */
    const char *fix_file;            /* file --fix appended to, or NULL */
    const char *const *fixed_lines;  /* the lines appended */
    size_t n_fixed;
    const char *fix_error;           /* why --fix changed nothing, or NULL */
    const struct install_outcome *installs;
    size_t n_installs;
    const struct import_outcome *imports;
    size_t n_imports;
    bool install_requested;
    int exit_code;
};

/* --imports output: every import of every file, then the files that did not parse. */
void report_imports_text(FILE *out, const struct scan_result *scan);
void report_imports_json_write(FILE *out, const struct scan_result *scan);

void report_text(FILE *out, const struct deps_run *run);
void report_github(FILE *out, const struct deps_run *run);
json_t *report_json(const struct deps_run *run);

/* The markdown audit report: what was scanned, found and changed. Caller frees. */
char *report_markdown(const struct deps_run *run);

#endif
