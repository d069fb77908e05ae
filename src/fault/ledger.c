/* The fault ledger of a run and process identity checks. */
#include "fault/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
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

    /* The command name (field 2) may contain spaces and ')', so fields are counted after
     * the last ')'. */
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

/* Reads the boot id, or "unknown" where /proc does not provide one, so a
 * ledger file always has a non-empty value. */
static void read_boot_id(char *out, size_t size)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    out[0] = '\0';
    if (f != NULL) {
        if (fgets(out, (int)size, f) == NULL)
            out[0] = '\0';
        fclose(f);
        out[strcspn(out, "\n")] = '\0';
    }
    if (out[0] == '\0')
        snprintf(out, size, "unknown");
}

void ledger_boot_id(char *out, size_t size)
{
    read_boot_id(out, size);
}

static void read_host(char *out, size_t size)
{
    out[0] = '\0';
    if (gethostname(out, size - 1) != 0 || out[0] == '\0')
        snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}

int ledger_run_self(struct ledger_run *run, struct err *err)
{
    memset(run, 0, sizeof(*run));
    run->pid = getpid();
    if (ledger_process_start(run->pid, &run->start_ticks, NULL) != 0)
        return err_set(err, "cannot read the start time of this process from /proc/%d/stat",
                       (int)run->pid);
    read_boot_id(run->boot_id, sizeof(run->boot_id));
    read_host(run->host, sizeof(run->host));
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
    char host[256];

    read_host(host, sizeof(host));
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
    ledger->journal = json_array();
    return 0;
}

void fault_ledger_use_store(struct fault_ledger *ledger, struct store *store)
{
    pthread_mutex_lock(&ledger->lock);
    ledger->store = store;
    free(ledger->file.path);
    ledger->file.path = ledger_store_path(store, &ledger->file.run);
    pthread_mutex_unlock(&ledger->lock);
}

/* Writes the ledger to its store row or its state file. The caller holds the lock. */
static int ledger_save(struct fault_ledger *ledger, struct err *err)
{
    if (ledger->store != NULL)
        return ledger_store_save(ledger->store, &ledger->file, err);
    if (fs_mkdirs(ledger->dir, err) != 0)
        return -1;
    return ledger_file_save(&ledger->file, err);
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

/* Appends entry, taking its strings, and writes the file. A failed write undoes the append. */
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
    if (ledger_save(ledger, &inner) != 0) {
        ledger_file_drop(file, file->count - 1);
        rc = err_set(err, "cannot record the fault in the ledger, so it was not applied: %s",
                     inner.msg);
    } else {
        json_t *record = ledger_entry_to_json(entry);
        json_object_set_new(record, "undone_at", json_null());
        json_array_append_new(ledger->journal, record);
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

int fault_ledger_add_worker(struct fault_ledger *ledger, pid_t pid,
                            unsigned long long start_ticks, long *id, struct err *err)
{
    struct fault_entry entry;

    *id = 0;
    if (ledger == NULL)
        return 0;
    memset(&entry, 0, sizeof(entry));
    entry.kind = FAULT_WORKER;
    entry.pid = pid;
    entry.start_ticks = start_ticks;
    return ledger_append(ledger, &entry, id, err);
}

int fault_ledger_add_fill(struct fault_ledger *ledger, const char *folder, const char *file,
                          long *id, struct err *err)
{
    struct fault_entry entry;

    *id = 0;
    if (ledger == NULL)
        return 0;
    memset(&entry, 0, sizeof(entry));
    entry.kind = FAULT_FILL;
    entry.folder = copy_or_null(folder);
    entry.file = copy_or_null(file);
    return ledger_append(ledger, &entry, id, err);
}

/* Returns the journal record of entry id, or NULL. The caller holds the lock. */
static json_t *journal_record(struct fault_ledger *ledger, long id)
{
    size_t i;
    json_t *record;

    json_array_foreach(ledger->journal, i, record) {
        if (json_integer_value(json_object_get(record, "id")) == id)
            return record;
    }
    return NULL;
}

/* Copies an entry's changed fields to its journal record. The caller holds the lock. */
static void journal_refresh(struct fault_ledger *ledger, const struct fault_entry *e)
{
    json_t *record = journal_record(ledger, e->id);
    json_t *fields;

    if (record == NULL)
        return;
    fields = ledger_entry_to_json(e);
    json_object_update(record, fields);
    json_decref(fields);
}

/* Writes the file after a change. The caller holds the lock. */
static void ledger_rewrite(struct fault_ledger *ledger)
{
    struct err err;

    if (ledger_save(ledger, &err) != 0)
        log_error("ledger", "cannot update the ledger file, so rollback may undo faults a second "
                  "time, which is harmless error=\"%s\"", err.msg);
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
            journal_refresh(ledger, e);
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
    char stamp[40];

    if (ledger == NULL)
        return;
    time_format_iso8601(time_wall(), stamp, sizeof(stamp));
    pthread_mutex_lock(&ledger->lock);
    for (size_t i = ledger->file.count; i-- > 0;) {
        json_t *record;

        if (!match(&ledger->file.entries[i], arg))
            continue;
        record = journal_record(ledger, ledger->file.entries[i].id);
        if (record != NULL)
            json_object_set_new(record, "undone_at", json_string(stamp));
        ledger_file_drop(&ledger->file, i);
        changed = true;
        if (first_only)
            break;
    }
    if (changed)
        ledger_rewrite(ledger);
    pthread_mutex_unlock(&ledger->lock);
}

void fault_ledger_set_fill_id(struct fault_ledger *ledger, long id, unsigned long long dev,
                              unsigned long long ino)
{
    if (ledger == NULL)
        return;
    pthread_mutex_lock(&ledger->lock);
    for (size_t i = 0; i < ledger->file.count; i++) {
        struct fault_entry *e = &ledger->file.entries[i];
        if (e->id == id && e->kind == FAULT_FILL) {
            e->dev = dev;
            e->ino = ino;
            journal_refresh(ledger, e);
            ledger_rewrite(ledger);
        }
    }
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

json_t *fault_ledger_take_journal(struct fault_ledger *ledger)
{
    json_t *taken;

    if (ledger == NULL)
        return json_array();
    pthread_mutex_lock(&ledger->lock);
    taken = ledger->journal;
    ledger->journal = json_array();
    pthread_mutex_unlock(&ledger->lock);
    return taken;
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
        log_error("ledger", "faults were not undone and stay in the ledger, so undo them with "
                  "'aftershock rollback' count=%zu file=%s", left, ledger->file.path);
    ledger_file_release(&ledger->file);
    if (ledger->store != NULL)
        store_close(ledger->store);
    free(ledger->dir);
    free(ledger->experiment);
    json_decref(ledger->journal);
    pthread_mutex_destroy(&ledger->lock);
    memset(ledger, 0, sizeof(*ledger));
    return left;
}
