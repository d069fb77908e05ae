/* Project scan: folder walk, parallel import finding, local module registry. */
#include "deps/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/strbuf.h"

#define MAX_SOURCE_SIZE (64u << 20)

/* Folders that never hold the project's own code. */
static bool is_skipped_dir(const char *name)
{
    static const char *const names[] = {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", "node_modules", ".tox", ".nox",
        ".venv", "venv", ".eggs", "build", "dist", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", ".ipynb_checkpoints", "__pypackages__",
    };
    size_t len = strlen(name);

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0)
            return true;
    }
    return len > 9 && strcmp(name + len - 9, ".egg-info") == 0;
}

static bool is_excluded(const struct scan_opts *opts, const char *rel, const char *name)
{
    for (int i = 0; i < opts->n_excludes; i++) {
        if (fnmatch(opts->excludes[i], rel, 0) == 0 || fnmatch(opts->excludes[i], name, 0) == 0)
            return true;
    }
    return false;
}

static bool is_identifier(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (unsigned char)c >= 0x80))
            return false;
    }
    return true;
}

static void add_local(struct scan_result *out, const char *dir, const char *name, size_t len)
{
    struct strbuf key = STRBUF_INIT;

    if (!is_identifier(name, len))
        return;
    if (strcmp(dir, ".") != 0) {
        strbuf_addstr(&key, dir);
        strbuf_addch(&key, '/');
    }
    strbuf_add(&key, name, len);
    strset_add(&out->local, strbuf_str(&key));
    strbuf_release(&key);
}

static int add_file(struct scan_result *out, const char *path, const char *dir, bool notebook)
{
    struct scan_file *file;

    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 256;
        struct scan_file *files = realloc(out->files, cap * sizeof(*files));

        if (files == NULL)
            return -1;
        out->files = files;
        out->cap = cap;
    }
    file = &out->files[out->count++];
    memset(file, 0, sizeof(*file));
    file->path = strdup(path);
    file->dir = strdup(dir);
    file->notebook = notebook;
    return file->path != NULL && file->dir != NULL ? 0 : -1;
}

static bool has_suffix(const char *name, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len > n && strcmp(name + len - n, suffix) == 0;
}

/* Walks one folder; returns true when Python files were found below it. */
static bool walk_dir(struct scan_result *out, const struct scan_opts *opts, const char *dir,
                     const char *rel, int depth)
{
    DIR *d;
    struct dirent *ent;
    bool found = false;
    struct strbuf path = STRBUF_INIT, sub_rel = STRBUF_INIT;

    if (depth > 64 || (d = opendir(dir)) == NULL)
        return false;

    /* A virtual environment marks itself with pyvenv.cfg, whatever its name. */
    strbuf_addf(&path, "%s/pyvenv.cfg", dir);
    /* The roots themselves are scanned even when they are environments. */
    if (depth > 0 && access(strbuf_str(&path), F_OK) == 0) {
        closedir(d);
        strbuf_release(&path);
        return false;
    }

    while ((ent = readdir(d)) != NULL) {
        const char *name = ent->d_name;
        size_t len = strlen(name);
        bool is_dir, is_file;

        if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
            continue;
        /* Plain appends: this runs for every folder entry, and formatting costs more. */
        strbuf_reset(&path);
        if (strcmp(dir, ".") != 0) {
            strbuf_addstr(&path, dir);
            strbuf_addch(&path, '/');
        }
        strbuf_add(&path, name, len);
        strbuf_reset(&sub_rel);
        if (rel[0] != '\0') {
            strbuf_addstr(&sub_rel, rel);
            strbuf_addch(&sub_rel, '/');
        }
        strbuf_add(&sub_rel, name, len);
        if (is_excluded(opts, strbuf_str(&sub_rel), name))
            continue;

        is_dir = ent->d_type == DT_DIR;
        is_file = ent->d_type == DT_REG;
        if (ent->d_type == DT_UNKNOWN || ent->d_type == DT_LNK) {
            struct stat st;

            if (stat(strbuf_str(&path), &st) != 0)
                continue;
            /* Symlinked folders are not followed, so a link loop cannot trap the walk. */
            is_dir = S_ISDIR(st.st_mode) && ent->d_type != DT_LNK;
            is_file = S_ISREG(st.st_mode);
        }
        if (is_dir) {
            if (is_skipped_dir(name))
                continue;
            if (walk_dir(out, opts, strbuf_str(&path), strbuf_str(&sub_rel), depth + 1)) {
                add_local(out, dir, name, len);
                found = true;
            }
        } else if (is_file && has_suffix(name, len, ".py")) {
            add_file(out, strbuf_str(&path), dir, false);
            add_local(out, dir, name, len - 3);
            found = true;
        } else if (is_file && has_suffix(name, len, ".pyi")) {
            add_local(out, dir, name, len - 4);
        } else if (is_file && has_suffix(name, len, ".ipynb")) {
            add_file(out, strbuf_str(&path), dir, true);
        }
    }
    closedir(d);
    strbuf_release(&path);
    strbuf_release(&sub_rel);
    return found;
}

/* Reads a whole file into *buf (grown as needed and reused between files). */
static char *read_whole(const char *path, char **buf, size_t *cap, size_t *len, char *why,
                        size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t got = 0;

    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_size, "cannot read: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > MAX_SOURCE_SIZE) {
        snprintf(why, why_size, "file larger than %u MiB", MAX_SOURCE_SIZE >> 20);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size + 1 > *cap) {
        size_t want = (size_t)st.st_size + 1 > 1 << 16 ? (size_t)st.st_size + 1 : 1 << 16;
        char *grown = realloc(*buf, want);

        if (grown == NULL) {
            close(fd);
            snprintf(why, why_size, "out of memory");
            return NULL;
        }
        *buf = grown;
        *cap = want;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    (*buf)[got] = '\0';
    *len = got;
    return *buf;
}

static void scan_one(struct scan_file *file, const struct py_scan_opts *py_opts, char **buf,
                     size_t *cap)
{
    size_t len;
    char *data = read_whole(file->path, buf, cap, &len, file->imports.error_msg,
                            sizeof(file->imports.error_msg));
    int rc;

    if (data == NULL) {
        file->failed = true;
        return;
    }
    if (file->notebook)
        rc = py_scan_notebook(data, len, py_opts, &file->imports);
    else
        rc = py_scan_source(data, len, py_opts, &file->imports);
    if (rc != 0) {
        file->failed = true;
        for (size_t i = 0; i < file->imports.count; i++)
            free(file->imports.items[i].module);
        file->imports.count = 0;
    }
}

struct worker {
    struct scan_result *out;
    struct py_scan_opts py_opts;
    atomic_size_t next;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char *buf = NULL;
    size_t cap = 0;

    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);

        if (i >= w->out->count)
            break;
        scan_one(&w->out->files[i], &w->py_opts, &buf, &cap);
    }
    free(buf);
    return NULL;
}

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const struct scan_file *)a)->path, ((const struct scan_file *)b)->path);
}

static int threads_to_use(const struct scan_opts *opts, size_t files)
{
    long n = opts->threads > 0 ? opts->threads : sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    if (n > 8)
        n = 8;
    if ((size_t)n > files / 16 + 1)
        n = (long)(files / 16 + 1);
    return (int)n;
}

static int add_root(struct scan_result *out, const struct scan_opts *opts, const char *root,
                    struct err *err)
{
    struct stat st;
    char *dir;

    if (stat(root, &st) != 0)
        return err_set_errno(err, errno, "cannot read '%s'", root);
    if (S_ISDIR(st.st_mode)) {
        walk_dir(out, opts, root, "", 0);
        return 0;
    }
    dir = strdup(root);
    if (dir == NULL)
        return err_set(err, "out of memory");
    char *slash = strrchr(dir, '/');

    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(dir, ".");
    add_file(out, root, dir, strlen(root) > 6 && strcmp(root + strlen(root) - 6, ".ipynb") == 0);
    free(dir);
    return 0;
}

int scan_project(const char *const *roots, int n_roots, const struct scan_opts *opts,
                 struct scan_result *out, struct err *err)
{
    struct worker w;
    pthread_t threads[8];
    int n_threads, started = 0;

    memset(out, 0, sizeof(*out));
    out->roots = calloc((size_t)n_roots + 1, sizeof(char *));
    if (out->roots == NULL)
        return err_set(err, "out of memory");
    for (int i = 0; i < n_roots; i++) {
        size_t len = strlen(roots[i]);

        out->roots[i] = strdup(roots[i]);
        while (len > 1 && out->roots[i][len - 1] == '/')
            out->roots[i][--len] = '\0';
        out->n_roots++;
        if (add_root(out, opts, out->roots[i], err) != 0)
            return -1;
    }
    if (out->count > 0)
        qsort(out->files, out->count, sizeof(out->files[0]), compare_files);

    w.out = out;
    w.py_opts.python_minor = opts->python_minor;
    atomic_init(&w.next, 0);
    n_threads = threads_to_use(opts, out->count);
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&threads[started], NULL, worker_main, &w) == 0)
            started++;
    }
    worker_main(&w);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    return 0;
}

/* Builds the registry key of name in folder dir: "dir/name", or "name" in ".". */
static void local_key(struct strbuf *key, const char *dir, const char *sub, const char *name)
{
    strbuf_reset(key);
    if (strcmp(dir, ".") != 0)
        strbuf_addf(key, "%s/", dir);
    if (sub != NULL)
        strbuf_addf(key, "%s/", sub);
    strbuf_addstr(key, name);
}

bool scan_is_local(const struct scan_result *scan, const char *dir, const char *name)
{
    struct strbuf key = STRBUF_INIT;
    bool found;

    local_key(&key, dir, NULL, name);
    found = strset_has(&scan->local, strbuf_str(&key));
    for (int i = 0; !found && i < scan->n_roots; i++) {
        local_key(&key, scan->roots[i], NULL, name);
        found = strset_has(&scan->local, strbuf_str(&key));
        local_key(&key, scan->roots[i], "src", name);
        found = found || strset_has(&scan->local, strbuf_str(&key));
    }
    strbuf_release(&key);
    return found;
}

void scan_result_release(struct scan_result *scan)
{
    for (size_t i = 0; i < scan->count; i++) {
        free(scan->files[i].path);
        free(scan->files[i].dir);
        py_imports_release(&scan->files[i].imports);
    }
    free(scan->files);
    strset_release(&scan->local);
    for (int i = 0; i < scan->n_roots; i++)
        free(scan->roots[i]);
    free(scan->roots);
    memset(scan, 0, sizeof(*scan));
}
