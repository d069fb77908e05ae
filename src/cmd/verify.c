/* `aftershock verify`: judges journals against their experiments' objectives. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "resilience/resilience.h"
#include "store/store.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/ui.h"

static const struct opt_spec verify_options[] = {
    { "junit", 0, "FILE", "write JUnit XML: one test suite per journal, one test case per "
      "objective" },
    { "json", 0, NULL, "print the verdicts as JSON instead of the table" },
    { "json-file", 0, "FILE", "also write the verdicts as JSON to FILE" },
    { "db", 0, "PATH|URL", "record the verdicts in this history store: a SQLite file or a "
      "postgresql:// URL (default $AFTERSHOCK_DB; none when neither is set)" },
    { NULL, 0, NULL, NULL },
};

/* Records every verdict, linked to its run when the store has the run. */
static int record(const char *location, const struct judgement *j, int n)
{
    struct store *store;
    struct err err;
    int rc = 0;

    if (store_open(location, STORE_WRITE, &store, &err) != 0) {
        ui_error("%s", err.msg);
        return -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        struct store_objective *rows = calloc(j[i].n + 1, sizeof(*rows));
        int64_t run_id = 0;
        if (rows == NULL)
            abort();
        if (store_find_run(store, j[i].title, j[i].started, &run_id, &err) < 0)
            rc = -1;
        for (size_t k = 0; k < j[i].n && rc == 0; k++) {
            const struct verdict *v = &j[i].verdicts[k];
            rows[k] = (struct store_objective){
                .run_id = run_id, .experiment = j[i].title, .journal_path = j[i].journal_path,
                .started = j[i].started, .name = v->objective->name,
                .kind = objective_kind_name(v->objective->kind), .target = v->objective->limit,
                .measured = v->measured, .passed = v->met, .weight = v->objective->weight,
            };
        }
        if (rc == 0 && j[i].n > 0 && store_record_objectives(store, rows, j[i].n, &err) != 0)
            rc = -1;
        free(rows);
    }
    if (rc != 0)
        ui_error("%s", err.msg);
    store_close(store);
    return rc;
}

static int write_outputs(const struct opt_values *opts, const struct judgement *j, int n)
{
    const char *junit = opt_get(opts, "junit"), *json_file = opt_get(opts, "json-file");
    json_t *doc = resilience_to_json(j, (size_t)n);
    struct err err;
    int rc = 0;

    if (junit != NULL && resilience_write_junit(junit, j, (size_t)n, &err) != 0) {
        ui_error("%s", err.msg);
        rc = -1;
    }
    if (json_file != NULL) {
        char *text = resilience_json_text(doc);
        if (fs_write_atomic(json_file, text, strlen(text), &err) != 0) {
            ui_error("%s", err.msg);
            rc = -1;
        }
        free(text);
    }
    if (opt_has(opts, "json")) {
        char *text = resilience_json_text(doc);
        fputs(text, stdout);
        free(text);
    } else {
        for (int i = 0; i < n; i++)
            resilience_print_table(stdout, &j[i]);
        if (n > 1)
            printf("overall resilience score: %.1f\n", resilience_overall_score(j, (size_t)n));
    }
    json_decref(doc);
    return rc;
}

static int verify_main(const struct command_args *args)
{
    int n = args->argc, code = EXIT_OK, invalid = 0;
    struct judgement *j = calloc((size_t)n, sizeof(*j));
    const char *db = opt_get(args->opts, "db");
    struct err err;

    if (j == NULL)
        abort();
    if (db == NULL)
        db = getenv("AFTERSHOCK_DB");

    /* Every journal is judged before anything is written, so a bad one changes nothing. */
    bool seen[JUDGE_BAD_TIMELINE + 1] = { false };
    for (int i = 0; i < n; i++) {
        if (resilience_judge_file(args->argv[i], &j[i], &err) != 0) {
            /* Objective and timeline errors name a field, not the file. */
            if (j[i].problem == JUDGE_BAD_OBJECTIVES || j[i].problem == JUDGE_BAD_TIMELINE)
                ui_error("'%s': %s", args->argv[i], err.msg);
            else
                ui_error("%s", err.msg);
            seen[j[i].problem] = true;
            invalid++;
        }
    }
    if (invalid > 0) {
        if (seen[JUDGE_NO_FILE])
            ui_hint("check the path: pass the journal files 'aftershock run' wrote "
                    "(--journal-path, default journal.json)");
        if (seen[JUDGE_NOT_JOURNAL])
            ui_hint("pass journals written by 'aftershock run' or Chaos Toolkit");
        if (seen[JUDGE_BAD_OBJECTIVES])
            ui_hint("fix 'objectives' in the experiment ('aftershock run --dry-run EXPERIMENT' "
                    "checks them) and run it again, or fix experiment.objectives in the journal");
        if (seen[JUDGE_BAD_TIMELINE])
            ui_hint("the journal's traffic document is damaged; run the experiment again for a "
                    "new journal");
        ui_hint("nothing was written");
        code = EXIT_USAGE;
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        if (j[i].n == 0)
            ui_warning("'%s' declares no objectives; add 'objectives' to the experiment",
                       args->argv[i]);
        if (!j[i].passed)
            code = EXIT_FINDING;
    }
    if (write_outputs(args->opts, j, n) != 0 ||
        (db != NULL && db[0] != '\0' && record(db, j, n) != 0))
        code = EXIT_RUNFAIL;

cleanup:
    for (int i = 0; i < n; i++)
        judgement_release(&j[i]);
    free(j);
    return code;
}

const struct command command_verify = {
    .name = "verify",
    .summary = "judge experiment objectives from journals; print verdicts, a score and JUnit",
    .usage = "[options] JOURNAL...",
    .description =
        "Judges each journal's traffic against the objectives its experiment declares\n"
        "(availability, latency percentile, recovery time) and prints a table of\n"
        "objective, limit, measured value and verdict, with a resilience score per\n"
        "experiment (the weighted share of objectives met, 0 to 100) and overall\n"
        "(the mean of the experiments' scores). See docs/resilience.md.\n"
        "\n"
        "exit codes: 0 every objective met; 1 an objective missed; 2 a journal that\n"
        "cannot be read or is not valid (nothing is written then); 3 the JUnit or\n"
        "JSON file or the history store could not be written.\n",
    .options = verify_options,
    .min_args = 1,
    .handler = verify_main,
};
