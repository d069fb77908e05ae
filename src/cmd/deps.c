/* `aftershock deps`: finds Python imports that no declared requirement covers,
 * appends the missing distributions to a requirements file (--fix) and
 * installs them with pip (--install). The work lives in src/deps/. */
#include <dirent.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/command.h"
#include "deps/analyze.h"
#include "deps/discover.h"
#include "deps/fix.h"
#include "deps/install.h"
#include "deps/report.h"
#include "deps/stdlib.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/ui.h"

static const struct opt_spec deps_options[] = {
    { "imports", 0, NULL, "list every import found (module, line, optional, dynamic) and stop" },
    { "format", 0, "FORMAT", "output format: text (default), json or github (workflow "
      "annotations)" },
    { "requirements", 'r', "FILE", "requirements file or pyproject.toml to read (repeatable; "
      "default: requirements*.txt, requirements/*.txt and pyproject.toml of the first PATH's "
      "folder, else of the nearest parent up to the project root)" },
    { "first-party", 0, "NAME", "treat top-level module NAME as the project's own (repeatable)" },
    { "exclude", 0, "PATTERN", "skip files and folders whose relative path or name matches "
      "this glob (repeatable)" },
    { "python", 0, "PYTHON", "target interpreter, for its version, installed metadata and pip "
      "(default python3)" },
    { "python-version", 0, "X.Y", "standard library of this Python version (default: the "
      "interpreter's, else 3.11)" },
    { "fix", 0, NULL, "append missing distributions to the requirements file (the first one, or "
      "--requirements); every other byte stays" },
    { "pin", 0, NULL, "with --fix, pin each added distribution to its installed version" },
    { "install", 0, NULL, "run PYTHON -m pip install for missing distributions, then check that "
      "every import works" },
    { "pip-args", 0, "ARGS", "extra arguments for pip install, e.g. \"--no-index --find-links "
      "DIR\"" },
    { "output", 'o', "FILE", "write a markdown audit report to FILE (a bare name goes under "
      "reports/)" },
    { "threads", 0, "N", "scanning threads (default: one per processor, at most 8)" },
    { NULL, 0, NULL, NULL },
};

enum deps_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_GITHUB };

struct deps_settings {
    enum deps_format format;
    const char *python;
    int python_minor;         /* from --python-version, or -1 */
    long threads;
    const char *pip_args;
};

static int parse_settings(const struct opt_values *opts, struct deps_settings *s)
{
    const char *format = opt_get(opts, "format");
    const char *version = opt_get(opts, "python-version");

    s->format = FORMAT_TEXT;
    if (format != NULL) {
        if (strcmp(format, "json") == 0) {
            s->format = FORMAT_JSON;
        } else if (strcmp(format, "github") == 0) {
            s->format = FORMAT_GITHUB;
        } else if (strcmp(format, "text") != 0) {
            ui_error("invalid --format '%s'; use text, json or github", format);
            return -1;
        }
    }
    s->python = opt_get(opts, "python") != NULL ? opt_get(opts, "python") : "python3";
    s->python_minor = -1;
    if (version != NULL) {
        int major, minor, end = 0;

        if (sscanf(version, "%d.%d%n", &major, &minor, &end) != 2 || version[end] != '\0' ||
            major != 3 || minor < 0 || minor > 99) {
            ui_error("invalid --python-version '%s'; use a Python 3 version such as 3.11",
                     version);
            return -1;
        }
        s->python_minor = minor;
    }
    if (opt_int(opts, "threads", 0, 0, 8, &s->threads) != 0)
        return -1;
    if (opt_has(opts, "pin") && !opt_has(opts, "fix")) {
        ui_error("--pin only applies with --fix");
        return -1;
    }
    s->pip_args = opt_get(opts, "pip-args");
    if (s->pip_args != NULL && !opt_has(opts, "install")) {
        ui_error("--pip-args only applies with --install");
        return -1;
    }
    return 0;
}

/* Joins a folder and a name, leaving out a leading "./". */
static char *join_path(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;

    if (strcmp(dir, ".") == 0)
        strbuf_addstr(&sb, name);
    else
        strbuf_addf(&sb, "%s/%s", dir, name);
    return strbuf_detach(&sb);
}

static int compare_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;

    /* requirements.txt comes first: it is where --fix writes by default. */
    if (strcmp(x, "requirements.txt") == 0)
        return -1;
    if (strcmp(y, "requirements.txt") == 0)
        return 1;
    return strcmp(x, y);
}

/* Lists files of folder dir matching a glob, sorted, as paths. */
static void list_matching(const char *dir, const char *pattern, char ***paths, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    char **names = NULL;
    size_t count = 0;

    if (d == NULL)
        return;
    while ((ent = readdir(d)) != NULL) {
        char **grown;

        if (fnmatch(pattern, ent->d_name, 0) != 0)
            continue;
        grown = realloc(names, (count + 1) * sizeof(*names));
        if (grown == NULL)
            break;
        names = grown;
        names[count++] = strdup(ent->d_name);
    }
    closedir(d);
    if (count > 0)
        qsort(names, count, sizeof(*names), compare_names);
    for (size_t i = 0; i < count; i++) {
        char **grown = realloc(*paths, (*n + 1) * sizeof(**paths));

        if (grown != NULL) {
            *paths = grown;
            (*paths)[(*n)++] = join_path(dir, names[i]);
        }
        free(names[i]);
    }
    free(names);
}

/* Reads the chosen requirements files, or the ones found for the first root
 * (see discover_requirements). */
static int load_requirements(const struct opt_values *opts, const struct req_location *loc,
                             struct req_set *reqs)
{
    int n_given;
    const char *const *given = opt_all(opts, "requirements", &n_given);
    char **found = NULL;
    size_t n_found = 0;
    struct err err;

    for (int i = 0; i < n_given; i++) {
        if (req_load(reqs, given[i], &err) != 0) {
            ui_error("%s", err.msg);
            ui_hint("pass an existing requirements file or pyproject.toml to --requirements");
            return -1;
        }
    }
    if (n_given > 0 || loc->read_dir == NULL)
        return 0;

    char *sub = join_path(loc->read_dir, "requirements");

    list_matching(loc->read_dir, "requirements*.txt", &found, &n_found);
    list_matching(sub, "*.txt", &found, &n_found);
    list_matching(loc->read_dir, "pyproject.toml", &found, &n_found);
    free(sub);
    log_debug("deps", "reading requirements folder=%s files=%zu", loc->read_dir, n_found);
    for (size_t i = 0; i < n_found; i++) {
        if (req_load(reqs, found[i], &err) != 0)
            ui_warning("%s", err.msg);
        free(found[i]);
    }
    free(found);
    return 0;
}

/* The file --fix appends to: the first chosen or found requirements file,
 * else a new requirements.txt in create_dir. When that file must not be
 * rewritten, sets why and a hint that fits the case. A chosen pyproject.toml
 * is never edited. */
static char *fix_target(const struct req_set *reqs, const char *create_dir, bool chosen,
                        const char **why, const char **hint)
{
    for (size_t i = 0; i < reqs->n_files; i++) {
        const struct req_file *f = &reqs->files[i];

        if (f->included || f->pyproject)
            continue;
        if (f->failed) {
            *why = "the requirements file could not be parsed, so it was not rewritten";
            *hint = "fix the line reported as DEP006, or choose another file with --requirements";
        }
        return strdup(f->path);
    }
    if (chosen && reqs->n_files > 0) {
        *why = "--fix appends to requirements files and does not edit pyproject.toml";
        *hint = "add the distributions to pyproject.toml yourself, or also pass an existing "
                "requirements file to append to, e.g. -r pyproject.toml -r requirements.txt";
        return strdup(reqs->files[0].path);
    }
    return join_path(create_dir, "requirements.txt");
}

struct deps_state {
    struct scan_result scan;
    struct req_set reqs;
    struct installed installed;
    struct analysis analysis;
    char **fixed;
    size_t n_fixed;
    char *fix_file;
    const char *fix_error;
    struct install_outcome *installs;
    size_t n_installs;
    struct import_outcome *imports;
    size_t n_imports;
};

/* Appends the missing distributions; returns the exit code it implies. */
static int run_fix(struct deps_state *st, const char *create_dir, bool chosen, bool pin)
{
    const struct analysis *a = &st->analysis;
    const char *why = NULL, *hint = NULL;
    struct err err;
    int code = EXIT_OK;

    st->fix_file = fix_target(&st->reqs, create_dir, chosen, &why, &hint);
    if (why != NULL) {
        st->fix_error = why;
        ui_error("'%s': %s", st->fix_file, why);
        ui_hint("%s", hint);
        return EXIT_USAGE;
    }
    st->fixed = calloc(a->n_needed + 1, sizeof(char *));
    for (size_t i = 0; st->fixed != NULL && i < a->n_needed; i++) {
        const struct needed_dist *d = &a->needed[i];
        const struct installed_dist *inst = installed_find(&st->installed, d->normalized);

        if (d->declared)
            continue;
        if (!dist_is_valid_name(d->name)) {
            ui_warning("'%s' is not a valid distribution name; not adding it", d->name);
            code = EXIT_FINDING;
            continue;
        }
        if (pin && inst != NULL && inst->version[0] != '\0') {
            struct strbuf line = STRBUF_INIT;

            strbuf_addf(&line, "%s==%s", d->name, inst->version);
            st->fixed[st->n_fixed++] = strbuf_detach(&line);
        } else {
            if (pin)
                ui_warning("'%s' is not installed, so it is added without a version", d->name);
            st->fixed[st->n_fixed++] = strdup(d->name);
        }
    }
    if (st->n_fixed == 0)
        return code;
    if (fix_append_file(st->fix_file, (const char *const *)st->fixed, st->n_fixed, &err) != 0) {
        ui_error("%s", err.msg);
        st->fix_error = "the requirements file could not be written";
        for (size_t i = 0; i < st->n_fixed; i++)
            free(st->fixed[i]);
        st->n_fixed = 0;
        return EXIT_RUNFAIL;
    }
    log_info("deps", "appended to requirements file=%s count=%zu", st->fix_file, st->n_fixed);
    return code;
}

/* Installs what is missing or declared but absent, then checks every import. */
static int run_install(struct deps_state *st, const struct deps_settings *s)
{
    const struct analysis *a = &st->analysis;
    const char **names = calloc(a->n_needed + 1, sizeof(*names));
    char **pip_args;
    size_t n = 0;
    struct err err;
    int code = EXIT_OK;
    int rc;

    if (names == NULL)
        return EXIT_RUNFAIL;
    pip_args = install_split_words(s->pip_args, &err);
    if (pip_args == NULL) {
        ui_error("%s", err.msg);
        free(names);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < a->n_needed; i++) {
        if (dist_is_valid_name(a->needed[i].name))
            names[n++] = a->needed[i].name;
        else
            ui_warning("'%s' is not a valid distribution name; not installing it",
                       a->needed[i].name);
    }
    st->installs = calloc(n + 1, sizeof(*st->installs));
    st->imports = calloc(a->n_third_party + 1, sizeof(*st->imports));
    if (st->installs == NULL || st->imports == NULL) {
        ui_error("out of memory");
        code = EXIT_RUNFAIL;
        goto cleanup;
    }
    rc = install_run(s->python, pip_args, names, n, st->installs, &err);
    if (rc == INSTALL_EXTERNALLY_MANAGED) {
        ui_error("%s", err.msg);
        ui_hint("create a virtual environment (python3 -m venv .venv) and pass "
                "--python .venv/bin/python");
        code = EXIT_RUNFAIL;
        goto cleanup;
    }
    if (rc != 0)
        goto run_failed;
    st->n_installs = n;
    if (install_check_imports(s->python, (const char *const *)a->third_party,
                              a->n_third_party, st->imports, &err) != 0)
        goto run_failed;
    st->n_imports = a->n_third_party;
    for (size_t i = 0; i < st->n_imports; i++) {
        if (!st->imports[i].ok)
            code = EXIT_FINDING;
    }
    goto cleanup;

run_failed:
    ui_error("%s", err.msg);
    ui_hint("check that --python names an interpreter with pip");
    code = EXIT_RUNFAIL;
cleanup:
    install_free_words(pip_args);
    free(names);
    return code;
}

static void print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (text != NULL) {
        fputs(text, stdout);
        fputc('\n', stdout);
        free(text);
    }
    json_decref(doc);
}

/* Writes the markdown audit; a bare file name goes under reports/. */
static int write_audit(const char *output, const struct deps_run *run)
{
    char *md = report_markdown(run);
    char *path = strchr(output, '/') != NULL ? strdup(output) : join_path("reports", output);
    struct err err;
    int rc = fs_mkdirs_for_file(path, &err);

    if (rc == 0)
        rc = fs_write_atomic(path, md, strlen(md), &err);
    if (rc != 0)
        ui_error("cannot write the audit report: %s", err.msg);
    else
        log_info("deps", "wrote audit report path=%s", path);
    free(md);
    free(path);
    return rc;
}

static void release_state(struct deps_state *st)
{
    scan_result_release(&st->scan);
    req_set_release(&st->reqs);
    installed_release(&st->installed);
    analysis_release(&st->analysis);
    for (size_t i = 0; i < st->n_fixed; i++)
        free(st->fixed[i]);
    free(st->fixed);
    free(st->fix_file);
    free(st->installs);
    free(st->imports);
}

/* Prints the run in the chosen format and writes the audit; returns the final exit code. */
static int report_run(const struct deps_state *st, const struct deps_settings *s,
                      const struct opt_values *opts, const char *version, int code)
{
    struct deps_run run = {
        .scan = &st->scan, .reqs = &st->reqs, .analysis = &st->analysis, .python = s->python,
        .python_found = st->installed.have_python, .python_version = version,
        .fix_file = st->n_fixed > 0 ? st->fix_file : NULL,
        .fixed_lines = (const char *const *)st->fixed, .n_fixed = st->n_fixed,
        .fix_error = st->fix_error, .installs = st->installs, .n_installs = st->n_installs,
        .imports = st->imports, .n_imports = st->n_imports,
        .install_requested = opt_has(opts, "install"), .exit_code = code,
    };

    if (opt_get(opts, "output") != NULL && write_audit(opt_get(opts, "output"), &run) != 0 &&
        code == EXIT_OK)
        code = run.exit_code = EXIT_RUNFAIL;
    if (s->format == FORMAT_JSON)
        print_json(report_json(&run));
    else if (s->format == FORMAT_GITHUB)
        report_github(stdout, &run);
    else
        report_text(stdout, &run);
    return code;
}

/* Compares the scan with the requirements, then fixes and installs as asked. */
static int analyze_project(struct deps_state *st, const struct deps_settings *s,
                           const struct opt_values *opts, const char *create_dir,
                           int python_minor)
{
    struct analysis_opts analysis_opts = { python_minor, NULL, 0 };
    int code;

    analysis_opts.first_party = opt_all(opts, "first-party", &analysis_opts.n_first_party);
    analyze(&st->scan, &st->reqs, &st->installed, &analysis_opts, &st->analysis);

    code = st->analysis.missing > 0 ? EXIT_FINDING : EXIT_OK;
    if (opt_has(opts, "fix") && st->analysis.missing > 0)
        code = run_fix(st, create_dir, opt_has(opts, "requirements"), opt_has(opts, "pin"));
    if (opt_has(opts, "install") && code != EXIT_USAGE)
        code = run_install(st, s);
    for (size_t i = 0; i < st->reqs.n_files; i++) {
        if (st->reqs.files[i].failed)
            code = EXIT_USAGE;
    }
    return code;
}

static int deps_main(const struct command_args *args)
{
    const struct opt_values *opts = args->opts;
    struct deps_settings s;
    struct deps_state st;
    struct req_location loc = { NULL, NULL };
    struct scan_opts scan_opts = { 0 };
    const char *dot = ".";
    const char *const *roots = args->argc > 0 ? (const char *const *)args->argv : &dot;
    int n_roots = args->argc > 0 ? args->argc : 1;
    struct err err;
    int code = EXIT_OK;
    char version[16];

    if (parse_settings(opts, &s) != 0)
        return EXIT_USAGE;
    memset(&st, 0, sizeof(st));
    scan_opts.excludes = opt_all(opts, "exclude", &scan_opts.n_excludes);
    scan_opts.threads = (int)s.threads;

    /* Listing imports needs no interpreter; the analysis queries it for its version and metadata. */
    if (!opt_has(opts, "imports") && installed_load(s.python, &st.installed, &err) != 0) {
        if (opt_has(opts, "install")) {
            ui_error("%s", err.msg);
            ui_hint("pass an interpreter with pip to --python");
            release_state(&st);
            return EXIT_RUNFAIL;
        }
        ui_warning("%s; using the built-in standard-library table and no installed metadata",
                   err.msg);
    }
    scan_opts.python_minor = STDLIB_DEFAULT_MINOR;
    if (s.python_minor >= 0)
        scan_opts.python_minor = s.python_minor;
    else if (st.installed.have_python)
        scan_opts.python_minor = st.installed.python_minor;
    snprintf(version, sizeof(version), "3.%d", scan_opts.python_minor);

    if (scan_project(roots, n_roots, &scan_opts, &st.scan, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("pass a folder or a .py file that exists");
        code = EXIT_USAGE;
    } else if (opt_has(opts, "imports")) {
        if (s.format == FORMAT_JSON)
            report_imports_json_write(stdout, &st.scan);
        else
            report_imports_text(stdout, &st.scan);
    } else if (discover_requirements(roots[0], &loc) != 0) {
        ui_error("out of memory");
        code = EXIT_RUNFAIL;
    } else if (load_requirements(opts, &loc, &st.reqs) != 0) {
        code = EXIT_USAGE;
    } else {
        code = analyze_project(&st, &s, opts, loc.create_dir, scan_opts.python_minor);
        code = report_run(&st, &s, opts, version, code);
    }
    req_location_release(&loc);
    release_state(&st);
    return code;
}

const struct command command_deps = {
    .name = "deps",
    .summary = "find Python imports not covered by declared requirements, fix and install them",
    .usage = "[options] [PATH...]",
    .description =
        "Scans the .py files and notebooks under PATH (default: the current folder) with its\n"
        "own tokenizer, and compares the third-party modules they import with the\n"
        "distributions declared in requirements files and pyproject.toml.\n"
        "\n"
        "Findings: DEP001 missing, DEP002 unused, DEP003 standard-library module declared,\n"
        "DEP004 optional import not declared, DEP005 file not valid Python 3,\n"
        "DEP006 requirements file not parsable. See docs/deps.md.\n"
        "\n"
        "Exit status: 0 nothing missing (with --install: every import works), 1 something\n"
        "is missing or does not import, 2 invalid input (options, requirements files),\n"
        "3 pip or the interpreter could not be run.\n",
    .options = deps_options,
    .min_args = 0,
    .handler = deps_main,
};
