/* Unit tests for the Python tokenizer and import finder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deps/imports.h"
#include "deps/pysource.h"

static const struct py_scan_opts opts = { .python_minor = 11 };

/* Scans source and renders its imports as "module@line[?][!]" joined by spaces
 * ("?" optional, "!" dynamic), or "ERROR@line: message". */
static char *render(const char *source)
{
    struct py_imports out = { 0 };
    char *copy = strdup(source);
    char *text = calloc(1, 4096);
    size_t n = 0;

    if (py_scan_source(copy, strlen(copy), &opts, &out) != 0) {
        snprintf(text, 4096, "ERROR@%d: %s", out.error_line, out.error_msg);
    } else {
        for (size_t i = 0; i < out.count; i++)
            n += (size_t)snprintf(text + n, 4096 - n, "%s%s@%d%s%s", i ? " " : "",
                                  out.items[i].module, out.items[i].line,
                                  out.items[i].optional ? "?" : "",
                                  out.items[i].dynamic ? "!" : "");
    }
    py_imports_release(&out);
    free(copy);
    return text;
}

static void check(const char *source, const char *expected)
{
    char *got = render(source);

    if (strcmp(got, expected) != 0)
        print_error("source:\n%s\nexpected: %s\ngot:      %s\n", source, expected, got);
    assert_string_equal(got, expected);
    free(got);
}

static void expect_error(const char *source, int line)
{
    char *got = render(source);
    char prefix[32];

    snprintf(prefix, sizeof(prefix), "ERROR@%d:", line);
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        print_error("source:\n%s\nexpected an error on line %d, got: %s\n", source, line, got);
    assert_true(strncmp(got, prefix, strlen(prefix)) == 0);
    free(got);
}

static void test_imports_in_strings_ignored(void **state)
{
    (void)state;
    check("'''\nimport a\n'''\ns = \"import b\"\n# import c\nx = f'{1}import d'\n"
          "def f():\n    \"\"\"from e import f\"\"\"\n", "");
}

static void test_string_prefixes(void **state)
{
    (void)state;
    check("x = rb'\\'' + Rb\"x\" + BR'''a''' + u'x' + F'{a!r:>{w}}' + fr'\\{x}'\nimport a\n",
          "a@2");
    check("x = f\"{d['k']}\" + f'{x:{\"y\"}}' + f\"{f'{1}'}\"\nimport b\n", "b@2");
    check("x = f\"{'\\N{BULLET}'}\" + f'\\N{DASH} {y}'\nimport c\n", "c@2");
}

static void test_backslash_continuation(void **state)
{
    (void)state;
    check("import a, \\\n    b\nfrom c \\\n  import d\n", "a@1 b@2 c@3");
}

static void test_parenthesised_from(void **state)
{
    (void)state;
    check("from x.y import (\n    a,\n    b as c,\n)\nimport z\n", "x.y@1 z@5");
}

static void test_semicolons_and_commas(void **state)
{
    (void)state;
    check("import a; import b, c.d; from e import f\nx = 1; import g\n",
          "a@1 b@1 c.d@1 e@1 g@2");
}

static void test_as_aliases(void **state)
{
    (void)state;
    check("import a.b.c as d, e as f\n", "a.b.c@1 e@1");
}

static void test_relative_imports_skipped(void **state)
{
    (void)state;
    check("from . import a\nfrom .. b import c\nfrom .x import y\nfrom ...z import w\n", "");
}

static void test_nested_imports_count(void **state)
{
    (void)state;
    check("def f():\n    import a\nclass C:\n    def g(self):\n        from b import c\n"
          "if x: import d\n", "a@2 b@5 d@6");
}

static void test_try_except_import_error(void **state)
{
    (void)state;
    check("try:\n    import a\n    if x:\n        import b\nexcept ImportError:\n"
          "    import c\nimport d\n", "a@2? b@4? c@6 d@7");
    check("try:\n    import a\nexcept (ValueError, ModuleNotFoundError) as e:\n    pass\n",
          "a@2?");
    check("try:\n    import a\nexcept ValueError:\n    pass\nexcept ImportError:\n    pass\n",
          "a@2?");
    check("try:\n    import a\nexcept ValueError:\n    pass\n", "a@2");
    check("try: import a\nexcept ImportError: a = None\n", "a@1?");
    check("try:\n    import a\nfinally:\n    pass\n", "a@2");
}

static void test_type_checking(void **state)
{
    (void)state;
    check("if TYPE_CHECKING:\n    import a\nelse:\n    import b\n", "a@2? b@4");
    check("if typing.TYPE_CHECKING:\n    from c import d\nelif x:\n    import e\n",
          "c@2? e@4");
    check("if not TYPE_CHECKING:\n    import a\n", "a@2");
}

static void test_dynamic_imports(void **state)
{
    (void)state;
    check("import importlib\nm = importlib.import_module(\"a.b\")\n__import__('c')\n"
          "importlib.import_module(name)\nimportlib.import_module('.rel', 'pkg')\n",
          "importlib@1 a.b@2! c@3!");
    check("from importlib import import_module\ntry:\n    m = import_module('x')\n"
          "except ImportError:\n    m = None\n", "importlib@1 x@3?!");
}

static void test_python2_rejected(void **state)
{
    (void)state;
    expect_error("import os\nprint \"hello\"\n", 2);
    expect_error("try:\n    pass\nexcept Exception, e:\n    pass\n", 3);
    expect_error("x = 0777\n", 1);
    expect_error("x = `y`\n", 1);
    expect_error("if a <> b:\n    pass\n", 1);
    expect_error("raise E, 'message'\n", 1);
    expect_error("exec code\n", 1);
    expect_error("x = ur'abc'\n", 1);
}

static void test_broken_files_rejected(void **state)
{
    (void)state;
    expect_error("x = (1,\n", 1);
    expect_error("s = 'abc\n", 1);
    expect_error("s = '''abc\n\n", 1);
    expect_error("if x:\nimport a\n", 2);
    expect_error("x = 1\n    y = 2\n", 2);
    expect_error("if x:\n        a\n    b\n", 3);
    expect_error("x = )\n", 1);
    expect_error("import\n", 1);
    expect_error("from a import\n", 1);
    expect_error("x = f'{a'\n", 1);
}

static void test_valid_syntax_accepted(void **state)
{
    (void)state;
    check("match command:\n    case \"go\" | 'stop':\n        pass\n    case Point(x=0):\n"
          "        import a\n", "a@5");
    check("type X = int\nf = lambda: 0\nx: int = 1\nd = {1: 2}[1:2]\nif (y := 3): import b\n",
          "b@5");
    check("async def f():\n    async with a as b:\n        await c\nprint(1 if x else 2)\n", "");
    check("x = 1if y else 2\nz = 0 + 00 + 0_0 + 0x1F + 1e-3 + 1.5j + .5\n", "");
    check("def f(a, *, b=lambda x: x):\n    return a\n", "");
}

static void test_encodings(void **state)
{
    (void)state;
    /* Latin-1 with a coding line: the é (0xe9) decodes, the import is found. */
    check("# -*- coding: latin-1 -*-\ns = '\xe9'\nimport a\n", "a@3");
    check("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\ns = '\xa4'\nimport b\n",
          "b@4");
    /* The same byte without a coding line is invalid UTF-8. */
    expect_error("s = '\xe9'\nimport a\n", 1);
    expect_error("# coding: no-such-codec\nimport a\n", 0);
    check("\xef\xbb\xbfimport a\n", "a@1");
    expect_error("\xef\xbb\xbf# coding: latin-1\nimport a\n", 0);
    check("import a\r\nif x:\r\n    import b\r\n", "a@1 b@3");
}

static void test_utf8_check(void **state)
{
    (void)state;
    assert_int_equal(pysource_utf8_check("abc\xc3\xa9", 5), 5);
    assert_int_equal(pysource_utf8_check("ab\xc0\x80", 4), 2);       /* overlong */
    assert_int_equal(pysource_utf8_check("a\xed\xa0\x80", 4), 1);    /* surrogate */
    assert_int_equal(pysource_utf8_check("abcdefghij\0k", 12), 10);  /* NUL */
    assert_int_equal(pysource_utf8_check("\xf4\x90\x80\x80", 4), 0); /* above U+10FFFF */
}

static void test_notebook_magics(void **state)
{
    (void)state;
    const char *nb =
        "{\"cells\": ["
        "{\"cell_type\": \"markdown\", \"source\": [\"import not_code\\n\"]},"
        "{\"cell_type\": \"code\", \"source\": [\"%matplotlib inline\\n\", \"!pip install x\\n\","
        " \"files = !ls\\n\", \"import a\\n\"]},"
        "{\"cell_type\": \"code\", \"source\": \"%%bash\\nimport not_python\\n\"},"
        "{\"cell_type\": \"code\", \"source\": \"%%time\\nfrom b import c\\n\"},"
        "{\"cell_type\": \"code\", \"source\": \"print 'py2'\\n\"}"
        "], \"nbformat\": 4}";
    struct py_imports out = { 0 };

    assert_int_equal(py_scan_notebook(nb, strlen(nb), &opts, &out), 0);
    assert_int_equal(out.count, 2);
    assert_string_equal(out.items[0].module, "a");
    assert_int_equal(out.items[0].line, 4);
    assert_int_equal(out.items[0].cell, 1);
    assert_string_equal(out.items[1].module, "b");
    assert_int_equal(out.items[1].cell, 3);
    assert_true(strstr(out.error_msg, "cell 5") != NULL);
    py_imports_release(&out);

    assert_int_equal(py_scan_notebook("{\"cells\": 3}", 12, &opts, &out), -1);
    py_imports_release(&out);
    assert_int_equal(py_scan_notebook("not json", 8, &opts, &out), -1);
    py_imports_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imports_in_strings_ignored),
        cmocka_unit_test(test_string_prefixes),
        cmocka_unit_test(test_backslash_continuation),
        cmocka_unit_test(test_parenthesised_from),
        cmocka_unit_test(test_semicolons_and_commas),
        cmocka_unit_test(test_as_aliases),
        cmocka_unit_test(test_relative_imports_skipped),
        cmocka_unit_test(test_nested_imports_count),
        cmocka_unit_test(test_try_except_import_error),
        cmocka_unit_test(test_type_checking),
        cmocka_unit_test(test_dynamic_imports),
        cmocka_unit_test(test_python2_rejected),
        cmocka_unit_test(test_broken_files_rejected),
        cmocka_unit_test(test_valid_syntax_accepted),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_notebook_magics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
