/* Private interface between the open-model scheduler (engine.c) and the
 * transports that carry requests: libcurl (transport_curl.c) for HTTPS, and
 * raw sockets (transport_raw.c) for plain HTTP and TCP connects. */
#ifndef AFTERSHOCK_TRAFFIC_ENGINE_H
#define AFTERSHOCK_TRAFFIC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traffic/histogram.h"
#include "traffic/traffic.h"

/* Counts for one second of intended send times. Invariant: pending is the
 * number of its requests queued or in flight; hist is NULL once the second
 * is closed and its journal entry written. */
struct second {
    uint64_t sent, succeeded;
    uint64_t failed[TRAFFIC_FAIL_KINDS];
    uint64_t pending;
    struct histogram *hist;
};

/* Intended send times waiting for a free connection, oldest first (a ring). */
struct backlog {
    double *times;
    size_t *seconds;
    size_t head, count, cap;
};

struct engine;

/* A way to carry requests. Callbacks run on the engine's thread, in this
 * order: init once; then, each pass, start for every queued request while
 * idle > 0, and wait; release once. Each request started ends with exactly
 * one call to engine_record, from start or from wait. */
struct transport {
    /* Prepares spec->connections connections. Returns 0, or -1 with err set. */
    int (*init)(struct engine *e, struct err *err);
    /* Sends one request meant for `intended` (monotonic seconds). */
    void (*start)(struct engine *e, double intended, size_t second, double now);
    /* Waits up to timeout_ms for progress and records finished requests. */
    void (*wait)(struct engine *e, int timeout_ms);
    void (*release)(struct engine *e);
};

struct engine {
    const struct traffic_spec *spec;
    const struct transport *transport;
    void *state;          /* the transport's own */
    int idle;             /* connections free for a request; all of them once stopped */
    struct backlog backlog;
    size_t max_backlog;
    struct second *seconds;
    size_t n_seconds, cap_seconds, first_open;
    double t0;
    double next_offset;   /* seconds after t0 of the next request to queue */
    struct histogram total, lag;
    uint64_t sent, succeeded, failed[TRAFFIC_FAIL_KINDS];
    json_t *timeline;
    json_t *errors;       /* first message of each failure kind */
};

extern const struct transport transport_curl;
extern const struct transport transport_raw;

/* Records the end of a request meant for `intended`: failure is a
 * traffic_failure or -1 for success; message (may be NULL) is kept for the
 * first failure of each kind. */
void engine_record(struct engine *e, size_t second, double intended, double now, int failure,
                   const char *message);

/* Records the time between the intended and the actual send. */
void engine_record_lag(struct engine *e, double intended, double now);

/* True when an HTTP status counts as a success for spec. */
bool traffic_status_expected(const struct traffic_spec *spec, long status);

#endif
