/* Fault ledger files on disk: the JSON format, validation, atomic rewrites, the folder listing. */
#include "fault/ledger.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/log.h"
#include "util/strbuf.h"

static char *copy_or_null(const char *text)
{
    char *c;

    if (text == NULL)
        return NULL;
    c = strdup(text);
    if (c == NULL)
        abort();
    return c;
}

static const char *const kind_names[] = { "pause", "toxic", "stress-worker", "fill" };

const char *fault_kind_name(enum fault_kind kind)
{
    return kind_names[kind];
}

/* ---- format ---- */

void ledger_entry_fields(json_t *obj, const struct fault_entry *e)
{
    switch (e->kind) {
    case FAULT_PAUSE:
    case FAULT_WORKER:
        json_object_set_new(obj, "pid", json_integer(e->pid));
        json_object_set_new(obj, "start_ticks", json_integer((json_int_t)e->start_ticks));
        break;
    case FAULT_TOXIC:
        json_object_set_new(obj, "api", json_string(e->api));
        json_object_set_new(obj, "proxy", json_string(e->proxy));
        json_object_set_new(obj, "toxic", json_string(e->toxic));
        break;
    case FAULT_FILL:
        json_object_set_new(obj, "folder", json_string(e->folder));
        json_object_set_new(obj, "file", json_string(e->file));
        if (e->ino != 0) {
            json_object_set_new(obj, "dev", json_integer((json_int_t)e->dev));
            json_object_set_new(obj, "ino", json_integer((json_int_t)e->ino));
        }
        break;
    }
}

json_t *ledger_entry_to_json(const struct fault_entry *e)
{
    json_t *obj = json_pack("{s:I, s:s, s:s?, s:s?}", "id", (json_int_t)e->id, "kind",
                            fault_kind_name(e->kind), "experiment", e->experiment, "applied_at",
                            e->applied_at);

    ledger_entry_fields(obj, e);
    return obj;
}

char *ledger_file_format(const struct ledger_file *file)
{
    const struct ledger_run *r = &file->run;
    json_t *faults = json_array();
    json_t *doc;
    char *text;

    for (size_t i = 0; i < file->count; i++)
        json_array_append_new(faults, ledger_entry_to_json(&file->entries[i]));
    doc = json_pack("{s:s, s:i, s:{s:i, s:I, s:s, s:s, s:s}, s:o}", "format", LEDGER_FORMAT_NAME,
                    "version", LEDGER_FORMAT_VERSION, "run", "pid", (int)r->pid, "start_ticks",
                    (json_int_t)r->start_ticks, "boot_id", r->boot_id, "host", r->host,
                    "started_at", r->started_at, "faults", faults);
    if (doc == NULL)
        abort();
    text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (text == NULL)
        abort();
    return text;
}

/* Reads a required string field into a fixed buffer or a new copy. */
static int read_string(json_t *obj, const char *key, const char *where, char *buf, size_t size,
                       char **out, struct err *err)
{
    json_t *value = json_object_get(obj, key);
    const char *text = json_string_value(value);

    if (!json_is_string(value) || text[0] == '\0' || strlen(text) != json_string_length(value))
        return err_set(err, "%s.%s is missing or not a non-empty string", where, key);
    if (buf != NULL) {
        if (strlen(text) >= size)
            return err_set(err, "%s.%s is too long", where, key);
        memcpy(buf, text, strlen(text) + 1);
    }
    if (out != NULL)
        *out = copy_or_null(text);
    return 0;
}

/* Reads a required integer field within [min, max]. */
static int read_integer(json_t *obj, const char *key, const char *where, json_int_t min,
                        json_int_t max, json_int_t *out, struct err *err)
{
    json_t *value = json_object_get(obj, key);

    if (!json_is_integer(value) || json_integer_value(value) < min ||
        json_integer_value(value) > max)
        return err_set(err, "%s.%s is missing or not an integer from %lld to %lld", where, key,
                       (long long)min, (long long)max);
    *out = json_integer_value(value);
    return 0;
}

static int parse_kind(const char *name, enum fault_kind *kind)
{
    for (size_t i = 0; name != NULL && i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *kind = (enum fault_kind)i;
            return 0;
        }
    }
    return -1;
}

/* Reads a fill entry: an absolute folder, a relative file, and dev and ino together or neither. */
static int parse_fill(json_t *obj, const char *where, struct fault_entry *e, struct err *err)
{
    json_int_t number;

    if (read_string(obj, "folder", where, NULL, 0, &e->folder, err) != 0 ||
        read_string(obj, "file", where, NULL, 0, &e->file, err) != 0)
        return -1;
    if (e->folder[0] != '/')
        return err_set(err, "%s.folder is not an absolute path", where);
    if (e->file[0] == '/')
        return err_set(err, "%s.file is not a relative path", where);
    if (json_object_get(obj, "ino") == NULL && json_object_get(obj, "dev") == NULL)
        return 0;
    if (read_integer(obj, "dev", where, 0, INT64_MAX, &number, err) != 0)
        return -1;
    e->dev = (unsigned long long)number;
    if (read_integer(obj, "ino", where, 1, INT64_MAX, &number, err) != 0)
        return -1;
    e->ino = (unsigned long long)number;
    return 0;
}

static int parse_entry(json_t *obj, const char *where, struct fault_entry *e, struct err *err)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    json_t *experiment = json_object_get(obj, "experiment");
    json_int_t number;

    if (!json_is_object(obj))
        return err_set(err, "%s is not an object", where);
    if (read_integer(obj, "id", where, 1, INT64_MAX, &number, err) != 0)
        return -1;
    e->id = (long)number;
    if (parse_kind(kind, &e->kind) != 0)
        return err_set(err, "%s.kind '%s' is unknown: expected pause, toxic, stress-worker or "
                       "fill", where, kind != NULL ? kind : "(missing)");
    if (experiment != NULL && !json_is_null(experiment) &&
        read_string(obj, "experiment", where, NULL, 0, &e->experiment, err) != 0)
        return -1;
    if (read_string(obj, "applied_at", where, NULL, 0, &e->applied_at, err) != 0)
        return -1;

    if (e->kind == FAULT_PAUSE || e->kind == FAULT_WORKER) {
        if (read_integer(obj, "pid", where, 2, 4194304, &number, err) != 0)
            return -1;
        e->pid = (pid_t)number;
        if (read_integer(obj, "start_ticks", where, 0, INT64_MAX, &number, err) != 0)
            return -1;
        e->start_ticks = (unsigned long long)number;
        return 0;
    }
    if (e->kind == FAULT_FILL)
        return parse_fill(obj, where, e, err);
    if (read_string(obj, "api", where, NULL, 0, &e->api, err) != 0 ||
        read_string(obj, "proxy", where, NULL, 0, &e->proxy, err) != 0 ||
        read_string(obj, "toxic", where, NULL, 0, &e->toxic, err) != 0)
        return -1;
    return 0;
}

static int parse_run(json_t *run, struct ledger_run *out, struct err *err)
{
    json_int_t number;

    if (!json_is_object(run))
        return err_set(err, "run is missing or not an object");
    if (read_integer(run, "pid", "run", 1, 4194304, &number, err) != 0)
        return -1;
    out->pid = (pid_t)number;
    if (read_integer(run, "start_ticks", "run", 0, INT64_MAX, &number, err) != 0)
        return -1;
    out->start_ticks = (unsigned long long)number;
    if (read_string(run, "boot_id", "run", out->boot_id, sizeof(out->boot_id), NULL, err) != 0 ||
        read_string(run, "host", "run", out->host, sizeof(out->host), NULL, err) != 0 ||
        read_string(run, "started_at", "run", out->started_at, sizeof(out->started_at), NULL,
                    err) != 0)
        return -1;
    return 0;
}

int ledger_file_parse(const char *text, size_t len, struct ledger_file *out, struct err *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *faults, *value;
    const char *format;
    size_t i;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (doc == NULL)
        return err_set(err, "not valid JSON: %s at line %d", jerr.text, jerr.line);
    format = json_string_value(json_object_get(doc, "format"));
    if (format == NULL || strcmp(format, LEDGER_FORMAT_NAME) != 0) {
        err_set(err, "format is not '%s'", LEDGER_FORMAT_NAME);
        goto cleanup;
    }
    if (json_integer_value(json_object_get(doc, "version")) != LEDGER_FORMAT_VERSION) {
        err_set(err, "version is not %d: written by another version of aftershock",
                LEDGER_FORMAT_VERSION);
        goto cleanup;
    }
    if (parse_run(json_object_get(doc, "run"), &out->run, err) != 0)
        goto cleanup;
    faults = json_object_get(doc, "faults");
    if (!json_is_array(faults)) {
        err_set(err, "faults is missing or not a list");
        goto cleanup;
    }
    out->entries = calloc(json_array_size(faults) + 1, sizeof(*out->entries));
    if (out->entries == NULL)
        abort();
    json_array_foreach(faults, i, value) {
        char where[32];
        snprintf(where, sizeof(where), "faults[%zu]", i);
        out->count++;
        if (parse_entry(value, where, &out->entries[i], err) != 0)
            goto cleanup;
        for (size_t j = 0; j < i; j++) {
            if (out->entries[j].id == out->entries[i].id) {
                err_set(err, "%s.id %ld is used twice", where, out->entries[i].id);
                goto cleanup;
            }
        }
    }
    rc = 0;

cleanup:
    json_decref(doc);
    if (rc != 0)
        ledger_file_release(out);
    return rc;
}

int ledger_file_load(const char *path, struct ledger_file *out, struct err *err)
{
    struct err inner;
    size_t len;
    char *text = fs_read_file(path, LEDGER_FILE_MAX, &len, &inner);

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return err_set(err, "cannot read ledger file: %s", inner.msg);
    if (ledger_file_parse(text, len, out, &inner) != 0) {
        free(text);
        return err_set(err, "ledger file '%s' is not valid: %s", path, inner.msg);
    }
    free(text);
    out->path = copy_or_null(path);
    return 0;
}

int ledger_file_save(const struct ledger_file *file, struct err *err)
{
    char *text;
    int rc;

    if (file->count == 0) {
        if (unlink(file->path) != 0 && errno != ENOENT)
            return err_set_errno(err, errno, "cannot remove ledger file '%s'", file->path);
        return 0;
    }
    text = ledger_file_format(file);
    rc = fs_write_atomic(file->path, text, strlen(text), err);
    free(text);
    return rc;
}

static void entry_free(struct fault_entry *e)
{
    free(e->experiment);
    free(e->applied_at);
    free(e->api);
    free(e->proxy);
    free(e->toxic);
    free(e->folder);
    free(e->file);
}

void ledger_file_drop(struct ledger_file *file, size_t i)
{
    entry_free(&file->entries[i]);
    memmove(&file->entries[i], &file->entries[i + 1],
            sizeof(*file->entries) * (file->count - i - 1));
    file->count--;
}

void ledger_file_release(struct ledger_file *file)
{
    for (size_t i = 0; i < file->count; i++)
        entry_free(&file->entries[i]);
    free(file->entries);
    free(file->path);
    memset(file, 0, sizeof(*file));
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ledger_list(const char *dir, char ***paths, struct err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    *paths = NULL;
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        return err_set_errno(err, errno, "cannot read the ledger folder '%s'", dir);
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct strbuf sb = STRBUF_INIT;
        char **grown;

        if (strncmp(de->d_name, "run-", 4) != 0 || len < 9 ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        grown = realloc(*paths, sizeof(char *) * (size_t)(n + 1));
        if (grown == NULL)
            abort();
        *paths = grown;
        strbuf_addf(&sb, "%s/%s", dir, de->d_name);
        (*paths)[n++] = strbuf_detach(&sb);
    }
    closedir(d);
    if (n > 1)
        qsort(*paths, (size_t)n, sizeof(char *), compare_paths);
    return n;
}

int ledger_find_faults(const char *dir, struct ledger_file *found,
                       enum ledger_liveness *liveness, struct err *err)
{
    char **paths;
    int n = ledger_list(dir, &paths, err);
    int rc = 0;

    memset(found, 0, sizeof(*found));
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && ledger_file_load(paths[i], found, err) != 0)
            rc = -1;
        else if (rc == 0 && found->count == 0)
            ledger_file_release(found);
        else if (rc == 0)
            rc = 1;
        free(paths[i]);
    }
    free(paths);
    if (rc == 1)
        *liveness = ledger_run_liveness(&found->run);
    return rc;
}

void ledger_remove_stale_temp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        unsigned long long recorded, ticks;
        int pid, used = 0;
        char path[4096];

        /* fs_write_atomic names them .NAME.tmp.XXXXXX. */
        if (sscanf(de->d_name, ".run-%d-%llu.json.tmp.%n", &pid, &recorded, &used) != 2 ||
            used == 0)
            continue;
        if (ledger_process_start(pid, &ticks, NULL) == 0 && ticks == recorded)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) == 0)
            log_info("ledger", "removed a temporary file of a run that is gone file=%s", path);
    }
    closedir(d);
}
