/* Unit tests for the HTTP/1.x response parser of the raw traffic sender: framing, keep-alive, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "traffic/http_response.h"

/* Feeds text in pieces of `step` bytes; returns the parser's last result and
 * sets *tail to the bytes after the response. */
static int feed_in_steps(struct http_response *p, const char *text, size_t step, size_t *tail)
{
    size_t len = strlen(text), at = 0;

    while (at < len) {
        size_t n = len - at < step ? len - at : step, used;
        int rc = http_response_feed(p, text + at, n, &used);
        if (rc != 0) {
            *tail = len - at - used;
            return rc;
        }
        assert_int_equal(used, n);
        at += n;
    }
    *tail = 0;
    return 0;
}

struct framing_case {
    const char *text;
    int status;
    bool keep_alive;
    size_t tail;        /* bytes after the response (the next one's) */
};

static const struct framing_case complete_cases[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, true, 0 },
    { "HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n", 503, true, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nokHTTP", 200, false, 4 },
    { "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\nok", 200, true, 0 },
    { "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, false, 0 },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n"
      "0\r\nTrailer: 1\r\n\r\n", 200, true, 0 },
    { "HTTP/1.1 204 No Content\r\n\r\n", 204, true, 0 },
    { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", 201,
      true, 0 },
    { "HTTP/1.1 301 Moved\nLocation: /a\nContent-Length: 3\n\nabc", 301, true, 0 },
};

static void test_complete_responses_in_any_split(void **state)
{
    struct http_response *p = malloc(sizeof(*p));

    (void)state;
    for (size_t i = 0; i < sizeof(complete_cases) / sizeof(complete_cases[0]); i++) {
        for (size_t step = 1; step <= strlen(complete_cases[i].text); step++) {
            size_t tail;
            http_response_init(p, false);
            int rc = feed_in_steps(p, complete_cases[i].text, step, &tail);
            if (rc != 1)
                fail_msg("case %zu step %zu: result %d", i, step, rc);
            assert_int_equal(p->status, complete_cases[i].status);
            assert_int_equal(p->keep_alive, complete_cases[i].keep_alive);
            assert_int_equal(tail, complete_cases[i].tail);
        }
    }
    free(p);
}

static void test_body_until_close(void **state)
{
    struct http_response *p = malloc(sizeof(*p));
    size_t tail;

    (void)state;
    http_response_init(p, false);
    assert_int_equal(feed_in_steps(p, "HTTP/1.1 200 OK\r\n\r\nsome body", 7, &tail), 0);
    assert_false(p->keep_alive);
    assert_int_equal(http_response_eof(p), 1);
    assert_int_equal(p->status, 200);
    free(p);
}

static void test_head_request_has_no_body(void **state)
{
    struct http_response *p = malloc(sizeof(*p));
    size_t tail;

    (void)state;
    http_response_init(p, true);
    assert_int_equal(feed_in_steps(p, "HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n", 100,
                                   &tail), 1);
    assert_true(p->keep_alive);
    free(p);
}

static void test_truncated_responses_fail_at_close(void **state)
{
    static const char *const truncated[] = {
        "", "HTTP/1.1 200", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    };
    struct http_response *p = malloc(sizeof(*p));
    size_t tail;

    (void)state;
    for (size_t i = 0; i < sizeof(truncated) / sizeof(truncated[0]); i++) {
        http_response_init(p, false);
        assert_int_equal(feed_in_steps(p, truncated[i], 3, &tail), 0);
        assert_int_equal(http_response_eof(p), -1);
    }
    free(p);
}

static void test_malformed_responses(void **state)
{
    static const char *const bad[] = {
        "SMTP 220 hello\r\n\r\n",
        "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    };
    struct http_response *p = malloc(sizeof(*p));
    size_t tail;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        http_response_init(p, false);
        if (feed_in_steps(p, bad[i], 1000, &tail) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    }
    free(p);
}

static void test_head_larger_than_the_limit(void **state)
{
    struct http_response *p = malloc(sizeof(*p));
    char *text = malloc(HTTP_RESPONSE_HEAD_MAX + 100);
    size_t used;

    (void)state;
    memset(text, 'a', HTTP_RESPONSE_HEAD_MAX + 100);
    memcpy(text, "HTTP/1.1 200 OK\r\nX: ", 20);
    http_response_init(p, false);
    assert_int_equal(http_response_feed(p, text, HTTP_RESPONSE_HEAD_MAX + 100, &used), -1);
    free(text);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_responses_in_any_split),
        cmocka_unit_test(test_body_until_close),
        cmocka_unit_test(test_head_request_has_no_body),
        cmocka_unit_test(test_truncated_responses_fail_at_close),
        cmocka_unit_test(test_malformed_responses),
        cmocka_unit_test(test_head_larger_than_the_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
