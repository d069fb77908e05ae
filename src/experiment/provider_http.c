/* The `http` provider: one request, with the response as the activity's output. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "experiment/activity.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#define HTTP_DEFAULT_TIMEOUT 30.0
#define HTTP_BODY_MAX (4 * 1024 * 1024)

void provider_read_timeout(json_t *value, double *connect, double *total)
{
    *connect = 0;
    *total = 0;
    if (json_is_number(value)) {
        *total = json_number_value(value);
    } else if (json_is_array(value) && json_array_size(value) == 2) {
        *connect = json_number_value(json_array_get(value, 0));
        *total = *connect + json_number_value(json_array_get(value, 1));
    }
    if (*connect < 0)
        *connect = 0;
    if (*total < 0)
        *total = 0;
}

/* Appends key=value pairs of an object as a URL query string. */
static void append_query(struct strbuf *url, json_t *arguments)
{
    const char *key;
    json_t *value;
    char sep = strchr(strbuf_str(url), '?') ? '&' : '?';

    json_object_foreach(arguments, key, value) {
        char *text = json_is_string(value) ? strdup(json_string_value(value))
                                           : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        strbuf_addch(url, sep);
        sep = '&';
        for (const char *p = key; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
                strbuf_addch(url, *p);
            else
                strbuf_addf(url, "%%%02X", (unsigned char)*p);
        }
        strbuf_addch(url, '=');
        for (const char *p = text; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || strchr("-_.~", *p))
                strbuf_addch(url, *p);
            else
                strbuf_addf(url, "%%%02X", (unsigned char)*p);
        }
        free(text);
    }
}

/* Builds "Name: value" lines from the headers object; returns a NULL-terminated array. */
static char **build_headers(json_t *headers, bool json_body)
{
    size_t n = json_object_size(headers);
    char **lines = calloc(n + 2, sizeof(char *));
    const char *key;
    json_t *value;
    size_t i = 0;
    bool has_content_type = false;

    if (lines == NULL)
        abort();
    json_object_foreach(headers, key, value) {
        struct strbuf line = STRBUF_INIT;
        if (strcasecmp(key, "content-type") == 0)
            has_content_type = true;
        if (json_is_string(value))
            strbuf_addf(&line, "%s: %s", key, json_string_value(value));
        else {
            char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
            strbuf_addf(&line, "%s: %s", key, text);
            free(text);
        }
        lines[i++] = strbuf_detach(&line);
    }
    if (json_body && !has_content_type)
        lines[i++] = strdup("Content-Type: application/json");
    lines[i] = NULL;
    return lines;
}

/* Turns a response into the output object: status, headers, and the body,
 * parsed when the Content-Type is JSON. */
static json_t *response_output(const struct http_response *res)
{
    json_t *headers = json_object();
    json_t *body = NULL;
    bool is_json = false;

    for (size_t i = 0; i < res->header_count; i++) {
        char *value = utf8_sanitize(res->header_values[i], strlen(res->header_values[i]));
        json_object_set_new(headers, res->header_names[i], json_string(value));
        if (strcmp(res->header_names[i], "content-type") == 0 && strstr(value, "json") != NULL)
            is_json = true;
        free(value);
    }
    if (is_json && !res->body_truncated)
        body = json_loadb(res->body, res->body_len, JSON_DECODE_ANY, NULL);
    if (body == NULL) {
        char *text = utf8_sanitize(res->body, res->body_len);
        body = json_string(text);
        free(text);
    }
    return json_pack("{s:i, s:o, s:o}", "status", (int)res->status, "headers", headers, "body",
                     body);
}

int provider_http_run(const struct activity_env *env, json_t *provider, json_t **output,
                      struct err *err)
{
    const char *url = json_string_value(json_object_get(provider, "url"));
    const char *method = json_string_value(json_object_get(provider, "method"));
    json_t *arguments = json_object_get(provider, "arguments");
    json_t *expected = json_object_get(provider, "expected_status");
    json_t *verify = json_object_get(provider, "verify_tls");
    struct strbuf full_url = STRBUF_INIT;
    struct http_request req;
    struct http_response res;
    enum http_error_kind kind;
    char *body = NULL;
    char **headers = NULL;
    int rc = -1;

    if (url == NULL)
        return err_set(err, "http provider has no url");
    if (method == NULL)
        method = "GET";

    /* Arguments go in the query for methods without a body, else as a JSON body. */
    strbuf_addstr(&full_url, url);
    bool query_method = strcasecmp(method, "GET") == 0 || strcasecmp(method, "HEAD") == 0 ||
                        strcasecmp(method, "DELETE") == 0 || strcasecmp(method, "OPTIONS") == 0;
    if (json_is_object(arguments) && query_method)
        append_query(&full_url, arguments);
    else if (arguments != NULL && !json_is_null(arguments))
        body = json_dumps(arguments, JSON_ENCODE_ANY | JSON_COMPACT);
    headers = build_headers(json_object_get(provider, "headers"), body != NULL);

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = strbuf_str(&full_url);
    req.headers = (const char *const *)headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    provider_read_timeout(json_object_get(provider, "timeout"), &req.connect_timeout,
                          &req.timeout);
    if (req.timeout == 0)
        req.timeout = HTTP_DEFAULT_TIMEOUT;
    req.verify_tls = verify == NULL || json_is_true(verify);
    req.follow_redirects = true;
    req.body_max = HTTP_BODY_MAX;
    req.stop = env->stop;

    log_debug("http", "request method=%s url=%s", method, url);
    if (http_send(&req, &res, &kind, err) != 0)
        goto cleanup;

    *output = response_output(&res);
    if (json_is_integer(expected) && json_integer_value(expected) != res.status) {
        err_set(err, "%s %s returned status %ld, expected %lld", method, url, res.status,
                (long long)json_integer_value(expected));
        http_response_release(&res);
        goto cleanup;
    }
    http_response_release(&res);
    rc = 0;

cleanup:
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        free(headers[i]);
    free(headers);
    free(body);
    strbuf_release(&full_url);
    return rc;
}
