/* Resource faults: CPU and memory workers that die with aftershock, byte sizes, and fill files
 * kept inside one folder. */
#ifndef AFTERSHOCK_STRESS_STRESS_H
#define AFTERSHOCK_STRESS_STRESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* Limits a stress provider accepts. */
#define STRESS_WORKERS_MAX 256
/* Seconds a worker lives past its duration and start-up allowance before it
 * ends by itself, so a worker that lost its parent cannot load the machine
 * for long. */
#define STRESS_WORKER_GRACE 5.0

/* Parses a byte size: a whole number of bytes, or a number (a fraction is
 * allowed) followed by a unit. Units are B, KB, MB, GB, TB (powers of 1000)
 * and KiB, MiB, GiB, TiB (powers of 1024), in any case, with an optional
 * space before them. Examples: 4096, "256MiB", "1.5 GB". The result must be
 * at least 1 byte and at most 2^62. Returns 0, or -1 with err naming the
 * text. */
int stress_parse_size(const char *text, uint64_t *bytes, struct err *err);

/* Formats bytes with a binary unit ("256.0 MiB") for messages. */
void stress_format_size(uint64_t bytes, char *out, size_t size);

enum stress_worker_kind {
    STRESS_CPU,    /* keeps one CPU busy for load percent of each 100 ms period */
    STRESS_MEMORY, /* maps, touches and keeps a number of bytes */
};

/* One worker process. Invariant: while pid > 0 the process is a child of
 * this process that has not been reaped, and control_fd >= 0 is its end of
 * the control socket. */
struct stress_worker {
    pid_t pid;
    unsigned long long start_ticks;  /* /proc/PID/stat field 22 */
    int control_fd;
    enum stress_worker_kind kind;
};

/* Forks a worker that waits, doing nothing, until stress_worker_go. The
 * worker dies with this thread (PR_SET_PDEATHSIG), exits at once when this
 * process is already gone, and exits by itself `lifetime` seconds after it
 * starts. load is a percentage from 1 to 100 (CPU); bytes is what a memory
 * worker holds. Returns 0 or -1 with err set. */
int stress_worker_spawn(struct stress_worker *w, enum stress_worker_kind kind, double load,
                        uint64_t bytes, double lifetime, struct err *err);

/* Tells a spawned worker to start its load and waits until it reports that
 * the load is applied (a memory worker has touched every page), up to
 * timeout seconds or until *stop is set. Returns 0, or -1 with err set. */
int stress_worker_go(struct stress_worker *w, double timeout, volatile sig_atomic_t *stop,
                     struct err *err);

/* Kills the worker with SIGKILL and reaps it. Safe to call twice. */
void stress_worker_stop(struct stress_worker *w);

/* A fill file inside a folder. Invariant: while fd >= 0 the file exists,
 * was created by this process, and dir_fd is the folder that contains it. */
struct stress_fill {
    char *folder;     /* the folder as given */
    char *file;       /* path relative to folder, as given */
    char *path;       /* folder/file, for messages */
    int dir_fd;       /* the folder that contains the file */
    char *name;       /* the last component of file */
    int fd;
    uint64_t written;
    dev_t dev;
    ino_t ino;
};

/* Checks that file is a relative path that stays inside folder: no
 * absolute path, no `..` component, and no symbolic link on the way
 * (checked again when the file is opened). Returns 0 or -1 with err set. */
int stress_fill_check_path(const char *folder, const char *file, struct err *err);

/* Opens the folder that will contain folder/file, walking the path one
 * component at a time without following symbolic links, so the file cannot
 * land outside folder, and checks that the file does not exist yet.
 * Returns 0 or -1 with err set; on failure nothing is left to release. */
int stress_fill_open_folder(struct stress_fill *fill, const char *folder, const char *file,
                            struct err *err);

/* Creates the file that stress_fill_open_folder checked, failing when it
 * appeared since. Returns 0 or -1 with err set. */
int stress_fill_create(struct stress_fill *fill, struct err *err);

/* Writes to the file until it contains bytes, or the disk is full (then
 * *disk_full is set), or *stop is set. Returns 0 or -1 with err set. */
int stress_fill_write(struct stress_fill *fill, uint64_t bytes, volatile sig_atomic_t *stop,
                      bool *disk_full, struct err *err);

/* Removes the file and frees the fill. Returns 0, or -1 with err set when
 * the file cannot be removed. */
int stress_fill_remove(struct stress_fill *fill, struct err *err);

/* Removes folder/file left by a run that is gone, with the same walk as
 * stress_fill_create. When ino is not 0, a file with another device or
 * inode is kept. Returns 0 when removed, 1 when there was no such file, 2
 * when the path now names another file (kept), or -1 with err set. */
int stress_fill_remove_path(const char *folder, const char *file, unsigned long long dev,
                            unsigned long long ino, struct err *err);

#endif
