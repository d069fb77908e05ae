/* Unit tests for failure signature normalisation: each variable part, what stays, cutting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report/signature.h"

struct signature_case {
    const char *message;
    const char *expected;
};

static void check_cases(const struct signature_case *cases, size_t n)
{
    char out[SIGNATURE_MAX];

    for (size_t i = 0; i < n; i++) {
        size_t len = signature_normalize(cases[i].message, out, sizeof(out));
        if (strcmp(out, cases[i].expected) != 0)
            fail_msg("signature of \"%s\" is \"%s\", expected \"%s\"", cases[i].message, out,
                     cases[i].expected);
        assert_int_equal(len, strlen(out));
    }
}

static void test_signature_numbers(void **state)
{
    static const struct signature_case cases[] = {
        { "exit code 1", "exit code <n>" },
        { "process 'x' timed out after 2.5 s and was ended",
          "process 'x' timed out after <n> s and was ended" },
        { "waited 250ms", "waited <n>ms" },
        { "worker-3 crashed", "worker-<n> crashed" },
        { "http2 and ipv4 stay", "http2 and ipv4 stay" },
        { "GET /health returned status 503, expected 200",
          "GET <path> returned status <n>, expected <n>" },
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_signature_addresses(void **state)
{
    static const struct signature_case cases[] = {
        { "connection refused by 127.0.0.1:8080", "connection refused by <addr>" },
        { "connection refused by 10.0.0.12", "connection refused by <addr>" },
        { "connection reset by [::1]:443 (x)", "connection reset by <addr> (x)" },
        { "segfault at 0x7ffd5e3c", "segfault at <hex>" },
        { "connecting to 127.0.0.1:1 timed out (http://127.0.0.1:1/x?a=1)",
          "connecting to <addr> timed out (<url>)" },
        { "version 1.2.3.4.5 is odd", "version <n>.<n>.<n> is odd" },
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_signature_paths_and_ids(void **state)
{
    static const struct signature_case cases[] = {
        { "no such file: /tmp/run-1234/out.log", "no such file: <path>" },
        { "cannot open ./data/x.json.", "cannot open <path>." },
        { "see ~/logs/a and ../b/c", "see <path> and <path>" },
        { "request 123e4567-e89b-12d3-a456-426614174000 failed", "request <id> failed" },
        { "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 broke it", "commit <id> broke it" },
        { "deadbeef without a digit stays", "deadbeef without a digit stays" },
        { "at 2026-03-01T12:00:05.123Z and 2026-03-02", "at <time> and <time>" },
        { "ratio 1/2", "ratio <n>/<n>" },
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_signature_white_space(void **state)
{
    static const struct signature_case cases[] = {
        { "  two\n\tlines  here \n", "two lines here" },
        { "", "" },
        { "   ", "" },
    };

    (void)state;
    check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Messages that differ only in their variable parts share one signature. */
static void test_signature_groups_variants(void **state)
{
    char a[SIGNATURE_MAX], b[SIGNATURE_MAX];

    (void)state;
    signature_normalize("connection refused by 127.0.0.1:8080 (http://127.0.0.1:8080/health)", a,
                        sizeof(a));
    signature_normalize("connection refused by 127.0.0.1:9191 (http://127.0.0.1:9191/ready)", b,
                        sizeof(b));
    assert_string_equal(a, b);
    signature_normalize("timed out after 2.0 s waiting for 127.0.0.1:80", a, sizeof(a));
    signature_normalize("connection refused by 127.0.0.1:80", b, sizeof(b));
    assert_string_not_equal(a, b);
}

static void test_signature_cuts_on_character(void **state)
{
    char message[600];
    char out[16];
    size_t len;

    (void)state;
    /* 13 ASCII bytes then a 3-byte character that does not fit in 15 bytes. */
    snprintf(message, sizeof(message), "abcdefghijklm\xe2\x82\xac tail");
    len = signature_normalize(message, out, sizeof(out));
    assert_int_equal(len, 13);
    assert_string_equal(out, "abcdefghijklm");

    memset(message, 'x', sizeof(message) - 1);
    message[sizeof(message) - 1] = '\0';
    char big[SIGNATURE_MAX];
    len = signature_normalize(message, big, sizeof(big));
    assert_int_equal(len, SIGNATURE_MAX - 1);
    assert_int_equal(big[SIGNATURE_MAX - 1], '\0');
}

static void test_signature_null_message(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(signature_normalize(NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_numbers),
        cmocka_unit_test(test_signature_addresses),
        cmocka_unit_test(test_signature_paths_and_ids),
        cmocka_unit_test(test_signature_white_space),
        cmocka_unit_test(test_signature_groups_variants),
        cmocka_unit_test(test_signature_cuts_on_character),
        cmocka_unit_test(test_signature_null_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
