/* Recording a run journal: its outcome, classified failures and activity
 * results, with the commit, branch and CI job of the environment. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"
#include "util/spawn.h"
#include "util/strbuf.h"

/* Growing arrays of a run being built; every string they point at is owned
 * by the journal or by `owned`. */
struct run_builder {
    struct store_failure *failures;
    size_t n_failures;
    struct store_activity *activities;
    size_t n_activities;
    char **owned;
    size_t n_owned;
};

static void *grow(void *array, size_t n, size_t item)
{
    void *grown = realloc(array, (n + 1) * item);

    if (grown == NULL)
        abort();
    return grown;
}

static const char *keep(struct run_builder *b, char *text)
{
    b->owned = grow(b->owned, b->n_owned, sizeof(char *));
    b->owned[b->n_owned++] = text;
    return text;
}

static void builder_release(struct run_builder *b)
{
    for (size_t i = 0; i < b->n_owned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->failures);
    free(b->activities);
}

static void add_failure(struct run_builder *b, const char *category, const char *message,
                        const char *phase, const char *activity)
{
    b->failures = grow(b->failures, b->n_failures, sizeof(*b->failures));
    b->failures[b->n_failures++] = (struct store_failure){
        .category = category, .message = message, .phase = phase, .activity = activity,
    };
}

static double record_time(json_t *record, const char *key)
{
    const char *text = json_string_value(json_object_get(record, key));
    double epoch = 0;
    struct err err;

    if (text == NULL || store_time_parse(text, 0, &epoch, &err) != 0)
        return 0;
    return epoch;
}

static const char *activity_name(json_t *record)
{
    return json_string_value(json_object_get(json_object_get(record, "activity"), "name"));
}

static const char *first_exception(json_t *record)
{
    return json_string_value(json_array_get(json_object_get(record, "exception"), 0));
}

/* Adds the activity records of one phase. */
static void add_activities(struct run_builder *b, json_t *records, const char *phase)
{
    size_t i;
    json_t *record;

    json_array_foreach(records, i, record) {
        json_t *tolerance = json_object_get(record, "tolerance_met");
        json_t *duration = json_object_get(record, "duration");
        b->activities = grow(b->activities, b->n_activities, sizeof(*b->activities));
        b->activities[b->n_activities] = (struct store_activity){
            .phase = phase,
            .position = (int)b->n_activities,
            .name = activity_name(record),
            .type = json_string_value(
                json_object_get(json_object_get(record, "activity"), "type")),
            .status = json_string_value(json_object_get(record, "status")),
            .tolerance_met = json_is_boolean(tolerance) ? json_is_true(tolerance) : -1,
            .started = record_time(record, "start"),
            .duration = json_is_number(duration) ? json_number_value(duration) : NAN,
            .error = first_exception(record),
        };
        b->n_activities++;
    }
}

/* Adds one failure per failed method or rollback activity, classified by its message. */
static void add_activity_failures(struct run_builder *b, json_t *records, const char *phase)
{
    size_t i;
    json_t *record;

    json_array_foreach(records, i, record) {
        const char *status = json_string_value(json_object_get(record, "status"));
        const char *message = first_exception(record);
        if (status == NULL || strcmp(status, "failed") != 0)
            continue;
        if (message == NULL)
            message = "activity failed without an error message";
        add_failure(b, store_classify_failure(message), message, phase, activity_name(record));
    }
}

/* Adds a verdict failure for a steady state check that was not met, naming
 * the first probe that failed or missed its tolerance. */
static void add_verdict(struct run_builder *b, json_t *state, const char *phase,
                        const char *what)
{
    size_t i;
    json_t *probe;
    struct strbuf sb = STRBUF_INIT;
    const char *name = NULL;

    if (!json_is_object(state) || json_is_true(json_object_get(state, "steady_state_met")))
        return;
    strbuf_addf(&sb, "steady state %s", what);
    json_array_foreach(json_object_get(state, "probes"), i, probe) {
        const char *error = first_exception(probe);
        if (error == NULL && !json_is_false(json_object_get(probe, "tolerance_met")))
            continue;
        name = activity_name(probe);
        if (error != NULL)
            strbuf_addf(&sb, ": probe '%s' failed: %s", name ? name : "?", error);
        else
            strbuf_addf(&sb, ": probe '%s' did not meet its tolerance", name ? name : "?");
        break;
    }
    add_failure(b, "verdict", keep(b, strbuf_detach(&sb)), phase, name);
}

static void add_during_verdict(struct run_builder *b, json_t *during)
{
    size_t i;
    json_t *state;

    json_array_foreach(during, i, state) {
        if (!json_is_true(json_object_get(state, "steady_state_met"))) {
            add_verdict(b, state, "during", "deviated during the method");
            return;
        }
    }
}

int store_check_journal(json_t *journal, const char *journal_path, struct err *err)
{
    const char *name = journal_path ? journal_path : "(unnamed)";
    const char *status = json_string_value(json_object_get(journal, "status"));
    const char *start = json_string_value(json_object_get(journal, "start"));
    double epoch;

    if (!json_is_object(journal))
        return err_set(err, "journal '%s' is not a JSON object", name);
    const char *title =
        json_string_value(json_object_get(json_object_get(journal, "experiment"), "title"));
    if (title == NULL || title[0] == '\0')
        return err_set(err, "journal '%s' has no experiment.title", name);
    if (status == NULL || (strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0 &&
                           strcmp(status, "interrupted") != 0 && strcmp(status, "aborted") != 0))
        return err_set(err, "journal '%s' has no valid status: expected completed, failed, "
                       "interrupted or aborted", name);
    if (start == NULL || store_time_parse(start, 0, &epoch, err) != 0 || epoch <= 0)
        return err_set(err, "journal '%s' has no valid start time", name);
    return 0;
}

/* Fills run and b from a checked journal; run points into b and the journal. */
static void build_run(json_t *journal, const char *experiment_file, const char *journal_path,
                      const struct store_context *ctx, struct run_builder *b,
                      struct store_run *run)
{
    json_t *states = json_object_get(journal, "steady_states");
    json_t *duration = json_object_get(journal, "duration");

    *run = (struct store_run){
        .experiment = json_string_value(
            json_object_get(json_object_get(journal, "experiment"), "title")),
        .experiment_file = experiment_file,
        .journal_path = journal_path,
        .status = json_string_value(json_object_get(journal, "status")),
        .deviated = json_is_true(json_object_get(journal, "deviated")),
        .started = record_time(journal, "start"),
        .duration = json_is_number(duration) ? json_number_value(duration) : 0,
        .commit = ctx ? ctx->commit : NULL,
        .branch = ctx ? ctx->branch : NULL,
        .ci_job = ctx ? ctx->ci_job : NULL,
        .ci_run = ctx ? ctx->ci_run : NULL,
        .heal_session = ctx ? ctx->heal_session : NULL,
        .heal_attempt = ctx && ctx->heal_attempt > 0 ? ctx->heal_attempt : 1,
    };

    add_activities(b, json_object_get(json_object_get(states, "before"), "probes"), "before");
    for (size_t i = 0; i < json_array_size(json_object_get(states, "during")); i++)
        add_activities(b, json_object_get(json_array_get(json_object_get(states, "during"), i),
                                           "probes"), "during");
    add_activities(b, json_object_get(journal, "run"), "method");
    add_activities(b, json_object_get(json_object_get(states, "after"), "probes"), "after");
    add_activities(b, json_object_get(journal, "rollbacks"), "rollback");

    add_verdict(b, json_object_get(states, "before"), "before", "not met before the method");
    add_during_verdict(b, json_object_get(states, "during"));
    add_verdict(b, json_object_get(states, "after"), "after", "deviated after the method");
    add_activity_failures(b, json_object_get(journal, "run"), "method");
    add_activity_failures(b, json_object_get(journal, "rollbacks"), "rollback");

    run->failures = b->failures;
    run->n_failures = b->n_failures;
    run->activities = b->activities;
    run->n_activities = b->n_activities;
}

int store_record_journal(struct store *store, json_t *journal, const char *experiment_file,
                         const char *journal_path, const struct store_context *ctx,
                         int64_t *run_id, struct err *err)
{
    struct run_builder b = { 0 };
    struct store_run run;
    int rc;

    if (store_check_journal(journal, journal_path, err) != 0)
        return -1;
    build_run(journal, experiment_file, journal_path, ctx, &b, &run);
    rc = store_record_run(store, &run, run_id, err);
    builder_release(&b);
    return rc;
}

int store_record_journals(struct store *store, json_t *const *journals,
                          const char *const *journal_paths, size_t n,
                          const struct store_context *ctx, struct err *err)
{
    struct run_builder *builders = calloc(STORE_BATCH_RUNS, sizeof(*builders));
    struct store_run *runs = calloc(STORE_BATCH_RUNS, sizeof(*runs));
    int rc = 0;

    if (builders == NULL || runs == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (store_check_journal(journals[i], journal_paths[i], err) != 0) {
            rc = -1;
            goto cleanup;
        }
    }
    for (size_t done = 0; done < n && rc == 0;) {
        size_t chunk = n - done < STORE_BATCH_RUNS ? n - done : STORE_BATCH_RUNS;
        for (size_t k = 0; k < chunk; k++)
            build_run(journals[done + k], NULL, journal_paths[done + k], ctx, &builders[k],
                      &runs[k]);
        rc = store_record_runs(store, runs, chunk, err);
        for (size_t k = 0; k < chunk; k++) {
            builder_release(&builders[k]);
            memset(&builders[k], 0, sizeof(builders[k]));
        }
        done += chunk;
    }

cleanup:
    free(builders);
    free(runs);
    return rc;
}

/* Returns a copy of the variable's value, or NULL when it is unset or empty. */
static char *env_copy(const char *name)
{
    const char *value = getenv(name);

    return value != NULL && value[0] != '\0' ? strdup(value) : NULL;
}

/* Runs git with args and returns its first output line, or NULL. */
static char *git_output(char *const *argv)
{
    struct spawn_opts opts = { .argv = argv, .timeout = 2.0, .capture_max = 4096,
                               .stdin_null = true };
    struct spawn_result res;
    struct err err;
    char *line = NULL;

    if (spawn_run(&opts, &res, &err) != 0)
        return NULL;
    if (res.exit_code == 0 && res.out[0] != '\0') {
        res.out[strcspn(res.out, "\r\n")] = '\0';
        line = strdup(res.out);
    }
    spawn_result_release(&res);
    return line;
}

void store_context_from_env(struct store_context *ctx)
{
    const char *attempt = getenv(STORE_ENV_HEAL_ATTEMPT);

    memset(ctx, 0, sizeof(*ctx));
    if (getenv("GITHUB_SHA") != NULL) {
        ctx->commit = env_copy("GITHUB_SHA");
        ctx->branch = env_copy("GITHUB_REF_NAME");
        ctx->ci_job = env_copy("GITHUB_JOB");
        ctx->ci_run = env_copy("GITHUB_RUN_ID");
    } else if (getenv("CI_COMMIT_SHA") != NULL) {
        ctx->commit = env_copy("CI_COMMIT_SHA");
        ctx->branch = env_copy("CI_COMMIT_REF_NAME");
        ctx->ci_job = env_copy("CI_JOB_ID");
        ctx->ci_run = env_copy("CI_PIPELINE_ID");
    } else {
        char *commit_argv[] = { "git", "rev-parse", "--verify", "-q", "HEAD", NULL };
        char *branch_argv[] = { "git", "rev-parse", "--abbrev-ref", "HEAD", NULL };
        ctx->commit = git_output(commit_argv);
        if (ctx->commit != NULL)
            ctx->branch = git_output(branch_argv);
    }
    ctx->heal_session = env_copy(STORE_ENV_HEAL_SESSION);
    ctx->heal_attempt = attempt != NULL ? atoi(attempt) : 1;
    if (ctx->heal_attempt < 1)
        ctx->heal_attempt = 1;
    log_debug("store", "context commit=%s branch=%s ci_job=%s heal_session=%s",
              ctx->commit ? ctx->commit : "-", ctx->branch ? ctx->branch : "-",
              ctx->ci_job ? ctx->ci_job : "-", ctx->heal_session ? ctx->heal_session : "-");
}

void store_context_release(struct store_context *ctx)
{
    free(ctx->commit);
    free(ctx->branch);
    free(ctx->ci_job);
    free(ctx->ci_run);
    free(ctx->heal_session);
    memset(ctx, 0, sizeof(*ctx));
}

int store_recorder_record(struct store_recorder *rec, json_t *journal,
                          const char *experiment_file, const char *journal_path,
                          struct err *err)
{
    if (rec->open_failed)
        return err_set(err, "%s", rec->open_error);
    if (!rec->ctx_ready) {
        store_context_from_env(&rec->ctx);
        rec->ctx_ready = true;
    }
    if (rec->store == NULL && store_open(rec->location, STORE_WRITE, &rec->store, err) != 0) {
        rec->open_failed = true;
        snprintf(rec->open_error, sizeof(rec->open_error), "%s", err->msg);
        return -1;
    }
    return store_record_journal(rec->store, journal, experiment_file, journal_path, &rec->ctx,
                                NULL, err);
}

void store_recorder_close(struct store_recorder *rec)
{
    store_close(rec->store);
    rec->store = NULL;
    if (rec->ctx_ready)
        store_context_release(&rec->ctx);
    rec->ctx_ready = false;
}
