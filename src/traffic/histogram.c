/* Log-linear latency histograms: recording, merging, percentiles and their journal form. */
#include "traffic/histogram.h"

#include <math.h>
#include <string.h>

void histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof(*h));
}

unsigned histogram_index(uint64_t value)
{
    unsigned bit, shift;

    if (value < HIST_SUB)
        return (unsigned)value;
    if (value >= (UINT64_C(1) << HIST_TOP_BIT))
        return HIST_BUCKETS - 1;
    bit = 63u - (unsigned)__builtin_clzll(value);
    shift = bit - HIST_SUB_BITS;
    return (bit - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned)((value >> shift) - HIST_SUB);
}

uint64_t histogram_bucket_low(unsigned index)
{
    unsigned octave = index / HIST_SUB, sub = index % HIST_SUB;

    if (octave == 0)
        return index;
    return (uint64_t)(HIST_SUB + sub) << (octave - 1);
}

uint64_t histogram_bucket_width(unsigned index)
{
    unsigned octave = index / HIST_SUB;

    return octave == 0 ? 1 : UINT64_C(1) << (octave - 1);
}

void histogram_record(struct histogram *h, uint64_t value)
{
    h->counts[histogram_index(value)]++;
    if (h->total == 0 || value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
    h->total++;
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    if (dst->total == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->total += src->total;
}

uint64_t histogram_percentile(const struct histogram *h, double p)
{
    uint64_t rank, seen = 0;

    if (h->total == 0)
        return 0;
    if (p >= 100)
        return h->max;
    rank = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (rank < 1)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen < rank)
            continue;
        uint64_t value = histogram_bucket_low(i) + (histogram_bucket_width(i) - 1) / 2;
        if (value < h->min)
            value = h->min;
        if (value > h->max)
            value = h->max;
        return value;
    }
    return h->max;
}

static json_t *ms(uint64_t us)
{
    return json_real((double)us / 1000.0);
}

json_t *histogram_summary_json(const struct histogram *h)
{
    if (h->total == 0)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "p50", ms(histogram_percentile(h, 50)), "p90",
                     ms(histogram_percentile(h, 90)), "p99", ms(histogram_percentile(h, 99)),
                     "p99.9", ms(histogram_percentile(h, 99.9)), "max", ms(h->max));
}

json_t *histogram_to_json(const struct histogram *h)
{
    json_t *out = json_array();

    for (unsigned i = 0; i < HIST_BUCKETS && h->total > 0; i++) {
        if (h->counts[i] > 0)
            json_array_append_new(out, json_pack("[I, I]", (json_int_t)i,
                                                 (json_int_t)h->counts[i]));
    }
    return out;
}

int histogram_add_json(struct histogram *h, const json_t *sparse)
{
    struct histogram add;
    size_t i;
    json_t *pair;

    if (!json_is_array(sparse))
        return -1;
    histogram_init(&add);
    json_array_foreach(sparse, i, pair) {
        json_t *index = json_array_get(pair, 0), *count = json_array_get(pair, 1);
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_integer(index) ||
            !json_is_integer(count) || json_integer_value(index) < 0 ||
            json_integer_value(index) >= HIST_BUCKETS || json_integer_value(count) < 0)
            return -1;
        unsigned b = (unsigned)json_integer_value(index);
        uint64_t n = (uint64_t)json_integer_value(count);
        if (n == 0)
            continue;
        if (add.total == 0 || histogram_bucket_low(b) < add.min)
            add.min = histogram_bucket_low(b);
        if (histogram_bucket_low(b) + histogram_bucket_width(b) - 1 > add.max)
            add.max = histogram_bucket_low(b) + histogram_bucket_width(b) - 1;
        add.counts[b] += n;
        add.total += n;
    }
    histogram_merge(h, &add);
    return 0;
}
