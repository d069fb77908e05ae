/* Unit tests for aftershock.yaml: keys, defaults, errors, the upward search, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/project.h"

static int parse(const char *text, struct project_config *cfg, struct err *err)
{
    return project_config_parse(text, strlen(text), "aftershock.yaml", "/repo", cfg, err);
}

static void parse_reads_every_key(void **state)
{
    static const char text[] = "experiments: [chaos, 'more/*.yaml']\n"
                               "requirements: requirements.txt\n"
                               "store: postgresql://ci@127.0.0.1/chaos\n"
                               "health_targets:\n"
                               "  - http://127.0.0.1:8080/health\n"
                               "  - tcp://127.0.0.1:6379\n"
                               "rules: heal-rules.yaml\n"
                               "ledger_dir: .ledger\n"
                               "reports_dir: out\n";
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse(text, &cfg, &err), 0);
    assert_int_equal(cfg.experiments.count, 2);
    assert_string_equal(cfg.experiments.items[0], "chaos");
    assert_string_equal(cfg.experiments.items[1], "more/*.yaml");
    assert_int_equal(cfg.requirements.count, 1);
    assert_string_equal(cfg.requirements.items[0], "requirements.txt");
    assert_string_equal(cfg.store, "postgresql://ci@127.0.0.1/chaos");
    assert_int_equal(cfg.health_targets.count, 2);
    assert_string_equal(cfg.health_targets.items[1], "tcp://127.0.0.1:6379");
    assert_string_equal(cfg.rules, "heal-rules.yaml");
    assert_string_equal(cfg.ledger_dir, ".ledger");
    assert_string_equal(cfg.reports_dir, "out");
    assert_string_equal(cfg.path, "aftershock.yaml");
    assert_string_equal(cfg.root, "/repo");
    project_config_free(&cfg);
}

static void empty_file_sets_defaults(void **state)
{
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse("", &cfg, &err), 0);
    assert_int_equal(cfg.experiments.count, 1);
    assert_string_equal(cfg.experiments.items[0], "experiments");
    assert_int_equal(cfg.requirements.count, 0);
    assert_null(cfg.store);
    assert_null(cfg.rules);
    assert_null(cfg.ledger_dir);
    assert_string_equal(cfg.reports_dir, "reports");
    project_config_free(&cfg);
}

static void null_value_keeps_default(void **state)
{
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse("experiments:\nreports_dir: ~\n", &cfg, &err), 0);
    assert_string_equal(cfg.experiments.items[0], "experiments");
    assert_string_equal(cfg.reports_dir, "reports");
    project_config_free(&cfg);
}

static void unknown_key_is_named(void **state)
{
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse("experiments: x\ncolour: red\n", &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "aftershock.yaml"));
    assert_non_null(strstr(err.msg, "unknown key 'colour'"));
    assert_non_null(strstr(err.msg, "health_targets"));
    assert_null(cfg.path);
    assert_int_equal(cfg.experiments.count, 0);
}

static void near_miss_key_gets_suggestion(void **state)
{
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse("health-targets: [tcp://127.0.0.1:1]\n", &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "unknown key 'health-targets'"));
    assert_non_null(strstr(err.msg, "rename it to 'health_targets'"));
}

static void wrong_types_are_rejected(void **state)
{
    static const char *const bad[] = {
        "experiments: {a: 1}\n", "experiments: [1]\n", "experiments: ['']\n",
        "store: [a]\n",          "store: ''\n",        "rules: 3\n",
        "- a\n- b\n",            "just text\n",        "store: \"a\\0b\"\n",
    };
    struct project_config cfg;
    struct err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        assert_int_equal(parse(bad[i], &cfg, &err), -1);
        assert_non_null(strstr(err.msg, "aftershock.yaml"));
    }
}

static void invalid_yaml_reports_position(void **state)
{
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_int_equal(parse("experiments: [a\n", &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "aftershock.yaml:"));
}

static void path_resolves_against_root(void **state)
{
    struct project_config cfg;
    struct err err;
    char *path;

    (void)state;
    assert_int_equal(parse("store: db/h.db\n", &cfg, &err), 0);
    path = project_config_path(&cfg, cfg.store);
    assert_string_equal(path, "/repo/db/h.db");
    free(path);
    path = project_config_path(&cfg, "/abs/x");
    assert_string_equal(path, "/abs/x");
    free(path);
    path = project_config_path(&cfg, "postgresql://127.0.0.1/x");
    assert_string_equal(path, "postgresql://127.0.0.1/x");
    free(path);
    project_config_free(&cfg);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void load_searches_upwards_to_git(void **state)
{
    char base[] = "/tmp/aftershock-config-XXXXXX";
    char path[512], sub[512];
    struct project_config cfg;
    struct err err;

    (void)state;
    assert_non_null(mkdtemp(base));
    snprintf(path, sizeof(path), "%s/aftershock.yaml", base);
    write_text(path, "reports_dir: outer\n");
    snprintf(path, sizeof(path), "%s/repo", base);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/repo/a/b", base);
    snprintf(path, sizeof(path), "%s/repo/a", base);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);

    /* Without .git the search reaches the outer file. */
    assert_int_equal(project_config_load(sub, &cfg, &err), 0);
    assert_non_null(cfg.path);
    assert_string_equal(cfg.reports_dir, "outer");
    assert_string_equal(cfg.root, base);
    project_config_free(&cfg);

    /* A .git folder ends the search: defaults, root is the start folder. */
    snprintf(path, sizeof(path), "%s/repo/.git", base);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(project_config_load(sub, &cfg, &err), 0);
    assert_null(cfg.path);
    assert_string_equal(cfg.reports_dir, "reports");
    assert_string_equal(cfg.root, sub);
    project_config_free(&cfg);

    /* The file in the repository root is found from a subfolder. */
    snprintf(path, sizeof(path), "%s/repo/aftershock.yaml", base);
    write_text(path, "reports_dir: inner\n");
    assert_int_equal(project_config_load(sub, &cfg, &err), 0);
    assert_string_equal(cfg.reports_dir, "inner");
    assert_string_equal(cfg.path, path);
    project_config_free(&cfg);

    /* A file path is read as it is; a broken file fails with its path. */
    write_text(path, "bogus: 1\n");
    assert_int_equal(project_config_load(path, &cfg, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(project_config_load("/nonexistent/aftershock.yaml", &cfg, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/aftershock.yaml"));

    unlink(path);
    snprintf(path, sizeof(path), "%s/aftershock.yaml", base);
    unlink(path);
    rmdir(sub);
    snprintf(path, sizeof(path), "%s/repo/a", base);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/repo/.git", base);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/repo", base);
    rmdir(path);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_reads_every_key),
        cmocka_unit_test(empty_file_sets_defaults),
        cmocka_unit_test(null_value_keeps_default),
        cmocka_unit_test(unknown_key_is_named),
        cmocka_unit_test(near_miss_key_gets_suggestion),
        cmocka_unit_test(wrong_types_are_rejected),
        cmocka_unit_test(invalid_yaml_reports_position),
        cmocka_unit_test(path_resolves_against_root),
        cmocka_unit_test(load_searches_upwards_to_git),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
