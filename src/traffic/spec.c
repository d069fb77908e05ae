/* Reading a traffic declaration into the settings the sender runs with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "traffic/traffic.h"

static const char *const failure_names[TRAFFIC_FAIL_KINDS] = {
    "timeout", "refused", "reset", "bad_status", "other",
};

const char *traffic_failure_name(enum traffic_failure kind)
{
    return failure_names[kind];
}

/* Reads an optional number in [min, max] into *out. */
static int read_number(json_t *decl, const char *key, double min, double max, double *out,
                       struct err *err)
{
    json_t *value = json_object_get(decl, key);

    if (value == NULL)
        return 0;
    if (!json_is_number(value))
        return err_set(err, "traffic '%s' must be a number", key);
    if (json_number_value(value) < min || json_number_value(value) > max)
        return err_set(err, "traffic '%s' is %g; use a value from %g to %g", key,
                       json_number_value(value), min, max);
    *out = json_number_value(value);
    return 0;
}

/* Turns tcp://HOST:PORT into a URL curl connects to without sending anything. */
static int read_tcp_url(struct traffic_spec *spec, struct err *err)
{
    const char *rest = spec->url + strlen("tcp://");
    const char *colon = strrchr(rest, ':');

    if (colon == NULL || colon == rest || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || strchr(rest, '/') != NULL)
        return err_set(err, "traffic 'url' '%s' is not tcp://HOST:PORT", spec->url);
    if (asprintf(&spec->connect_url, "http://%s/", rest) < 0)
        abort();
    spec->kind = TRAFFIC_TCP;
    return 0;
}

static int read_url(json_t *decl, struct traffic_spec *spec, struct err *err)
{
    const char *url = json_string_value(json_object_get(decl, "url"));

    if (url == NULL || url[0] == '\0')
        return err_set(err, "traffic needs 'url': http://, https:// or tcp://HOST:PORT");
    spec->url = strdup(url);
    if (strncasecmp(url, "tcp://", 6) == 0)
        return read_tcp_url(spec, err);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return err_set(err, "traffic 'url' '%s' must start with http://, https:// or tcp://",
                       url);
    spec->connect_url = strdup(url);
    spec->kind = TRAFFIC_HTTP;
    return 0;
}

static int read_headers(json_t *decl, struct traffic_spec *spec, struct err *err)
{
    json_t *headers = json_object_get(decl, "headers"), *value;
    const char *key;
    size_t n = 0;

    if (headers != NULL && !json_is_object(headers))
        return err_set(err, "traffic 'headers' must be a mapping of names to values");
    spec->headers = calloc(json_object_size(headers) + 1, sizeof(char *));
    if (spec->headers == NULL)
        abort();
    json_object_foreach(headers, key, value) {
        if (!json_is_string(value) || strpbrk(key, "\r\n:") != NULL ||
            strpbrk(json_string_value(value), "\r\n") != NULL)
            return err_set(err, "traffic header '%s' must be a single-line string", key);
        if (asprintf(&spec->headers[n++], "%s: %s", key, json_string_value(value)) < 0)
            abort();
    }
    return 0;
}

static int read_statuses(json_t *decl, struct traffic_spec *spec, struct err *err)
{
    json_t *value = json_object_get(decl, "expected_status"), *item;
    size_t i;

    if (value == NULL)
        return 0;
    if (json_is_integer(value)) {
        spec->statuses[spec->n_statuses++] = (int)json_integer_value(value);
        value = NULL;
    } else if (!json_is_array(value) || json_array_size(value) == 0 ||
               json_array_size(value) > TRAFFIC_MAX_STATUSES) {
        return err_set(err, "traffic 'expected_status' must be a status code or a list of "
                       "1 to %d codes", TRAFFIC_MAX_STATUSES);
    }
    json_array_foreach(value, i, item) {
        if (!json_is_integer(item))
            return err_set(err, "traffic 'expected_status' holds a value that is not a code");
        spec->statuses[spec->n_statuses++] = (int)json_integer_value(item);
    }
    for (int s = 0; s < spec->n_statuses; s++) {
        if (spec->statuses[s] < 100 || spec->statuses[s] > 599)
            return err_set(err, "traffic 'expected_status' %d is not an HTTP status (100-599)",
                           spec->statuses[s]);
    }
    return 0;
}

static int read_body(json_t *decl, struct traffic_spec *spec, struct err *err)
{
    json_t *body = json_object_get(decl, "body");

    if (body == NULL || json_is_null(body))
        return 0;
    if (json_is_string(body))
        spec->body = strdup(json_string_value(body));
    else if (json_is_object(body) || json_is_array(body))
        spec->body = json_dumps(body, JSON_COMPACT);
    else
        return err_set(err, "traffic 'body' must be a string, a mapping or a list");
    return 0;
}

int traffic_spec_parse(json_t *decl, struct traffic_spec *spec, struct err *err)
{
    const char *method = json_string_value(json_object_get(decl, "method"));
    double connections = TRAFFIC_DEFAULT_CONNECTIONS;
    json_t *verify = json_object_get(decl, "verify_tls");

    memset(spec, 0, sizeof(*spec));
    spec->timeout = TRAFFIC_DEFAULT_TIMEOUT;
    spec->verify_tls = verify == NULL || json_is_true(verify);
    if (!json_is_object(decl))
        return err_set(err, "traffic must be a mapping with url and rate");
    if (read_url(decl, spec, err) != 0 || read_headers(decl, spec, err) != 0 ||
        read_statuses(decl, spec, err) != 0 || read_body(decl, spec, err) != 0)
        return -1;
    if (json_object_get(decl, "method") != NULL &&
        (method == NULL || method[0] == '\0' || strpbrk(method, " \t\r\n") != NULL))
        return err_set(err, "traffic 'method' must be one word such as GET or POST");
    spec->method = strdup(method != NULL ? method : "GET");
    if (json_object_get(decl, "rate") == NULL)
        return err_set(err, "traffic needs 'rate': requests per second");
    if (read_number(decl, "rate", 0.001, TRAFFIC_MAX_RATE, &spec->rate, err) != 0 ||
        read_number(decl, "duration", 0, 86400 * 7, &spec->duration, err) != 0 ||
        read_number(decl, "connections", 1, TRAFFIC_MAX_CONNECTIONS, &connections, err) != 0 ||
        read_number(decl, "timeout", 0.001, 3600, &spec->timeout, err) != 0 ||
        read_number(decl, "tail", 0, 3600, &spec->tail, err) != 0)
        return -1;
    spec->connections = (int)connections;
    return 0;
}

void traffic_spec_release(struct traffic_spec *spec)
{
    free(spec->url);
    free(spec->connect_url);
    free(spec->method);
    for (size_t i = 0; spec->headers != NULL && spec->headers[i] != NULL; i++)
        free(spec->headers[i]);
    free(spec->headers);
    free(spec->body);
    memset(spec, 0, sizeof(*spec));
}
