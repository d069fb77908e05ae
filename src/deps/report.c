/* Output of `aftershock deps`: text, JSON, GitHub annotations and the markdown audit. */
#include "deps/report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deps/pysource.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/utf8.h"
#include "util/timeutil.h"

void report_imports_text(FILE *out, const struct scan_result *scan)
{
    for (size_t i = 0; i < scan->count; i++) {
        const struct scan_file *file = &scan->files[i];

        for (size_t k = 0; k < file->imports.count; k++) {
            const struct py_import *imp = &file->imports.items[k];

            fprintf(out, "%s:%d:%d: %s%s%s\n", file->path, imp->line, imp->col, imp->module,
                    imp->optional ? " optional" : "", imp->dynamic ? " dynamic" : "");
        }
    }
    for (size_t i = 0; i < scan->count; i++) {
        const struct scan_file *file = &scan->files[i];

        if (file->imports.error_msg[0] != '\0')
            fprintf(out, "%s:%d:%d: error: %s\n", file->path, file->imports.error_line,
                    file->imports.error_col, file->imports.error_msg);
    }
}

/* A JSON string of s; jansson rejects bytes that are not UTF-8, so they become U+FFFD. */
static json_t *json_text(const char *s)
{
    size_t len = strlen(s);
    char *clean;
    json_t *value;

    if (pysource_utf8_check(s, len) == len)
        return json_string(s);
    clean = utf8_sanitize(s, len);
    value = json_string(clean);
    free(clean);
    return value;
}

static json_t *error_json(const struct scan_file *file)
{
    return json_pack("{s:o, s:i, s:i, s:o}", "path", json_text(file->path), "line",
                     file->imports.error_line, "column", file->imports.error_col, "message",
                     json_text(file->imports.error_msg));
}

/* Appends s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_string_add(struct strbuf *sb, const char *s)
{
    size_t len = strlen(s);
    char *clean = NULL;

    if (pysource_utf8_check(s, len) != len)
        s = clean = utf8_sanitize(s, len);
    strbuf_addch(sb, '"');
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"' || c == '\\') {
            strbuf_addch(sb, '\\');
            strbuf_addch(sb, (char)c);
        } else if (c < 0x20) {
            strbuf_addf(sb, "\\u%04x", c);
        } else {
            strbuf_addch(sb, (char)c);
        }
    }
    strbuf_addch(sb, '"');
    free(clean);
}

static void add_int(struct strbuf *sb, long value)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%ld", value);

    strbuf_add(sb, digits, (size_t)n);
}

/* Writes the --imports JSON document directly: on large trees, building it
 * as a jansson tree took about a fifth of the run. */
void report_imports_json_write(FILE *out, const struct scan_result *scan)
{
    struct strbuf sb = STRBUF_INIT;
    bool first_file = true, first_error = true;

    strbuf_addstr(&sb, "{\n  \"files\": [");
    for (size_t i = 0; i < scan->count; i++) {
        const struct scan_file *file = &scan->files[i];

        if (file->failed && !file->notebook)
            continue;
        strbuf_addstr(&sb, first_file ? "\n    {\"path\": " : ",\n    {\"path\": ");
        first_file = false;
        json_string_add(&sb, file->path);
        strbuf_addstr(&sb, ", \"imports\": [");
        for (size_t k = 0; k < file->imports.count; k++) {
            const struct py_import *imp = &file->imports.items[k];

            strbuf_addstr(&sb, k == 0 ? "\n      {\"module\": " : ",\n      {\"module\": ");
            json_string_add(&sb, imp->module);
            strbuf_addstr(&sb, ", \"line\": ");
            add_int(&sb, imp->line);
            strbuf_addstr(&sb, ", \"column\": ");
            add_int(&sb, imp->col);
            strbuf_addstr(&sb, imp->optional ? ", \"optional\": true" : ", \"optional\": false");
            strbuf_addstr(&sb, imp->dynamic ? ", \"dynamic\": true" : ", \"dynamic\": false");
            if (imp->cell >= 0) {
                strbuf_addstr(&sb, ", \"cell\": ");
                add_int(&sb, imp->cell);
            }
            strbuf_addch(&sb, '}');
        }
        strbuf_addstr(&sb, file->imports.count > 0 ? "\n    ]}" : "]}");
        if (sb.len > (1u << 20)) {
            fwrite(sb.buf, 1, sb.len, out);
            strbuf_reset(&sb);
        }
    }
    strbuf_addstr(&sb, first_file ? "],\n  \"errors\": [" : "\n  ],\n  \"errors\": [");
    for (size_t i = 0; i < scan->count; i++) {
        const struct scan_file *file = &scan->files[i];

        if (file->imports.error_msg[0] == '\0')
            continue;
        strbuf_addstr(&sb, first_error ? "\n    {\"path\": " : ",\n    {\"path\": ");
        first_error = false;
        json_string_add(&sb, file->path);
        strbuf_addstr(&sb, ", \"line\": ");
        add_int(&sb, file->imports.error_line);
        strbuf_addstr(&sb, ", \"column\": ");
        add_int(&sb, file->imports.error_col);
        strbuf_addstr(&sb, ", \"message\": ");
        json_string_add(&sb, file->imports.error_msg);
        strbuf_addch(&sb, '}');
    }
    strbuf_addstr(&sb, first_error ? "]\n}\n" : "\n  ]\n}\n");
    fwrite(sb.buf, 1, sb.len, out);
    strbuf_release(&sb);
}

/* Returns one when n is 1, else many, for "1 file" and "2 files". */
static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Prints the counts, unless --quiet lowered logging to errors only. */
static void summary_line(FILE *out, const struct deps_run *run)
{
    const struct analysis *a = run->analysis;

    if (log_threshold <= LOG_ERROR)
        return;

    fprintf(out, "%zu %s scanned: %zu missing, %zu unused, %zu %s, %zu %s\n", run->scan->count,
            plural(run->scan->count, "file", "files"), a->missing, a->unused, a->errors,
            plural(a->errors, "error", "errors"), a->warnings,
            plural(a->warnings, "warning", "warnings"));
}

void report_text(FILE *out, const struct deps_run *run)
{
    const struct analysis *a = run->analysis;

    for (size_t i = 0; i < a->count; i++) {
        const struct finding *f = &a->findings[i];

        fprintf(out, "%s:%d:%d: %s %s\n", f->path, f->line, f->col, f->code, f->message);
    }
    if (run->fix_file != NULL && run->n_fixed > 0) {
        fprintf(out, "added to %s:", run->fix_file);
        for (size_t i = 0; i < run->n_fixed; i++)
            fprintf(out, " %s", run->fixed_lines[i]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < run->n_installs; i++) {
        const struct install_outcome *o = &run->installs[i];

        if (o->ok)
            fprintf(out, "installed %s\n", o->name);
        else
            fprintf(out, "install failed: %s: %s\n", o->name, o->message);
    }
    for (size_t i = 0; i < run->n_imports; i++) {
        const struct import_outcome *o = &run->imports[i];

        if (!o->ok)
            fprintf(out, "not importable: %s: %s\n", o->module, o->message);
    }
    summary_line(stderr, run);
}

/* Escapes a GitHub workflow command's data ("%", CR, LF) or property (also ":" and ","). */
static void github_escape(FILE *out, const char *s, bool property)
{
    for (; *s != '\0'; s++) {
        if (*s == '%')
            fputs("%25", out);
        else if (*s == '\r')
            fputs("%0D", out);
        else if (*s == '\n')
            fputs("%0A", out);
        else if (property && *s == ':')
            fputs("%3A", out);
        else if (property && *s == ',')
            fputs("%2C", out);
        else
            fputc(*s, out);
    }
}

void report_github(FILE *out, const struct deps_run *run)
{
    const struct analysis *a = run->analysis;

    for (size_t i = 0; i < a->count; i++) {
        const struct finding *f = &a->findings[i];

        fprintf(out, "::%s file=", f->error ? "error" : "warning");
        github_escape(out, f->path, true);
        fprintf(out, ",line=%d,col=%d,title=%s::", f->line > 0 ? f->line : 1,
                f->col > 0 ? f->col : 1, f->code);
        github_escape(out, f->message, false);
        fputc('\n', out);
    }
    for (size_t i = 0; i < run->n_installs; i++) {
        if (!run->installs[i].ok) {
            fprintf(out, "::error title=pip install::");
            github_escape(out, run->installs[i].name, false);
            fputs(": ", out);
            github_escape(out, run->installs[i].message, false);
            fputc('\n', out);
        }
    }
    summary_line(stderr, run);
}

static json_t *finding_json(const struct finding *f)
{
    json_t *item = json_pack("{s:s, s:s, s:o, s:i, s:i, s:s?, s:s?, s:o}", "code", f->code,
                             "severity", f->error ? "error" : "warning", "path",
                             json_text(f->path), "line", f->line, "column", f->col, "module",
                             f->module, "distribution", f->distribution, "message",
                             json_text(f->message));

    if (f->cell >= 0)
        json_object_set_new(item, "cell", json_integer(f->cell));
    return item;
}

json_t *report_json(const struct deps_run *run)
{
    const struct analysis *a = run->analysis;
    json_t *findings = json_array(), *errors = json_array(), *req_files = json_array();
    json_t *missing = json_array(), *installs = json_array(), *imports = json_array();
    json_t *roots = json_array(), *fixed = json_null();

    for (int i = 0; i < run->scan->n_roots; i++)
        json_array_append_new(roots, json_string(run->scan->roots[i]));
    for (size_t i = 0; i < a->count; i++)
        json_array_append_new(findings, finding_json(&a->findings[i]));
    for (size_t i = 0; i < run->scan->count; i++) {
        if (run->scan->files[i].imports.error_msg[0] != '\0')
            json_array_append_new(errors, error_json(&run->scan->files[i]));
    }
    for (size_t i = 0; i < run->reqs->n_files; i++) {
        const struct req_file *f = &run->reqs->files[i];

        json_array_append_new(req_files, json_pack("{s:s, s:b, s:b, s:s?}", "path", f->path,
                                                   "included", f->included, "parsed",
                                                   !f->failed, "error",
                                                   f->failed ? f->error : NULL));
    }
    for (size_t i = 0; i < a->n_needed; i++) {
        json_t *modules = json_array();

        for (size_t k = 0; k < a->needed[i].n_modules; k++)
            json_array_append_new(modules, json_string(a->needed[i].modules[k]));
        json_array_append_new(missing, json_pack("{s:s, s:b, s:o}", "distribution",
                                                 a->needed[i].name, "declared",
                                                 a->needed[i].declared, "modules", modules));
    }
    if (run->fix_file != NULL || run->fix_error != NULL) {
        json_t *added = json_array();

        for (size_t i = 0; i < run->n_fixed; i++)
            json_array_append_new(added, json_string(run->fixed_lines[i]));
        fixed = json_pack("{s:s?, s:o, s:s?}", "file", run->fix_file, "added", added, "error",
                          run->fix_error);
    }
    for (size_t i = 0; i < run->n_installs; i++)
        json_array_append_new(installs, json_pack("{s:s, s:b, s:s}", "distribution",
                                                  run->installs[i].name, "ok",
                                                  run->installs[i].ok, "message",
                                                  run->installs[i].message));
    for (size_t i = 0; i < run->n_imports; i++)
        json_array_append_new(imports, json_pack("{s:s, s:b, s:s}", "module",
                                                 run->imports[i].module, "ok",
                                                 run->imports[i].ok, "message",
                                                 run->imports[i].message));

    return json_pack("{s:i, s:o, s:s, s:b, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:{s:i, s:i, s:i, s:i}, s:i}",
                     "version", 1, "roots", roots, "python", run->python, "python_found",
                     run->python_found, "python_version", run->python_version,
                     "files_scanned", (int)run->scan->count, "requirements_files", req_files,
                     "findings", findings, "errors", errors, "missing", missing, "fixed",
                     fixed, "installed", installs, "importable", imports, "summary",
                     "missing", (int)a->missing, "unused", (int)a->unused, "errors",
                     (int)a->errors, "warnings", (int)a->warnings, "exit_code",
                     run->exit_code);
}

/* Escapes a table cell: "|" and line ends. */
static void md_cell(struct strbuf *sb, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '|')
            strbuf_addstr(sb, "\\|");
        else if (*s == '\n' || *s == '\r')
            strbuf_addch(sb, ' ');
        else
            strbuf_addch(sb, *s);
    }
}

char *report_markdown(const struct deps_run *run)
{
    const struct analysis *a = run->analysis;
    struct strbuf md = STRBUF_INIT;
    char now[64];
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    strbuf_addf(&md, "# Dependency audit\n\nGenerated %s by `aftershock deps`.\n\n", now);

    strbuf_addstr(&md, "## Scanned\n\n");
    for (int i = 0; i < run->scan->n_roots; i++)
        strbuf_addf(&md, "- root `%s`\n", run->scan->roots[i]);
    strbuf_addf(&md, "- %zu %s\n", run->scan->count,
                plural(run->scan->count, "Python file or notebook", "Python files and notebooks"));
    strbuf_addf(&md, "- interpreter `%s`: %s\n", run->python,
                run->python_found ? "found" : "not found (built-in tables used)");
    strbuf_addf(&md, "- standard library of Python %s\n", run->python_version);
    for (size_t i = 0; i < run->reqs->n_files; i++)
        strbuf_addf(&md, "- requirements `%s`%s%s\n", run->reqs->files[i].path,
                    run->reqs->files[i].included ? " (included)" : "",
                    run->reqs->files[i].failed ? ": could not be parsed" : "");

    strbuf_addf(&md, "\n## Found\n\n%zu missing, %zu unused, %zu %s, %zu %s.\n\n", a->missing,
                a->unused, a->errors, plural(a->errors, "error", "errors"), a->warnings,
                plural(a->warnings, "warning", "warnings"));
    if (a->count > 0) {
        strbuf_addstr(&md, "| code | severity | where | message |\n|---|---|---|---|\n");
        for (size_t i = 0; i < a->count; i++) {
            const struct finding *f = &a->findings[i];

            strbuf_addf(&md, "| %s | %s | `", f->code, f->error ? "error" : "warning");
            md_cell(&md, f->path);
            strbuf_addf(&md, ":%d:%d` | ", f->line, f->col);
            md_cell(&md, f->message);
            strbuf_addstr(&md, " |\n");
        }
    }

    strbuf_addstr(&md, "\n## Changed\n\n");
    if (run->fix_file != NULL && run->n_fixed > 0) {
        strbuf_addf(&md, "Appended to `%s`:\n\n", run->fix_file);
        for (size_t i = 0; i < run->n_fixed; i++)
            strbuf_addf(&md, "- `%s`\n", run->fixed_lines[i]);
    } else if (run->fix_error != NULL) {
        strbuf_addf(&md, "No requirements file was changed: %s\n", run->fix_error);
    } else {
        strbuf_addstr(&md, "No requirements file was changed.\n");
    }
    if (run->install_requested) {
        strbuf_addstr(&md, "\n| installed | result |\n|---|---|\n");
        for (size_t i = 0; i < run->n_installs; i++) {
            strbuf_addf(&md, "| %s | ", run->installs[i].name);
            md_cell(&md, run->installs[i].ok ? "ok" : run->installs[i].message);
            strbuf_addstr(&md, " |\n");
        }
        strbuf_addstr(&md, "\n| module | importable |\n|---|---|\n");
        for (size_t i = 0; i < run->n_imports; i++) {
            strbuf_addf(&md, "| %s | ", run->imports[i].module);
            md_cell(&md, run->imports[i].ok ? "yes" : run->imports[i].message);
            strbuf_addstr(&md, " |\n");
        }
    }
    strbuf_addf(&md, "\nExit code: %d.\n", run->exit_code);
    return strbuf_detach(&md);
}
