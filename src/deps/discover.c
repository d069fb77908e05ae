/* Requirements discovery: the folder of PATH, then its parents up to the
 * project root. */
#include "deps/discover.h"

#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/strbuf.h"

/* Maximum number of folders searched upwards when no project root is found earlier. */
#define MAX_LEVELS 64

static char *join_path(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;

    if (strcmp(dir, ".") == 0)
        strbuf_addstr(&sb, name);
    else if (strcmp(dir, "/") == 0)
        strbuf_addf(&sb, "/%s", name);
    else
        strbuf_addf(&sb, "%s/%s", dir, name);
    return strbuf_detach(&sb);
}

static bool folder_contains(const char *dir, const char *name)
{
    char *path = join_path(dir, name);
    struct stat st;
    bool found = stat(path, &st) == 0;

    free(path);
    return found;
}

static bool folder_has_match(const char *dir, const char *pattern)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    bool found = false;

    if (d == NULL)
        return false;
    while (!found && (ent = readdir(d)) != NULL)
        found = fnmatch(pattern, ent->d_name, 0) == 0;
    closedir(d);
    return found;
}

bool discover_has_requirements(const char *dir)
{
    char *sub = join_path(dir, "requirements");
    bool found = folder_has_match(dir, "requirements*.txt") || folder_has_match(sub, "*.txt") ||
                 folder_contains(dir, "pyproject.toml");

    free(sub);
    return found;
}

static bool is_project_root(const char *dir)
{
    return folder_contains(dir, ".git") || folder_contains(dir, "pyproject.toml") ||
           folder_contains(dir, "aftershock.yaml");
}

/* True when dir names the file system root, however it is spelled. */
static bool is_top(const char *dir)
{
    char resolved[PATH_MAX];

    return realpath(dir, resolved) == NULL || strcmp(resolved, "/") == 0;
}

/* Returns the parent of dir, spelled lexically: "a/b" -> "a", "a" -> ".",
 * "." -> "..", "../.." -> "../../..". Symbolic links are not followed, as a
 * shell's `cd ..` does not follow them. */
static char *parent_of(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    const char *last = slash != NULL ? slash + 1 : dir;

    if (strcmp(dir, ".") == 0)
        return strdup("..");
    if (strcmp(last, "..") == 0)
        return join_path(dir, "..");
    if (slash == NULL)
        return strdup(".");
    if (slash == dir)
        return strdup("/");
    return strndup(dir, (size_t)(slash - dir));
}

/* Returns path when it is a folder, else the folder containing the file. */
static char *start_folder(const char *path)
{
    struct stat st;
    char *dir = strdup(path);
    size_t len;

    if (dir == NULL)
        return NULL;
    len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return dir;

    char *parent = parent_of(dir);

    free(dir);
    return parent;
}

int discover_requirements(const char *path, struct req_location *loc)
{
    char *dir = start_folder(path);
    char *first_with_reqs = NULL;
    char *root = NULL;

    loc->read_dir = loc->create_dir = NULL;
    if (dir == NULL)
        return -1;
    for (int level = 0; dir != NULL && level < MAX_LEVELS; level++) {
        if (first_with_reqs == NULL && discover_has_requirements(dir))
            first_with_reqs = strdup(dir);
        if (is_project_root(dir)) {
            root = dir;
            break;
        }
        if (is_top(dir)) {
            free(dir);
            dir = NULL;
            break;
        }

        char *up = parent_of(dir);

        free(dir);
        dir = up;
    }
    if (root == NULL) {
        free(dir);
        /* No project root: only the start folder counts. */
        free(first_with_reqs);
        first_with_reqs = NULL;
        dir = start_folder(path);
        if (dir != NULL && discover_has_requirements(dir))
            first_with_reqs = strdup(dir);
        loc->create_dir = dir;
    } else {
        loc->create_dir = root;
    }
    loc->read_dir = first_with_reqs;
    return loc->create_dir == NULL ? -1 : 0;
}

void req_location_release(struct req_location *loc)
{
    free(loc->read_dir);
    free(loc->create_dir);
    loc->read_dir = loc->create_dir = NULL;
}
