/* Unit tests for the backoff schedule: growth, cap, jitter bounds, fixed schedules, parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/backoff.h"

#define EPSILON 1e-9

/* Fails with both values shown when actual and expected differ by more than epsilon. */
#define assert_near(actual, expected, epsilon)                                              \
    do {                                                                                    \
        double actual_ = (actual), expected_ = (expected);                                  \
        if (fabs(actual_ - expected_) > (epsilon))                                          \
            fail_msg("%s is %.12g, expected %.12g", #actual, actual_, expected_);           \
    } while (0)

/* A random source that returns the value it points at, so tests pick the draw. */
static double fixed_random(void *state)
{
    return *(const double *)state;
}

static struct backoff exponential(double initial, double max, double factor, double jitter)
{
    struct backoff b;

    memset(&b, 0, sizeof(b));
    b.initial = initial;
    b.max = max;
    b.factor = factor;
    b.jitter = jitter;
    return b;
}

static void test_backoff_grows_by_factor(void **state)
{
    struct backoff b = exponential(0.1, 100, 2, 0);

    (void)state;
    assert_near(backoff_delay(&b, 0, NULL, NULL), 0.1, EPSILON);
    assert_near(backoff_delay(&b, 1, NULL, NULL), 0.2, EPSILON);
    assert_near(backoff_delay(&b, 2, NULL, NULL), 0.4, EPSILON);
    assert_near(backoff_delay(&b, 5, NULL, NULL), 3.2, EPSILON);
}

static void test_backoff_factor_one_is_constant(void **state)
{
    struct backoff b = exponential(0.5, 10, 1, 0);

    (void)state;
    for (unsigned retry = 0; retry < 20; retry++)
        assert_near(backoff_delay(&b, retry, NULL, NULL), 0.5, EPSILON);
}

static void test_backoff_caps_at_max(void **state)
{
    struct backoff b = exponential(1, 8, 2, 0);

    (void)state;
    assert_near(backoff_delay(&b, 3, NULL, NULL), 8, EPSILON);
    assert_near(backoff_delay(&b, 4, NULL, NULL), 8, EPSILON);
    assert_near(backoff_delay(&b, 1000, NULL, NULL), 8, EPSILON);
    /* pow overflows to infinity here; the cap must still hold. */
    assert_near(backoff_delay(&b, 4000000000u, NULL, NULL), 8, EPSILON);
}

static void test_backoff_jitter_bounds(void **state)
{
    struct backoff b = exponential(1, 100, 2, 0.25);
    double low = 0.0;
    double high = 0.999999999;
    double middle = 0.5;

    (void)state;
    /* retry 2 has a base delay of 4 s, so jitter 0.25 spans 3 to 5 s. */
    assert_near(backoff_delay(&b, 2, fixed_random, &low), 3.0, EPSILON);
    assert_near(backoff_delay(&b, 2, fixed_random, &middle), 4.0, EPSILON);
    assert_near(backoff_delay(&b, 2, fixed_random, &high), 5.0, 1e-6);
}

static void test_backoff_jitter_never_exceeds_max(void **state)
{
    struct backoff b = exponential(1, 4, 2, 0.5);
    double high = 0.999;
    double low = 0.0;

    (void)state;
    /* At the cap, jitter still spreads delays downwards but never above max. */
    assert_near(backoff_delay(&b, 10, fixed_random, &high), 4.0, EPSILON);
    assert_near(backoff_delay(&b, 10, fixed_random, &low), 2.0, EPSILON);
    assert_near(backoff_delay(&b, 1, fixed_random, &high), 2.998, 1e-9);
}

static void test_backoff_xorshift_stays_in_bounds(void **state)
{
    struct backoff b = exponential(2, 2, 1, 0.2);
    uint64_t seed = 12345;
    double smallest = 1e9;
    double largest = 0;

    (void)state;
    for (int i = 0; i < 10000; i++) {
        double d = backoff_delay(&b, 0, backoff_random_xorshift, &seed);
        assert_true(d >= 1.6 - EPSILON);
        assert_true(d <= 2.0 + EPSILON);
        smallest = d < smallest ? d : smallest;
        largest = d > largest ? d : largest;
    }
    /* With 10000 draws the spread must reach close to both ends. */
    assert_true(smallest < 1.62);
    assert_true(largest > 1.98);
}

static void test_backoff_xorshift_is_deterministic(void **state)
{
    uint64_t a = 99;
    uint64_t b = 99;

    (void)state;
    for (int i = 0; i < 100; i++) {
        double x = backoff_random_xorshift(&a);
        assert_true(x >= 0 && x < 1);
        assert_true(x == backoff_random_xorshift(&b));
    }
}

static void test_backoff_fixed_schedule_repeats_last(void **state)
{
    struct backoff b = exponential(0.1, 0.2, 3, 0);
    struct err err;

    (void)state;
    assert_int_equal(backoff_parse_schedule("2,4,8,10", &b, &err), 0);
    assert_int_equal(b.schedule_len, 4);
    assert_near(backoff_delay(&b, 0, NULL, NULL), 2, EPSILON);
    assert_near(backoff_delay(&b, 1, NULL, NULL), 4, EPSILON);
    assert_near(backoff_delay(&b, 2, NULL, NULL), 8, EPSILON);
    assert_near(backoff_delay(&b, 3, NULL, NULL), 10, EPSILON);
    assert_near(backoff_delay(&b, 4, NULL, NULL), 10, EPSILON);
    assert_near(backoff_delay(&b, 99, NULL, NULL), 10, EPSILON);
}

static void test_backoff_fixed_schedule_with_jitter(void **state)
{
    struct backoff b = exponential(1, 1, 1, 0.1);
    struct err err;
    double high = 0.999999;
    double low = 0;

    (void)state;
    assert_int_equal(backoff_parse_schedule("10", &b, &err), 0);
    /* A schedule has no cap: jitter may lift a delay above every entry. */
    assert_true(backoff_delay(&b, 0, fixed_random, &high) > 10.99);
    assert_near(backoff_delay(&b, 0, fixed_random, &low), 9, EPSILON);
}

static void test_backoff_parse_units_and_spaces(void **state)
{
    struct backoff b;
    struct err err;

    (void)state;
    memset(&b, 0, sizeof(b));
    assert_int_equal(backoff_parse_schedule(" 250ms, 1.5s ,2m", &b, &err), 0);
    assert_int_equal(b.schedule_len, 3);
    assert_near(b.schedule[0], 0.25, EPSILON);
    assert_near(b.schedule[1], 1.5, EPSILON);
    assert_near(b.schedule[2], 120, EPSILON);
}

static void assert_parse_fails(const char *text, const char *expected_part)
{
    struct backoff b;
    struct err err;

    memset(&b, 0, sizeof(b));
    b.schedule_len = 1;
    b.schedule[0] = 7;
    err_clear(&err);
    assert_int_equal(backoff_parse_schedule(text, &b, &err), -1);
    assert_non_null(strstr(err.msg, expected_part));
    /* A failed parse leaves the previous schedule alone. */
    assert_int_equal(b.schedule_len, 1);
    assert_near(b.schedule[0], 7, EPSILON);
}

static void test_backoff_parse_rejects_bad_input(void **state)
{
    (void)state;
    assert_parse_fails("", "empty schedule");
    assert_parse_fails("   ", "empty schedule");
    assert_parse_fails("2,,4", "empty delay at position 2 in '2,,4'");
    assert_parse_fails("2,4,", "empty delay at position 3");
    assert_parse_fails(",2", "empty delay at position 1");
    assert_parse_fails("2,x,4", "invalid delay 'x' in '2,x,4'");
    assert_parse_fails("2,0", "invalid delay '0'");
    assert_parse_fails("-1", "invalid delay '-1'");
    assert_parse_fails("2;4", "invalid delay '2;4'");
    assert_parse_fails("1 2", "invalid delay '1 2'");
    assert_parse_fails("inf", "invalid delay 'inf'");
    assert_parse_fails("nan", "invalid delay 'nan'");
    assert_parse_fails("5parsecs", "invalid delay '5parsecs'");
}

static void test_backoff_parse_rejects_too_many(void **state)
{
    char text[BACKOFF_SCHEDULE_MAX * 2 + 8];
    size_t len = 0;

    (void)state;
    for (int i = 0; i <= BACKOFF_SCHEDULE_MAX; i++) {
        text[len++] = '1';
        text[len++] = ',';
    }
    text[len - 1] = '\0';
    assert_parse_fails(text, "more than 64 delays");
}

static void test_backoff_parse_rejects_long_entry(void **state)
{
    char text[200];

    (void)state;
    memset(text, '1', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    assert_parse_fails(text, "invalid delay at position 1");
}

static void test_backoff_check_catches_bad_fields(void **state)
{
    struct backoff good = exponential(0.1, 3, 1.25, 0.2);
    struct backoff b;
    struct err err;

    (void)state;
    assert_int_equal(backoff_check(&good, &err), 0);

    b = good;
    b.initial = 0;
    assert_int_equal(backoff_check(&b, &err), -1);
    assert_non_null(strstr(err.msg, "initial"));

    b = good;
    b.max = 0.05;
    assert_int_equal(backoff_check(&b, &err), -1);
    assert_non_null(strstr(err.msg, "maximum"));

    b = good;
    b.factor = 0.5;
    assert_int_equal(backoff_check(&b, &err), -1);
    assert_non_null(strstr(err.msg, "factor"));

    b = good;
    b.jitter = 1.5;
    assert_int_equal(backoff_check(&b, &err), -1);
    assert_non_null(strstr(err.msg, "jitter"));

    b = good;
    b.schedule_len = 2;
    b.schedule[0] = 1;
    b.schedule[1] = 0;
    assert_int_equal(backoff_check(&b, &err), -1);
    assert_non_null(strstr(err.msg, "entry 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_grows_by_factor),
        cmocka_unit_test(test_backoff_factor_one_is_constant),
        cmocka_unit_test(test_backoff_caps_at_max),
        cmocka_unit_test(test_backoff_jitter_bounds),
        cmocka_unit_test(test_backoff_jitter_never_exceeds_max),
        cmocka_unit_test(test_backoff_xorshift_stays_in_bounds),
        cmocka_unit_test(test_backoff_xorshift_is_deterministic),
        cmocka_unit_test(test_backoff_fixed_schedule_repeats_last),
        cmocka_unit_test(test_backoff_fixed_schedule_with_jitter),
        cmocka_unit_test(test_backoff_parse_units_and_spaces),
        cmocka_unit_test(test_backoff_parse_rejects_bad_input),
        cmocka_unit_test(test_backoff_parse_rejects_too_many),
        cmocka_unit_test(test_backoff_parse_rejects_long_entry),
        cmocka_unit_test(test_backoff_check_catches_bad_fields),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
