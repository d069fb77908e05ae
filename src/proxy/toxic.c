/* Toxic types, attribute validation, JSON form, and the arithmetic behind latency, bandwidth and slicer. */
#include "proxy/toxic.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Upper bounds, so that no sum or product below can overflow and a typo
 * such as an extra zero is caught. Durations: one day. */
#define MS_MAX 86400000LL
#define US_MAX 86400000000LL
#define RATE_MAX 100000000LL          /* KB/s: 100 GB/s */
#define SLICE_MAX 1073741824LL        /* bytes: 1 GiB */
#define BYTES_MAX 9007199254740992LL  /* 2^53, the largest integer every JSON client keeps exact */

struct attr_spec {
    const char *name;
    int64_t min;
    int64_t max;
    const char *why_min; /* reason shown when the value is below min and min > 0 */
};

struct type_spec {
    const char *name;
    int n_attrs;
    struct attr_spec attrs[TOXIC_ATTR_MAX];
};

static const struct type_spec types[TOXIC_TYPE_COUNT] = {
    [TOXIC_NOOP] = { "noop", 0, { { 0 } } },
    [TOXIC_LATENCY] = { "latency", 2,
                        { { "latency", 0, MS_MAX, NULL }, { "jitter", 0, MS_MAX, NULL } } },
    [TOXIC_BANDWIDTH] = { "bandwidth", 1,
                          { { "rate", 1, RATE_MAX, "a rate of 0 would never send a byte" } } },
    [TOXIC_SLOW_CLOSE] = { "slow_close", 1, { { "delay", 0, MS_MAX, NULL } } },
    [TOXIC_TIMEOUT] = { "timeout", 1, { { "timeout", 0, MS_MAX, NULL } } },
    [TOXIC_RESET_PEER] = { "reset_peer", 1, { { "timeout", 0, MS_MAX, NULL } } },
    [TOXIC_SLICER] = { "slicer", 3,
                       { { "average_size", 1, SLICE_MAX, "slices of 0 bytes would never end" },
                         { "size_variation", 0, SLICE_MAX, NULL },
                         { "delay", 0, US_MAX, NULL } } },
    [TOXIC_LIMIT_DATA] = { "limit_data", 1, { { "bytes", 0, BYTES_MAX, NULL } } },
};

int api_error_set(struct api_error *e, int status, const char *fmt, ...)
{
    va_list ap;

    e->status = status;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

const char *toxic_type_name(enum toxic_type type)
{
    return (type >= 0 && type < TOXIC_TYPE_COUNT) ? types[type].name : "?";
}

const char *toxic_stream_name(enum toxic_stream stream)
{
    return stream == STREAM_UPSTREAM ? "upstream" : "downstream";
}

static int find_type(const char *name)
{
    for (int i = 0; i < TOXIC_TYPE_COUNT; i++) {
        if (strcmp(types[i].name, name) == 0)
            return i;
    }
    return -1;
}

static int find_attr(enum toxic_type type, const char *name)
{
    for (int i = 0; i < types[type].n_attrs; i++) {
        if (strcmp(types[type].attrs[i].name, name) == 0)
            return i;
    }
    return -1;
}

/* Lists the attribute names of a type, for error messages. */
static void attr_list(enum toxic_type type, char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    if (types[type].n_attrs == 0) {
        snprintf(out, size, "none");
        return;
    }
    for (int i = 0; i < types[type].n_attrs && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "",
                                types[type].attrs[i].name);
}

/* Reads one attribute value: a JSON integer, or a number with no fraction. */
static int read_attr_value(enum toxic_type type, int index, json_t *value, int64_t *out,
                           struct api_error *e)
{
    const struct attr_spec *spec = &types[type].attrs[index];
    double real;

    if (json_is_integer(value)) {
        *out = json_integer_value(value);
    } else if (json_is_real(value)) {
        real = json_real_value(value);
        if (real != floor(real) || fabs(real) > (double)BYTES_MAX)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute '%s' must be a whole "
                                 "number, got %g", spec->name, real);
        *out = (int64_t)real;
    } else {
        return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute '%s' must be a number",
                             spec->name);
    }
    return 0;
}

/* Checks every attribute of t against its type's bounds and cross-field rules. */
static int check_attrs(const struct toxic *t, struct api_error *e)
{
    const struct type_spec *spec = &types[t->type];

    for (int i = 0; i < spec->n_attrs; i++) {
        const struct attr_spec *a = &spec->attrs[i];
        int64_t v = t->attrs[i];

        if (v < 0)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute '%s' must not be "
                                 "negative, got %lld", a->name, (long long)v);
        if (v < a->min)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute '%s' must be at least "
                                 "%lld because %s", a->name, (long long)a->min, a->why_min);
        if (v > a->max)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute '%s' must be at most "
                                 "%lld, got %lld", a->name, (long long)a->max, (long long)v);
    }
    if (t->type == TOXIC_SLICER &&
        t->attrs[ATTR_SLICER_VARIATION] >= t->attrs[ATTR_SLICER_AVERAGE])
        return api_error_set(e, 400, API_MSG_BAD_BODY ": attribute 'size_variation' (%lld) "
                             "must be smaller than 'average_size' (%lld)",
                             (long long)t->attrs[ATTR_SLICER_VARIATION],
                             (long long)t->attrs[ATTR_SLICER_AVERAGE]);
    return 0;
}

/* Reads the attributes object into t->attrs; absent attributes keep their value. */
static int read_attrs(json_t *attrs, struct toxic *t, struct api_error *e)
{
    const char *key;
    json_t *value;
    char names[128];

    if (attrs == NULL || json_is_null(attrs))
        return 0;
    if (!json_is_object(attrs))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'attributes' must be an object");
    json_object_foreach(attrs, key, value) {
        int index = find_attr(t->type, key);
        if (index < 0) {
            attr_list(t->type, names, sizeof(names));
            return api_error_set(e, 400, API_MSG_BAD_BODY ": unknown attribute '%s' for "
                                 "toxic type '%s' (its attributes: %s)", key,
                                 types[t->type].name, names);
        }
        if (read_attr_value(t->type, index, value, &t->attrs[index], e) != 0)
            return -1;
    }
    return 0;
}

/* Rejects top-level keys other than the toxic fields, naming attributes sent in the wrong place. */
static int check_top_level(json_t *body, int type, struct api_error *e)
{
    static const char *const fields[] = { "name", "type", "stream", "toxicity", "attributes" };
    const char *key;
    json_t *value;

    json_object_foreach(body, key, value) {
        bool known = false;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            known = known || strcmp(key, fields[i]) == 0;
        if (known)
            continue;
        if (type >= 0 && find_attr((enum toxic_type)type, key) >= 0)
            return api_error_set(e, 400, API_MSG_BAD_BODY ": '%s' is an attribute of toxic "
                                 "type '%s' and belongs inside 'attributes'", key,
                                 types[type].name);
        return api_error_set(e, 400, API_MSG_BAD_BODY ": unknown field '%s' (toxic fields: "
                             "name, type, stream, toxicity, attributes)", key);
    }
    return 0;
}

static int read_toxicity(json_t *value, double *out, struct api_error *e)
{
    double toxicity;

    if (value == NULL)
        return 0;
    if (!json_is_number(value))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'toxicity' must be a number");
    toxicity = json_number_value(value);
    if (!(toxicity >= 0.0 && toxicity <= 1.0))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'toxicity' must be between 0 and 1, "
                             "got %g", toxicity);
    *out = toxicity;
    return 0;
}

static int read_stream(json_t *value, enum toxic_stream *out, struct api_error *e)
{
    const char *text;

    if (value == NULL)
        return 0;
    text = json_string_value(value);
    if (text != NULL && strcasecmp(text, "upstream") == 0)
        *out = STREAM_UPSTREAM;
    else if (text != NULL && strcasecmp(text, "downstream") == 0)
        *out = STREAM_DOWNSTREAM;
    else
        return api_error_set(e, 400, API_MSG_INVALID_STREAM);
    return 0;
}

/* Reads an optional name: a string of 1 to TOXIC_NAME_MAX bytes; "" counts as absent. */
static int read_name(json_t *value, const char **out, struct api_error *e)
{
    const char *text;

    *out = NULL;
    if (value == NULL)
        return 0;
    text = json_string_value(value);
    if (text == NULL)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'name' must be a string");
    if (strlen(text) > TOXIC_NAME_MAX)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": 'name' is longer than %d bytes",
                             TOXIC_NAME_MAX);
    if (text[0] != '\0')
        *out = text;
    return 0;
}

int toxic_parse_create(json_t *body, struct toxic *out, struct api_error *e)
{
    const char *type_text, *name;
    char default_name[64];
    int type;

    memset(out, 0, sizeof(*out));
    out->stream = STREAM_DOWNSTREAM;
    out->toxicity = 1.0;
    if (!json_is_object(body))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": expected a JSON object");

    type_text = json_string_value(json_object_get(body, "type"));
    type = type_text != NULL ? find_type(type_text) : -1;
    if (check_top_level(body, type, e) != 0)
        return -1;
    if (read_stream(json_object_get(body, "stream"), &out->stream, e) != 0 ||
        read_name(json_object_get(body, "name"), &name, e) != 0)
        return -1;
    if (type < 0)
        return api_error_set(e, 400, API_MSG_INVALID_TYPE);
    out->type = (enum toxic_type)type;
    if (read_toxicity(json_object_get(body, "toxicity"), &out->toxicity, e) != 0 ||
        read_attrs(json_object_get(body, "attributes"), out, e) != 0 || check_attrs(out, e) != 0)
        return -1;

    if (name == NULL) {
        snprintf(default_name, sizeof(default_name), "%s_%s", types[type].name,
                 toxic_stream_name(out->stream));
        name = default_name;
    }
    out->name = strdup(name);
    if (out->name == NULL)
        abort();
    return 0;
}

/* Rejects name, type or stream in an update body unless they repeat the current value. */
static int check_unchanged(json_t *body, const struct toxic *current, struct api_error *e)
{
    json_t *name = json_object_get(body, "name");
    json_t *type = json_object_get(body, "type");
    enum toxic_stream stream = current->stream;

    if (name != NULL && !json_is_null(name) &&
        (!json_is_string(name) || strcmp(json_string_value(name), current->name) != 0))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": a toxic cannot be renamed; remove "
                             "it and add it under the new name");
    if (type != NULL && !json_is_null(type) &&
        (!json_is_string(type) || strcmp(json_string_value(type), types[current->type].name)))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": the type of toxic '%s' is '%s' and "
                             "cannot change; remove it and add a new one", current->name,
                             types[current->type].name);
    if (read_stream(json_object_get(body, "stream"), &stream, e) != 0)
        return -1;
    if (stream != current->stream)
        return api_error_set(e, 400, API_MSG_BAD_BODY ": the stream of toxic '%s' is '%s' and "
                             "cannot change; remove it and add a new one", current->name,
                             toxic_stream_name(current->stream));
    return 0;
}

int toxic_parse_update(json_t *body, const struct toxic *current, struct toxic *out,
                       struct api_error *e)
{
    *out = *current;
    out->name = NULL;
    if (!json_is_object(body))
        return api_error_set(e, 400, API_MSG_BAD_BODY ": expected a JSON object");
    if (check_top_level(body, (int)current->type, e) != 0 ||
        check_unchanged(body, current, e) != 0 ||
        read_toxicity(json_object_get(body, "toxicity"), &out->toxicity, e) != 0 ||
        read_attrs(json_object_get(body, "attributes"), out, e) != 0 || check_attrs(out, e) != 0)
        return -1;
    out->name = strdup(current->name);
    if (out->name == NULL)
        abort();
    return 0;
}

json_t *toxic_to_json(const struct toxic *toxic)
{
    json_t *attrs = json_object();

    for (int i = 0; i < types[toxic->type].n_attrs; i++)
        json_object_set_new(attrs, types[toxic->type].attrs[i].name,
                            json_integer(toxic->attrs[i]));
    return json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", toxic->name, "type",
                     types[toxic->type].name, "stream", toxic_stream_name(toxic->stream),
                     "toxicity", toxic->toxicity, "attributes", attrs);
}

void toxic_release(struct toxic *toxic)
{
    free(toxic->name);
    toxic->name = NULL;
}

bool toxic_draw(double toxicity, uint64_t random)
{
    /* The top 53 bits give a uniform double in [0, 1). */
    double u = (double)(random >> 11) * (1.0 / 9007199254740992.0);

    return u < toxicity;
}

uint64_t toxic_latency_delay_us(int64_t latency_ms, int64_t jitter_ms, uint64_t random)
{
    int64_t delay = latency_ms * 1000;

    if (jitter_ms > 0) {
        uint64_t span = (uint64_t)jitter_ms * 2000 + 1;
        delay += (int64_t)(random % span) - jitter_ms * 1000;
    }
    return delay > 0 ? (uint64_t)delay : 0;
}

uint64_t toxic_bandwidth_interval_us(uint64_t bytes, int64_t rate_kbps)
{
    /* bytes / (rate * 1000 bytes/s) seconds, in microseconds: bytes * 1000 / rate. */
    return rate_kbps > 0 ? bytes * 1000 / (uint64_t)rate_kbps : 0;
}

size_t toxic_bandwidth_piece(int64_t rate_kbps)
{
    uint64_t piece = (uint64_t)rate_kbps * 10; /* 10 ms worth: rate * 1000 B/s * 0.01 s */

    if (piece < 1)
        piece = 1;
    if (piece > 65536)
        piece = 65536;
    return (size_t)piece;
}

size_t toxic_slicer_size(int64_t average, int64_t variation, uint64_t random)
{
    int64_t size = average;

    if (variation > 0)
        size += (int64_t)(random % ((uint64_t)variation * 2 + 1)) - variation;
    return size > 0 ? (size_t)size : 1;
}
