/* Import names to distribution names: installed metadata of the target
 * interpreter, a table of well-known mismatches, PEP 503 normalisation. */
#ifndef AFTERSHOCK_DEPS_DISTMAP_H
#define AFTERSHOCK_DEPS_DISTMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define DIST_NAME_MAX 256

/* Writes the PEP 503 normal form of name (lowercase, runs of "-", "_", "."
 * as one "-") into out. */
void dist_normalize(const char *name, char *out, size_t size);

/* True when name is a valid PEP 508 distribution name: ASCII letters and
 * digits, with ".", "-" or "_" inside only. */
bool dist_is_valid_name(const char *name);

/* The distribution a well-known import name comes from when the two differ
 * ("yaml" gives "PyYAML"), or NULL. */
const char *distmap_known(const char *import_name);

/* Calls fn for every import name the table maps to the normalised distribution. */
void distmap_known_imports(const char *normalized_dist, void (*fn)(const char *, void *),
                           void *ctx);

/* Number of entries in the table of well-known mismatches. */
size_t distmap_known_count(void);

/* One installed distribution. */
struct installed_dist {
    char *name;        /* as its metadata folder spells it */
    char *meta_dir;    /* the .dist-info or .egg-info folder, or NULL */
    char *display;     /* Name: from METADATA, read on first use by installed_display_name */
    char *normalized;  /* PEP 503 form */
    char *version;     /* "" when unknown */
    char **imports;    /* top-level import names it provides */
    size_t n_imports;
};

/* Version and installed distributions of the target interpreter. Invariant: when have_python is false,
 * dists is empty and python_minor is the caller's fallback. */
struct installed {
    bool have_python;
    int python_minor;
    char version[32];          /* "3.11", or "" */
    struct installed_dist *dists;
    size_t count, cap;
};

/* Asks interpreter python for its version and import path, then reads the
 * metadata (top_level.txt, else RECORD) of every distribution installed on
 * that path. Returns 0, or -1 with err set when the interpreter could not be
 * run; out is usable (empty) either way. */
int installed_load(const char *python, struct installed *out, struct err *err);

/* Adds a distribution by hand (used by tests); imports is a NULL-terminated list. */
void installed_add(struct installed *inst, const char *name, const char *version,
                   const char *const *imports);

/* The installed distribution with normalised name, or NULL. */
const struct installed_dist *installed_find(const struct installed *inst,
                                            const char *normalized);

/* The distribution's name as its METADATA (or PKG-INFO) spells it, falling
 * back to the folder's spelling. Reads the file once. */
const char *installed_display_name(struct installed_dist *dist);

void installed_release(struct installed *inst);

#endif
