/* Unit tests for requirements parsing, pyproject.toml, name mapping and --fix appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deps/distmap.h"
#include "deps/fix.h"
#include "deps/requirements.h"
#include "deps/stdlib.h"

/* Parses text as a requirements file and renders "name@line:col" for each requirement. */
static char *render(const char *text, bool pyproject, struct req_set *set)
{
    char *out = calloc(1, 4096);
    size_t n = 0;

    memset(set, 0, sizeof(*set));
    if (pyproject)
        req_parse_pyproject(set, "pyproject.toml", text, strlen(text));
    else
        req_parse_text(set, "requirements.txt", text, strlen(text), false, 0);
    for (size_t i = 0; i < set->count; i++)
        n += (size_t)snprintf(out + n, 4096 - n, "%s%s@%d:%d", i ? " " : "", set->items[i].name,
                              set->items[i].line, set->items[i].col);
    return out;
}

static void check(const char *text, bool pyproject, const char *expected)
{
    struct req_set set;
    char *got = render(text, pyproject, &set);

    if (set.n_files > 0 && set.files[0].failed)
        print_error("unexpected parse error: %s\n", set.files[0].error);
    assert_false(set.files[0].failed);
    assert_string_equal(got, expected);
    free(got);
    req_set_release(&set);
}

static void expect_invalid(const char *text, bool pyproject, int line)
{
    struct req_set set;
    char *got = render(text, pyproject, &set);

    assert_true(set.files[0].failed);
    assert_int_equal(set.files[0].error_line, line);
    free(got);
    req_set_release(&set);
}

static void test_requirement_lines(void **state)
{
    (void)state;
    check("# comment\n\nrequests>=2.0,<3  # pinned\nPyYAML\nflask[async, dotenv] == 2.3\n"
          "  numpy ; python_version >= \"3.9\"\nfoo @ https://example.invalid/foo.whl\n",
          false, "requests@3:1 PyYAML@4:1 flask@5:1 numpy@6:3 foo@7:1");
}

static void test_continuations_and_hashes(void **state)
{
    (void)state;
    check("requests==2.31.0 \\\r\n    --hash=sha256:aaa \\\r\n    --hash=sha256:bbb\r\n"
          "idna==3.4 --hash=sha256:ccc\r\n", false, "requests@1:1 idna@4:1");
}

static void test_options_and_urls(void **state)
{
    (void)state;
    check("--index-url https://example.invalid/simple\n-i https://x.invalid\n--pre\n"
          "-e git+https://example.invalid/repo.git#egg=mylib\n"
          "https://example.invalid/pkg.tar.gz#egg=remote_pkg\n./local/path\n"
          "-r https://example.invalid/other.txt\n", false, "mylib@4:45 remote_pkg@5:40");
}

static void test_invalid_lines(void **state)
{
    (void)state;
    expect_invalid("requests\nthis is not a requirement\n", false, 2);
    expect_invalid("flask[async\n", false, 1);
    expect_invalid("numpy >=\n", false, 1);
    expect_invalid("pkg ; \n", false, 1);
    expect_invalid("-r\n", false, 1);
    expect_invalid("-r does-not-exist.txt\n", false, 1);
}

static void test_pyproject_tables(void **state)
{
    (void)state;
    check("[project]\nname = \"demo\"\ndependencies = [\n  \"requests>=2\",  # http\n"
          "  'PyYAML',\n]\n[project.optional-dependencies]\ndev = [\"pytest\"]\n"
          "[tool.poetry.dependencies]\npython = \"^3.11\"\nclick = \"^8\"\n"
          "\"ruamel.yaml\" = { version = \"*\", optional = true }\n"
          "[tool.poetry.group.test.dependencies]\nhypothesis = \"*\"\n"
          "[tool.other]\nx = 1979-05-27T07:32:00Z\ny = [1, 2.5, true]\n",
          true, "requests@4:4 PyYAML@5:4 pytest@8:9 click@11:1 ruamel.yaml@12:1 "
          "hypothesis@14:1");
    struct req_set set;
    char *got = render("[project]\nname = \"my-project\"\n", true, &set);

    assert_string_equal(set.project_name, "my-project");
    free(got);
    req_set_release(&set);
}

static void test_pyproject_invalid(void **state)
{
    (void)state;
    expect_invalid("[project\nname = 1\n", true, 1);
    expect_invalid("[project]\ndependencies = [\"requests\"\n", true, 3);
    expect_invalid("[project]\ndependencies = [\"not valid !\"]\n", true, 2);
    expect_invalid("[project]\nname = \"x\" extra\n", true, 2);
}

static void test_normalize_and_validate(void **state)
{
    char out[DIST_NAME_MAX];

    (void)state;
    dist_normalize("Foo__Bar.-baz", out, sizeof(out));
    assert_string_equal(out, "foo-bar-baz");
    dist_normalize("PyYAML", out, sizeof(out));
    assert_string_equal(out, "pyyaml");
    assert_true(dist_is_valid_name("python-dateutil"));
    assert_true(dist_is_valid_name("ruamel.yaml"));
    assert_false(dist_is_valid_name("-rf"));
    assert_false(dist_is_valid_name("a b"));
    assert_false(dist_is_valid_name("x;rm"));
    assert_false(dist_is_valid_name(""));
}

static void test_known_mismatches(void **state)
{
    (void)state;
    assert_true(distmap_known_count() >= 60);
    assert_string_equal(distmap_known("yaml"), "PyYAML");
    assert_string_equal(distmap_known("PIL"), "Pillow");
    assert_string_equal(distmap_known("cv2"), "opencv-python");
    assert_string_equal(distmap_known("sklearn"), "scikit-learn");
    assert_string_equal(distmap_known("bs4"), "beautifulsoup4");
    assert_string_equal(distmap_known("dateutil"), "python-dateutil");
    assert_null(distmap_known("requests"));
}

static void test_stdlib_versions(void **state)
{
    (void)state;
    assert_true(stdlib_has("os", 2, 11));
    assert_true(stdlib_has("tomllib", 7, 11));
    assert_false(stdlib_has("tomllib", 7, 10));
    assert_true(stdlib_has("distutils", 9, 11));
    assert_false(stdlib_has("distutils", 9, 12));
    assert_false(stdlib_has("requests", 8, 11));
    assert_false(stdlib_has("o", 1, 11));
}

static void check_append(const char *old, const char *expected)
{
    const char *lines[] = { "PyYAML", "numpy==1.26.0" };
    size_t len;
    char *got = fix_append(old, old ? strlen(old) : 0, lines, 2, &len);

    assert_int_equal(len, strlen(expected));
    assert_memory_equal(got, expected, len);
    free(got);
}

static void test_fix_append(void **state)
{
    (void)state;
    check_append(NULL, "PyYAML\nnumpy==1.26.0\n");
    check_append("a\n", "a\nPyYAML\nnumpy==1.26.0\n");
    check_append("a", "a\nPyYAML\nnumpy==1.26.0\n");
    check_append("# x\r\na\r\n", "# x\r\na\r\nPyYAML\r\nnumpy==1.26.0\r\n");
    check_append("a \\\n", "a \\\n\nPyYAML\nnumpy==1.26.0\n");
    check_append("a \\", "a \\\n\nPyYAML\nnumpy==1.26.0\n");
    check_append("a \\\n\n", "a \\\n\nPyYAML\nnumpy==1.26.0\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requirement_lines),
        cmocka_unit_test(test_continuations_and_hashes),
        cmocka_unit_test(test_options_and_urls),
        cmocka_unit_test(test_invalid_lines),
        cmocka_unit_test(test_pyproject_tables),
        cmocka_unit_test(test_pyproject_invalid),
        cmocka_unit_test(test_normalize_and_validate),
        cmocka_unit_test(test_known_mismatches),
        cmocka_unit_test(test_stdlib_versions),
        cmocka_unit_test(test_fix_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
