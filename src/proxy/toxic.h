/* Toxic configuration: types, attributes, JSON validation and the arithmetic each toxic runs on. */
#ifndef AFTERSHOCK_PROXY_TOXIC_H
#define AFTERSHOCK_PROXY_TOXIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOXIC_NAME_MAX 256
#define TOXIC_ATTR_MAX 3

/* An API failure: the HTTP status and the message sent as {"error": ..., "status": ...}. */
struct api_error {
    int status;
    char message[512];
};

/* Sets e and returns -1. */
int api_error_set(struct api_error *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Messages Toxiproxy 2.x sends, kept word for word so clients that match on them still work. */
#define API_MSG_BAD_BODY "bad request body"
#define API_MSG_MISSING_FIELD "missing required field"
#define API_MSG_PROXY_NOT_FOUND "proxy not found"
#define API_MSG_PROXY_EXISTS "proxy already exists"
#define API_MSG_INVALID_STREAM "stream was invalid, can be either upstream or downstream"
#define API_MSG_INVALID_TYPE "invalid toxic type"
#define API_MSG_TOXIC_EXISTS "toxic already exists"
#define API_MSG_TOXIC_NOT_FOUND "toxic not found"

enum toxic_type {
    TOXIC_NOOP,
    TOXIC_LATENCY,
    TOXIC_BANDWIDTH,
    TOXIC_SLOW_CLOSE,
    TOXIC_TIMEOUT,
    TOXIC_RESET_PEER,
    TOXIC_SLICER,
    TOXIC_LIMIT_DATA,
    TOXIC_TYPE_COUNT,
};

/* Direction of a link: upstream is client to server, downstream server to client. */
enum toxic_stream {
    STREAM_UPSTREAM = 0,
    STREAM_DOWNSTREAM = 1,
};

/* Attribute indexes into toxic.attrs, per type. */
enum {
    ATTR_LATENCY_MS = 0,
    ATTR_JITTER_MS = 1,
    ATTR_RATE_KBPS = 0,
    ATTR_SLOW_CLOSE_DELAY_MS = 0,
    ATTR_TIMEOUT_MS = 0,
    ATTR_SLICER_AVERAGE = 0,
    ATTR_SLICER_VARIATION = 1,
    ATTR_SLICER_DELAY_US = 2,
    ATTR_LIMIT_BYTES = 0,
};

/* One toxic as the API sees it. Invariant: name is non-empty and at most
 * TOXIC_NAME_MAX bytes, 0 <= toxicity <= 1, and every attribute satisfies
 * toxic_check_attrs for its type. */
struct toxic {
    char *name;
    enum toxic_type type;
    enum toxic_stream stream;
    double toxicity;
    int64_t attrs[TOXIC_ATTR_MAX];
};

/* Returns the API name of a type ("latency") or of a stream ("upstream"). */
const char *toxic_type_name(enum toxic_type type);
const char *toxic_stream_name(enum toxic_stream stream);

/* Parses a toxic creation body (name, type, stream, toxicity, attributes)
 * into *out with the defaults applied: stream downstream, toxicity 1, name
 * TYPE_STREAM, attributes 0. Returns 0, or -1 with e set to a 400 error. */
int toxic_parse_create(json_t *body, struct toxic *out, struct api_error *e);

/* Applies an update body to a copy of current: toxicity and any subset of
 * attributes change, the rest is kept; name, type and stream may be sent
 * only unchanged. Returns 0 with *out filled (out->name is a new copy), or
 * -1 with e set to a 400 error. */
int toxic_parse_update(json_t *body, const struct toxic *current, struct toxic *out,
                       struct api_error *e);

/* Returns the toxic as the API shows it (new reference). */
json_t *toxic_to_json(const struct toxic *toxic);

/* Frees the name; the struct itself belongs to the caller. */
void toxic_release(struct toxic *toxic);

/* The arithmetic below takes its random input as a parameter, so unit
 * tests can drive it; callers pass proxy_random(). */

/* True when a toxic with this toxicity applies to one link direction:
 * random is uniform over 64 bits, toxicity 0 never applies, 1 always does. */
bool toxic_draw(double toxicity, uint64_t random);

/* Latency toxic: delay in microseconds for one chunk, latency plus a
 * uniform offset in [-jitter, +jitter] milliseconds, never below 0. */
uint64_t toxic_latency_delay_us(int64_t latency_ms, int64_t jitter_ms, uint64_t random);

/* Bandwidth toxic: microseconds that sending bytes takes at rate_kbps
 * (1 KB = 1000 bytes). */
uint64_t toxic_bandwidth_interval_us(uint64_t bytes, int64_t rate_kbps);

/* Bandwidth toxic: largest piece released at once, 10 ms worth of the rate,
 * at least 1 byte and at most 64 KiB. */
size_t toxic_bandwidth_piece(int64_t rate_kbps);

/* Slicer toxic: size of the next slice, average plus a uniform offset in
 * [-variation, +variation], at least 1 byte. */
size_t toxic_slicer_size(int64_t average, int64_t variation, uint64_t random);

#endif
