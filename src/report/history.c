/* Listing the history store's rows as an aligned table or as JSON. */
#include "report/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/format.h"
#include "store/query.h"
#include "util/strbuf.h"
#include "util/ui.h"

enum column_kind {
    COLUMN_INT,
    COLUMN_REAL,
    COLUMN_TEXT,
    COLUMN_BOOL,
    COLUMN_TIME,    /* ISO 8601 text; the table shows it to the second */
    COLUMN_SECONDS, /* a duration; the table shows it for people */
    COLUMN_COMMIT,  /* the table shows the first 10 characters */
};

/* One result column: its JSON key, its kind, and its table header (NULL: JSON only). */
struct column {
    const char *key;
    enum column_kind kind;
    const char *header;
};

struct view {
    const char *name;
    const char *sql; /* $1 since, $2 until, $3 experiment, $4 status, $5 category, $6 limit */
    const struct column *columns;
    int n_columns;
};

static const struct column run_columns[] = {
    { "id", COLUMN_INT, "ID" },
    { "timestamp", COLUMN_TIME, "STARTED (UTC)" },
    { "outcome", COLUMN_TEXT, "OUTCOME" },
    { "duration", COLUMN_SECONDS, "DURATION" },
    { "experiment", COLUMN_TEXT, "EXPERIMENT" },
    { "commit", COLUMN_COMMIT, "COMMIT" },
    { "failures", COLUMN_INT, "FAILURES" },
    { "heal_attempt", COLUMN_INT, "ATTEMPT" },
    { "status", COLUMN_TEXT, NULL },
    { "deviated", COLUMN_BOOL, NULL },
    { "healed", COLUMN_BOOL, NULL },
    { "branch", COLUMN_TEXT, NULL },
    { "ci_job", COLUMN_TEXT, NULL },
    { "ci_run", COLUMN_TEXT, NULL },
    { "heal_session", COLUMN_TEXT, NULL },
    { "experiment_file", COLUMN_TEXT, NULL },
    { "journal_path", COLUMN_TEXT, NULL },
};

static const struct column failure_columns[] = {
    { "id", COLUMN_INT, "ID" },
    { "run_id", COLUMN_INT, "RUN" },
    { "timestamp", COLUMN_TIME, "STARTED (UTC)" },
    { "category", COLUMN_TEXT, "CATEGORY" },
    { "experiment", COLUMN_TEXT, "EXPERIMENT" },
    { "message", COLUMN_TEXT, "MESSAGE" },
    { "phase", COLUMN_TEXT, NULL },
    { "activity", COLUMN_TEXT, NULL },
    { "signature", COLUMN_TEXT, NULL },
    { "outcome", COLUMN_TEXT, NULL },
};

static const struct column heal_columns[] = {
    { "id", COLUMN_INT, "ID" },
    { "timestamp", COLUMN_TIME, "STARTED (UTC)" },
    { "session", COLUMN_TEXT, "SESSION" },
    { "attempt", COLUMN_INT, "ATTEMPT" },
    { "exit_code", COLUMN_INT, "EXIT" },
    { "category", COLUMN_TEXT, "CATEGORY" },
    { "strategy", COLUMN_TEXT, "STRATEGY" },
    { "outcome", COLUMN_TEXT, "OUTCOME" },
    { "command", COLUMN_TEXT, "COMMAND" },
    { "experiment", COLUMN_TEXT, NULL },
    { "strategy_ok", COLUMN_BOOL, NULL },
    { "message", COLUMN_TEXT, NULL },
    { "duration", COLUMN_SECONDS, NULL },
};

static const struct column objective_columns[] = {
    { "id", COLUMN_INT, "ID" },
    { "timestamp", COLUMN_TIME, "STARTED (UTC)" },
    { "experiment", COLUMN_TEXT, "EXPERIMENT" },
    { "name", COLUMN_TEXT, "OBJECTIVE" },
    { "kind", COLUMN_TEXT, "KIND" },
    { "passed", COLUMN_BOOL, "PASSED" },
    { "measured", COLUMN_REAL, "MEASURED" },
    { "target", COLUMN_REAL, "TARGET" },
    { "weight", COLUMN_REAL, NULL },
    { "run_id", COLUMN_INT, NULL },
    { "journal_path", COLUMN_TEXT, NULL },
};

#define N(array) ((int)(sizeof(array) / sizeof(array[0])))

/* Empty strings stand for "no filter" so every parameter has a type in PostgreSQL. */
static const struct view views[] = {
    { "runs",
      "SELECT r.id, r.timestamp, r.outcome, r.duration, r.experiment, r.commit_sha,"
      " (SELECT COUNT(*) FROM chaos_failures f WHERE f.run_id = r.id), r.heal_attempt,"
      " r.status, r.deviated, r.healed, r.branch, r.ci_job, r.ci_run, r.heal_session,"
      " r.experiment_file, r.journal_path FROM chaos_runs r"
      " WHERE r.started_ms >= $1 AND r.started_ms < $2 AND ($3 = '' OR r.experiment = $3)"
      " AND ($4 = '' OR r.outcome = $4 OR ($4 = 'healed' AND r.healed = 1)) AND $5 = ''"
      " ORDER BY r.started_ms DESC, r.id DESC LIMIT $6",
      run_columns, N(run_columns) },
    { "failures",
      "SELECT f.id, f.run_id, f.timestamp, f.category, f.experiment, f.message, f.phase,"
      " f.activity, f.signature, r.outcome FROM chaos_failures f"
      " JOIN chaos_runs r ON r.id = f.run_id"
      " WHERE f.started_ms >= $1 AND f.started_ms < $2 AND ($3 = '' OR f.experiment = $3)"
      " AND ($4 = '' OR r.outcome = $4 OR ($4 = 'healed' AND r.healed = 1))"
      " AND ($5 = '' OR f.category = $5) ORDER BY f.started_ms DESC, f.id DESC LIMIT $6",
      failure_columns, N(failure_columns) },
    { "healing",
      "SELECT id, timestamp, session, attempt, exit_code, category, strategy, outcome, command,"
      " experiment, strategy_ok, message, duration FROM chaos_heal_attempts"
      " WHERE started_ms >= $1 AND started_ms < $2 AND ($3 = '' OR experiment = $3)"
      " AND ($4 = '' OR outcome = $4) AND ($5 = '' OR category = $5)"
      " ORDER BY started_ms DESC, id DESC LIMIT $6",
      heal_columns, N(heal_columns) },
    { "objectives",
      "SELECT id, timestamp, experiment, name, kind, passed, measured, target, weight, run_id,"
      " journal_path FROM chaos_objectives"
      " WHERE started_ms >= $1 AND started_ms < $2 AND ($3 = '' OR experiment = $3)"
      " AND ($4 = '' OR ($4 = 'passed' AND passed = 1) OR ($4 = 'failed' AND passed = 0))"
      " AND $5 = '' ORDER BY started_ms DESC, id DESC LIMIT $6",
      objective_columns, N(objective_columns) },
};

int history_parse_view(const char *name, enum history_view *view)
{
    for (int i = 0; i < N(views); i++) {
        if (strcmp(views[i].name, name) == 0) {
            *view = (enum history_view)i;
            return 0;
        }
    }
    return -1;
}

int history_check_status(enum history_view view, const char *status, struct err *err)
{
    static const char *const valid[] = {
        [HISTORY_RUNS] = "passed deviated failed interrupted healed",
        [HISTORY_FAILURES] = "passed deviated failed interrupted healed",
        [HISTORY_HEALING] = "succeeded retried stopped gave_up",
        [HISTORY_OBJECTIVES] = "passed failed",
    };
    const char *list = valid[view];
    size_t len = strlen(status);

    for (const char *p = list; (p = strstr(p, status)) != NULL; p++) {
        if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0') && len > 0)
            return 0;
    }
    return err_set(err, "invalid status '%s' for %s: use one of %s", status, views[view].name,
                   list);
}

/* Text of one cell for the table. */
static void cell_text(const struct store_rows *rows, int i, enum column_kind kind, char *out,
                      size_t size)
{
    const char *text = store_rows_text(rows, i);

    if (store_rows_is_null(rows, i)) {
        snprintf(out, size, "-");
        return;
    }
    switch (kind) {
    case COLUMN_INT: snprintf(out, size, "%lld", (long long)store_rows_int(rows, i)); break;
    case COLUMN_REAL: snprintf(out, size, "%g", store_rows_real(rows, i)); break;
    case COLUMN_BOOL: snprintf(out, size, "%s", store_rows_int(rows, i) ? "yes" : "no"); break;
    case COLUMN_SECONDS: report_fmt_duration(store_rows_real(rows, i), out, size); break;
    case COLUMN_COMMIT: snprintf(out, size, "%.10s", text); break;
    case COLUMN_TIME:
        snprintf(out, size, "%.19s", text);
        if (strlen(out) > 10 && out[10] == 'T')
            out[10] = ' ';
        break;
    default: snprintf(out, size, "%.*s", (int)(size - 1), text); break;
    }
    for (char *p = out; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
}

static json_t *cell_json(const struct store_rows *rows, int i, enum column_kind kind)
{
    if (store_rows_is_null(rows, i))
        return json_null();
    switch (kind) {
    case COLUMN_INT: return json_integer(store_rows_int(rows, i));
    case COLUMN_REAL:
    case COLUMN_SECONDS: return json_real(store_rows_real(rows, i));
    case COLUMN_BOOL: return json_boolean(store_rows_int(rows, i) != 0);
    default: return json_string(store_rows_text(rows, i));
    }
}

/* Table cells of all rows, kept so column widths can be measured first. */
struct table {
    char **cells;
    size_t n;
    size_t cap;
};

static void table_add(struct table *t, const char *text)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cells = realloc(t->cells, t->cap * sizeof(char *));
        if (t->cells == NULL)
            abort();
    }
    t->cells[t->n] = strdup(text);
    if (t->cells[t->n++] == NULL)
        abort();
}

/* Prints the collected cells with aligned columns; the last column is not padded. */
static void table_print(const struct table *t, int n_columns, FILE *out)
{
    size_t width[32] = { 0 };

    for (size_t i = 0; i < t->n; i++) {
        size_t len = strlen(t->cells[i]);
        if (len > width[i % (size_t)n_columns])
            width[i % (size_t)n_columns] = len;
    }
    for (size_t i = 0; i < t->n; i++) {
        int column = (int)(i % (size_t)n_columns);
        if (column == n_columns - 1)
            fprintf(out, "%s\n", t->cells[i]);
        else
            fprintf(out, "%-*s  ", (int)width[column], t->cells[i]);
    }
}

int history_list(struct store *store, const struct history_query *q, FILE *out, bool json,
                 struct err *err)
{
    const struct view *v = &views[q->view];
    struct store_value params[] = {
        STORE_INT(store_epoch_ms(q->since)), STORE_INT(store_epoch_ms(q->until)),
        STORE_TEXT(q->experiment ? q->experiment : ""), STORE_TEXT(q->status ? q->status : ""),
        STORE_TEXT(q->category ? q->category : ""),
        STORE_INT(q->limit > 0 ? q->limit : INT64_MAX),
    };
    struct table table = { 0 };
    json_t *items = json_array();
    struct store_rows *rows;
    int n_shown = 0, rc;
    char cell[512];

    if (store_query(store, v->sql, params, 6, &rows, err) != 0) {
        json_decref(items);
        return -1;
    }
    for (int c = 0; c < v->n_columns; c++) {
        if (v->columns[c].header != NULL) {
            table_add(&table, v->columns[c].header);
            n_shown++;
        }
    }
    while ((rc = store_rows_next(rows, err)) == 1) {
        json_t *item = json_object();
        for (int c = 0; c < v->n_columns; c++) {
            json_object_set_new(item, v->columns[c].key, cell_json(rows, c, v->columns[c].kind));
            if (v->columns[c].header == NULL)
                continue;
            cell_text(rows, c, v->columns[c].kind, cell, sizeof(cell));
            table_add(&table, cell);
        }
        json_array_append_new(items, item);
    }
    store_rows_free(rows);

    if (rc == 0 && json) {
        json_t *doc = json_pack("{so}", v->name, items);
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(doc);
    } else if (rc == 0) {
        if (json_array_size(items) == 0)
            fprintf(out, "no %s recorded that match\n", v->name);
        else
            table_print(&table, n_shown, out);
    }
    if (!json || rc != 0)
        json_decref(items);
    for (size_t i = 0; i < table.n; i++)
        free(table.cells[i]);
    free(table.cells);
    return rc < 0 ? -1 : 0;
}
