/* Unit tests for the toxic arithmetic: toxicity draws, latency jitter, bandwidth pacing, slice sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proxy/toxic.h"

/* A 64-bit draw whose top 53 bits encode u in [0, 1), as toxic_draw reads them. */
static uint64_t draw_of(double u)
{
    return (uint64_t)(u * 9007199254740992.0) << 11;
}

static void test_draw_toxicity_zero_never_applies(void **state)
{
    (void)state;
    assert_false(toxic_draw(0.0, 0));
    assert_false(toxic_draw(0.0, draw_of(0.5)));
    assert_false(toxic_draw(0.0, UINT64_MAX));
}

static void test_draw_toxicity_one_always_applies(void **state)
{
    (void)state;
    assert_true(toxic_draw(1.0, 0));
    assert_true(toxic_draw(1.0, draw_of(0.999999)));
    assert_true(toxic_draw(1.0, UINT64_MAX));
}

static void test_draw_toxicity_half_splits(void **state)
{
    (void)state;
    assert_true(toxic_draw(0.5, draw_of(0.25)));
    assert_true(toxic_draw(0.5, draw_of(0.4999)));
    assert_false(toxic_draw(0.5, draw_of(0.5)));
    assert_false(toxic_draw(0.5, draw_of(0.75)));
}

static void test_draw_frequency_matches_toxicity(void **state)
{
    uint64_t x = 0x1234567;
    int hits = 0;

    (void)state;
    /* splitmix64 steps as the server draws them; 30% should apply within 1%. */
    for (int i = 0; i < 100000; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        hits += toxic_draw(0.3, z ^ (z >> 31));
    }
    assert_in_range(hits, 29000, 31000);
}

static void test_latency_without_jitter_is_exact(void **state)
{
    (void)state;
    assert_int_equal(toxic_latency_delay_us(100, 0, 0), 100000);
    assert_int_equal(toxic_latency_delay_us(100, 0, UINT64_MAX), 100000);
    assert_int_equal(toxic_latency_delay_us(0, 0, 12345), 0);
}

static void test_latency_jitter_stays_in_bounds(void **state)
{
    uint64_t low = UINT64_MAX, high = 0;

    (void)state;
    for (uint64_t r = 0; r < 300000; r += 7) {
        uint64_t d = toxic_latency_delay_us(100, 20, r);
        low = d < low ? d : low;
        high = d > high ? d : high;
    }
    assert_int_equal(low, 80000);
    assert_int_equal(high, 120000);
}

static void test_latency_jitter_above_latency_clamps_to_zero(void **state)
{
    (void)state;
    /* random 0 gives the lowest offset: 10 ms - 50 ms, which must not go negative. */
    assert_int_equal(toxic_latency_delay_us(10, 50, 0), 0);
    assert_int_equal(toxic_latency_delay_us(10, 50, 100000), 60000);
}

static void test_bandwidth_interval_uses_1000_byte_kb(void **state)
{
    (void)state;
    /* 1000 bytes at 1 KB/s take one second. */
    assert_int_equal(toxic_bandwidth_interval_us(1000, 1), 1000000);
    /* 1 MB at 500 KB/s takes two seconds. */
    assert_int_equal(toxic_bandwidth_interval_us(1000000, 500), 2000000);
    assert_int_equal(toxic_bandwidth_interval_us(100, 100), 1000);
    assert_int_equal(toxic_bandwidth_interval_us(5, 0), 0);
}

static void test_bandwidth_piece_is_ten_ms(void **state)
{
    (void)state;
    assert_int_equal(toxic_bandwidth_piece(100), 1000);
    assert_int_equal(toxic_bandwidth_piece(1000), 10000);
    assert_int_equal(toxic_bandwidth_piece(1000000), 65536);
    assert_int_equal(toxic_bandwidth_piece(0), 1);
}

static void test_bandwidth_pieces_add_up_to_rate(void **state)
{
    uint64_t elapsed = 0;
    size_t piece = toxic_bandwidth_piece(250);

    (void)state;
    /* 2 MB in pieces at 250 KB/s must take 8 s, with no rounding drift. */
    for (size_t sent = 0; sent < 2000000; sent += piece)
        elapsed += toxic_bandwidth_interval_us(piece, 250);
    assert_int_equal(elapsed, 8000000);
}

static void test_slicer_size_range(void **state)
{
    size_t low = SIZE_MAX, high = 0;

    (void)state;
    for (uint64_t r = 0; r < 1000; r++) {
        size_t s = toxic_slicer_size(10, 4, r);
        low = s < low ? s : low;
        high = s > high ? s : high;
    }
    assert_int_equal(low, 6);
    assert_int_equal(high, 14);
    assert_int_equal(toxic_slicer_size(10, 0, 999), 10);
}

static void test_slicer_size_never_zero(void **state)
{
    (void)state;
    assert_int_equal(toxic_slicer_size(1, 0, 0), 1);
    assert_int_equal(toxic_slicer_size(2, 5, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draw_toxicity_zero_never_applies),
        cmocka_unit_test(test_draw_toxicity_one_always_applies),
        cmocka_unit_test(test_draw_toxicity_half_splits),
        cmocka_unit_test(test_draw_frequency_matches_toxicity),
        cmocka_unit_test(test_latency_without_jitter_is_exact),
        cmocka_unit_test(test_latency_jitter_stays_in_bounds),
        cmocka_unit_test(test_latency_jitter_above_latency_clamps_to_zero),
        cmocka_unit_test(test_bandwidth_interval_uses_1000_byte_kb),
        cmocka_unit_test(test_bandwidth_piece_is_ten_ms),
        cmocka_unit_test(test_bandwidth_pieces_add_up_to_rate),
        cmocka_unit_test(test_slicer_size_range),
        cmocka_unit_test(test_slicer_size_never_zero),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
