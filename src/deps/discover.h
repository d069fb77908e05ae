/* Finding the folder whose requirements files apply to a scanned PATH. */
#ifndef AFTERSHOCK_DEPS_DISCOVER_H
#define AFTERSHOCK_DEPS_DISCOVER_H

#include <stdbool.h>

/* Folders for reading requirements files and for creating one with --fix. */
struct req_location {
    char *read_dir;   /* folder whose requirements files are read, or NULL when none has any */
    char *create_dir; /* folder for a new requirements.txt when none exists */
};

/* Fills loc for path, a folder or a file (a file means the folder containing it).
 * Starting at that folder and going up, read_dir is the first folder with
 * requirements*.txt, *.txt files in requirements/ or pyproject.toml,
 * searched no higher than the project root: the nearest folder, the start included,
 * that contains .git, pyproject.toml or aftershock.yaml. Without a project
 * root only the start folder is searched. create_dir is the project root,
 * else the start folder. Paths stay relative when path is relative.
 * Returns 0, or -1 when out of memory. */
int discover_requirements(const char *path, struct req_location *loc);

/* True when folder dir contains a requirements*.txt file, a .txt file in
 * requirements/ or a pyproject.toml file. */
bool discover_has_requirements(const char *dir);

void req_location_release(struct req_location *loc);

#endif
