/* Judging experiments from the traffic they measured: fault phases on the
 * timeline, objectives (availability, latency percentile, recovery time),
 * verdicts and the resilience score, and their table, JSON and JUnit forms.
 * `run`, `verify` and `ci summary` share it. */
#ifndef AFTERSHOCK_RESILIENCE_RESILIENCE_H
#define AFTERSHOCK_RESILIENCE_RESILIENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/err.h"

#define RECOVERY_DEFAULT_WINDOW 5.0

enum objective_kind { OBJECTIVE_AVAILABILITY, OBJECTIVE_LATENCY, OBJECTIVE_RECOVERY };

/* One declared objective. Owns name and phase. */
struct objective {
    enum objective_kind kind;
    char *name;            /* as declared, else made from the kind and limit */
    char *phase;           /* "overall", "before", "during", "between", "after" or a fault name */
    double percentile;     /* latency: 50, 90, 99, 99.9 or 100 (max) */
    double limit;          /* percent, milliseconds or seconds */
    double window;         /* recovery: seconds both must hold in a row */
    double weight;         /* > 0 */
};

/* A verdict on one objective. measured is NAN when nothing could be
 * measured, and reason then gives the cause. Otherwise reason may explain a
 * miss. */
struct verdict {
    const struct objective *objective;
    double measured;
    bool met;
    char reason[256];
};

/* Reads the `objectives` list of an experiment. Returns 0 with *out (free
 * with objectives_free) and *n set, or -1 with err naming the objective and
 * key at fault. A missing list gives 0 objectives. */
int objectives_parse(json_t *list, struct objective **out, size_t *n, struct err *err);
void objectives_free(struct objective *objectives, size_t n);

/* Checks that every phase is before, during, between, after, overall or the
 * name of a fault of the experiment's method (an action other than traffic
 * and toxic removal). Returns 0, or -1 with err naming the objective and
 * listing the valid values. */
int objectives_check_phases(const struct objective *objectives, size_t n, json_t *experiment,
                            struct err *err);

/* "availability", "latency" or "recovery". */
const char *objective_kind_name(enum objective_kind kind);
/* "p50", "p90", "p99", "p99.9" or "max" for a latency objective's percentile. */
const char *objective_percentile_name(double percentile);
/* "%", "ms" or "s". */
const char *objective_unit(enum objective_kind kind);

/* The time a fault was in effect, in seconds since the epoch. */
struct fault_window {
    const char *name;     /* borrowed from the journal */
    double start, end;
};

/* Lists the faults of a journal's method: every action except traffic, from
 * its start to its end. A toxic added (or updated) lasts until a later
 * toxic removal on the same proxy in the method, else until the rollbacks
 * end. A STOP signal without a duration lasts until the rollbacks end.
 * Returns the count; *out is malloc'd (NULL for none). */
size_t resilience_fault_windows(json_t *journal, struct fault_window **out);

/* Seconds of a fault a second must contain to count as `during` it: enough to
 * ignore clock noise at a second boundary (docs/resilience.md). */
#define RESILIENCE_MIN_OVERLAP 0.001

/* True when fault w counts in the second [from, from + 1) (epoch seconds):
 * it covers at least RESILIENCE_MIN_OVERLAP of it, or the second contains
 * the middle of the fault. */
bool resilience_fault_in_second(const struct fault_window *w, double from);

/* Marks each second of every traffic timeline in the journal with its
 * phase ("before", "during", "between", "after") and, during faults, their
 * names. Also adds the fault list to each traffic document. */
void resilience_mark_phases(json_t *journal);

/* The traffic result a journal's objectives are judged on: the run-wide
 * `traffic`, else the output of the first traffic activity of the method.
 * NULL when there is none. */
json_t *resilience_traffic(json_t *journal);

/* Cause of a journal that could not be judged, so the caller can give a fitting hint. */
enum judge_problem {
    JUDGE_OK,
    JUDGE_NO_FILE,        /* missing, a folder, or unreadable */
    JUDGE_NOT_JOURNAL,    /* not JSON, or not an object with experiment and status */
    JUDGE_BAD_OBJECTIVES, /* the experiment's objectives are not valid */
    JUDGE_BAD_TIMELINE,   /* the traffic document is malformed */
};

/* Results for one journal. */
struct judgement {
    enum judge_problem problem; /* set when judging failed */
    char *journal_path;
    char *title;
    char *status;
    double started;          /* the run's start, seconds since the epoch (0 unknown) */
    struct objective *objectives;
    struct verdict *verdicts;
    size_t n;
    double score;            /* 0-100; 100 when there are no objectives */
    bool passed;
};

/* Judges a journal document against its experiment's objectives. Returns 0,
 * or -1 with err set when the journal is not valid (not an aftershock or
 * Chaos Toolkit journal, invalid objectives, malformed timeline). */
int resilience_judge(json_t *journal, const char *path, struct judgement *out, struct err *err);

/* Loads a journal file and judges it; -1 with err set for a file that
 * cannot be read or is not valid. */
int resilience_judge_file(const char *path, struct judgement *out, struct err *err);

void judgement_release(struct judgement *j);

/* Mean of the experiments' scores; 100 for none. */
double resilience_overall_score(const struct judgement *j, size_t n);

/* Prints the table of verdicts (objective, limit, measured, verdict) and the score. */
void resilience_print_table(FILE *out, const struct judgement *j);

/* For `run --dry-run`: prints the experiment's run-wide traffic and its
 * objectives (lines indented by two spaces), nothing when it has neither. */
void resilience_print_plan(FILE *out, json_t *experiment);

/* The --json document: {"experiments": [...], "score": N, "passed": B}. */
json_t *resilience_to_json(const struct judgement *j, size_t n);

/* doc as indented JSON text ending in a newline (caller frees), each real
 * written in the shortest form that reads back as the same number
 * (66.66666666666667, not 66.666666666666671). */
char *resilience_json_text(json_t *doc);

/* JUnit XML: one testsuite per journal, one testcase per objective, a
 * <failure> for each objective missed. Returns 0 or -1 with err set. */
int resilience_write_junit(const char *path, const struct judgement *j, size_t n,
                           struct err *err);

/* Text of the JUnit document (the caller frees it). */
char *resilience_junit_text(const struct judgement *j, size_t n);

#endif
