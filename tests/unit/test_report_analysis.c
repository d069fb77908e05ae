/* Unit tests for flakiness and time to recovery, against hand-computed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "report/analysis.h"

#define P OUTCOME_PASSED
#define D OUTCOME_DEVIATED
#define F OUTCOME_FAILED
#define I OUTCOME_INTERRUPTED

#define assert_near(actual, expected)                                                       \
    do {                                                                                    \
        double actual_ = (actual), expected_ = (expected);                                  \
        if (fabs(actual_ - expected_) > 1e-9)                                               \
            fail_msg("%s is %.12g, expected %.12g", #actual, actual_, expected_);           \
    } while (0)

static struct report_run run(int experiment, int commit, enum report_outcome outcome,
                             int64_t seconds)
{
    return (struct report_run){ .experiment = experiment, .commit = commit, .outcome = outcome,
                                .started_ms = seconds * 1000, .duration_ms = 1000 };
}

/* Experiment 0 runs P F P on commit 0 (2 flips in 2 transitions), P P on
 * commit 1, and F, an interrupted run, P on commit 2 (1 flip in 1).
 * Experiment 1 runs P P D D P on commit 0 (2 flips in 4), and its runs
 * without a commit do not count. Experiment 2 fails steadily. The runs are
 * given out of order. */
static void test_flaky_hand_computed(void **state)
{
    struct report_run runs[] = {
        run(1, 0, D, 4), run(0, 0, F, 2), run(0, 2, P, 8), run(1, -1, P, 1),
        run(0, 1, P, 4), run(2, 1, F, 1), run(1, 0, P, 5), run(0, 0, P, 1),
        run(1, 0, P, 1), run(0, 2, I, 7), run(1, -1, F, 2), run(0, 0, P, 3),
        run(1, 0, P, 2), run(0, 2, F, 6), run(2, 1, F, 2), run(0, 1, P, 5),
        run(1, 0, D, 3),
    };
    struct flaky_experiment *flaky = NULL;
    size_t n;

    (void)state;
    n = report_find_flaky(runs, sizeof(runs) / sizeof(runs[0]), &flaky);
    assert_int_equal(n, 2);

    assert_int_equal(flaky[0].experiment, 0);
    assert_int_equal(flaky[0].commits, 3);
    assert_int_equal(flaky[0].flaky_commits, 2);
    assert_int_equal(flaky[0].runs, 5);
    assert_int_equal(flaky[0].flips, 3);
    assert_int_equal(flaky[0].transitions, 3);
    assert_near(flaky[0].flip_rate, 1.0);

    assert_int_equal(flaky[1].experiment, 1);
    assert_int_equal(flaky[1].commits, 1);
    assert_int_equal(flaky[1].flaky_commits, 1);
    assert_int_equal(flaky[1].runs, 5);
    assert_int_equal(flaky[1].flips, 2);
    assert_int_equal(flaky[1].transitions, 4);
    assert_near(flaky[1].flip_rate, 0.5);
    free(flaky);
}

/* Equal flips: the higher flip rate comes first, then the lower index. */
static void test_flaky_ordering(void **state)
{
    struct report_run runs[] = {
        /* experiment 3: P F P P P, 2 flips in 4 */
        run(3, 0, P, 1), run(3, 0, F, 2), run(3, 0, P, 3), run(3, 0, P, 4), run(3, 0, P, 5),
        /* experiment 5: P F P, 2 flips in 2 */
        run(5, 0, P, 1), run(5, 0, F, 2), run(5, 0, P, 3),
        /* experiment 4: F P F, 2 flips in 2 */
        run(4, 7, F, 1), run(4, 7, P, 2), run(4, 7, F, 3),
    };
    struct flaky_experiment *flaky = NULL;
    size_t n = report_find_flaky(runs, sizeof(runs) / sizeof(runs[0]), &flaky);

    (void)state;
    assert_int_equal(n, 3);
    assert_int_equal(flaky[0].experiment, 4);
    assert_int_equal(flaky[1].experiment, 5);
    assert_int_equal(flaky[2].experiment, 3);
    free(flaky);
}

static void test_flaky_none(void **state)
{
    struct report_run runs[] = { run(0, 0, P, 1), run(0, 0, P, 2), run(1, 0, D, 1),
                                 run(1, 1, P, 2), run(2, 0, I, 1), run(2, 0, P, 2) };
    struct flaky_experiment *flaky = NULL;

    (void)state;
    assert_int_equal(report_find_flaky(runs, sizeof(runs) / sizeof(runs[0]), &flaky), 0);
    free(flaky);
    assert_int_equal(report_find_flaky(NULL, 0, &flaky), 0);
    free(flaky);
}

/* Experiment 0 passes at 0, fails at 10, deviates at 20 and passes at 30
 * (20 s). Its interrupted run at 40 is skipped. It fails at 50 and passes
 * at 100 (50 s), then fails at 110 with nothing after (open). Experiment 1
 * fails at -100, before the window, fails at 5 and passes at 65 (60 s).
 * Its failure at 200 is at the window's end and left out. Experiment 2
 * always passes. */
static void test_recovery_hand_computed(void **state)
{
    struct report_run runs[] = {
        run(0, 0, P, 0),   run(0, 0, F, 10),  run(0, 0, D, 20), run(0, 0, P, 30),
        run(0, 0, I, 40),  run(0, 0, F, 50),  run(0, 0, P, 100), run(0, 0, F, 110),
        run(1, 0, F, -100), run(1, 0, F, 5),  run(1, 0, P, 65),  run(1, 0, F, 200),
        run(2, 0, P, 1),   run(2, 0, P, 2),
    };
    struct recovery_stats stats;
    struct recovery_experiment *per = NULL;
    size_t n;

    (void)state;
    n = report_recovery(runs, sizeof(runs) / sizeof(runs[0]), 0, 200000, &stats, &per);
    assert_int_equal(stats.incidents, 4);
    assert_int_equal(stats.recovered, 3);
    assert_int_equal(stats.open, 1);
    assert_near(stats.mean_seconds, (20.0 + 50.0 + 60.0) / 3.0);
    assert_near(stats.median_seconds, 50.0);
    assert_near(stats.max_seconds, 60.0);

    assert_int_equal(n, 2);
    assert_int_equal(per[0].experiment, 0);
    assert_int_equal(per[0].incidents, 3);
    assert_int_equal(per[0].recovered, 2);
    assert_int_equal(per[0].open, 1);
    assert_int_equal(per[0].open_since_ms, 110000);
    assert_int_equal(per[0].total_ms, 70000);
    assert_int_equal(per[0].max_ms, 50000);
    assert_int_equal(per[1].experiment, 1);
    assert_int_equal(per[1].incidents, 1);
    assert_int_equal(per[1].recovered, 1);
    assert_int_equal(per[1].open, 0);
    assert_int_equal(per[1].total_ms, 60000);
    free(per);
}

static void test_recovery_even_median(void **state)
{
    struct report_run runs[] = { run(0, 0, F, 0), run(0, 0, P, 10), run(1, 0, F, 0),
                                 run(1, 0, P, 30) };
    struct recovery_stats stats;

    (void)state;
    report_recovery(runs, 4, 0, 1000000, &stats, NULL);
    assert_int_equal(stats.recovered, 2);
    assert_near(stats.median_seconds, 20.0);
    assert_near(stats.mean_seconds, 20.0);
}

static void test_recovery_nothing_failed(void **state)
{
    struct report_run runs[] = { run(0, 0, P, 0), run(0, 0, I, 10) };
    struct recovery_stats stats;
    struct recovery_experiment *per = NULL;

    (void)state;
    assert_int_equal(report_recovery(runs, 2, 0, 1000000, &stats, &per), 0);
    assert_int_equal(stats.incidents, 0);
    assert_true(isnan(stats.mean_seconds));
    assert_true(isnan(stats.median_seconds));
    free(per);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flaky_hand_computed),
        cmocka_unit_test(test_flaky_ordering),
        cmocka_unit_test(test_flaky_none),
        cmocka_unit_test(test_recovery_hand_computed),
        cmocka_unit_test(test_recovery_even_median),
        cmocka_unit_test(test_recovery_nothing_failed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
