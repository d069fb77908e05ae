/* Fuzz target: recording a journal into the history store and reporting on it.
 *
 * The input is parsed as a journal. When the store accepts it, it is
 * recorded into an in-memory SQLite store, and a report over the day of
 * its start is built and written as JSON, markdown and HTML, so odd titles
 * and messages travel through every writer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/report.h"
#include "store/store.h"

static struct store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_context ctx = { .commit = "c0ffee", .branch = "main", .heal_attempt = 1 };
    json_t *journal = json_loadb((const char *)data, size, 0, NULL);
    struct report report;
    struct err err;
    double start;

    if (store == NULL && store_open(":memory:", STORE_WRITE, &store, &err) != 0)
        abort();
    if (journal == NULL || store_check_journal(journal, "fuzz.json", &err) != 0) {
        json_decref(journal);
        return 0;
    }
    if (store_record_journal(store, journal, "fuzz.yaml", "fuzz.json", &ctx, NULL, &err) != 0)
        abort();
    if (store_time_parse(json_string_value(json_object_get(journal, "start")), 0, &start,
                         &err) != 0)
        abort();
    json_decref(journal);

    struct report_options opts = { .now = start, .since = start - 86400, .until = start + 86400,
                                   .top = 5 };
    if (report_build(store, &opts, &report, &err) != 0)
        abort();
    json_t *doc = report_to_json(&report);
    char *text = json_dumps(doc, JSON_INDENT(2));
    struct strbuf out = STRBUF_INIT;
    report_write_markdown(&report, &out);
    report_write_html(&report, &out);
    free(text);
    json_decref(doc);
    strbuf_release(&out);
    report_release(&report);
    return 0;
}
