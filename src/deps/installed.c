/* Installed distributions of the target interpreter, read from their metadata folders. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deps/distmap.h"
#include "deps/strset.h"
#include "util/fsutil.h"
#include "util/spawn.h"
#include "util/strbuf.h"

#define MAX_METADATA_SIZE (16u << 20)

/* Prints the interpreter's version, then one import path entry per line. */
static const char query_script[] =
    "import sys\n"
    "print('%d.%d' % sys.version_info[:2])\n"
    "for p in sys.path:\n"
    "    if p:\n"
    "        print(p)\n";

static struct installed_dist *new_dist(struct installed *inst)
{
    if (inst->count == inst->cap) {
        size_t cap = inst->cap ? inst->cap * 2 : 64;
        struct installed_dist *dists = realloc(inst->dists, cap * sizeof(*dists));

        if (dists == NULL)
            return NULL;
        inst->dists = dists;
        inst->cap = cap;
    }
    memset(&inst->dists[inst->count], 0, sizeof(inst->dists[0]));
    return &inst->dists[inst->count++];
}

static void dist_add_import(struct installed_dist *dist, const char *name, size_t len)
{
    char **imports;

    if (len == 0)
        return;
    for (size_t i = 0; i < dist->n_imports; i++) {
        if (strlen(dist->imports[i]) == len && strncmp(dist->imports[i], name, len) == 0)
            return;
    }
    imports = realloc(dist->imports, (dist->n_imports + 1) * sizeof(*imports));
    if (imports == NULL)
        return;
    dist->imports = imports;
    dist->imports[dist->n_imports] = strndup(name, len);
    if (dist->imports[dist->n_imports] != NULL)
        dist->n_imports++;
}

void installed_add(struct installed *inst, const char *name, const char *version,
                   const char *const *imports)
{
    struct installed_dist *dist = new_dist(inst);
    char normal[DIST_NAME_MAX];

    if (dist == NULL)
        return;
    dist_normalize(name, normal, sizeof(normal));
    dist->name = strdup(name);
    dist->normalized = strdup(normal);
    dist->version = strdup(version != NULL ? version : "");
    for (size_t i = 0; imports != NULL && imports[i] != NULL; i++)
        dist_add_import(dist, imports[i], strlen(imports[i]));
}

/* Reads top_level.txt: one import name per line. */
static bool read_top_level(struct installed_dist *dist, const char *meta_dir)
{
    struct strbuf path = STRBUF_INIT;
    struct err err;
    size_t len;
    char *text;

    strbuf_addf(&path, "%s/top_level.txt", meta_dir);
    text = fs_read_file(strbuf_str(&path), MAX_METADATA_SIZE, &len, &err);
    strbuf_release(&path);
    if (text == NULL)
        return false;
    for (char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\r\n");
        size_t trim = n;

        while (trim > 0 && (line[trim - 1] == ' ' || line[trim - 1] == '\t'))
            trim--;
        /* Entries such as "google/protobuf" name a namespace package's part. */
        size_t top = strcspn(line, "/");

        dist_add_import(dist, line, top < trim ? top : trim);
        line += n;
        while (*line == '\r' || *line == '\n')
            line++;
    }
    free(text);
    return true;
}

/* Reads RECORD: the first path component of every installed file. */
static void read_record(struct installed_dist *dist, const char *meta_dir)
{
    struct strbuf path = STRBUF_INIT;
    struct err err;
    size_t len;
    char *text;

    strbuf_addf(&path, "%s/RECORD", meta_dir);
    text = fs_read_file(strbuf_str(&path), MAX_METADATA_SIZE, &len, &err);
    strbuf_release(&path);
    if (text == NULL)
        return;
    for (char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\r\n");
        size_t field = strcspn(line, ",\r\n");
        size_t top = strcspn(line, "/,\r\n");

        if (line[0] != '"' && top > 0 && strncmp(line, "..", 2) != 0 &&
            strncmp(line, "__pycache__", top) != 0) {
            const char *name = line;
            size_t name_len = top;

            if (top == field) {
                /* A top-level file: a module (x.py) or an extension (x.cpython-311-*.so). */
                const char *dot = memchr(name, '.', top);

                if (dot == NULL || !(strncmp(name + top - 3, ".py", 3) == 0 ||
                                     strncmp(name + top - 3, ".so", 3) == 0 ||
                                     strncmp(name + top - 4, ".pyd", 4) == 0))
                    name_len = 0;
                else
                    name_len = (size_t)(dot - name);
            } else if ((top > 10 && strncmp(name + top - 10, ".dist-info", 10) == 0) ||
                       (top > 5 && strncmp(name + top - 5, ".data", 5) == 0)) {
                name_len = 0;
            }
            dist_add_import(dist, name, name_len);
        }
        line += n;
        while (*line == '\r' || *line == '\n')
            line++;
    }
    free(text);
}

/* Splits "name-version.dist-info" (or .egg-info) into name and version. */
static bool split_meta_name(const char *entry, char *name, size_t name_size, char *version,
                            size_t version_size)
{
    size_t len = strlen(entry), base;
    const char *dash;

    if (len > 10 && strcmp(entry + len - 10, ".dist-info") == 0)
        base = len - 10;
    else if (len > 9 && strcmp(entry + len - 9, ".egg-info") == 0)
        base = len - 9;
    else
        return false;
    dash = entry;
    while ((dash = memchr(dash, '-', base - (size_t)(dash - entry))) != NULL) {
        if (dash[1] >= '0' && dash[1] <= '9')
            break;
        dash++;
    }
    size_t name_len = dash ? (size_t)(dash - entry) : base;
    size_t version_len = dash ? base - name_len - 1 : 0;
    const char *py = dash ? memchr(dash + 1, '-', version_len) : NULL;

    /* Egg metadata folders may end with "-py3.11". */
    if (py != NULL)
        version_len = (size_t)(py - dash - 1);
    snprintf(name, name_size, "%.*s", (int)name_len, entry);
    snprintf(version, version_size, "%.*s", (int)version_len, dash ? dash + 1 : "");
    return name_len > 0;
}

static void read_site_dir(struct installed *inst, const char *dir, struct strset *seen)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    struct strbuf meta = STRBUF_INIT;

    if (d == NULL)
        return;
    while ((ent = readdir(d)) != NULL) {
        char name[DIST_NAME_MAX], version[64], normal[DIST_NAME_MAX];
        struct installed_dist *dist;
        struct stat st;

        if (!split_meta_name(ent->d_name, name, sizeof(name), version, sizeof(version)))
            continue;
        dist_normalize(name, normal, sizeof(normal));
        /* The first folder on the import path wins, as it does for imports. */
        if (strset_has(seen, normal))
            continue;
        strbuf_reset(&meta);
        strbuf_addf(&meta, "%s/%s", dir, ent->d_name);
        if (stat(strbuf_str(&meta), &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        strset_add(seen, normal);
        installed_add(inst, name, version, NULL);
        dist = &inst->dists[inst->count - 1];
        dist->meta_dir = strdup(strbuf_str(&meta));
        if (!read_top_level(dist, strbuf_str(&meta)))
            read_record(dist, strbuf_str(&meta));
    }
    closedir(d);
    strbuf_release(&meta);
}

int installed_load(const char *python, struct installed *out, struct err *err)
{
    char *argv[] = { (char *)python, "-c", (char *)query_script, NULL };
    struct spawn_opts opts = { .argv = argv, .timeout = 60, .stdin_null = true,
                               .capture_max = 1 << 20 };
    struct spawn_result res;
    struct strset seen = STRSET_INIT;
    int major, minor;
    char *line, *save = NULL;

    if (spawn_run(&opts, &res, err) != 0)
        return -1;
    if (res.exit_code != 0 || sscanf(res.out, "%d.%d", &major, &minor) != 2 || major != 3) {
        err_set(err, "'%s' did not report a Python 3 version (exit status %d)", python,
                res.exit_code);
        spawn_result_release(&res);
        return -1;
    }
    out->have_python = true;
    out->python_minor = minor;
    snprintf(out->version, sizeof(out->version), "%d.%d", major, minor);
    line = strtok_r(res.out, "\n", &save);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL)
        read_site_dir(out, line, &seen);
    strset_release(&seen);
    spawn_result_release(&res);
    return 0;
}

const char *installed_display_name(struct installed_dist *dist)
{
    static const char *const files[] = { "METADATA", "PKG-INFO" };

    if (dist->display != NULL)
        return dist->display;
    for (size_t i = 0; dist->meta_dir != NULL && i < 2 && dist->display == NULL; i++) {
        struct strbuf path = STRBUF_INIT;
        struct err err;
        size_t len;
        char *text;

        strbuf_addf(&path, "%s/%s", dist->meta_dir, files[i]);
        text = fs_read_file(strbuf_str(&path), MAX_METADATA_SIZE, &len, &err);
        strbuf_release(&path);
        if (text == NULL)
            continue;
        /* The headers end at the first blank line; "Name:" is among them. */
        for (char *line = text; *line != '\0' && *line != '\n';) {
            size_t n = strcspn(line, "\r\n");

            if (strncmp(line, "Name:", 5) == 0) {
                char *value = line + 5;

                while (*value == ' ' || *value == '\t')
                    value++;
                dist->display = strndup(value, n - (size_t)(value - line));
                break;
            }
            line += n;
            if (*line == '\r')
                line++;
            if (*line == '\n')
                line++;
        }
        free(text);
    }
    if (dist->display == NULL)
        dist->display = strdup(dist->name);
    return dist->display;
}

const struct installed_dist *installed_find(const struct installed *inst,
                                            const char *normalized)
{
    for (size_t i = 0; i < inst->count; i++) {
        if (strcmp(inst->dists[i].normalized, normalized) == 0)
            return &inst->dists[i];
    }
    return NULL;
}

void installed_release(struct installed *inst)
{
    for (size_t i = 0; i < inst->count; i++) {
        struct installed_dist *d = &inst->dists[i];

        free(d->name);
        free(d->meta_dir);
        free(d->display);
        free(d->normalized);
        free(d->version);
        for (size_t k = 0; k < d->n_imports; k++)
            free(d->imports[k]);
        free(d->imports);
    }
    free(inst->dists);
    memset(inst, 0, sizeof(*inst));
}
