/* Finding the experiment files that aftershock.yaml names, and loading each once. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check/check_internal.h"
#include "experiment/load.h"
#include "util/strbuf.h"

static bool is_experiment_name(const char *name)
{
    static const char *const suffixes[] = { ".json", ".yaml", ".yml" };
    size_t n = strlen(name);

    if (name[0] == '.')
        return false;
    for (size_t i = 0; i < 3; i++) {
        size_t m = strlen(suffixes[i]);
        if (n > m && strcasecmp(name + n - m, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static void add_file(struct check_state *st, const char *path)
{
    struct check_file *files;

    for (size_t i = 0; i < st->n_files; i++) {
        if (strcmp(st->files[i].path, path) == 0)
            return;
    }
    files = realloc(st->files, (st->n_files + 1) * sizeof(*files));
    if (files == NULL)
        abort();
    st->files = files;
    memset(&st->files[st->n_files], 0, sizeof(st->files[0]));
    st->files[st->n_files].path = strdup(path);
    st->files[st->n_files].display = check_relative(st, path);
    st->n_files++;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the experiment files directly inside folder, sorted by name. */
static int add_folder(struct check_state *st, const char *folder, struct check_result *r)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    char **names = NULL;
    size_t count = 0;

    if (dir == NULL) {
        result_fail(r, "make the folder readable, or correct 'experiments' in aftershock.yaml",
                    "cannot read the experiments folder '%s': %s", folder, strerror(errno));
        return -1;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (!is_experiment_name(entry->d_name))
            continue;
        names = realloc(names, (count + 1) * sizeof(*names));
        if (names == NULL)
            abort();
        names[count++] = strdup(entry->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof(*names), compare_names);
    for (size_t i = 0; i < count; i++) {
        struct strbuf path = STRBUF_INIT;
        struct stat st_file;

        strbuf_addf(&path, "%s/%s", folder, names[i]);
        if (stat(strbuf_str(&path), &st_file) == 0 && S_ISREG(st_file.st_mode))
            add_file(st, strbuf_str(&path));
        strbuf_release(&path);
        free(names[i]);
    }
    free(names);
    return 0;
}

static int add_entry(struct check_state *st, const char *entry, struct check_result *r)
{
    char *full = check_absolute(st, entry);
    struct stat info;
    int rc = 0;

    if (strpbrk(entry, "*?[") != NULL) {
        glob_t matches;
        int g = glob(full, 0, NULL, &matches);

        if (g == 0) {
            for (size_t i = 0; i < matches.gl_pathc; i++) {
                if (stat(matches.gl_pathv[i], &info) == 0 && S_ISREG(info.st_mode))
                    add_file(st, matches.gl_pathv[i]);
            }
        } else if (g != GLOB_NOMATCH) {
            result_fail(r, "correct 'experiments' in aftershock.yaml",
                        "cannot expand the experiments pattern '%s'", entry);
            rc = -1;
        }
        globfree(&matches);
    } else if (stat(full, &info) == 0 && S_ISDIR(info.st_mode)) {
        rc = add_folder(st, full, r);
    } else if (stat(full, &info) == 0) {
        add_file(st, full);
    }
    free(full);
    return rc;
}

static void remember_unmatched(struct check_state *st, const char *entry)
{
    char **items = realloc(st->unmatched.items, (st->unmatched.count + 1) * sizeof(*items));

    if (items == NULL)
        abort();
    st->unmatched.items = items;
    st->unmatched.items[st->unmatched.count] = strdup(entry);
    if (st->unmatched.items[st->unmatched.count] == NULL)
        abort();
    st->unmatched.count++;
}

int check_collect_files(struct check_state *st, struct check_result *r)
{
    char resolved[PATH_MAX];

    st->root = strdup(realpath(st->cfg->root, resolved) != NULL ? resolved : st->cfg->root);
    if (st->root == NULL)
        abort();
    for (size_t i = 0; i < st->cfg->experiments.count; i++) {
        size_t before = st->n_files;
        if (add_entry(st, st->cfg->experiments.items[i], r) != 0)
            return -1;
        if (st->n_files == before)
            remember_unmatched(st, st->cfg->experiments.items[i]);
    }
    return 0;
}

int check_file_load(struct check_file *f)
{
    struct err err;

    if (!f->loaded) {
        f->loaded = true;
        f->doc = experiment_load(f->path, &err);
        /* Messages name the file as the user sees it, relative to the root. */
        if (f->doc != NULL)
            return 0;
        size_t n = strlen(f->path);
        if (strncmp(err.msg, f->path, n) == 0) {
            struct strbuf message = STRBUF_INIT;
            strbuf_addf(&message, "%s%s", f->display, err.msg + n);
            f->load_error = strbuf_detach(&message);
        } else {
            f->load_error = strdup(err.msg);
        }
    }
    return f->doc != NULL ? 0 : -1;
}

char *check_relative(const struct check_state *st, const char *path)
{
    size_t n = strlen(st->root);

    if (strncmp(path, st->root, n) == 0 && path[n] == '/' && path[n + 1] != '\0')
        return strdup(path + n + 1);
    return strdup(path);
}

char *check_absolute(const struct check_state *st, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    return project_config_path(&(struct project_config){ .root = st->root }, path);
}

void check_state_release(struct check_state *st)
{
    for (size_t i = 0; i < st->n_files; i++) {
        struct check_file *f = &st->files[i];
        free(f->path);
        free(f->display);
        free(f->load_error);
        json_decref(f->doc);
        json_decref(f->exec);
    }
    free(st->files);
    free(st->root);
    for (size_t i = 0; i < st->unmatched.count; i++)
        free(st->unmatched.items[i]);
    free(st->unmatched.items);
    st->unmatched.items = NULL;
    st->unmatched.count = 0;
    st->files = NULL;
    st->n_files = 0;
    st->root = NULL;
}
