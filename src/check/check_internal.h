/* Private to src/check: the state the checks share and the helpers that fill results. */
#ifndef AFTERSHOCK_CHECK_CHECK_INTERNAL_H
#define AFTERSHOCK_CHECK_CHECK_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "check/check.h"
#include "experiment/problems.h"
#include "util/spawn.h"

/* Seconds a command run by a check may take before it is ended. */
#define CHECK_COMMAND_TIMEOUT 120.0

/* Most problem lines kept per check; the reason still counts them all. */
#define CHECK_MAX_PROBLEMS 200

/* One experiment file. A check that reports a problem in a file marks it,
 * so later checks leave that file out instead of reporting it again. */
struct check_file {
    char *path;        /* absolute */
    char *display;     /* relative to the project root when inside it */
    bool loaded;       /* doc or load_error is set */
    json_t *doc;       /* as written; NULL when it could not be read */
    char *load_error;
    json_t *exec;      /* refs resolved and values substituted, once check 2 succeeded */
    bool invalid;      /* check 1 reported it */
    bool unresolved;   /* check 2 reported it */
    bool bad_path;     /* check 4 reported it */
};

/* The first `deps` run of check 3, started in a thread before the other
 * checks. Invariant: res and err are valid only once joined is set, and
 * started is check_run_self's return value. */
struct check_deps_job {
    pthread_t thread;
    bool running;
    bool joined;
    int started;
    struct spawn_result res;
    struct err err;
};

/* Invariant: files[0..n_files) are distinct absolute paths, sorted within
 * each configured entry. root is the project root without symbolic links. */
struct check_state {
    const struct check_options *opts;
    const struct project_config *cfg;
    char *root;
    struct check_file *files;
    size_t n_files;
    struct string_list unmatched; /* configured entries that matched no file */
    struct check_deps_job deps_job;
};

int check_collect_files(struct check_state *st, struct check_result *result);
void check_state_release(struct check_state *st);

/* Loads f->doc once. Returns 0, or -1 with f->load_error set. */
int check_file_load(struct check_file *f);

/* Returns the path relative to the project root when it is inside it,
 * else the path itself (caller frees). */
char *check_relative(const struct check_state *st, const char *path);

/* Returns the history store location: $AFTERSHOCK_DB, else the configured
 * store, else the default, with a file path made absolute (caller frees). */
char *check_store_location(const struct check_state *st);

/* Returns an absolute path for a configured or default location (caller frees). */
char *check_absolute(const struct check_state *st, const char *path);

void result_pass(struct check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void result_fail(struct check_result *r, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void result_problem(struct check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void result_change(struct check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Moves every problem of list into r. */
void result_take_problems(struct check_result *r, struct problems *list);

/* Runs this binary with args (NULL-terminated) in the project root.
 * Returns 0 with res filled, or -1 with err set when it could not start. */
int check_run_self(const struct check_state *st, const char *const *args,
                   struct spawn_result *res, struct err *err);

void check_experiments(struct check_state *st, struct check_result *r);
void check_references(struct check_state *st, struct check_result *r);
void check_imports(struct check_state *st, struct check_result *r);
/* Starts check 3's first `deps` run in a thread; check_imports uses its result. */
void check_imports_start(struct check_state *st);
/* Waits for the run that check_imports_start began, if any. */
void check_imports_wait(struct check_state *st);
void check_process_paths(struct check_state *st, struct check_result *r);
void check_workflow(struct check_state *st, struct check_result *r);
void check_history_store(struct check_state *st, struct check_result *r);
void check_dry_run(struct check_state *st, struct check_result *r);

#endif
