/* Unit tests for latency histograms: percentiles against exact values from raw samples, buckets, journal form. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "traffic/histogram.h"

#define N_SAMPLES 200000

static const double percentiles[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples: the ceil(p/100 * n)-th smallest. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);

    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

/* A small deterministic generator, so failures can be reproduced. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static double uniform(uint64_t *state)
{
    return (double)(next_random(state) >> 11) / 9007199254740992.0;
}

/* Records samples into a histogram and checks every percentile within 1%. */
static void check_distribution(uint64_t *samples, size_t n)
{
    struct histogram *h = malloc(sizeof(*h));

    assert_non_null(h);
    histogram_init(h);
    for (size_t i = 0; i < n; i++)
        histogram_record(h, samples[i]);
    qsort(samples, n, sizeof(uint64_t), compare_u64);
    assert_int_equal(h->total, n);
    assert_int_equal(h->min, samples[0]);
    assert_int_equal(h->max, samples[n - 1]);
    for (size_t k = 0; k < sizeof(percentiles) / sizeof(percentiles[0]); k++) {
        double exact = (double)exact_percentile(samples, n, percentiles[k]);
        double got = (double)histogram_percentile(h, percentiles[k]);
        if (fabs(got - exact) > 0.01 * exact)
            fail_msg("p%g is %.0f, exact %.0f: error %.3f%%", percentiles[k], got, exact,
                     100.0 * fabs(got - exact) / exact);
    }
    free(h);
}

static void test_lognormal_latencies(void **state)
{
    uint64_t *samples = malloc(N_SAMPLES * sizeof(uint64_t)), seed = 0x9e3779b97f4a7c15u;

    (void)state;
    assert_non_null(samples);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        double u1 = uniform(&seed), u2 = uniform(&seed);
        double normal = sqrt(-2.0 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
        samples[i] = (uint64_t)exp(7.5 + 1.2 * normal); /* around 1.8 ms, long tail */
    }
    check_distribution(samples, N_SAMPLES);
    free(samples);
}

static void test_bimodal_with_timeouts(void **state)
{
    uint64_t *samples = malloc(N_SAMPLES * sizeof(uint64_t)), seed = 12345;

    (void)state;
    assert_non_null(samples);
    for (size_t i = 0; i < N_SAMPLES; i++) {
        uint64_t r = next_random(&seed);
        if (r % 100 < 97)
            samples[i] = 200 + r % 3000;                /* 0.2 to 3.2 ms */
        else if (r % 100 < 99)
            samples[i] = 250000 + r % 100000;           /* a stalled backend */
        else
            samples[i] = 5000000;                       /* timeouts at 5 s */
    }
    check_distribution(samples, N_SAMPLES);
    free(samples);
}

static void test_small_and_huge_values(void **state)
{
    uint64_t samples[] = { 0, 1, 2, 63, 64, 65, 127, 128, 129, 1000, 123456789,
                           UINT64_C(1) << 39, (UINT64_C(1) << 40) - 1 };

    (void)state;
    check_distribution(samples, sizeof(samples) / sizeof(samples[0]));
}

/* Every value falls in the bucket whose bounds contain it, and buckets tile the range. */
static void test_buckets_contain_their_values(void **state)
{
    uint64_t seed = 777;

    (void)state;
    for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++)
        assert_int_equal(histogram_bucket_low(i) + histogram_bucket_width(i),
                         histogram_bucket_low(i + 1));
    for (int k = 0; k < 100000; k++) {
        uint64_t v = next_random(&seed) >> (next_random(&seed) % 64);
        unsigned i = histogram_index(v);
        if (v >= (UINT64_C(1) << HIST_TOP_BIT)) {
            assert_int_equal(i, HIST_BUCKETS - 1);
            continue;
        }
        assert_true(v >= histogram_bucket_low(i));
        assert_true(v < histogram_bucket_low(i) + histogram_bucket_width(i));
        assert_true((double)histogram_bucket_width(i) <=
                    (double)histogram_bucket_low(i) / HIST_SUB + 1);
    }
}

static void test_empty_histogram(void **state)
{
    struct histogram *h = malloc(sizeof(*h));
    json_t *summary;

    (void)state;
    histogram_init(h);
    assert_int_equal(histogram_percentile(h, 50), 0);
    summary = histogram_summary_json(h);
    assert_true(json_is_null(summary));
    json_decref(summary);
    free(h);
}

/* The journal form merges back to the same percentiles. */
static void test_sparse_form_round_trip(void **state)
{
    struct histogram *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    uint64_t seed = 4242;
    json_t *sparse;

    (void)state;
    histogram_init(a);
    histogram_init(b);
    for (int i = 0; i < 50000; i++)
        histogram_record(a, 100 + next_random(&seed) % 90000);
    sparse = histogram_to_json(a);
    assert_int_equal(histogram_add_json(b, sparse), 0);
    assert_int_equal(b->total, a->total);
    for (size_t k = 0; k + 1 < sizeof(percentiles) / sizeof(percentiles[0]); k++) {
        double pa = (double)histogram_percentile(a, percentiles[k]);
        double pb = (double)histogram_percentile(b, percentiles[k]);
        assert_true(fabs(pa - pb) <= 0.01 * pa);
    }
    json_decref(sparse);
    free(a);
    free(b);
}

static void test_malformed_sparse_form(void **state)
{
    static const char *const bad[] = {
        "{}", "[1, 2]", "[[1]]", "[[1, 2, 3]]", "[[-1, 2]]", "[[99999999, 1]]", "[[1, -2]]",
        "[[\"1\", 2]]", "[[1, 2.5]]",
    };
    struct histogram *h = malloc(sizeof(*h));

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *value = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(value);
        histogram_init(h);
        if (histogram_add_json(h, value) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(h->total, 0);
        json_decref(value);
    }
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lognormal_latencies),
        cmocka_unit_test(test_bimodal_with_timeouts),
        cmocka_unit_test(test_small_and_huge_values),
        cmocka_unit_test(test_buckets_contain_their_values),
        cmocka_unit_test(test_empty_histogram),
        cmocka_unit_test(test_sparse_form_round_trip),
        cmocka_unit_test(test_malformed_sparse_form),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
