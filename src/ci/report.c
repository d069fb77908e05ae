/* `ci summary`: reading journals, verify results and history, then publishing the summary. */
#include "ci/report.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ci/github.h"
#include "store/store.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/strbuf.h"
#include "util/ui.h"

/* Largest journal or verify file read, in bytes. */
#define INPUT_MAX_SIZE (64 * 1024 * 1024)

#define DEFAULT_JOURNALS "journals"
#define DEFAULT_BRANCH "main"
#define REQUEST_TIMEOUT 30.0

static json_t *load_json(const char *path, struct err *err)
{
    size_t len;
    char *text = fs_read_file(path, INPUT_MAX_SIZE, &len, err);
    json_error_t error;
    json_t *doc;

    if (text == NULL)
        return NULL;
    doc = json_loadb(text, len, 0, &error);
    free(text);
    if (doc == NULL)
        err_set(err, "%s:%d:%d: %s", path, error.line, error.column, error.text);
    return doc;
}

static int add_journal_file(struct ci_summary *s, const char *path)
{
    struct err err;
    json_t *journal = load_json(path, &err);
    int rc;

    if (journal == NULL) {
        ui_error("%s", err.msg);
        return -1;
    }
    rc = ci_summary_add_journal(s, journal, path, &err);
    if (rc != 0)
        ui_error("%s", err.msg);
    json_decref(journal);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_journal_folder(struct ci_summary *s, const char *folder)
{
    DIR *dir = opendir(folder);
    struct dirent *entry;
    char **names = NULL;
    size_t count = 0;
    int rc = 0;

    if (dir == NULL) {
        ui_error("cannot read the journal folder '%s': %s", folder, strerror(errno));
        return -1;
    }
    while ((entry = readdir(dir)) != NULL) {
        size_t n = strlen(entry->d_name);
        if (entry->d_name[0] == '.' || n < 6 || strcasecmp(entry->d_name + n - 5, ".json") != 0)
            continue;
        names = realloc(names, (count + 1) * sizeof(*names));
        if (names == NULL)
            abort();
        names[count++] = strdup(entry->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof(*names), compare_names);
    for (size_t i = 0; i < count; i++) {
        struct strbuf path = STRBUF_INIT;
        strbuf_addf(&path, "%s/%s", folder, names[i]);
        if (rc == 0)
            rc = add_journal_file(s, strbuf_str(&path));
        strbuf_release(&path);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Adds the journals of one --journal entry. A path that does not exist is
 * a note, not an error, because a chaos stage that failed early writes none. */
static int add_journals(struct ci_summary *s, const char *entry)
{
    struct stat st;

    if (strpbrk(entry, "*?[") != NULL) {
        glob_t matches;
        int rc = 0;
        if (glob(entry, 0, NULL, &matches) == 0) {
            for (size_t i = 0; rc == 0 && i < matches.gl_pathc; i++)
                rc = add_journal_file(s, matches.gl_pathv[i]);
        } else {
            ci_summary_note(s, "No journal matches '%s'.", entry);
        }
        globfree(&matches);
        return rc;
    }
    if (stat(entry, &st) != 0) {
        ci_summary_note(s, "No journal at '%s': the chaos stage wrote none.", entry);
        return 0;
    }
    return S_ISDIR(st.st_mode) ? add_journal_folder(s, entry) : add_journal_file(s, entry);
}

static int add_verify(struct ci_summary *s, const char *path)
{
    struct err err;
    json_t *doc;
    struct stat st;
    int rc;

    if (stat(path, &st) != 0) {
        ci_summary_note(s, "No verify results at '%s': objectives are not shown.", path);
        return 0;
    }
    doc = load_json(path, &err);
    if (doc == NULL) {
        ui_error("%s", err.msg);
        return -1;
    }
    rc = ci_summary_add_verify(s, doc, &err);
    if (rc != 0)
        ui_error("%s: %s", path, err.msg);
    json_decref(doc);
    return rc;
}

static void add_history(struct ci_summary *s, const struct ci_report_options *opts,
                        const char *default_branch, const char *ci_run)
{
    const char *location = store_location(opts->db);
    char shown[512];
    struct stat st;
    struct err err;

    store_location_display(location, shown, sizeof(shown));
    if (!store_is_url(location) && stat(location, &st) != 0) {
        ci_summary_note(s, "No history store at '%s': trends and healing are not shown.", shown);
        return;
    }
    if (ci_summary_add_history(s, location, opts->trend, default_branch, ci_run, &err) != 0) {
        ui_warning("%s", err.msg);
        ci_summary_note(s, "The history store '%s' could not be read: trends and healing are "
                           "not shown.", shown);
    }
}

static char *run_url(void)
{
    const char *server = getenv("GITHUB_SERVER_URL");
    const char *repo = getenv("GITHUB_REPOSITORY");
    const char *run = getenv("GITHUB_RUN_ID");
    const char *pipeline = getenv("CI_PIPELINE_URL");
    char *url = NULL;

    if (server != NULL && repo != NULL && run != NULL) {
        if (asprintf(&url, "%s/%s/actions/runs/%s", server, repo, run) < 0)
            abort();
    } else if (pipeline != NULL) {
        url = strdup(pipeline);
    }
    return url;
}

/* Writes the markdown to --output, appends it to $GITHUB_STEP_SUMMARY, or prints it. */
static int write_markdown(const struct ci_report_options *opts, const char *markdown)
{
    const char *step_summary = getenv("GITHUB_STEP_SUMMARY");
    struct err err;

    if (opts->output != NULL && strcmp(opts->output, "-") != 0) {
        if (fs_write_atomic(opts->output, markdown, strlen(markdown), &err) != 0) {
            ui_error("%s", err.msg);
            return -1;
        }
        return 0;
    }
    if (opts->output == NULL && step_summary != NULL && step_summary[0] != '\0') {
        /* GitHub joins what every step appends to this file. */
        FILE *f = fopen(step_summary, "a");
        if (f == NULL || fputs(markdown, f) == EOF || fclose(f) != 0) {
            ui_error("cannot append the summary to $GITHUB_STEP_SUMMARY '%s': %s", step_summary,
                     strerror(errno));
            return -1;
        }
        return 0;
    }
    fputs(markdown, stdout);
    return 0;
}

/* Fills client from the environment. Returns 0, or -1 after a warning naming what is missing. */
static int github_from_env(const struct ci_report_options *opts, struct github_client *client,
                           const char *purpose)
{
    static const char *const names[] = { "GITHUB_API_URL", "GITHUB_REPOSITORY", "GITHUB_TOKEN" };
    const char *values[3];

    for (int i = 0; i < 3; i++) {
        values[i] = getenv(names[i]);
        if (values[i] == NULL || values[i][0] == '\0') {
            ui_warning("cannot write the %s: %s is not set; in GitHub Actions pass "
                       "'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}' in the step's env",
                       purpose, names[i]);
            return -1;
        }
    }
    /* The token must never reach a log line or a message. */
    redact_add_secret(values[2]);
    client->api_url = values[0];
    client->repo = values[1];
    client->token = values[2];
    client->retries = opts->retries;
    client->retry_delay = opts->retry_delay;
    client->timeout = REQUEST_TIMEOUT;
    return 0;
}

static int publish_comment(const struct ci_report_options *opts, const struct ci_summary *s,
                           const struct github_event *event)
{
    struct github_client client;
    struct err err;
    bool updated = false;
    char *body;
    enum github_outcome outcome;

    if (event->pull_request == 0) {
        log_info("ci", "no pull request in the event; no comment written");
        printf("not a pull request: no comment written\n");
        return 0;
    }
    if (github_from_env(opts, &client, "pull request comment") != 0)
        return -1;
    body = ci_summary_markdown(s, CI_COMMENT_MARKER);
    outcome = github_upsert_comment(&client, event->pull_request, CI_COMMENT_MARKER, body,
                                    &updated, &err);
    free(body);
    if (outcome != GITHUB_OK) {
        ui_warning("the pull request comment was not written: %s", err.msg);
        return -1;
    }
    printf("%s the summary comment on pull request #%ld\n", updated ? "updated" : "created",
           event->pull_request);
    return 0;
}

/* Opens, comments on or closes the issue of one experiment. */
static int track_experiment(const struct github_client *client, const struct ci_summary *s,
                            const struct ci_experiment *e, int issue_after, const char *branch)
{
    char *marker = ci_issue_marker(e->title);
    bool passed = ci_experiment_passed(e);
    int streak = e->streak_known ? e->failure_streak : (passed ? 0 : 1);
    long number = 0;
    struct err err;
    enum github_outcome outcome = github_find_issue(client, marker, &number, &err);
    struct strbuf text = STRBUF_INIT;

    free(marker);
    if (outcome == GITHUB_OK && passed && number != 0) {
        strbuf_addf(&text, "The experiment passed again on `%s`%s%s. Closing.", branch,
                    s->run_url != NULL ? " in " : "", s->run_url != NULL ? s->run_url : "");
        outcome = github_close_issue(client, number, strbuf_str(&text), &err);
        if (outcome == GITHUB_OK)
            printf("closed issue #%ld: '%s' passed again\n", number, e->title);
    } else if (outcome == GITHUB_OK && !passed && number != 0) {
        char *verdict = ci_experiment_verdict_text(e);
        strbuf_addf(&text, "Failed again on `%s` (%d run%s in a row): %s%s%s", branch, streak,
                    streak == 1 ? "" : "s", verdict, s->run_url != NULL ? ", " : "",
                    s->run_url != NULL ? s->run_url : "");
        free(verdict);
        outcome = github_comment(client, number, strbuf_str(&text), &err);
        if (outcome == GITHUB_OK)
            printf("commented on issue #%ld: '%s' failed again\n", number, e->title);
    } else if (outcome == GITHUB_OK && !passed && streak >= issue_after) {
        char *body = ci_issue_body(s, e, streak, branch);
        strbuf_addf(&text, "Chaos experiment '%s' failed %d run%s in a row on %s", e->title,
                    streak, streak == 1 ? "" : "s", branch);
        outcome = github_open_issue(client, strbuf_str(&text), body, &number, &err);
        free(body);
        if (outcome == GITHUB_OK)
            printf("opened issue #%ld: '%s' failed %d run%s in a row\n", number, e->title,
                   streak, streak == 1 ? "" : "s");
    }
    strbuf_release(&text);
    if (outcome != GITHUB_OK) {
        ui_warning("the issue for '%s' was not updated: %s", e->title, err.msg);
        return -1;
    }
    return 0;
}

/* The branch of this CI run: GITHUB_REF_NAME, else CI_COMMIT_REF_NAME, else
 * the branch of the history context (git). Sets *source to where it came from. */
static const char *current_branch(const struct store_context *ctx, const char **source)
{
    static const char *const names[] = { "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *value = getenv(names[i]);
        if (value != NULL && value[0] != '\0') {
            *source = names[i];
            return value;
        }
    }
    *source = "git";
    return ctx->branch;
}

static int publish_issues(const struct ci_report_options *opts, const struct ci_summary *s,
                          const struct store_context *ctx, const char *default_branch)
{
    struct github_client client;
    const char *source;
    const char *branch = current_branch(ctx, &source);
    int rc = 0;

    if (branch == NULL) {
        printf("no branch detected (GITHUB_REF_NAME and CI_COMMIT_REF_NAME are not set, and "
               "git names none): issues left alone\n");
        return 0;
    }
    if (strcmp(branch, default_branch) != 0) {
        printf("branch '%s' (from %s) is not the default branch '%s': issues left alone\n",
               branch, source, default_branch);
        return 0;
    }
    if (github_from_env(opts, &client, "issues") != 0)
        return -1;
    for (size_t i = 0; i < s->count; i++) {
        if (track_experiment(&client, s, &s->experiments[i], opts->issue_after, branch) != 0)
            rc = -1;
    }
    return rc;
}

/* Reads GITHUB_EVENT_PATH when --comment or --issue-after needs it. */
static void read_event(struct github_event *event)
{
    const char *path = getenv("GITHUB_EVENT_PATH");
    struct err err;

    memset(event, 0, sizeof(*event));
    if (path == NULL || path[0] == '\0')
        return;
    if (github_event_load(path, event, &err) != 0)
        ui_warning("%s", err.msg);
}

int ci_report_run(const struct ci_report_options *opts)
{
    static const char *const default_journals[] = { DEFAULT_JOURNALS };
    const char *const *journals = opts->journal_count > 0 ? opts->journals : default_journals;
    int journal_count = opts->journal_count > 0 ? opts->journal_count : 1;
    struct store_context ctx = { 0 };
    struct github_event event;
    struct ci_summary s;
    const char *default_branch;
    char *markdown;
    int code = EXIT_OK, published = 0;

    ci_summary_init(&s);
    for (int i = 0; i < journal_count; i++) {
        if (add_journals(&s, journals[i]) != 0) {
            ci_summary_release(&s);
            return EXIT_USAGE;
        }
    }
    if (opts->verify != NULL && add_verify(&s, opts->verify) != 0) {
        ci_summary_release(&s);
        return EXIT_USAGE;
    }

    read_event(&event);
    default_branch = opts->default_branch != NULL ? opts->default_branch
                     : event.default_branch[0] != '\0' ? event.default_branch
                                                       : DEFAULT_BRANCH;
    store_context_from_env(&ctx);
    /* The store's context takes the run id only with a commit id beside it. */
    add_history(&s, opts, default_branch,
                ctx.ci_run != NULL                     ? ctx.ci_run
                : getenv("GITHUB_RUN_ID") != NULL      ? getenv("GITHUB_RUN_ID")
                                                       : getenv("CI_PIPELINE_ID"));
    s.run_url = run_url();

    markdown = ci_summary_markdown(&s, NULL);
    if (write_markdown(opts, markdown) != 0)
        code = EXIT_RUNFAIL;
    free(markdown);
    if (code == EXIT_OK && s.count == 0) {
        ui_warning("nothing to judge: no experiment was found in the journals or the verify "
                   "results");
        ui_hint("pass the journals that 'aftershock run' wrote with --journal");
        code = EXIT_FINDING;
    }

    if (opts->comment && publish_comment(opts, &s, &event) != 0)
        published = -1;
    if (opts->issue_after > 0 && publish_issues(opts, &s, &ctx, default_branch) != 0)
        published = -1;
    if (published != 0 && opts->strict && code == EXIT_OK)
        code = EXIT_RUNFAIL;

    store_context_release(&ctx);
    ci_summary_release(&s);
    return code;
}
