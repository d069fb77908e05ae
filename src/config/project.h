/* The project configuration, `aftershock.yaml`: where experiments, requirements,
 * the history store, health targets and healing rules live. `check`, `heal` and
 * `ci` read it. */
#ifndef AFTERSHOCK_CONFIG_PROJECT_H
#define AFTERSHOCK_CONFIG_PROJECT_H

#include <stddef.h>

#include "util/err.h"

#define PROJECT_CONFIG_NAME "aftershock.yaml"

/* A list of strings owned by the configuration. */
struct string_list {
    char **items;
    size_t count;
};

/* One configuration. Paths are as written in the file; project_config_path
 * makes them absolute against root. Missing keys keep their defaults. */
struct project_config {
    char *path;                          /* file read; NULL when none exists */
    char *root;                          /* folder of the file, else the start folder */
    struct string_list experiments;      /* folders or globs; default "experiments" */
    struct string_list requirements;     /* requirements files; empty: found automatically */
    char *store;                         /* history store path or postgresql:// URL; NULL: default */
    struct string_list health_targets;   /* probe targets (http(s)://, tcp://, exec:) */
    char *rules;                         /* healing rules file; NULL: built-in rules only */
    char *ledger_dir;                    /* fault ledger folder; NULL: default */
    char *reports_dir;                   /* reports folder; default "reports" */
};

/* Loads aftershock.yaml from start (a folder, searched upwards to the
 * filesystem root or a folder containing .git, or a file path). A missing file
 * is not an error: defaults are set and cfg->path is NULL. An invalid file
 * fails with err naming the file, the key and the fix. Returns 0 or -1. */
int project_config_load(const char *start, struct project_config *cfg, struct err *err);

/* Parses the text of a configuration file named name (for messages) into
 * cfg, with root as the folder relative paths start from. cfg->path is set
 * to name. Returns 0, or -1 with err set and cfg left empty. */
int project_config_parse(const char *text, size_t len, const char *name, const char *root,
                         struct project_config *cfg, struct err *err);

/* Returns a newly allocated absolute path for a path from the configuration. */
char *project_config_path(const struct project_config *cfg, const char *path);

void project_config_free(struct project_config *cfg);

#endif
