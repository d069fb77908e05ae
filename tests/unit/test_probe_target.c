/* Unit tests for probe target parsing, status ranges and header checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "probe/attempt.h"
#include "probe/target.h"

static void test_target_http_default_port(void **state)
{
    struct probe_target t;
    struct err err;

    (void)state;
    assert_int_equal(probe_target_parse("http://127.0.0.1/health", &t, &err), 0);
    assert_int_equal(t.kind, PROBE_HTTP);
    assert_string_equal(t.url, "http://127.0.0.1/health");
    assert_string_equal(t.host, "127.0.0.1");
    assert_string_equal(t.port, "80");
    assert_string_equal(t.text, "http://127.0.0.1/health");
    assert_string_equal(t.display, "http://127.0.0.1/health");
    probe_target_release(&t);
}

static void test_target_https_default_port(void **state)
{
    struct probe_target t;
    struct err err;

    (void)state;
    assert_int_equal(probe_target_parse("https://localhost/", &t, &err), 0);
    assert_int_equal(t.kind, PROBE_HTTP);
    assert_string_equal(t.host, "localhost");
    assert_string_equal(t.port, "443");
    probe_target_release(&t);
}

static void test_target_http_ipv6_literal(void **state)
{
    struct probe_target t;
    struct err err;

    (void)state;
    assert_int_equal(probe_target_parse("http://[::1]:8080/ready?x=1", &t, &err), 0);
    assert_string_equal(t.host, "::1");
    assert_string_equal(t.port, "8080");
    assert_string_equal(t.url, "http://[::1]:8080/ready?x=1");
    probe_target_release(&t);
}

static void test_target_http_password_masked(void **state)
{
    struct probe_target t;
    struct err err;

    (void)state;
    assert_int_equal(probe_target_parse("http://user:s3cret@127.0.0.1:81/", &t, &err), 0);
    assert_string_equal(t.url, "http://user:s3cret@127.0.0.1:81/");
    assert_null(strstr(t.display, "s3cret"));
    assert_non_null(strstr(t.display, "127.0.0.1:81"));
    probe_target_release(&t);
}

static void test_target_tcp_forms(void **state)
{
    static const struct { const char *text, *host, *port; } cases[] = {
        { "tcp://127.0.0.1:5432", "127.0.0.1", "5432" },
        { "tcp://localhost:1", "localhost", "1" },
        { "tcp://[::1]:65535", "::1", "65535" },
        { "tcp://db-1.internal_zone:6379", "db-1.internal_zone", "6379" },
        { "TCP://127.0.0.1:80", "127.0.0.1", "80" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct probe_target t;
        struct err err;

        assert_int_equal(probe_target_parse(cases[i].text, &t, &err), 0);
        assert_int_equal(t.kind, PROBE_TCP);
        assert_string_equal(t.host, cases[i].host);
        assert_string_equal(t.port, cases[i].port);
        assert_null(t.url);
        probe_target_release(&t);
    }
}

static void test_target_exec(void **state)
{
    struct probe_target t;
    struct err err;

    (void)state;
    assert_int_equal(probe_target_parse("exec:pg_isready -h 127.0.0.1", &t, &err), 0);
    assert_int_equal(t.kind, PROBE_EXEC);
    assert_string_equal(t.command, "pg_isready -h 127.0.0.1");
    assert_null(t.host);
    probe_target_release(&t);
}

/* Parses text, expects failure, and checks that the message contains each part. */
static void assert_target_rejected(const char *text, const char *part1, const char *part2)
{
    struct probe_target t;
    struct err err;

    err_clear(&err);
    assert_int_equal(probe_target_parse(text, &t, &err), -1);
    if (strstr(err.msg, part1) == NULL || (part2 != NULL && strstr(err.msg, part2) == NULL))
        fail_msg("message for '%s' is \"%s\"", text, err.msg);
    /* A rejected target owns nothing. */
    assert_null(t.text);
    assert_null(t.host);
}

static void test_target_rejects_malformed(void **state)
{
    (void)state;
    assert_target_rejected("ftp://127.0.0.1/", "unknown scheme 'ftp'", "'ftp://127.0.0.1/'");
    assert_target_rejected("udp://127.0.0.1:53", "unknown scheme 'udp'", NULL);
    assert_target_rejected("127.0.0.1:80", "invalid target '127.0.0.1:80'", "tcp://HOST:PORT");
    assert_target_rejected("", "invalid target ''", NULL);
    assert_target_rejected("tcp://127.0.0.1", "missing port in 'tcp://127.0.0.1'", NULL);
    assert_target_rejected("tcp://127.0.0.1:", "missing port", NULL);
    assert_target_rejected("tcp://:80", "missing host", NULL);
    assert_target_rejected("tcp://127.0.0.1:0", "invalid port '0'", "1 to 65535");
    assert_target_rejected("tcp://127.0.0.1:65536", "invalid port '65536'", NULL);
    assert_target_rejected("tcp://127.0.0.1:99999999", "invalid port '99999999'", NULL);
    assert_target_rejected("tcp://127.0.0.1:-1", "invalid port '-1'", NULL);
    assert_target_rejected("tcp://127.0.0.1:80/path", "invalid port '80/path'", NULL);
    assert_target_rejected("tcp://::1:80", "brackets", NULL);
    assert_target_rejected("tcp://[::1]", "missing port", NULL);
    assert_target_rejected("tcp://[::1:80", "missing ']'", NULL);
    assert_target_rejected("tcp://[nonsense]:80", "invalid IPv6 address 'nonsense'", NULL);
    assert_target_rejected("tcp://bad host:80", "invalid host", NULL);
    assert_target_rejected("exec:", "empty command in 'exec:'", NULL);
    assert_target_rejected("exec: \t ", "empty command", NULL);
    assert_target_rejected("http://", "invalid URL 'http://'", NULL);
    assert_target_rejected("http://127.0.0.1:70000/", "invalid port", "1 to 65535");
    assert_target_rejected("http://127.0.0.1:0/", "invalid port", NULL);
    assert_target_rejected("http://bad host/", "invalid URL", NULL);
}

static void test_status_parse(void **state)
{
    long min = 0, max = 0;
    struct err err;

    (void)state;
    assert_int_equal(probe_parse_status("200", &min, &max, &err), 0);
    assert_int_equal(min, 200);
    assert_int_equal(max, 200);
    assert_int_equal(probe_parse_status("200-299", &min, &max, &err), 0);
    assert_int_equal(min, 200);
    assert_int_equal(max, 299);
    assert_int_equal(probe_parse_status("100-599", &min, &max, &err), 0);
    assert_int_equal(min, 100);
    assert_int_equal(max, 599);
}

static void test_status_rejects_bad(void **state)
{
    static const char *const bad[] = {
        "", "99", "600", "2000", "abc", "200-", "-200", "200-abc", "20x", "200--299",
        "200-299-300", " 200",
    };
    long min = 1, max = 2;
    struct err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&err);
        if (probe_parse_status(bad[i], &min, &max, &err) != -1)
            fail_msg("status '%s' was accepted", bad[i]);
        assert_non_null(strstr(err.msg, "invalid status"));
        assert_int_equal(min, 1);
        assert_int_equal(max, 2);
    }
    assert_int_equal(probe_parse_status("300-200", &min, &max, &err), -1);
    assert_non_null(strstr(err.msg, "'300-200'"));
}

static void test_header_check(void **state)
{
    struct err err;

    (void)state;
    assert_int_equal(probe_check_header("X-Probe: yes", &err), 0);
    assert_int_equal(probe_check_header("Authorization: Bearer abc", &err), 0);
    assert_int_equal(probe_check_header("X-Empty:", &err), 0);

    assert_int_equal(probe_check_header("NoColon", &err), -1);
    assert_non_null(strstr(err.msg, "'NoColon'"));
    assert_int_equal(probe_check_header(": value", &err), -1);
    assert_int_equal(probe_check_header("Bad Name: value", &err), -1);
    assert_non_null(strstr(err.msg, "'Bad Name'"));
    assert_int_equal(probe_check_header("X-Token: abc\r\nX-Injected: 1", &err), -1);
    assert_non_null(strstr(err.msg, "line break"));
    /* The value may be a secret and must not appear in the message. */
    assert_null(strstr(err.msg, "abc"));
    assert_int_equal(probe_check_header("Authorization Bearer s3cret", &err), -1);
    assert_null(strstr(err.msg, "s3cret"));
}

static void test_regex_compile(void **state)
{
    struct probe_check check;
    struct err err;

    (void)state;
    memset(&check, 0, sizeof(check));
    assert_int_equal(probe_check_set_regex(&check, "\"status\":\\s*\"ok\"", &err), 0);
    assert_non_null(check.body_regex);
    assert_int_equal(probe_check_set_regex(&check, "(unclosed", &err), -1);
    assert_non_null(strstr(err.msg, "'(unclosed'"));
    /* The earlier pattern stays in place after a failed compile. */
    assert_non_null(check.body_regex);
    probe_check_release(&check);
    assert_null(check.body_regex);
}

static void test_resolve_localhost_both_families(void **state)
{
    struct probe_addresses addrs;
    struct err err;

    (void)state;
    assert_int_equal(probe_resolve("localhost", "80", &addrs, &err), 0);
    assert_int_equal(addrs.count, 2);
    assert_string_equal(addrs.list[0], "::1");
    assert_string_equal(addrs.list[1], "127.0.0.1");
    assert_int_equal(probe_resolve("api.LOCALHOST.", "80", &addrs, &err), 0);
    assert_int_equal(addrs.count, 2);
    assert_int_equal(probe_resolve("127.0.0.1", "80", &addrs, &err), 0);
    assert_int_equal(addrs.count, 1);
    assert_string_equal(addrs.list[0], "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_http_default_port),
        cmocka_unit_test(test_target_https_default_port),
        cmocka_unit_test(test_target_http_ipv6_literal),
        cmocka_unit_test(test_target_http_password_masked),
        cmocka_unit_test(test_target_tcp_forms),
        cmocka_unit_test(test_target_exec),
        cmocka_unit_test(test_target_rejects_malformed),
        cmocka_unit_test(test_status_parse),
        cmocka_unit_test(test_status_rejects_bad),
        cmocka_unit_test(test_header_check),
        cmocka_unit_test(test_regex_compile),
        cmocka_unit_test(test_resolve_localhost_both_families),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
