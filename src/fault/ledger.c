/* Fault ledger files: process identity, the JSON format, atomic rewrites, and undoing one entry. */
#include "fault/ledger.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault/toxic.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

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

const char *ledger_dir(const char *option)
{
    const char *env = getenv(LEDGER_ENV_DIR);

    if (option != NULL && option[0] != '\0')
        return option;
    if (env != NULL && env[0] != '\0')
        return env;
    return LEDGER_DEFAULT_DIR;
}

const char *fault_kind_name(enum fault_kind kind)
{
    return kind == FAULT_PAUSE ? "pause" : "toxic";
}

int ledger_process_start(pid_t pid, unsigned long long *start_ticks, char *state)
{
    char path[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;

    if (pid <= 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';

    /* The command name (field 2) may contain spaces and ')', so fields are counted after the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -1;
    p += 2;
    if (state != NULL)
        *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return -1;
        p++;
    }
    *start_ticks = strtoull(p, NULL, 10);
    return 0;
}

static void read_boot_id(char *out, size_t size)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    out[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(out, (int)size, f) == NULL)
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

int ledger_run_self(struct ledger_run *run, struct err *err)
{
    memset(run, 0, sizeof(*run));
    run->pid = getpid();
    if (ledger_process_start(run->pid, &run->start_ticks, NULL) != 0)
        return err_set(err, "cannot read the start time of this process from /proc/%d/stat",
                       (int)run->pid);
    read_boot_id(run->boot_id, sizeof(run->boot_id));
    gethostname(run->host, sizeof(run->host) - 1);
    time_format_iso8601(time_wall(), run->started_at, sizeof(run->started_at));
    return 0;
}

/* True when the recorded process still exists in this boot with the same start time. */
static bool same_process(const char *boot_id, pid_t pid, unsigned long long start_ticks)
{
    char current_boot[64];
    unsigned long long ticks;
    char state;

    read_boot_id(current_boot, sizeof(current_boot));
    if (strcmp(current_boot, boot_id) != 0)
        return false;
    if (ledger_process_start(pid, &ticks, &state) != 0)
        return false;
    return ticks == start_ticks && state != 'Z' && state != 'X';
}

static bool on_this_host(const struct ledger_run *run)
{
    char host[256] = "";

    gethostname(host, sizeof(host) - 1);
    return strcmp(host, run->host) == 0;
}

enum ledger_liveness ledger_run_liveness(const struct ledger_run *run)
{
    if (!on_this_host(run))
        return LEDGER_RUN_ELSEWHERE;
    return same_process(run->boot_id, run->pid, run->start_ticks) ? LEDGER_RUN_ALIVE
                                                                    : LEDGER_RUN_GONE;
}

char *ledger_file_name(const struct ledger_run *run)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_addf(&sb, "run-%d-%llu.json", (int)run->pid, run->start_ticks);
    return strbuf_detach(&sb);
}

/* ---- format ---- */

static json_t *entry_to_json(const struct fault_entry *e)
{
    json_t *obj = json_pack("{s:I, s:s, s:s?, s:s?}", "id", (json_int_t)e->id, "kind",
                            fault_kind_name(e->kind), "experiment", e->experiment, "applied_at",
                            e->applied_at);

    if (e->kind == FAULT_PAUSE) {
        json_object_set_new(obj, "pid", json_integer(e->pid));
        json_object_set_new(obj, "start_ticks", json_integer((json_int_t)e->start_ticks));
    } else {
        json_object_set_new(obj, "api", json_string(e->api));
        json_object_set_new(obj, "proxy", json_string(e->proxy));
        json_object_set_new(obj, "toxic", json_string(e->toxic));
    }
    return obj;
}

char *ledger_file_format(const struct ledger_file *file)
{
    const struct ledger_run *r = &file->run;
    json_t *faults = json_array();
    json_t *doc;
    char *text;

    for (size_t i = 0; i < file->count; i++)
        json_array_append_new(faults, entry_to_json(&file->entries[i]));
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
    if (kind != NULL && strcmp(kind, "pause") == 0)
        e->kind = FAULT_PAUSE;
    else if (kind != NULL && strcmp(kind, "toxic") == 0)
        e->kind = FAULT_TOXIC;
    else
        return err_set(err, "%s.kind '%s' is unknown: expected pause or toxic", where,
                       kind != NULL ? kind : "(missing)");
    if (experiment != NULL && !json_is_null(experiment) &&
        read_string(obj, "experiment", where, NULL, 0, &e->experiment, err) != 0)
        return -1;
    if (read_string(obj, "applied_at", where, NULL, 0, &e->applied_at, err) != 0)
        return -1;

    if (e->kind == FAULT_PAUSE) {
        if (read_integer(obj, "pid", where, 2, 4194304, &number, err) != 0)
            return -1;
        e->pid = (pid_t)number;
        if (read_integer(obj, "start_ticks", where, 0, INT64_MAX, &number, err) != 0)
            return -1;
        e->start_ticks = (unsigned long long)number;
        return 0;
    }
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

/* ---- the ledger of this process ---- */

int fault_ledger_open(struct fault_ledger *ledger, const char *dir, struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    char *name;

    memset(ledger, 0, sizeof(*ledger));
    if (ledger_run_self(&ledger->file.run, err) != 0)
        return -1;
    pthread_mutex_init(&ledger->lock, NULL);
    ledger->dir = copy_or_null(dir);
    name = ledger_file_name(&ledger->file.run);
    strbuf_addf(&sb, "%s/%s", dir, name);
    free(name);
    ledger->file.path = strbuf_detach(&sb);
    ledger->next_id = 1;
    return 0;
}

void fault_ledger_set_experiment(struct fault_ledger *ledger, const char *experiment)
{
    if (ledger == NULL)
        return;
    pthread_mutex_lock(&ledger->lock);
    free(ledger->experiment);
    ledger->experiment = copy_or_null(experiment);
    pthread_mutex_unlock(&ledger->lock);
}

/* Appends entry (taking its strings) and writes the file; undoes the append on failure. */
static int ledger_append(struct fault_ledger *ledger, struct fault_entry *entry, long *id,
                         struct err *err)
{
    struct ledger_file *file = &ledger->file;
    struct fault_entry *grown;
    char stamp[40];
    struct err inner;
    int rc = 0;

    time_format_iso8601(time_wall(), stamp, sizeof(stamp));
    pthread_mutex_lock(&ledger->lock);
    entry->id = ledger->next_id++;
    entry->experiment = copy_or_null(ledger->experiment);
    entry->applied_at = copy_or_null(stamp);
    grown = realloc(file->entries, sizeof(*grown) * (file->count + 1));
    if (grown == NULL)
        abort();
    file->entries = grown;
    file->entries[file->count++] = *entry;
    if (fs_mkdirs(ledger->dir, &inner) != 0 || ledger_file_save(file, &inner) != 0) {
        ledger_file_drop(file, file->count - 1);
        rc = err_set(err, "cannot record the fault in the ledger, so it was not applied: %s",
                     inner.msg);
    } else {
        *id = entry->id;
    }
    pthread_mutex_unlock(&ledger->lock);
    return rc;
}

int fault_ledger_add_pause(struct fault_ledger *ledger, pid_t pid, long *id, struct err *err)
{
    struct fault_entry entry;

    *id = 0;
    if (ledger == NULL)
        return 0;
    memset(&entry, 0, sizeof(entry));
    entry.kind = FAULT_PAUSE;
    entry.pid = pid;
    if (ledger_process_start(pid, &entry.start_ticks, NULL) != 0)
        return err_set(err, "cannot pause pid %d: no such process", (int)pid);
    return ledger_append(ledger, &entry, id, err);
}

int fault_ledger_add_toxic(struct fault_ledger *ledger, const char *api, const char *proxy,
                           const char *toxic, long *id, struct err *err)
{
    struct fault_entry entry;

    *id = 0;
    if (ledger == NULL)
        return 0;
    memset(&entry, 0, sizeof(entry));
    entry.kind = FAULT_TOXIC;
    entry.api = copy_or_null(api);
    entry.proxy = copy_or_null(proxy);
    entry.toxic = copy_or_null(toxic);
    return ledger_append(ledger, &entry, id, err);
}

/* Writes the file after a change; called with the lock held. */
static void ledger_rewrite(struct fault_ledger *ledger)
{
    struct err err;

    if (ledger_file_save(&ledger->file, &err) != 0)
        log_error("ledger", "%s; rollback will undo those faults again, which is harmless",
                  err.msg);
}

void fault_ledger_rename_toxic(struct fault_ledger *ledger, long id, const char *toxic)
{
    if (ledger == NULL)
        return;
    pthread_mutex_lock(&ledger->lock);
    for (size_t i = 0; i < ledger->file.count; i++) {
        struct fault_entry *e = &ledger->file.entries[i];
        if (e->id == id && strcmp(e->toxic, toxic) != 0) {
            free(e->toxic);
            e->toxic = copy_or_null(toxic);
            ledger_rewrite(ledger);
        }
    }
    pthread_mutex_unlock(&ledger->lock);
}

/* Drops every entry match accepts and rewrites the file once when any was dropped. */
static void ledger_remove_matching(struct fault_ledger *ledger,
                                   bool (*match)(const struct fault_entry *, const void *),
                                   const void *arg, bool first_only)
{
    bool changed = false;

    if (ledger == NULL)
        return;
    pthread_mutex_lock(&ledger->lock);
    for (size_t i = ledger->file.count; i-- > 0;) {
        if (!match(&ledger->file.entries[i], arg))
            continue;
        ledger_file_drop(&ledger->file, i);
        changed = true;
        if (first_only)
            break;
    }
    if (changed)
        ledger_rewrite(ledger);
    pthread_mutex_unlock(&ledger->lock);
}

static bool match_id(const struct fault_entry *e, const void *arg)
{
    return e->id == *(const long *)arg;
}

static bool match_kind(const struct fault_entry *e, const void *arg)
{
    return e->kind == *(const enum fault_kind *)arg;
}

static bool match_toxic(const struct fault_entry *e, const void *arg)
{
    const struct fault_entry *want = arg;

    return e->kind == FAULT_TOXIC && strcmp(e->api, want->api) == 0 &&
           strcmp(e->proxy, want->proxy) == 0 && strcmp(e->toxic, want->toxic) == 0;
}

void fault_ledger_remove(struct fault_ledger *ledger, long id)
{
    if (id > 0)
        ledger_remove_matching(ledger, match_id, &id, true);
}

void fault_ledger_remove_toxic(struct fault_ledger *ledger, const char *api, const char *proxy,
                               const char *toxic)
{
    struct fault_entry want = { .api = (char *)api, .proxy = (char *)proxy,
                                .toxic = (char *)toxic };

    ledger_remove_matching(ledger, match_toxic, &want, true);
}

void fault_ledger_remove_kind(struct fault_ledger *ledger, enum fault_kind kind)
{
    ledger_remove_matching(ledger, match_kind, &kind, false);
}

size_t fault_ledger_count(struct fault_ledger *ledger)
{
    size_t count;

    pthread_mutex_lock(&ledger->lock);
    count = ledger->file.count;
    pthread_mutex_unlock(&ledger->lock);
    return count;
}

size_t fault_ledger_close(struct fault_ledger *ledger)
{
    size_t left = ledger->file.count;

    if (left > 0)
        log_error("ledger", "faults are left in the ledger count=%zu file=%s; undo them with "
                  "'aftershock rollback'", left, ledger->file.path);
    ledger_file_release(&ledger->file);
    free(ledger->dir);
    free(ledger->experiment);
    pthread_mutex_destroy(&ledger->lock);
    memset(ledger, 0, sizeof(*ledger));
    return left;
}

/* ---- undo ---- */

static enum undo_outcome undo_pause(const struct ledger_run *run, const struct fault_entry *e,
                                    bool dry_run, char *message, size_t size)
{
    unsigned long long ticks;
    char boot_id[64];

    read_boot_id(boot_id, sizeof(boot_id));
    if (strcmp(boot_id, run->boot_id) != 0 || ledger_process_start(e->pid, &ticks, NULL) != 0) {
        snprintf(message, size, "pid %d is gone; nothing to resume", (int)e->pid);
        return UNDO_GONE;
    }
    if (ticks != e->start_ticks) {
        snprintf(message, size, "pid %d now belongs to another process (start time %llu, "
                 "recorded %llu); not signalled", (int)e->pid, ticks, e->start_ticks);
        return UNDO_DROPPED;
    }
    if (dry_run) {
        snprintf(message, size, "would resume pid %d", (int)e->pid);
        return UNDO_DONE;
    }
    if (kill(e->pid, SIGCONT) != 0) {
        snprintf(message, size, "cannot resume pid %d: %s", (int)e->pid, strerror(errno));
        return errno == ESRCH ? UNDO_GONE : UNDO_FAILED;
    }
    snprintf(message, size, "resumed pid %d", (int)e->pid);
    return UNDO_DONE;
}

static enum undo_outcome undo_toxic(const struct fault_entry *e, bool dry_run, char *message,
                                    size_t size)
{
    struct err err;
    int rc;

    if (dry_run) {
        snprintf(message, size, "would remove toxic '%s' from proxy '%s' at %s", e->toxic,
                 e->proxy, e->api);
        return UNDO_DONE;
    }
    rc = toxic_api_remove(e->api, e->proxy, e->toxic, NULL, &err);
    if (rc == 0) {
        snprintf(message, size, "removed toxic '%s' from proxy '%s' at %s", e->toxic, e->proxy,
                 e->api);
        return UNDO_DONE;
    }
    if (rc == 1) {
        snprintf(message, size, "toxic '%s' or proxy '%s' at %s is already gone", e->toxic,
                 e->proxy, e->api);
        return UNDO_GONE;
    }
    /* Toxiproxy and aftershock proxy keep toxics in memory only: a server that refuses
     * connections took its toxics with it. */
    if (rc == TOXIC_API_REFUSED) {
        snprintf(message, size, "the API at %s refuses connections, so its toxic '%s' is gone",
                 e->api, e->toxic);
        return UNDO_GONE;
    }
    snprintf(message, size, "cannot remove toxic '%s' from proxy '%s': %s", e->toxic, e->proxy,
             err.msg);
    return UNDO_FAILED;
}

enum undo_outcome ledger_undo(const struct ledger_run *run, const struct fault_entry *entry,
                              bool dry_run, char *message, size_t size)
{
    if (entry->kind == FAULT_PAUSE)
        return undo_pause(run, entry, dry_run, message, size);
    return undo_toxic(entry, dry_run, message, size);
}
