/* Pure computations over a list of runs: flaky experiments and time to recovery.
 * They take plain arrays so unit tests can feed hand-made runs. */
#ifndef AFTERSHOCK_REPORT_ANALYSIS_H
#define AFTERSHOCK_REPORT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum report_outcome {
    OUTCOME_PASSED,
    OUTCOME_DEVIATED,
    OUTCOME_FAILED,
    OUTCOME_INTERRUPTED,
};

/* One run as the report reads it. Experiments and commits are indexes into
 * name tables sorted by name, so comparing indexes compares names. */
struct report_run {
    int experiment;
    int commit;          /* -1 when the run recorded no commit */
    enum report_outcome outcome;
    int64_t started_ms;
    int64_t duration_ms;
    bool healed;
};

/* Flakiness of one experiment: a commit is flaky for it when its runs on
 * that commit include at least one pass and one deviation or failure.
 * Interrupted runs and runs without a commit are left out. */
struct flaky_experiment {
    int experiment;
    int commits;        /* distinct commits it ran on */
    int flaky_commits;
    int runs;           /* runs on its flaky commits */
    int flips;          /* changes between pass and non-pass, in time order, on flaky commits */
    int transitions;    /* pairs of consecutive runs on flaky commits: runs - flaky_commits */
    double flip_rate;   /* flips / transitions */
};

/* Finds the flaky experiments among runs (any order). Sets *out (caller
 * frees) to the flaky ones only, ordered by flips, then flip rate, both
 * descending, then experiment index. Returns their number. */
size_t report_find_flaky(const struct report_run *runs, size_t n, struct flaky_experiment **out);

/* Recovery of one experiment: an incident starts at a failing (deviated or
 * failed) run that follows a pass or starts the list, and ends at the next
 * passing run. Its time to recovery runs from the first failing run's start
 * to the passing run's start. Interrupted runs are skipped. */
struct recovery_experiment {
    int experiment;
    int incidents;
    int recovered;
    int open;              /* incidents with no passing run after them (0 or 1) */
    int64_t open_since_ms; /* start of the open incident, when open is 1 */
    int64_t total_ms;      /* sum of the recovered incidents' times to recovery */
    int64_t max_ms;
};

struct recovery_stats {
    int incidents;
    int recovered;
    int open;
    double mean_seconds;   /* NAN when nothing recovered */
    double median_seconds; /* NAN when nothing recovered */
    double max_seconds;    /* NAN when nothing recovered */
};

/* Computes recovery over the runs whose start lies in [since_ms, until_ms).
 * Fills *stats, and sets *experiments (caller frees, may be NULL when not
 * wanted) to one entry per experiment that had an incident, by experiment
 * index. Returns the number of those entries. */
size_t report_recovery(const struct report_run *runs, size_t n, int64_t since_ms,
                       int64_t until_ms, struct recovery_stats *stats,
                       struct recovery_experiment **experiments);

#endif
