/* Latency histograms with log-linear buckets: at most 1% relative error from 1 µs to days. */
#ifndef AFTERSHOCK_TRAFFIC_HISTOGRAM_H
#define AFTERSHOCK_TRAFFIC_HISTOGRAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Values are whole microseconds. Values below HIST_SUB each have their own
 * bucket. Above that, every power of two [2^k, 2^(k+1)) is split into
 * HIST_SUB equal buckets, so a bucket is at most 1/HIST_SUB of its lower
 * bound wide and its midpoint is within 1/(2*HIST_SUB) = 0.78% of any value
 * in it. Values at or above 2^HIST_TOP_BIT µs (about 12.7 days) share the
 * last bucket. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_TOP_BIT 40
#define HIST_BUCKETS ((HIST_TOP_BIT - HIST_SUB_BITS + 1) * HIST_SUB)

/* Invariant: total is the sum of counts; min and max are the smallest and
 * largest value recorded (both 0 while total is 0). */
struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t min;
    uint64_t max;
};

void histogram_init(struct histogram *h);

/* Bucket index of a value. */
unsigned histogram_index(uint64_t value);

/* Smallest value of bucket index and the number of values it holds. */
uint64_t histogram_bucket_low(unsigned index);
uint64_t histogram_bucket_width(unsigned index);

void histogram_record(struct histogram *h, uint64_t value);

/* Adds every count of src to dst. */
void histogram_merge(struct histogram *dst, const struct histogram *src);

/* The value at percentile p (0 < p <= 100) by nearest rank: the value of the
 * ceil(p/100 * total)-th smallest sample, within 1% (the bucket midpoint,
 * kept within [min, max]). p = 100 gives max exactly. 0 when empty. */
uint64_t histogram_percentile(const struct histogram *h, double p);

/* {"p50": ms, "p90": ms, "p99": ms, "p99.9": ms, "max": ms} in milliseconds,
 * or null when the histogram is empty. */
json_t *histogram_summary_json(const struct histogram *h);

/* Sparse form for journals: [[index, count], ...] for non-empty buckets,
 * then the exact min and max as {"min": us, "max": us} is kept by the caller. */
json_t *histogram_to_json(const struct histogram *h);

/* Adds the counts of a sparse form to h. min and max become the bounds of
 * the lowest and highest non-empty bucket unless the caller sets them.
 * Returns 0, or -1 when the form is not a list of [index, count] pairs with
 * index below HIST_BUCKETS and count at least 0. */
int histogram_add_json(struct histogram *h, const json_t *sparse);

#endif
