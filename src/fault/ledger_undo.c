/* Undoing one recorded fault: resuming, deleting a toxic, killing a worker, removing a fill file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fault/ledger.h"
#include "fault/toxic.h"
#include "stress/stress.h"

/* How one kind of process fault is undone and named in messages. */
struct process_undo {
    int signal;
    const char *label;  /* "pid" or "stress worker pid" */
    const char *verb;   /* "resume" or "stop" */
    const char *done;   /* "resumed" or "stopped" */
};

static const struct process_undo resume_pause = { SIGCONT, "pid", "resume", "resumed" };
/* Workers die with their run, so one is rarely left. */
static const struct process_undo stop_worker = { SIGKILL, "stress worker pid", "stop", "stopped" };

/* Signals the process of a pause or stress worker entry. A process from
 * another boot, or a zombie, is gone; a pid with another start time is
 * another process and is not signalled. */
static enum undo_outcome undo_process(const struct ledger_run *run, const struct fault_entry *e,
                                      const struct process_undo *how, bool dry_run,
                                      char *message, size_t size)
{
    unsigned long long ticks;
    char boot_id[64];
    char state;

    ledger_boot_id(boot_id, sizeof(boot_id));
    if (strcmp(boot_id, run->boot_id) != 0 ||
        ledger_process_start(e->pid, &ticks, &state) != 0 || state == 'Z' || state == 'X') {
        snprintf(message, size, "%s %d is gone; nothing to %s", how->label, (int)e->pid,
                 how->verb);
        return UNDO_GONE;
    }
    if (ticks != e->start_ticks) {
        snprintf(message, size, "pid %d now belongs to another process (start time %llu, "
                 "recorded %llu); not signalled", (int)e->pid, ticks, e->start_ticks);
        return UNDO_DROPPED;
    }
    if (dry_run) {
        snprintf(message, size, "would %s %s %d", how->verb, how->label, (int)e->pid);
        return UNDO_DONE;
    }
    if (kill(e->pid, how->signal) != 0) {
        snprintf(message, size, "cannot %s %s %d: %s", how->verb, how->label, (int)e->pid,
                 strerror(errno));
        return errno == ESRCH ? UNDO_GONE : UNDO_FAILED;
    }
    snprintf(message, size, "%s %s %d", how->done, how->label, (int)e->pid);
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
    /* aftershock proxy and Toxiproxy 2.x keep toxics in memory only, so a server that
     * refuses connections took its toxics with it. */
    if (rc == TOXIC_API_REFUSED) {
        snprintf(message, size, "the API at %s refuses connections, so its toxic '%s' is gone",
                 e->api, e->toxic);
        return UNDO_GONE;
    }
    snprintf(message, size, "cannot remove toxic '%s' from proxy '%s': %s", e->toxic, e->proxy,
             err.msg);
    return UNDO_FAILED;
}

static enum undo_outcome undo_fill(const struct fault_entry *e, bool dry_run, char *message,
                                   size_t size)
{
    struct err err;
    int rc;

    if (dry_run) {
        snprintf(message, size, "would remove fill file '%s' in '%s'", e->file, e->folder);
        return UNDO_DONE;
    }
    rc = stress_fill_remove_path(e->folder, e->file, e->dev, e->ino, &err);
    switch (rc) {
    case 0:
        snprintf(message, size, "removed fill file '%s' in '%s'", e->file, e->folder);
        return UNDO_DONE;
    case 1:
        snprintf(message, size, "fill file '%s' in '%s' is already gone", e->file, e->folder);
        return UNDO_GONE;
    case 2:
        snprintf(message, size, "'%s' in '%s' is now another file; not removed", e->file,
                 e->folder);
        return UNDO_DROPPED;
    default:
        break;
    }
    snprintf(message, size, "%s", err.msg);
    return UNDO_FAILED;
}

enum undo_outcome ledger_undo(const struct ledger_run *run, const struct fault_entry *entry,
                              bool dry_run, char *message, size_t size)
{
    switch (entry->kind) {
    case FAULT_PAUSE:
        return undo_process(run, entry, &resume_pause, dry_run, message, size);
    case FAULT_WORKER:
        return undo_process(run, entry, &stop_worker, dry_run, message, size);
    case FAULT_FILL:
        return undo_fill(entry, dry_run, message, size);
    case FAULT_TOXIC:
        break;
    }
    return undo_toxic(entry, dry_run, message, size);
}
