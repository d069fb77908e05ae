/* Findings: which imports are standard library, first-party or third-party,
 * which distribution each third-party one needs, and what is declared. */
#include "deps/analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/stdlib.h"
#include "deps/strset.h"
#include "util/strbuf.h"

static void add_finding(struct analysis *a, const char *code, bool error, const char *path,
                        int line, int col, int cell, const char *module, const char *dist,
                        const char *message)
{
    struct finding *f;

    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        struct finding *items = realloc(a->findings, cap * sizeof(*items));

        if (items == NULL)
            return;
        a->findings = items;
        a->cap = cap;
    }
    f = &a->findings[a->count++];
    f->code = code;
    f->error = error;
    f->path = strdup(path);
    f->line = line;
    f->col = col;
    f->cell = cell;
    f->module = module ? strdup(module) : NULL;
    f->distribution = dist ? strdup(dist) : NULL;
    f->message = strdup(message);
    if (error)
        a->errors++;
    else
        a->warnings++;
}

static struct needed_dist *need(struct analysis *a, const char *name, bool declared)
{
    char normal[DIST_NAME_MAX];
    struct needed_dist *d;

    dist_normalize(name, normal, sizeof(normal));
    for (size_t i = 0; i < a->n_needed; i++) {
        if (strcmp(a->needed[i].normalized, normal) == 0)
            return &a->needed[i];
    }
    if (a->n_needed == a->needed_cap) {
        size_t cap = a->needed_cap ? a->needed_cap * 2 : 16;
        struct needed_dist *items = realloc(a->needed, cap * sizeof(*items));

        if (items == NULL)
            return NULL;
        a->needed = items;
        a->needed_cap = cap;
    }
    d = &a->needed[a->n_needed++];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->normalized, sizeof(d->normalized), "%s", normal);
    d->declared = declared;
    return d;
}

static void need_module(struct needed_dist *d, const char *module)
{
    char **modules;

    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_modules; i++) {
        if (strcmp(d->modules[i], module) == 0)
            return;
    }
    modules = realloc(d->modules, (d->n_modules + 1) * sizeof(*modules));
    if (modules == NULL)
        return;
    d->modules = modules;
    d->modules[d->n_modules++] = strdup(module);
}

#define MAX_CANDIDATES 10

/* The candidate distributions of a top-level import name, preferred first.
 * Several installed distributions may provide one name: the parts of a
 * namespace package such as "google". */
struct candidates {
    const char *names[MAX_CANDIDATES];
    char normalized[MAX_CANDIDATES][DIST_NAME_MAX];
    int count;
    bool installed;      /* the first candidates come from installed metadata */
};

static void find_candidates(const struct installed *inst, const char *top,
                            struct candidates *c)
{
    const char *known = distmap_known(top);

    c->count = 0;
    for (size_t i = 0; i < inst->count && c->count < MAX_CANDIDATES - 2; i++) {
        struct installed_dist *dist = &inst->dists[i];

        for (size_t k = 0; k < dist->n_imports; k++) {
            if (strcmp(dist->imports[k], top) == 0) {
                c->names[c->count++] = installed_display_name(dist);
                break;
            }
        }
    }
    c->installed = c->count > 0;
    if (known != NULL)
        c->names[c->count++] = known;
    c->names[c->count++] = top;
    for (int i = 0; i < c->count; i++)
        dist_normalize(c->names[i], c->normalized[i], sizeof(c->normalized[i]));
}

static bool is_first_party(const struct scan_result *scan, const struct req_set *reqs,
                           const struct analysis_opts *opts, const char *dir, const char *top)
{
    char normal[DIST_NAME_MAX], project[DIST_NAME_MAX];

    for (int i = 0; i < opts->n_first_party; i++) {
        if (strcmp(opts->first_party[i], top) == 0)
            return true;
    }
    if (reqs->project_name != NULL) {
        dist_normalize(top, normal, sizeof(normal));
        dist_normalize(reqs->project_name, project, sizeof(project));
        if (strcmp(normal, project) == 0)
            return true;
    }
    return scan_is_local(scan, dir, top);
}

static void check_import(struct analysis *a, const struct scan_file *file,
                         const struct py_import *imp, const struct req_set *reqs,
                         const struct installed *inst, struct strset *used,
                         struct strset *third_party, const struct analysis_opts *opts,
                         const struct scan_result *scan)
{
    char top[256];
    size_t top_len = strcspn(imp->module, ".");
    struct candidates c;
    const struct requirement *declared = NULL;
    char message[600];

    if (top_len >= sizeof(top))
        return;
    memcpy(top, imp->module, top_len);
    top[top_len] = '\0';
    if (stdlib_has(top, top_len, opts->python_minor) ||
        is_first_party(scan, reqs, opts, file->dir, top))
        return;

    find_candidates(inst, top, &c);
    for (int i = 0; i < c.count; i++) {
        strset_add(used, c.normalized[i]);
        if (declared == NULL)
            declared = req_find(reqs, c.normalized[i]);
    }
    if (!imp->optional && strset_add(third_party, top)) {
        char **list = realloc(a->third_party, (a->n_third_party + 1) * sizeof(*list));

        if (list != NULL) {
            a->third_party = list;
            a->third_party[a->n_third_party++] = strdup(top);
        }
    }
    if (declared != NULL) {
        /* Declared but absent from the interpreter: --install brings it in. */
        if (!imp->optional && !c.installed && inst->have_python)
            need_module(need(a, declared->name, true), top);
        return;
    }
    if (imp->optional) {
        snprintf(message, sizeof(message), "optional import '%s' needs '%s', which is not "
                 "declared", imp->module, c.names[0]);
        add_finding(a, DEP_OPTIONAL, false, file->path, imp->line, imp->col, imp->cell,
                    imp->module, c.names[0], message);
        return;
    }
    snprintf(message, sizeof(message), "'%s' is imported but '%s' is not declared",
             imp->module, c.names[0]);
    add_finding(a, DEP_MISSING, true, file->path, imp->line, imp->col, imp->cell, imp->module,
                c.names[0], message);
    a->missing++;
    need_module(need(a, c.names[0], false), top);
}

/* Reports declared requirements that no import uses, and declared standard-library modules. */
static void check_requirements(struct analysis *a, const struct req_set *reqs,
                               const struct strset *used, const struct analysis_opts *opts)
{
    struct strset seen = STRSET_INIT;
    char message[600], module[DIST_NAME_MAX];

    for (size_t i = 0; i < reqs->count; i++) {
        const struct requirement *r = &reqs->items[i];

        if (r->constraint || !strset_add(&seen, r->normalized))
            continue;
        snprintf(module, sizeof(module), "%s", r->normalized);
        for (char *p = module; *p != '\0'; p++) {
            if (*p == '-')
                *p = '_';
        }
        if (!r->has_marker && stdlib_has(module, strlen(module), opts->python_minor)) {
            snprintf(message, sizeof(message), "'%s' is declared but '%s' is in the standard "
                     "library of Python 3.%d", r->name, module, opts->python_minor);
            add_finding(a, DEP_STDLIB, false, r->file, r->line, r->col, -1, module, r->name,
                        message);
            continue;
        }
        if (!strset_has(used, r->normalized)) {
            snprintf(message, sizeof(message), "'%s' is declared but not imported", r->name);
            add_finding(a, DEP_UNUSED, false, r->file, r->line, r->col, -1, NULL, r->name,
                        message);
            a->unused++;
        }
    }
    strset_release(&seen);
}

void analyze(const struct scan_result *scan, const struct req_set *reqs,
             const struct installed *installed, const struct analysis_opts *opts,
             struct analysis *out)
{
    struct strset used = STRSET_INIT, third_party = STRSET_INIT;
    char message[600];

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < reqs->n_files; i++) {
        const struct req_file *f = &reqs->files[i];

        if (!f->failed)
            continue;
        snprintf(message, sizeof(message), "cannot parse requirements: %s", f->error);
        add_finding(out, DEP_REQUIREMENTS, true, f->path, f->error_line, f->error_col, -1, NULL,
                    NULL, message);
    }
    for (size_t i = 0; i < scan->count; i++) {
        const struct scan_file *file = &scan->files[i];

        if (file->imports.error_msg[0] != '\0') {
            snprintf(message, sizeof(message), "skipped, not valid Python 3: %s",
                     file->imports.error_msg);
            add_finding(out, DEP_PARSE, false, file->path, file->imports.error_line,
                        file->imports.error_col, -1, NULL, NULL, message);
        }
        for (size_t k = 0; k < file->imports.count; k++)
            check_import(out, file, &file->imports.items[k], reqs, installed, &used,
                         &third_party, opts, scan);
    }
    check_requirements(out, reqs, &used, opts);
    strset_release(&used);
    strset_release(&third_party);
}

void analysis_release(struct analysis *a)
{
    for (size_t i = 0; i < a->count; i++) {
        free(a->findings[i].path);
        free(a->findings[i].module);
        free(a->findings[i].distribution);
        free(a->findings[i].message);
    }
    free(a->findings);
    for (size_t i = 0; i < a->n_needed; i++) {
        for (size_t k = 0; k < a->needed[i].n_modules; k++)
            free(a->needed[i].modules[k]);
        free(a->needed[i].modules);
    }
    free(a->needed);
    for (size_t i = 0; i < a->n_third_party; i++)
        free(a->third_party[i]);
    free(a->third_party);
    memset(a, 0, sizeof(*a));
}
