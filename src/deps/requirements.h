/* Declared dependencies: pip requirements files (with -r and -c includes)
 * and pyproject.toml ([project] and Poetry tables). */
#ifndef AFTERSHOCK_DEPS_REQUIREMENTS_H
#define AFTERSHOCK_DEPS_REQUIREMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "deps/distmap.h"
#include "util/err.h"

struct requirement {
    char name[DIST_NAME_MAX];       /* as written */
    char normalized[DIST_NAME_MAX]; /* PEP 503 form */
    const char *file;               /* declaring file (owned by the req_set) */
    int line, col;                  /* 1-based position of the name */
    bool has_marker;                /* an environment marker limits it */
    bool constraint;                /* from a -c file: pins versions, declares nothing */
};

/* One file read. A file with parse errors is kept, marked, and never rewritten. */
struct req_file {
    char *path;
    bool pyproject;
    bool included;        /* reached through -r or -c rather than chosen */
    bool failed;
    int error_line, error_col;
    char error[240];
};

/* Invariant: every requirement's file points at the path of one of files[]. */
struct req_set {
    struct requirement *items;
    size_t count, cap;
    struct req_file *files;
    size_t n_files, files_cap;
    char *project_name;   /* [project] name or [tool.poetry] name, or NULL */
    bool skip_includes;   /* do not read -r and -c files (fuzzing) */
};

/* Parses a requirement specifier (PEP 508: name, extras, versions or URL,
 * marker). Writes the name; returns 0, or -1 with *why set to a message. */
int req_parse_spec(const char *spec, char *name, size_t name_size, bool *has_marker,
                   const char **why);

/* Parses requirements-file text that was read from path, following -r and -c
 * includes on disk. Errors are recorded on the file's entry. */
void req_parse_text(struct req_set *set, const char *path, const char *text, size_t len,
                    bool constraint, int depth);

/* Reads and parses a requirements file (or pyproject.toml, by name). Returns
 * 0, or -1 when the file cannot be read (err set). Parse errors do not fail
 * the call: they are recorded in the file's req_file entry. */
int req_load(struct req_set *set, const char *path, struct err *err);

/* Parses pyproject.toml text: [project] dependencies and optional-dependencies,
 * [dependency-groups], [tool.poetry] dependency tables. */
void req_parse_pyproject(struct req_set *set, const char *path, const char *text, size_t len);

/* Registers a file to be parsed (returns its entry, or NULL when out of memory). */
struct req_file *req_add_file(struct req_set *set, const char *path, bool pyproject);

/* Marks a registered file as unparseable (first error wins); fmt has one %s for arg. */
void req_file_fail(struct req_set *set, const char *path, int line, int col, const char *fmt,
                   const char *arg);

/* Adds a requirement declared in the registered file path. */
void req_add(struct req_set *set, const char *path, const char *name, int line, int col,
             bool has_marker, bool constraint);

/* The requirement declaring normalised name (constraints excluded), or NULL. */
const struct requirement *req_find(const struct req_set *set, const char *normalized);

void req_set_release(struct req_set *set);

#endif
