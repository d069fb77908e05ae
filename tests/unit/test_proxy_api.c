/* Unit tests for the proxy API's JSON validation, error bodies and status codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/internal.h"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (doc == NULL)
        fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
    return doc;
}

/* Parses a toxic creation body; returns the status (0 when accepted). */
static int create_status(const char *text, struct toxic *out, char *message, size_t size)
{
    json_t *body = parse(text);
    struct api_error e = { 0, "" };
    int rc = toxic_parse_create(body, out, &e);

    json_decref(body);
    if (message != NULL)
        snprintf(message, size, "%s", e.message);
    return rc == 0 ? 0 : e.status;
}

static void test_toxic_create_defaults(void **state)
{
    struct toxic t;

    (void)state;
    assert_int_equal(create_status("{\"type\": \"latency\"}", &t, NULL, 0), 0);
    assert_string_equal(t.name, "latency_downstream");
    assert_int_equal(t.stream, STREAM_DOWNSTREAM);
    assert_true(t.toxicity == 1.0);
    assert_int_equal(t.attrs[ATTR_LATENCY_MS], 0);
    toxic_release(&t);
}

static void test_toxic_create_full(void **state)
{
    struct toxic t;

    (void)state;
    assert_int_equal(create_status("{\"name\": \"slow\", \"type\": \"latency\", \"stream\": "
                                   "\"Upstream\", \"toxicity\": 0.25, \"attributes\": "
                                   "{\"latency\": 120, \"jitter\": 7.0}}", &t, NULL, 0), 0);
    assert_string_equal(t.name, "slow");
    assert_int_equal(t.stream, STREAM_UPSTREAM);
    assert_true(t.toxicity == 0.25);
    assert_int_equal(t.attrs[ATTR_LATENCY_MS], 120);
    assert_int_equal(t.attrs[ATTR_JITTER_MS], 7);
    toxic_release(&t);
}

/* Bodies Toxiproxy accepts or mishandles that must be rejected with 400, and the words the message must contain. */
static void test_toxic_create_rejects_nonsense(void **state)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        { "{\"type\": \"latency\", \"latency\": 100}", "belongs inside 'attributes'" },
        { "{\"type\": \"latency\", \"bogus\": 1}", "unknown field 'bogus'" },
        { "{\"type\": \"latency\", \"attributes\": {\"latncy\": 5}}", "unknown attribute 'latncy'" },
        { "{\"type\": \"latency\", \"attributes\": {\"latency\": -1}}", "must not be negative" },
        { "{\"type\": \"latency\", \"attributes\": {\"latency\": 1.5}}", "whole number" },
        { "{\"type\": \"latency\", \"attributes\": {\"latency\": \"5\"}}", "must be a number" },
        { "{\"type\": \"bandwidth\", \"attributes\": {\"rate\": 0}}", "'rate' must be at least 1" },
        { "{\"type\": \"bandwidth\"}", "'rate' must be at least 1" },
        { "{\"type\": \"slicer\", \"attributes\": {\"average_size\": 0}}", "'average_size'" },
        { "{\"type\": \"slicer\", \"attributes\": {\"average_size\": 5, \"size_variation\": 5}}",
          "smaller than 'average_size'" },
        { "{\"type\": \"noop\", \"toxicity\": 1.5}", "between 0 and 1" },
        { "{\"type\": \"noop\", \"toxicity\": -0.1}", "between 0 and 1" },
        { "{\"type\": \"noop\", \"toxicity\": \"1\"}", "must be a number" },
        { "{\"type\": \"timeout\", \"attributes\": {\"timeout\": 86400001}}", "at most" },
        { "{\"type\": \"latency\", \"attributes\": [1]}", "must be an object" },
        { "{\"type\": \"latency\", \"name\": 5}", "'name' must be a string" },
        { "[1, 2]", "expected a JSON object" },
        { "{\"type\": \"explode\"}", API_MSG_INVALID_TYPE },
        { "{}", API_MSG_INVALID_TYPE },
        { "{\"type\": \"latency\", \"stream\": \"sideways\"}", API_MSG_INVALID_STREAM },
        { "{\"type\": \"latency\", \"stream\": \"\"}", API_MSG_INVALID_STREAM },
    };
    char message[512];
    struct toxic t;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int status = create_status(cases[i].body, &t, message, sizeof(message));
        if (status != 400)
            fail_msg("body %s: status %d, expected 400", cases[i].body, status);
        if (strstr(message, cases[i].message) == NULL)
            fail_msg("body %s: message '%s' lacks '%s'", cases[i].body, message,
                     cases[i].message);
    }
}

static void test_toxic_update_keeps_omitted(void **state)
{
    struct toxic current, updated;
    struct api_error e;
    json_t *body;

    (void)state;
    assert_int_equal(create_status("{\"type\": \"slicer\", \"attributes\": {\"average_size\": 10,"
                                   " \"size_variation\": 3, \"delay\": 50}}", &current, NULL, 0), 0);
    body = parse("{\"attributes\": {\"delay\": 70}, \"name\": \"slicer_downstream\", "
                 "\"type\": \"slicer\", \"stream\": \"downstream\"}");
    assert_int_equal(toxic_parse_update(body, &current, &updated, &e), 0);
    assert_int_equal(updated.attrs[ATTR_SLICER_AVERAGE], 10);
    assert_int_equal(updated.attrs[ATTR_SLICER_VARIATION], 3);
    assert_int_equal(updated.attrs[ATTR_SLICER_DELAY_US], 70);
    assert_true(updated.toxicity == 1.0);
    assert_string_equal(updated.name, "slicer_downstream");
    json_decref(body);
    toxic_release(&updated);
    toxic_release(&current);
}

static void test_toxic_update_rejects_changes(void **state)
{
    static const char *const bodies[] = {
        "{\"type\": \"latency\"}",
        "{\"stream\": \"upstream\"}",
        "{\"name\": \"other\"}",
        "{\"attributes\": {\"average_size\": 2}}",
        "{\"toxicity\": 2}",
        "{\"average_size\": 20}",
    };
    struct toxic current, updated;
    struct api_error e;

    (void)state;
    assert_int_equal(create_status("{\"type\": \"slicer\", \"attributes\": {\"average_size\": 10,"
                                   " \"size_variation\": 3}}", &current, NULL, 0), 0);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *body = parse(bodies[i]);
        if (toxic_parse_update(body, &current, &updated, &e) == 0)
            fail_msg("update %s was accepted", bodies[i]);
        assert_int_equal(e.status, 400);
        json_decref(body);
    }
    toxic_release(&current);
}

static void test_toxic_json_round_trip(void **state)
{
    struct toxic t;
    json_t *shown;

    (void)state;
    assert_int_equal(create_status("{\"type\": \"limit_data\", \"stream\": \"upstream\", "
                                   "\"toxicity\": 0.5, \"attributes\": {\"bytes\": 4096}}",
                                   &t, NULL, 0), 0);
    shown = toxic_to_json(&t);
    assert_string_equal(json_string_value(json_object_get(shown, "name")), "limit_data_upstream");
    assert_string_equal(json_string_value(json_object_get(shown, "type")), "limit_data");
    assert_string_equal(json_string_value(json_object_get(shown, "stream")), "upstream");
    assert_true(json_number_value(json_object_get(shown, "toxicity")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(shown, "attributes"),
                                                        "bytes")), 4096);
    json_decref(shown);
    toxic_release(&t);
}

static void test_proxy_spec_requires_fields(void **state)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        { "{\"upstream\": \"127.0.0.1:1\"}", "missing required field: name" },
        { "{\"name\": \"a\"}", "missing required field: upstream" },
        { "{\"name\": \"\", \"upstream\": \"127.0.0.1:1\"}", "missing required field: name" },
        { "{\"name\": \"a\", \"upstream\": \"127.0.0.1\"}", "invalid address" },
        { "{\"name\": \"a\", \"upstream\": \"127.0.0.1:0\"}", "port 0" },
        { "{\"name\": \"a\", \"upstream\": \"127.0.0.1:70000\"}", "0 to 65535" },
        { "{\"name\": \"a\", \"upstream\": \"::1:80\"}", "[ADDRESS]:PORT" },
        { "{\"name\": \"a\", \"upstream\": \"127.0.0.1:1\", \"enabled\": \"yes\"}",
          "'enabled' must be true or false" },
        { "{\"name\": \"a\", \"upstream\": \"127.0.0.1:1\", \"lisen\": \":1\"}",
          "unknown field 'lisen'" },
        { "{\"name\": 1, \"upstream\": \"127.0.0.1:1\"}", "'name' must be a string" },
    };
    struct proxy_spec spec;
    struct api_error e;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *body = parse(cases[i].body);
        if (proxy_spec_parse(body, true, &spec, &e) == 0)
            fail_msg("proxy body %s was accepted", cases[i].body);
        assert_int_equal(e.status, 400);
        if (strstr(e.message, cases[i].message) == NULL)
            fail_msg("body %s: message '%s' lacks '%s'", cases[i].body, e.message,
                     cases[i].message);
        json_decref(body);
    }
}

static void test_proxy_spec_accepts_client_shapes(void **state)
{
    struct proxy_spec spec;
    struct api_error e;
    json_t *body = parse("{\"name\": \"redis\", \"listen\": \"[::1]:0\", \"upstream\": "
                         "\"localhost:6379\", \"enabled\": false, \"toxics\": []}");

    (void)state;
    assert_int_equal(proxy_spec_parse(body, true, &spec, &e), 0);
    assert_string_equal(spec.name, "redis");
    assert_string_equal(spec.listen, "[::1]:0");
    assert_int_equal(spec.enabled, 0);
    json_decref(body);
}

/* Sends one request to a server with no listener and returns the response. */
static struct api_response request(struct proxy_server *server, const char *method,
                                   const char *path, const char *body, const char *agent)
{
    struct api_request req = { method, path, agent, body ? body : "", body ? strlen(body) : 0 };
    struct api_response res;

    api_dispatch(server, &req, &res);
    return res;
}

/* Asserts the status and that the body is Toxiproxy's {"error": message, "status": code}. */
static void assert_error(struct api_response res, int status, const char *message)
{
    json_t *doc;

    assert_int_equal(res.status, status);
    doc = parse(res.body);
    assert_string_equal(json_string_value(json_object_get(doc, "error")), message);
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), status);
    json_decref(doc);
    free(res.body);
}

static void test_api_errors_match_toxiproxy(void **state)
{
    struct err err;
    struct proxy_server *server = proxy_server_new(&err);
    struct api_response res;
    json_t *doc;

    (void)state;
    assert_non_null(server);
    assert_error(request(server, "GET", "/proxies/none", NULL, NULL), 404, "proxy not found");
    assert_error(request(server, "POST", "/proxies", "{\"upstream\": \"127.0.0.1:9\"}", NULL),
                 400, "missing required field: name");
    res = request(server, "POST", "/proxies",
                  "{\"name\": \"p\", \"listen\": \"127.0.0.1:0\", \"upstream\": \"127.0.0.1:9\"}",
                  NULL);
    assert_int_equal(res.status, 201);
    free(res.body);
    assert_error(request(server, "POST", "/proxies",
                         "{\"name\": \"p\", \"upstream\": \"127.0.0.1:9\"}", NULL),
                 409, "proxy already exists");
    assert_error(request(server, "GET", "/proxies/p/toxics/none", NULL, NULL), 404,
                 "toxic not found");
    assert_error(request(server, "DELETE", "/proxies/p/toxics/none", NULL, NULL), 404,
                 "toxic not found");
    res = request(server, "POST", "/proxies/p/toxics", "{\"type\": \"noop\"}", NULL);
    assert_int_equal(res.status, 200);
    free(res.body);
    assert_error(request(server, "POST", "/proxies/p/toxics", "{\"type\": \"noop\"}", NULL), 409,
                 "toxic already exists");
    assert_error(request(server, "POST", "/proxies/p/toxics",
                         "{\"type\": \"noop\", \"stream\": \"up\"}", NULL),
                 400, API_MSG_INVALID_STREAM);

    /* A truncated body names the JSON error after Toxiproxy's prefix. */
    res = request(server, "POST", "/proxies/p/toxics", "{\"type\": \"noop\"", NULL);
    assert_int_equal(res.status, 400);
    doc = parse(res.body);
    assert_non_null(strstr(json_string_value(json_object_get(doc, "error")), "bad request body: "));
    json_decref(doc);
    free(res.body);

    res = request(server, "DELETE", "/proxies/p/toxics/noop_downstream", NULL, NULL);
    assert_int_equal(res.status, 204);
    assert_null(res.body);
    proxy_server_free(server);
}

static void test_api_routes_and_guards(void **state)
{
    struct err err;
    struct proxy_server *server = proxy_server_new(&err);
    struct api_response res;
    json_t *doc;

    (void)state;
    assert_non_null(server);
    res = request(server, "GET", "/proxies", NULL, "Mozilla/5.0 (X11)");
    assert_int_equal(res.status, 403);
    assert_string_equal(res.body, "User agent not allowed\n");
    free(res.body);

    res = request(server, "GET", "/nowhere", NULL, "curl/8");
    assert_int_equal(res.status, 404);
    free(res.body);
    res = request(server, "PUT", "/proxies", "{}", NULL);
    assert_int_equal(res.status, 405);
    free(res.body);
    res = request(server, "GET", "/reset", NULL, NULL);
    assert_int_equal(res.status, 405);
    free(res.body);

    res = request(server, "GET", "/version", NULL, NULL);
    assert_int_equal(res.status, 200);
    doc = parse(res.body);
    assert_string_equal(json_string_value(json_object_get(doc, "version")), AFTERSHOCK_VERSION);
    json_decref(doc);
    free(res.body);

    res = request(server, "POST", "/reset", NULL, NULL);
    assert_int_equal(res.status, 204);
    free(res.body);

    res = request(server, "POST", "/populate", "{\"name\": \"x\"}", NULL);
    assert_int_equal(res.status, 400);
    free(res.body);
    res = request(server, "POST", "/populate",
                  "[{\"name\": \"a\", \"upstream\": \"127.0.0.1:9\"}, {\"name\": \"a\", "
                  "\"upstream\": \"127.0.0.1:9\"}]", NULL);
    assert_int_equal(res.status, 400);
    free(res.body);
    /* Validation comes first: nothing from a rejected populate exists afterwards. */
    res = request(server, "GET", "/proxies/a", NULL, NULL);
    assert_int_equal(res.status, 404);
    free(res.body);
    proxy_server_free(server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toxic_create_defaults),
        cmocka_unit_test(test_toxic_create_full),
        cmocka_unit_test(test_toxic_create_rejects_nonsense),
        cmocka_unit_test(test_toxic_update_keeps_omitted),
        cmocka_unit_test(test_toxic_update_rejects_changes),
        cmocka_unit_test(test_toxic_json_round_trip),
        cmocka_unit_test(test_proxy_spec_requires_fields),
        cmocka_unit_test(test_proxy_spec_accepts_client_shapes),
        cmocka_unit_test(test_api_errors_match_toxiproxy),
        cmocka_unit_test(test_api_routes_and_guards),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
