/* Unit tests for stress faults: byte sizes, fill paths that stay in their folder, workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault/ledger.h"
#include "stress/stress.h"

static void size_accepts_units(void **state)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        { "4096", 4096 },
        { "1B", 1 },
        { "1KB", 1000 },
        { "1kib", 1024 },
        { "256MiB", 268435456ULL },
        { "256 MiB", 268435456ULL },
        { "1.5GB", 1500000000ULL },
        { "1.5GiB", 1610612736ULL },
        { "2TiB", 2199023255552ULL },
        { "0.5KiB", 512 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t bytes = 0;
        struct err err;

        if (stress_parse_size(cases[i].text, &bytes, &err) != 0)
            fail_msg("'%s' rejected: %s", cases[i].text, err.msg);
        if (bytes != cases[i].bytes)
            fail_msg("'%s' gave %llu, expected %llu", cases[i].text, (unsigned long long)bytes,
                     (unsigned long long)cases[i].bytes);
    }
}

static void size_rejects_malformed(void **state)
{
    static const struct {
        const char *text, *message;
    } cases[] = {
        { "", "invalid size ''" },
        { "MiB", "invalid size 'MiB'" },
        { "-5", "invalid size '-5'" },
        { "0", "at least 1 byte" },
        { "0.1B", "must be whole" },
        { "1.5", "must be whole" },
        { "0.0001KiB", "at least 1 byte" },
        { "12 parsecs", "invalid size '12 parsecs'" },
        { "1e9", "invalid size '1e9'" },
        { "0x10", "invalid size '0x10'" },
        { "5  MiB", "invalid size '5  MiB'" },
        { "5MiB ", "invalid size '5MiB '" },
        { "9999999TiB", "larger than 4 EiB" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t bytes = 7;
        struct err err;

        assert_int_equal(stress_parse_size(cases[i].text, &bytes, &err), -1);
        if (strstr(err.msg, cases[i].message) == NULL)
            fail_msg("'%s': '%s' does not contain '%s'", cases[i].text, err.msg,
                     cases[i].message);
        assert_int_equal(bytes, 7);
    }
}

static void size_formats_binary_units(void **state)
{
    char text[32];

    (void)state;
    stress_format_size(512, text, sizeof(text));
    assert_string_equal(text, "512 B");
    stress_format_size(268435456ULL, text, sizeof(text));
    assert_string_equal(text, "256.0 MiB");
    stress_format_size(1610612736ULL, text, sizeof(text));
    assert_string_equal(text, "1.5 GiB");
}

static void fill_path_check_rejects_escapes(void **state)
{
    static const struct {
        const char *file, *message;
    } cases[] = {
        { "../x", "contains '..'" },
        { "a/../../x", "contains '..'" },
        { "a/..", "contains '..'" },
        { "/etc/passwd", "is an absolute path" },
        { "", "is empty" },
        { "sub/", "names a folder" },
    };
    struct err err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(stress_fill_check_path("/tmp", cases[i].file, &err), -1);
        if (strstr(err.msg, cases[i].message) == NULL)
            fail_msg("'%s': '%s' does not contain '%s'", cases[i].file, err.msg,
                     cases[i].message);
    }
    assert_int_equal(stress_fill_check_path("/tmp", "a/..b/c..", &err), 0);
    assert_int_equal(stress_fill_check_path("/tmp", "./x", &err), 0);
}

/* A temporary folder with an "outside" folder next to an "inside" one. */
struct tree {
    char root[64];
    char inside[96];
    char outside[96];
};

static void tree_make(struct tree *t)
{
    snprintf(t->root, sizeof(t->root), "/tmp/aftershock-stress-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->inside, sizeof(t->inside), "%s/inside", t->root);
    snprintf(t->outside, sizeof(t->outside), "%s/outside", t->root);
    assert_int_equal(mkdir(t->inside, 0700), 0);
    assert_int_equal(mkdir(t->outside, 0700), 0);
}

static void tree_remove(struct tree *t)
{
    char command[256];

    snprintf(command, sizeof(command), "rm -rf '%s'", t->root);
    assert_int_equal(system(command), 0);
}

static void fill_creates_writes_and_removes(void **state)
{
    struct stress_fill fill;
    struct tree t;
    struct err err;
    struct stat st;
    bool disk_full = true;
    char path[160], sub[128];

    (void)state;
    tree_make(&t);
    snprintf(sub, sizeof(sub), "%s/sub", t.inside);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/sub/fill.bin", t.inside);

    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "sub/fill.bin", &err), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(stress_fill_create(&fill, &err), 0);
    assert_int_equal(stress_fill_write(&fill, 3 * 1024 * 1024 + 5, NULL, &disk_full, &err), 0);
    assert_false(disk_full);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3 * 1024 * 1024 + 5);
    assert_int_equal(st.st_ino, fill.ino);
    assert_int_equal(stress_fill_remove(&fill, &err), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    tree_remove(&t);
}

static void fill_rejects_symlinks_and_existing(void **state)
{
    struct stress_fill fill;
    struct tree t;
    struct err err;
    struct stat st;
    char link[160], target[160];
    FILE *f;

    (void)state;
    tree_make(&t);
    snprintf(link, sizeof(link), "%s/link", t.inside);
    assert_int_equal(symlink(t.outside, link), 0);
    snprintf(link, sizeof(link), "%s/file-link", t.inside);
    snprintf(target, sizeof(target), "%s/target.bin", t.outside);
    assert_int_equal(symlink(target, link), 0);
    snprintf(target, sizeof(target), "%s/data.bin", t.inside);
    f = fopen(target, "w");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "link/fill.bin", &err), -1);
    assert_non_null(strstr(err.msg, "'link' is a symbolic link or not a folder"));
    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "file-link", &err), -1);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "data.bin", &err), -1);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "missing/fill.bin", &err), -1);
    assert_non_null(strstr(err.msg, "cannot open 'missing'"));

    /* A file that appears between the check and the creation is left alone. */
    assert_int_equal(stress_fill_open_folder(&fill, t.inside, "late.bin", &err), 0);
    snprintf(target, sizeof(target), "%s/late.bin", t.inside);
    f = fopen(target, "w");
    assert_non_null(f);
    fputs("theirs", f);
    fclose(f);
    assert_int_equal(stress_fill_create(&fill, &err), -1);
    assert_non_null(strstr(err.msg, "appeared"));
    assert_int_equal(stress_fill_remove(&fill, &err), 0);
    assert_int_equal(access(target, F_OK), 0);

    assert_int_equal(stress_fill_remove_path(t.inside, "link/x", 0, 0, &err), -1);
    assert_int_equal(stress_fill_remove_path(t.inside, "file-link", 0, 0, &err), 2);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    tree_remove(&t);
}

static void worker_starts_only_after_go(void **state)
{
    struct stress_worker w;
    unsigned long long ticks;
    struct err err;
    char comm[64] = "";
    char path[64];
    FILE *f;

    (void)state;
    assert_int_equal(stress_worker_spawn(&w, STRESS_CPU, 10, 0, 30, &err), 0);
    assert_true(w.pid > 0);
    assert_int_equal(ledger_process_start(w.pid, &ticks, NULL), 0);
    assert_int_equal(ticks, w.start_ticks);
    assert_int_equal(stress_worker_go(&w, 30, NULL, &err), 0);
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)w.pid);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(comm, sizeof(comm), f));
    fclose(f);
    assert_string_equal(comm, "aftershock-cpu\n");

    stress_worker_stop(&w);
    assert_int_equal(w.pid, -1);
    assert_int_equal(w.control_fd, -1);
    stress_worker_stop(&w);
}

static void memory_worker_reports_map_failure(void **state)
{
    struct stress_worker w;
    struct err err;

    (void)state;
    /* More address space than a 64-bit process can map. */
    assert_int_equal(stress_worker_spawn(&w, STRESS_MEMORY, 0, UINT64_C(1) << 62, 30, &err), 0);
    assert_int_equal(stress_worker_go(&w, 30, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "could not apply its load"));
    stress_worker_stop(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_accepts_units),
        cmocka_unit_test(size_rejects_malformed),
        cmocka_unit_test(size_formats_binary_units),
        cmocka_unit_test(fill_path_check_rejects_escapes),
        cmocka_unit_test(fill_creates_writes_and_removes),
        cmocka_unit_test(fill_rejects_symlinks_and_existing),
        cmocka_unit_test(worker_starts_only_after_go),
        cmocka_unit_test(memory_worker_reports_map_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
