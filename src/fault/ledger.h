/* The fault ledger: one state file per run that lists every fault applied and not yet
 * undone, written before each fault is applied, so `aftershock rollback` can undo what a
 * killed run left. */
#ifndef AFTERSHOCK_FAULT_LEDGER_H
#define AFTERSHOCK_FAULT_LEDGER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

#define LEDGER_DEFAULT_DIR "reports/.ledger"
#define LEDGER_ENV_DIR "AFTERSHOCK_LEDGER_DIR"
#define LEDGER_FORMAT_NAME "aftershock-fault-ledger"
#define LEDGER_FORMAT_VERSION 1
/* Largest ledger file read; a run with this many faults is far beyond any experiment. */
#define LEDGER_FILE_MAX (4 * 1024 * 1024)

/* Kinds of fault. */
enum fault_kind {
    FAULT_PAUSE,  /* a process stopped with SIGSTOP; undone with SIGCONT */
    FAULT_TOXIC,  /* a toxic on a proxy; undone with DELETE through the API */
    FAULT_WORKER, /* a stress worker process; undone with SIGKILL */
    FAULT_FILL,   /* a fill file; undone by removing it */
};

/* One fault. Strings are owned by the entry; fields of the other kind are 0 or NULL. */
struct fault_entry {
    long id;                          /* unique within its run, from 1 */
    enum fault_kind kind;
    char *experiment;                 /* experiment file the fault came from; may be NULL */
    char *applied_at;                 /* ISO 8601 UTC time it was recorded, just before applying */
    pid_t pid;                        /* pause, worker: the process */
    unsigned long long start_ticks;   /* pause, worker: its start time, /proc/PID/stat field 22 */
    char *api;                        /* toxic: API URL */
    char *proxy;                      /* toxic: proxy name */
    char *toxic;                      /* toxic: toxic name */
    char *folder;                     /* fill: absolute folder the file is confined to */
    char *file;                       /* fill: path of the file relative to folder */
    unsigned long long dev, ino;      /* fill: device and inode once created; 0 before */
};

/* Identity of a run: a pid is only the same process when the boot and the
 * start time match too, because pids are reused. */
struct ledger_run {
    pid_t pid;
    unsigned long long start_ticks;   /* /proc/PID/stat field 22, clock ticks after boot */
    char boot_id[64];                 /* /proc/sys/kernel/random/boot_id */
    char host[256];
    char started_at[40];              /* ISO 8601 UTC */
};

/* One ledger file in memory. Invariant: entries[0..count) are in the order
 * they were recorded and their ids are unique. */
struct ledger_file {
    char *path;
    struct ledger_run run;
    struct fault_entry *entries;
    size_t count;
};

struct store;

/* The ledger of the running process. Every change rewrites its file
 * atomically (or its row in the history store, when store is set); the
 * file or row is removed whenever no fault is left. Safe to use from
 * several threads; lock guards file, store and next_id. */
struct fault_ledger {
    pthread_mutex_t lock;
    struct ledger_file file;
    char *dir;
    struct store *store; /* owned; NULL keeps the ledger in state files under dir */
    char *experiment;   /* recorded with new entries; may be NULL */
    long next_id;
    json_t *journal;    /* every fault recorded since the last fault_ledger_take_journal */
};

/* Whether the run that owns a ledger file still runs. */
enum ledger_liveness {
    LEDGER_RUN_ALIVE,
    LEDGER_RUN_GONE,
    LEDGER_RUN_ELSEWHERE, /* recorded on another host, so it cannot be checked from here */
};

/* Returns the ledger folder: option when set, else $AFTERSHOCK_LEDGER_DIR, else the default. */
const char *ledger_dir(const char *option);

/* Reads the start time (field 22) and state letter of a process from
 * /proc/PID/stat. Returns 0, or -1 when the process does not exist or the
 * file cannot be parsed. state may be NULL. */
int ledger_process_start(pid_t pid, unsigned long long *start_ticks, char *state);

/* Reads this boot's id from /proc/sys/kernel/random/boot_id, or "unknown"
 * where /proc does not provide one. */
void ledger_boot_id(char *out, size_t size);

/* Fills the identity of the calling process. Returns 0 or -1 with err set. */
int ledger_run_self(struct ledger_run *run, struct err *err);

/* Checks whether the run still runs: same host, same boot, the pid alive
 * (not a zombie) with the recorded start time. */
enum ledger_liveness ledger_run_liveness(const struct ledger_run *run);

/* The name of a run's file inside the ledger folder (caller frees):
 * run-PID-STARTTICKS.json. */
char *ledger_file_name(const struct ledger_run *run);

/* Parses a ledger file's text. Returns 0, or -1 with err saying which field
 * is wrong. out->path is left NULL. */
int ledger_file_parse(const char *text, size_t len, struct ledger_file *out, struct err *err);

/* Formats one entry as in ledger files (new reference). */
json_t *ledger_entry_to_json(const struct fault_entry *e);

/* Sets the fields of entry e that belong to its kind on the JSON object obj. */
void ledger_entry_fields(json_t *obj, const struct fault_entry *e);

/* Formats a ledger file as JSON text (caller frees). */
char *ledger_file_format(const struct ledger_file *file);

/* Reads and parses path. Returns 0, or -1 with err naming the file. */
int ledger_file_load(const char *path, struct ledger_file *out, struct err *err);

/* Writes the file atomically, or removes it when it has no entry. Returns 0 or -1. */
int ledger_file_save(const struct ledger_file *file, struct err *err);

/* Removes entry i and frees its strings. */
void ledger_file_drop(struct ledger_file *file, size_t i);

void ledger_file_release(struct ledger_file *file);

/* Lists the run files (run-*.json) in dir, sorted, as full paths. A folder
 * that does not exist is empty. Returns the count, or -1 with err set. The
 * caller frees each path and the array. */
int ledger_list(const char *dir, char ***paths, struct err *err);

/* Looks for a run file in dir that still contains faults. Returns 1 and
 * fills found (the caller releases it) and *liveness for the first one, 0
 * when the ledger is empty, or -1 with err set when the folder cannot be
 * read or a file is not valid. */
int ledger_find_faults(const char *dir, struct ledger_file *found,
                       enum ledger_liveness *liveness, struct err *err);

/* Removes temporary files that atomic writes of runs that are gone left in
 * dir (a run killed during a write leaves one). */
void ledger_remove_stale_temp(const char *dir);

/* Opens the ledger of this process in dir. Nothing is written until the
 * first fault is recorded. Returns 0 or -1 with err set. */
int fault_ledger_open(struct fault_ledger *ledger, const char *dir, struct err *err);

/* Keeps this run's ledger in the history store's ledger table instead of a
 * state file, from now on. Takes ownership of store, which must be at the
 * current schema version and is closed with the ledger. Call it before the
 * first fault is recorded. */
void fault_ledger_use_store(struct fault_ledger *ledger, struct store *store);

/* The key of a run's row in the history store (caller frees):
 * HOST/BOOT_ID/PID-STARTTICKS, unique across hosts and boots. */
char *ledger_run_key(const struct ledger_run *run);

/* Names a run's row in messages (caller frees): "STORE, run KEY". */
char *ledger_store_path(struct store *store, const struct ledger_run *run);

/* Writes a run's ledger to the history store, or deletes its row when it
 * has no fault. Returns 0 or -1 with err set. */
int ledger_store_save(struct store *store, const struct ledger_file *file, struct err *err);

/* Reads every run's ledger from the history store and calls visit once per
 * row. A valid row comes as a parsed file, whose path names the store and
 * the run key, and visit releases it. A row that is not valid comes as NULL
 * with the parse error. Returns the number of rows, or -1 with err set when
 * the store cannot be read. */
int ledger_store_each(struct store *store,
                      void (*visit)(void *arg, struct ledger_file *file, const struct err *invalid),
                      void *arg, struct err *err);

/* Like ledger_find_faults, for the ledger rows of a history store. */
int ledger_find_faults_store(struct store *store, struct ledger_file *found,
                             enum ledger_liveness *liveness, struct err *err);

/* Sets the experiment file recorded with the faults that follow (copied). */
void fault_ledger_set_experiment(struct fault_ledger *ledger, const char *experiment);

/* Records a fault that is about to be applied and writes the file. On success
 * *id names the entry. On failure the entry is not kept and the fault must
 * not be applied. ledger may be NULL (returns 0 with *id 0). */
int fault_ledger_add_pause(struct fault_ledger *ledger, pid_t pid, long *id, struct err *err);
int fault_ledger_add_toxic(struct fault_ledger *ledger, const char *api, const char *proxy,
                           const char *toxic, long *id, struct err *err);
/* A worker is recorded after fork and before it starts its load. */
int fault_ledger_add_worker(struct fault_ledger *ledger, pid_t pid,
                            unsigned long long start_ticks, long *id, struct err *err);
/* A fill file is recorded before it is created; folder must be absolute. */
int fault_ledger_add_fill(struct fault_ledger *ledger, const char *folder, const char *file,
                          long *id, struct err *err);

/* Records the device and inode of a fill file once created, so rollback
 * never removes another file that later took its name. */
void fault_ledger_set_fill_id(struct fault_ledger *ledger, long id, unsigned long long dev,
                              unsigned long long ino);

/* Changes the toxic name of entry id, when the API named the toxic otherwise. */
void fault_ledger_rename_toxic(struct fault_ledger *ledger, long id, const char *toxic);

/* Forgets a fault that was undone and writes the file (or removes it when
 * empty). A failed write is logged: the entry is then undone a second time
 * by rollback, which is harmless. ledger may be NULL. */
void fault_ledger_remove(struct fault_ledger *ledger, long id);
void fault_ledger_remove_toxic(struct fault_ledger *ledger, const char *api, const char *proxy,
                               const char *toxic);
void fault_ledger_remove_kind(struct fault_ledger *ledger, enum fault_kind kind);

/* Returns the faults recorded since the last call, for the run's journal,
 * and starts a new list (new reference; an empty list when ledger is NULL).
 * Each has the fields of its ledger entry and `undone_at`: when it was
 * removed from the ledger, or null when it is still applied. */
json_t *fault_ledger_take_journal(struct fault_ledger *ledger);

/* Returns how many faults are recorded and not undone. */
size_t fault_ledger_count(struct fault_ledger *ledger);

/* Frees the ledger. Its file stays when faults are left in it, so that
 * `aftershock rollback` can undo them. Returns how many were left. */
size_t fault_ledger_close(struct fault_ledger *ledger);

/* Outcome of undoing one entry. */
enum undo_outcome {
    UNDO_DONE,      /* the fault was undone now (or would be, in a dry run) */
    UNDO_GONE,      /* nothing left to undo: the process, toxic or file is gone */
    UNDO_DROPPED,   /* the pid or path now names another process or file, left alone */
    UNDO_FAILED,    /* could not be undone; the entry stays */
};

/* Undoes one entry of a run that is gone, or only describes it when
 * dry_run. Writes one line saying what it did (or would do) to message.
 * Returns the outcome. */
enum undo_outcome ledger_undo(const struct ledger_run *run, const struct fault_entry *entry,
                              bool dry_run, char *message, size_t size);

/* Returns the kind's name in files and output: "pause", "toxic", "stress-worker" or "fill". */
const char *fault_kind_name(enum fault_kind kind);

#endif
