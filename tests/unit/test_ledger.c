/* Unit tests for the fault ledger: file format, validation, process identity, the run's file. */
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

static const char valid_file[] =
    "{\"format\": \"aftershock-fault-ledger\", \"version\": 1,"
    " \"run\": {\"pid\": 42, \"start_ticks\": 1000, \"boot_id\": \"b\", \"host\": \"h\","
    " \"started_at\": \"2026-01-01T00:00:00Z\"},"
    " \"faults\": ["
    "  {\"id\": 1, \"kind\": \"pause\", \"experiment\": \"e.json\","
    "   \"applied_at\": \"2026-01-01T00:00:01Z\", \"pid\": 77, \"start_ticks\": 900},"
    "  {\"id\": 2, \"kind\": \"toxic\", \"applied_at\": \"2026-01-01T00:00:02Z\","
    "   \"api\": \"http://127.0.0.1:8474\", \"proxy\": \"web\", \"toxic\": \"slow\"}]}";

static void parse_reads_every_field(void **state)
{
    struct ledger_file file;
    struct err err;

    (void)state;
    assert_int_equal(ledger_file_parse(valid_file, strlen(valid_file), &file, &err), 0);
    assert_int_equal(file.run.pid, 42);
    assert_int_equal(file.run.start_ticks, 1000);
    assert_string_equal(file.run.boot_id, "b");
    assert_string_equal(file.run.host, "h");
    assert_int_equal(file.count, 2);
    assert_int_equal(file.entries[0].kind, FAULT_PAUSE);
    assert_int_equal(file.entries[0].pid, 77);
    assert_int_equal(file.entries[0].start_ticks, 900);
    assert_string_equal(file.entries[0].experiment, "e.json");
    assert_int_equal(file.entries[1].kind, FAULT_TOXIC);
    assert_null(file.entries[1].experiment);
    assert_string_equal(file.entries[1].api, "http://127.0.0.1:8474");
    assert_string_equal(file.entries[1].proxy, "web");
    assert_string_equal(file.entries[1].toxic, "slow");
    ledger_file_release(&file);
}

static void format_round_trips(void **state)
{
    struct ledger_file file, again;
    struct err err;
    char *text;

    (void)state;
    assert_int_equal(ledger_file_parse(valid_file, strlen(valid_file), &file, &err), 0);
    text = ledger_file_format(&file);
    assert_int_equal(ledger_file_parse(text, strlen(text), &again, &err), 0);
    assert_int_equal(again.count, file.count);
    assert_int_equal(again.entries[0].start_ticks, 900);
    assert_string_equal(again.entries[1].toxic, "slow");
    assert_string_equal(again.run.started_at, file.run.started_at);
    free(text);
    ledger_file_release(&file);
    ledger_file_release(&again);
}

/* Replaces the first occurrence of from in valid_file with to. */
static char *valid_with(const char *from, const char *to)
{
    const char *at = strstr(valid_file, from);
    size_t size = sizeof(valid_file) + strlen(to);
    char *out = malloc(size);

    assert_non_null(at);
    snprintf(out, size, "%.*s%s%s", (int)(at - valid_file), valid_file, to, at + strlen(from));
    return out;
}

static void parse_rejects_invalid_fields(void **state)
{
    static const struct {
        const char *from, *to, *message;
    } cases[] = {
        { "\"version\": 1", "\"version\": 2", "version is not 1" },
        { "\"pid\": 42", "\"pid\": -3", "run.pid is missing or not an integer" },
        { "\"host\": \"h\"", "\"host\": \"\"", "run.host is missing or not a non-empty string" },
        { "\"kind\": \"pause\"", "\"kind\": \"disk\"", "faults[0].kind 'disk' is unknown" },
        { "\"pid\": 77", "\"pid\": 1", "faults[0].pid is missing" },
        { "\"id\": 2", "\"id\": 1", "faults[1].id 1 is used twice" },
        { "\"proxy\": \"web\"", "\"proxy\": 5", "faults[1].proxy is missing" },
        { "\"faults\": [", "\"faults\": \"none\", \"other\": [",
          "faults is missing or not a list" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = valid_with(cases[i].from, cases[i].to);
        struct ledger_file file;
        struct err err;

        assert_int_equal(ledger_file_parse(text, strlen(text), &file, &err), -1);
        if (strstr(err.msg, cases[i].message) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.msg, cases[i].message);
        free(text);
    }
}

static const char stress_file[] =
    "{\"format\": \"aftershock-fault-ledger\", \"version\": 1,"
    " \"run\": {\"pid\": 42, \"start_ticks\": 1000, \"boot_id\": \"b\", \"host\": \"h\","
    " \"started_at\": \"2026-01-01T00:00:00Z\"},"
    " \"faults\": ["
    "  {\"id\": 1, \"kind\": \"stress-worker\", \"applied_at\": \"2026-01-01T00:00:01Z\","
    "   \"pid\": 78, \"start_ticks\": 901},"
    "  {\"id\": 2, \"kind\": \"fill\", \"applied_at\": \"2026-01-01T00:00:02Z\","
    "   \"folder\": \"/var/tmp\", \"file\": \"sub/fill.bin\", \"dev\": 5, \"ino\": 6},"
    "  {\"id\": 3, \"kind\": \"fill\", \"applied_at\": \"2026-01-01T00:00:03Z\","
    "   \"folder\": \"/var/tmp\", \"file\": \"other.bin\"}]}";

static void parse_reads_stress_kinds(void **state)
{
    struct ledger_file file, again;
    struct err err;
    char *text;

    (void)state;
    assert_int_equal(ledger_file_parse(stress_file, strlen(stress_file), &file, &err), 0);
    assert_int_equal(file.count, 3);
    assert_int_equal(file.entries[0].kind, FAULT_WORKER);
    assert_int_equal(file.entries[0].pid, 78);
    assert_int_equal(file.entries[0].start_ticks, 901);
    assert_int_equal(file.entries[1].kind, FAULT_FILL);
    assert_string_equal(file.entries[1].folder, "/var/tmp");
    assert_string_equal(file.entries[1].file, "sub/fill.bin");
    assert_int_equal(file.entries[1].dev, 5);
    assert_int_equal(file.entries[1].ino, 6);
    assert_int_equal(file.entries[2].ino, 0);

    text = ledger_file_format(&file);
    assert_int_equal(ledger_file_parse(text, strlen(text), &again, &err), 0);
    assert_int_equal(again.entries[0].kind, FAULT_WORKER);
    assert_int_equal(again.entries[1].ino, 6);
    assert_string_equal(again.entries[2].file, "other.bin");
    assert_null(strstr(text, "\"ino\": 0"));
    free(text);
    ledger_file_release(&file);
    ledger_file_release(&again);
}

static void parse_rejects_invalid_stress(void **state)
{
    static const struct {
        const char *from, *to, *message;
    } cases[] = {
        { "\"folder\": \"/var/tmp\", \"file\": \"sub", "\"folder\": \"var/tmp\", \"file\": \"sub",
          "faults[1].folder is not an absolute path" },
        { "\"file\": \"sub/fill.bin\"", "\"file\": \"/etc/passwd\"",
          "faults[1].file is not a relative path" },
        { "\"dev\": 5, \"ino\": 6", "\"dev\": 5", "faults[1].ino is missing" },
        { "\"ino\": 6", "\"ino\": 0", "faults[1].ino is missing" },
        { "\"pid\": 78", "\"pid\": 0", "faults[0].pid is missing" },
        { "\"file\": \"other.bin\"", "\"file\": \"\"", "faults[2].file is missing" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *at = strstr(stress_file, cases[i].from);
        size_t size = sizeof(stress_file) + strlen(cases[i].to);
        char *text = malloc(size);
        struct ledger_file file;
        struct err err;

        assert_non_null(at);
        snprintf(text, size, "%.*s%s%s", (int)(at - stress_file), stress_file, cases[i].to,
                 at + strlen(cases[i].from));
        assert_int_equal(ledger_file_parse(text, strlen(text), &file, &err), -1);
        if (strstr(err.msg, cases[i].message) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, err.msg, cases[i].message);
        free(text);
    }
}

static void parse_rejects_non_json(void **state)
{
    struct ledger_file file;
    struct err err;

    (void)state;
    assert_int_equal(ledger_file_parse("{", 1, &file, &err), -1);
    assert_non_null(strstr(err.msg, "not valid JSON"));
}

static void own_run_is_alive(void **state)
{
    struct ledger_run run;
    struct err err;

    (void)state;
    assert_int_equal(ledger_run_self(&run, &err), 0);
    assert_int_equal(run.pid, getpid());
    assert_int_equal(ledger_run_liveness(&run), LEDGER_RUN_ALIVE);
    run.start_ticks++;
    assert_int_equal(ledger_run_liveness(&run), LEDGER_RUN_GONE);
    run.start_ticks--;
    memcpy(run.host, "not-this-host", sizeof("not-this-host"));
    assert_int_equal(ledger_run_liveness(&run), LEDGER_RUN_ELSEWHERE);
}

static void exited_child_is_gone(void **state)
{
    struct ledger_run run;
    struct err err;
    pid_t child;

    (void)state;
    assert_int_equal(ledger_run_self(&run, &err), 0);
    child = fork();
    if (child == 0)
        _exit(0);
    assert_int_equal(ledger_process_start(child, &run.start_ticks, NULL), 0);
    run.pid = child;
    waitpid(child, NULL, 0);
    assert_int_equal(ledger_run_liveness(&run), LEDGER_RUN_GONE);
}

static char *make_temp_dir(void)
{
    char *dir = strdup("/tmp/aftershock-ledger-XXXXXX");

    assert_non_null(mkdtemp(dir));
    return dir;
}

static void ledger_file_follows_faults(void **state)
{
    char *dir = make_temp_dir();
    struct fault_ledger ledger;
    struct ledger_file loaded;
    struct err err;
    char **paths;
    long pause_id, toxic_id;

    (void)state;
    assert_int_equal(fault_ledger_open(&ledger, dir, &err), 0);
    assert_int_equal(ledger_list(dir, &paths, &err), 0);
    fault_ledger_set_experiment(&ledger, "exp.yaml");

    assert_int_equal(fault_ledger_add_pause(&ledger, getpid(), &pause_id, &err), 0);
    assert_int_equal(fault_ledger_add_toxic(&ledger, "http://127.0.0.1:1", "web",
                                            "latency_downstream", &toxic_id, &err), 0);
    fault_ledger_rename_toxic(&ledger, toxic_id, "slow");
    assert_int_equal(ledger_list(dir, &paths, &err), 1);
    assert_int_equal(ledger_file_load(paths[0], &loaded, &err), 0);
    assert_int_equal(loaded.count, 2);
    assert_int_equal(loaded.entries[0].pid, getpid());
    assert_string_equal(loaded.entries[0].experiment, "exp.yaml");
    assert_string_equal(loaded.entries[1].toxic, "slow");
    ledger_file_release(&loaded);

    fault_ledger_remove(&ledger, pause_id);
    assert_int_equal(fault_ledger_count(&ledger), 1);
    assert_int_equal(access(paths[0], F_OK), 0);
    fault_ledger_remove_toxic(&ledger, "http://127.0.0.1:1", "web", "slow");
    assert_int_equal(fault_ledger_count(&ledger), 0);
    assert_int_equal(access(paths[0], F_OK), -1);
    assert_int_equal(fault_ledger_close(&ledger), 0);

    free(paths[0]);
    free(paths);
    rmdir(dir);
    free(dir);
}

static void journal_lists_applied_and_undone(void **state)
{
    char *dir = make_temp_dir();
    struct fault_ledger ledger;
    struct err err;
    json_t *journal, *again;
    long pause_id, fill_id;

    (void)state;
    assert_int_equal(fault_ledger_open(&ledger, dir, &err), 0);
    assert_int_equal(fault_ledger_add_pause(&ledger, getpid(), &pause_id, &err), 0);
    assert_int_equal(fault_ledger_add_fill(&ledger, "/var/tmp", "fill.bin", &fill_id, &err), 0);
    fault_ledger_set_fill_id(&ledger, fill_id, 7, 8);
    fault_ledger_remove(&ledger, fill_id);

    journal = fault_ledger_take_journal(&ledger);
    again = fault_ledger_take_journal(&ledger);

    assert_int_equal(json_array_size(journal), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(journal, 0), "kind")),
                        "pause");
    assert_true(json_is_null(json_object_get(json_array_get(journal, 0), "undone_at")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(journal, 1), "kind")),
                        "fill");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(journal, 1), "ino")), 8);
    assert_true(json_is_string(json_object_get(json_array_get(journal, 1), "undone_at")));
    assert_int_equal(json_array_size(again), 0);
    json_decref(journal);
    json_decref(again);
    assert_int_equal(fault_ledger_count(&ledger), 1);

    fault_ledger_remove(&ledger, pause_id);
    assert_int_equal(fault_ledger_close(&ledger), 0);
    rmdir(dir);
    free(dir);
}

static void closing_keeps_faults_left(void **state)
{
    char *dir = make_temp_dir();
    struct fault_ledger ledger;
    struct err err;
    char **paths;
    long id;

    (void)state;
    assert_int_equal(fault_ledger_open(&ledger, dir, &err), 0);
    assert_int_equal(fault_ledger_add_pause(&ledger, getpid(), &id, &err), 0);
    assert_int_equal(fault_ledger_close(&ledger), 1);
    assert_int_equal(ledger_list(dir, &paths, &err), 1);
    unlink(paths[0]);
    free(paths[0]);
    free(paths);
    rmdir(dir);
    free(dir);
}

static void unwritable_folder_rejects_fault(void **state)
{
    struct fault_ledger ledger;
    struct err err;
    long id = 99;

    (void)state;
    assert_int_equal(fault_ledger_open(&ledger, "/proc/aftershock-ledger", &err), 0);
    assert_int_equal(fault_ledger_add_pause(&ledger, getpid(), &id, &err), -1);
    assert_non_null(strstr(err.msg, "so it was not applied"));
    assert_int_equal(fault_ledger_count(&ledger), 0);
    assert_int_equal(fault_ledger_close(&ledger), 0);
}

static void undo_pause_checks_start_time(void **state)
{
    struct ledger_run run;
    struct fault_entry entry = { .kind = FAULT_PAUSE };
    struct err err;
    char message[512];
    pid_t child;
    int status;

    (void)state;
    assert_int_equal(ledger_run_self(&run, &err), 0);
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    entry.pid = child;
    assert_int_equal(ledger_process_start(child, &entry.start_ticks, NULL), 0);
    kill(child, SIGSTOP);
    assert_int_equal(waitpid(child, &status, WUNTRACED), child);

    entry.start_ticks++;
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DROPPED);
    assert_non_null(strstr(message, "not signalled"));
    entry.start_ticks--;
    assert_int_equal(ledger_undo(&run, &entry, true, message, sizeof(message)), UNDO_DONE);
    assert_non_null(strstr(message, "would resume"));
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DONE);
    assert_int_equal(waitpid(child, &status, WCONTINUED), child);
    assert_true(WIFCONTINUED(status));

    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_GONE);
}

static void undo_worker_kills_only_same_process(void **state)
{
    struct ledger_run run;
    struct fault_entry entry = { .kind = FAULT_WORKER };
    struct err err;
    char message[512];
    pid_t child;
    int status;

    (void)state;
    assert_int_equal(ledger_run_self(&run, &err), 0);
    child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    entry.pid = child;
    assert_int_equal(ledger_process_start(child, &entry.start_ticks, NULL), 0);

    entry.start_ticks++;
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DROPPED);
    entry.start_ticks--;
    assert_int_equal(ledger_undo(&run, &entry, true, message, sizeof(message)), UNDO_DONE);
    assert_non_null(strstr(message, "would stop"));
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DONE);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_GONE);
}

static void undo_fill_removes_only_its_file(void **state)
{
    char folder[] = "/tmp/aftershock-fill-XXXXXX";
    struct fault_entry entry = { .kind = FAULT_FILL, .file = "fill.bin" };
    struct ledger_run run;
    struct err err;
    char message[512], path[128];
    struct stat st;
    FILE *f;

    (void)state;
    assert_int_equal(ledger_run_self(&run, &err), 0);
    assert_non_null(mkdtemp(folder));
    entry.folder = folder;
    snprintf(path, sizeof(path), "%s/fill.bin", folder);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(stat(path, &st), 0);

    /* Another file under the recorded name is kept. */
    entry.dev = (unsigned long long)st.st_dev;
    entry.ino = (unsigned long long)st.st_ino + 1;
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DROPPED);
    assert_int_equal(access(path, F_OK), 0);

    entry.ino = (unsigned long long)st.st_ino;
    assert_int_equal(ledger_undo(&run, &entry, true, message, sizeof(message)), UNDO_DONE);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_DONE);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_GONE);
    assert_int_equal(rmdir(folder), 0);
    assert_int_equal(ledger_undo(&run, &entry, false, message, sizeof(message)), UNDO_GONE);
}

static void dir_prefers_option_then_environment(void **state)
{
    (void)state;
    unsetenv(LEDGER_ENV_DIR);
    assert_string_equal(ledger_dir(NULL), LEDGER_DEFAULT_DIR);
    setenv(LEDGER_ENV_DIR, "/tmp/from-env", 1);
    assert_string_equal(ledger_dir(NULL), "/tmp/from-env");
    assert_string_equal(ledger_dir("/tmp/option"), "/tmp/option");
    unsetenv(LEDGER_ENV_DIR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_reads_every_field),
        cmocka_unit_test(format_round_trips),
        cmocka_unit_test(parse_rejects_invalid_fields),
        cmocka_unit_test(parse_reads_stress_kinds),
        cmocka_unit_test(parse_rejects_invalid_stress),
        cmocka_unit_test(parse_rejects_non_json),
        cmocka_unit_test(own_run_is_alive),
        cmocka_unit_test(exited_child_is_gone),
        cmocka_unit_test(ledger_file_follows_faults),
        cmocka_unit_test(journal_lists_applied_and_undone),
        cmocka_unit_test(closing_keeps_faults_left),
        cmocka_unit_test(unwritable_folder_rejects_fault),
        cmocka_unit_test(undo_pause_checks_start_time),
        cmocka_unit_test(undo_worker_kills_only_same_process),
        cmocka_unit_test(undo_fill_removes_only_its_file),
        cmocka_unit_test(dir_prefers_option_then_environment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
