/* The `stress` provider: CPU workers, memory held, and a fill file, for a duration.
 *
 * Every fault is written to the fault ledger before it takes effect: a
 * worker is recorded after fork and before it starts its load, a fill file
 * before it is created. Whatever happened, every worker is killed and the
 * fill file removed before the provider returns. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiment/activity.h"
#include "fault/ledger.h"
#include "stress/stress.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

/* Seconds a memory worker may take to map and touch its pages. */
#define MEMORY_READY_TIMEOUT 120.0
/* A memory fault may hold at most this share of the machine's memory, so
 * an experiment cannot set off the OOM killer against the service itself. */
#define MEMORY_SHARE_MAX 0.9

/* The load one stress activity applies, read from its provider. */
struct stress_spec {
    double duration;
    long cpu_workers;   /* 0: no CPU load */
    double cpu_load;    /* percent, 1 to 100 */
    uint64_t memory;    /* bytes; 0: none */
    const char *fill_folder; /* NULL: no fill file */
    const char *fill_file;   /* NULL: a generated name */
    uint64_t fill_size;
};

/* Faults applied so far, with their ledger ids, so cleanup undoes exactly them. */
struct stress_state {
    struct stress_worker workers[STRESS_WORKERS_MAX + 1];
    long worker_ids[STRESS_WORKERS_MAX + 1];
    int n_workers;
    struct stress_fill fill;
    long fill_id;
    bool fill_open;
};

static atomic_long fill_counter;

/* Reads a size given as an integer or as text with a unit. */
static int read_size(json_t *value, const char *field, uint64_t *out, struct err *err)
{
    struct err inner;

    if (json_is_integer(value) && json_integer_value(value) > 0) {
        *out = (uint64_t)json_integer_value(value);
        return 0;
    }
    if (json_is_string(value) && stress_parse_size(json_string_value(value), out, &inner) == 0)
        return 0;
    return err_set(err, "stress %s must be a size such as 256MiB", field);
}

static int read_spec(json_t *provider, struct stress_spec *spec, struct err *err)
{
    json_t *cpu = json_object_get(provider, "cpu");
    json_t *memory = json_object_get(provider, "memory");
    json_t *fill = json_object_get(provider, "fill");
    json_t *value;

    memset(spec, 0, sizeof(*spec));
    value = json_object_get(provider, "duration");
    if (!json_is_number(value) || json_number_value(value) <= 0)
        return err_set(err, "stress duration must be a number of seconds greater than 0");
    spec->duration = json_number_value(value);

    if (cpu != NULL) {
        value = json_object_get(cpu, "workers");
        spec->cpu_workers = value == NULL ? 1 : (long)json_integer_value(value);
        value = json_object_get(cpu, "load");
        spec->cpu_load = value == NULL ? 100 : json_number_value(value);
        if (spec->cpu_workers < 1 || spec->cpu_workers > STRESS_WORKERS_MAX ||
            spec->cpu_load < 1 || spec->cpu_load > 100)
            return err_set(err, "stress cpu needs workers from 1 to %d and a load from 1 to 100",
                           STRESS_WORKERS_MAX);
    }
    if (memory != NULL && read_size(memory, "memory", &spec->memory, err) != 0)
        return -1;
    if (fill != NULL) {
        spec->fill_folder = json_string_value(json_object_get(fill, "folder"));
        spec->fill_file = json_string_value(json_object_get(fill, "file"));
        if (spec->fill_folder == NULL)
            return err_set(err, "stress fill needs a folder");
        if (read_size(json_object_get(fill, "size"), "fill size", &spec->fill_size, err) != 0)
            return -1;
    }
    return 0;
}

static int check_memory_share(uint64_t bytes, struct err *err)
{
    long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    double total = (double)pages * (double)page_size;
    char want[32], limit[32];

    if (pages <= 0 || page_size <= 0 || (double)bytes <= total * MEMORY_SHARE_MAX)
        return 0;
    stress_format_size(bytes, want, sizeof(want));
    stress_format_size((uint64_t)(total * MEMORY_SHARE_MAX), limit, sizeof(limit));
    return err_set(err, "stress memory %s is more than %.0f%% of this machine's memory (at most "
                   "%s): choose a smaller size", want, MEMORY_SHARE_MAX * 100, limit);
}

/* Starts one worker: spawned idle, recorded in the ledger, then signalled to start. */
static int start_worker(const struct activity_env *env, struct stress_state *st,
                        enum stress_worker_kind kind, const struct stress_spec *spec,
                        struct err *err)
{
    struct stress_worker *w = &st->workers[st->n_workers];
    long *id = &st->worker_ids[st->n_workers];
    double timeout = kind == STRESS_MEMORY ? MEMORY_READY_TIMEOUT : 30.0;
    /* Time enough to apply the load, then the duration, then the grace. */
    double lifetime = spec->duration + timeout + STRESS_WORKER_GRACE;

    if (stress_worker_spawn(w, kind, spec->cpu_load, spec->memory, lifetime, err) != 0)
        return -1;
    if (fault_ledger_add_worker(env->ledger, w->pid, w->start_ticks, id, err) != 0) {
        stress_worker_stop(w);
        return -1;
    }
    st->n_workers++;
    if (stress_worker_go(w, timeout, env->stop, err) != 0)
        return -1;
    log_info("stress", "worker started kind=%s pid=%d", kind == STRESS_CPU ? "cpu" : "memory",
             (int)w->pid);
    return 0;
}

/* Resolves the fill folder to an absolute path (relative ones start at the
 * experiment's folder), because rollback may run from another folder. */
static char *absolute_folder(const struct activity_env *env, const char *folder, struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    char *resolved;

    if (folder[0] != '/' && env->base_dir != NULL)
        strbuf_addf(&sb, "%s/%s", env->base_dir, folder);
    else
        strbuf_addstr(&sb, folder);
    resolved = realpath(strbuf_str(&sb), NULL);
    if (resolved == NULL)
        err_set_errno(err, errno, "fill folder '%s' cannot be used", strbuf_str(&sb));
    strbuf_release(&sb);
    return resolved;
}

static int start_fill(const struct activity_env *env, struct stress_state *st,
                      const struct stress_spec *spec, json_t *output, struct err *err)
{
    char generated[96];
    const char *file = spec->fill_file;
    char *folder = absolute_folder(env, spec->fill_folder, err);
    bool disk_full = false;
    char size_text[32];
    int rc;

    if (folder == NULL)
        return -1;
    if (file == NULL) {
        snprintf(generated, sizeof(generated), "aftershock-fill-%d-%ld.bin", (int)getpid(),
                 atomic_fetch_add(&fill_counter, 1) + 1);
        file = generated;
    }
    rc = stress_fill_open_folder(&st->fill, folder, file, err);
    free(folder);
    if (rc != 0)
        return -1;
    st->fill_open = true;
    if (fault_ledger_add_fill(env->ledger, st->fill.folder, st->fill.file, &st->fill_id, err) != 0)
        return -1;
    if (stress_fill_create(&st->fill, err) != 0)
        return -1;
    fault_ledger_set_fill_id(env->ledger, st->fill_id, (unsigned long long)st->fill.dev,
                             (unsigned long long)st->fill.ino);
    if (stress_fill_write(&st->fill, spec->fill_size, env->stop, &disk_full, err) != 0)
        return -1;

    stress_format_size(st->fill.written, size_text, sizeof(size_text));
    if (disk_full)
        log_warn("stress",
                 "the disk is full: the fill file reached %s of the requested size path=%s",
                 size_text, st->fill.path);
    else
        log_info("stress", "filled path=%s size=%s", st->fill.path, size_text);
    json_object_set_new(output, "fill", json_pack("{s:s, s:I, s:b}", "path", st->fill.path,
                                                  "bytes", (json_int_t)st->fill.written,
                                                  "disk_full", disk_full));
    return 0;
}

/* Undoes every applied fault and removes it from the ledger. Returns 0, or -1
 * with err set when the fill file could not be removed (it stays in the ledger). */
static int stop_all(const struct activity_env *env, struct stress_state *st, struct err *err)
{
    int rc = 0;

    for (int i = st->n_workers; i-- > 0;) {
        stress_worker_stop(&st->workers[i]);
        fault_ledger_remove(env->ledger, st->worker_ids[i]);
    }
    st->n_workers = 0;
    if (st->fill_open) {
        bool created = st->fill.fd >= 0;
        if (stress_fill_remove(&st->fill, err) != 0)
            rc = -1;
        else
            fault_ledger_remove(env->ledger, st->fill_id);
        if (created && rc == 0)
            log_info("stress", "removed the fill file");
        st->fill_open = false;
    }
    return rc;
}

static int apply_all(const struct activity_env *env, struct stress_state *st,
                     const struct stress_spec *spec, json_t *output, struct err *err)
{
    for (long i = 0; i < spec->cpu_workers; i++) {
        if (start_worker(env, st, STRESS_CPU, spec, err) != 0)
            return -1;
    }
    if (spec->cpu_workers > 0)
        json_object_set_new(output, "cpu", json_pack("{s:i, s:f}", "workers",
                                                      (int)spec->cpu_workers, "load",
                                                      spec->cpu_load));
    if (spec->memory > 0) {
        if (check_memory_share(spec->memory, err) != 0 ||
            start_worker(env, st, STRESS_MEMORY, spec, err) != 0)
            return -1;
        json_object_set_new(output, "memory", json_pack("{s:I, s:i}", "bytes",
                                                        (json_int_t)spec->memory, "pid",
                                                        (int)st->workers[st->n_workers - 1].pid));
    }
    if (spec->fill_folder != NULL && start_fill(env, st, spec, output, err) != 0)
        return -1;
    return 0;
}

int provider_stress_run(const struct activity_env *env, json_t *provider, json_t **output,
                        struct err *err)
{
    struct stress_spec spec;
    struct stress_state *st;
    struct err stop_err;
    double start;
    bool interrupted = false;
    int rc;

    *output = NULL;
    if (read_spec(provider, &spec, err) != 0)
        return -1;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        abort();
    *output = json_pack("{s:f}", "duration", spec.duration);

    rc = apply_all(env, st, &spec, *output, err);
    if (rc == 0) {
        start = time_monotonic();
        interrupted = time_sleep(spec.duration, env->stop) != 0;
        json_object_set_new(*output, "held_for", json_real(time_monotonic() - start));
    }
    if (stop_all(env, st, rc == 0 ? err : &stop_err) != 0 && rc == 0)
        rc = -1;
    free(st);
    if (rc == 0 && interrupted)
        rc = err_set(err, "stress cut short because the method was stopped (interrupted, or "
                     "--fail-fast); its workers were stopped and its fill file removed");
    if (rc != 0) {
        json_decref(*output);
        *output = NULL;
    }
    return rc;
}
