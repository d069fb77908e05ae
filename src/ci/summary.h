/* The run summary of `ci summary`: verdicts from journals, objectives from
 * `verify --json`, healing and trends from the history store, as markdown. */
#ifndef AFTERSHOCK_CI_SUMMARY_H
#define AFTERSHOCK_CI_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Hidden marker that identifies the one pull request comment to update. */
#define CI_COMMENT_MARKER "<!-- aftershock:ci-summary -->"

/* Most past outcomes shown per experiment. */
#define CI_TREND_MAX 50

/* One experiment of this run. */
struct ci_experiment {
    char *title;
    char *journal_path;         /* NULL when only verify named it */
    char *verdict;              /* "passed", "deviated", "failed", "interrupted", or NULL */
    double duration;            /* seconds; negative when unknown */
    json_t *objectives;         /* the experiment's "objectives" from verify, or NULL */
    double score;               /* resilience score 0-100; negative when unknown */
    bool objectives_passed;     /* every objective met (true without objectives) */
    bool verified;              /* objectives came from verify, not from the journal */
    char *trend[CI_TREND_MAX];  /* outcomes of the latest recorded runs, newest first */
    size_t trend_count;
    int failure_streak;         /* failed runs in a row on the default branch, newest first */
    bool streak_known;          /* failure_streak came from the history store */
};

/* One healing attempt recorded during this CI run. */
struct ci_healing {
    int attempt;
    char *command;
    char *category;   /* NULL when the attempt succeeded */
    char *strategy;   /* NULL when no strategy ran */
    char *outcome;
    int exit_code;
};

struct ci_summary {
    struct ci_experiment *experiments;
    size_t count;
    struct ci_healing *healing;
    size_t healing_count;
    double score;               /* overall score from verify; negative when unknown */
    bool verify_passed;         /* verify's "passed"; true without verify results */
    bool have_verify;
    char *run_url;              /* link to this CI run, or NULL */
    char **notes;               /* lines about missing inputs */
    size_t note_count;
};

/* Sets an empty summary: no experiment, passed, score unknown. */
void ci_summary_init(struct ci_summary *s);

/* Adds the experiment of one journal, with the objectives that `run`
 * judged into its "verdicts" when there are any (verify results replace
 * them). Returns 0, or -1 with err naming the file for a journal without
 * experiment.title or status. */
int ci_summary_add_journal(struct ci_summary *s, json_t *journal, const char *path,
                           struct err *err);

/* Merges a `verify --json` document: each entry is matched to a journal by
 * path, else by title, else added. Returns 0, or -1 with err set when the
 * document does not have that shape. */
int ci_summary_add_verify(struct ci_summary *s, json_t *verify, struct err *err);

/* Reads the trend of every experiment (the latest trend_n runs), the
 * failure streak on default_branch, and the healing attempts of CI run
 * ci_run (may be NULL) from the store at location. Returns 0, or -1 with
 * err set when the store cannot be read. */
int ci_summary_add_history(struct ci_summary *s, const char *location, int trend_n,
                           const char *default_branch, const char *ci_run, struct err *err);

/* Adds a line shown under the summary (printf format). */
void ci_summary_note(struct ci_summary *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when there is at least one experiment, every experiment passed
 * and verify found every objective met. */
bool ci_summary_passed(const struct ci_summary *s);

/* True when the experiment's run and objectives passed. */
bool ci_experiment_passed(const struct ci_experiment *e);

/* The word of the Verdict column: the run's verdict, or what failed
 * ("objectives missed", "failed, objectives missed"). Caller frees. */
char *ci_experiment_verdict_text(const struct ci_experiment *e);

/* Returns the summary as markdown (caller frees), starting with marker
 * when it is not NULL. */
char *ci_summary_markdown(const struct ci_summary *s, const char *marker);

/* Returns the hidden marker of the issue about one experiment (caller frees). */
char *ci_issue_marker(const char *title);

/* Returns the body of a new issue about a failing experiment (caller frees). */
char *ci_issue_body(const struct ci_summary *s, const struct ci_experiment *e, int streak,
                    const char *branch);

void ci_summary_release(struct ci_summary *s);

#endif
