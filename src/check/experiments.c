/* Checks 1, 2 and 4: experiments are valid, their references resolve, their process paths run. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "experiment/prepare.h"
#include "experiment/substitute.h"
#include "experiment/validate.h"
#include "util/strbuf.h"

/* Used when PATH is unset, as execvp does. */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* Problems of experiment_validate_resolved that check 4 reports instead. */
#define PROCESS_PATH_FIELD ".provider.path: "

static const char *first_problem(const struct check_result *r)
{
    return r->problems.count > 0 ? r->problems.items[0] : "";
}

void check_experiments(struct check_state *st, struct check_result *r)
{
    size_t invalid = 0;

    if (st->n_files == 0) {
        result_fail(r, "add experiment files, or point 'experiments' in aftershock.yaml at "
                       "their folder or glob",
                    "no experiment file (.json, .yaml, .yml) found in the configured "
                    "'experiments' entries");
        return;
    }
    /* An entry that matches nothing is most likely a misspelt folder or glob. */
    for (size_t i = 0; i < st->unmatched.count; i++)
        result_problem(r, "aftershock.yaml: experiments: '%s' matches no experiment file",
                       st->unmatched.items[i]);
    for (size_t i = 0; i < st->n_files; i++) {
        struct check_file *f = &st->files[i];
        struct problems problems;

        if (check_file_load(f) != 0) {
            result_problem(r, "%s", f->load_error);
            f->invalid = true;
            invalid++;
            continue;
        }
        problems_init(&problems, f->display);
        if (experiment_validate(f->doc, &problems) > 0) {
            result_take_problems(r, &problems);
            f->invalid = true;
            invalid++;
        }
        problems_release(&problems);
    }
    if (invalid > 0)
        result_fail(r, "correct the fields named; 'aftershock run --dry-run FILE' reports the "
                       "same problems",
                    "%zu of %zu experiment files are invalid: %s", invalid, st->n_files,
                    first_problem(r));
    else if (st->unmatched.count > 0)
        result_fail(r, "correct or remove the entry under 'experiments' in aftershock.yaml",
                    "%s", first_problem(r));
    else
        result_pass(r, "%zu experiment file%s", st->n_files,
                    st->n_files == 1 ? " parses and is valid" : "s parse and are valid");
}

/* Returns true when check 1 ran and already reported f, or adds a problem
 * when f cannot be read or is invalid and check 1 was not selected. */
static bool left_to_check_one(struct check_state *st, struct check_file *f,
                              struct check_result *r)
{
    struct problems problems;
    bool invalid;

    if (st->opts->selected[1])
        return f->invalid || check_file_load(f) != 0;
    if (check_file_load(f) != 0) {
        result_problem(r, "%s (not checked: the file cannot be read; check 1 reports why)",
                       f->load_error);
        return true;
    }
    problems_init(&problems, f->display);
    invalid = experiment_validate(f->doc, &problems) > 0;
    if (invalid)
        result_problem(r, "%s: not checked: the experiment is invalid; run check 1", f->display);
    problems_release(&problems);
    return invalid;
}

/* Returns overrides that declare every key of `configuration` and of every
 * `secrets` scope, so that values resolve even with an environment
 * variable missing and substitution reports every other problem. */
static json_t *declared_placeholders(json_t *doc)
{
    json_t *placeholders = json_object();
    json_t *scopes = json_object_get(doc, "secrets");
    const char *key, *scope_name;
    json_t *value, *scope;

    json_object_foreach(json_object_get(doc, "configuration"), key, value)
        json_object_set_new(placeholders, key, json_string(""));
    json_object_foreach(scopes, scope_name, scope) {
        json_object_foreach(scope, key, value)
            json_object_set_new(placeholders, key, json_string(""));
    }
    return placeholders;
}

/* Resolves and substitutes one valid experiment. Problems about process
 * paths are left to check 4. Every problem is reported: an unset
 * environment variable does not hide an undefined ${} reference.
 * Returns the number of problems added to r. */
static size_t resolve_file(struct check_state *st, struct check_file *f, struct check_result *r)
{
    struct problems problems, resolved, ignored;
    size_t added = 0;
    json_t *values, *exec;
    bool complete = true;

    problems_init(&problems, f->display);
    values = experiment_resolve_values(f->doc, NULL, &problems);
    if (values == NULL) {
        /* Go on with placeholders for the keys, to find undefined references too. */
        json_t *placeholders = declared_placeholders(f->doc);
        problems_init(&ignored, f->display);
        values = experiment_resolve_values(f->doc, placeholders, &ignored);
        problems_release(&ignored);
        json_decref(placeholders);
        complete = false;
        if (values == NULL)
            goto done;
    }
    exec = json_deep_copy(f->doc);
    experiment_resolve_refs(exec);
    experiment_substitute(exec, values, "", &problems);
    json_decref(values);
    if (problems.count > 0 || !complete) {
        json_decref(exec);
        goto done;
    }
    /* A reference may resolve to a value of the wrong type (a port that
     * is not a number); the validator checks the substituted values. */
    problems_init(&resolved, f->display);
    experiment_validate_resolved(exec, st->root, &resolved);
    for (size_t i = 0; i < resolved.count; i++) {
        if (strstr(resolved.items[i], PROCESS_PATH_FIELD) == NULL)
            problems_add_located(&problems, resolved.items[i]);
    }
    problems_release(&resolved);
    f->exec = exec;

done:
    added = problems.count;
    result_take_problems(r, &problems);
    problems_release(&problems);
    return added;
}

void check_references(struct check_state *st, struct check_result *r)
{
    size_t checked = 0, with_problems = 0, not_checked = 0, skipped_invalid = 0;
    const char *env_fix = "export the environment variable, give the `env` entry a default, "
                          "or declare the key under `configuration`";

    for (size_t i = 0; i < st->n_files; i++) {
        struct check_file *f = &st->files[i];
        size_t before = r->problems.count;

        if (left_to_check_one(st, f, r)) {
            if (r->problems.count > before)
                not_checked++;
            else
                skipped_invalid++;
            continue;
        }
        checked++;
        if (resolve_file(st, f, r) > 0) {
            f->unresolved = true;
            with_problems++;
        }
    }
    if (with_problems > 0)
        result_fail(r, not_checked > 0 ? "export the environment variable, give the `env` entry "
                                         "a default, or declare the key under `configuration`; "
                                         "correct the invalid files first ('aftershock check "
                                         "--only 1' names their problems)"
                                       : env_fix,
                    "%zu experiment file%s with references that do not resolve: %s",
                    with_problems, with_problems == 1 ? "" : "s", first_problem(r));
    else if (not_checked > 0)
        result_fail(r, "correct the invalid experiment files: 'aftershock check --only 1' names "
                       "the fields",
                    "%zu experiment file%s not checked because %s invalid: %s", not_checked,
                    not_checked == 1 ? "" : "s", not_checked == 1 ? "it is" : "they are",
                    first_problem(r));
    else
        result_pass(r, "every ${} reference and env key resolves in %zu experiment file%s%s",
                    checked, checked == 1 ? "" : "s",
                    skipped_invalid > 0 ? " (invalid files are left to check 1)" : "");
}

static bool is_executable_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool found_in_path(const char *name)
{
    const char *search = getenv("PATH");
    bool found = false;

    if (search == NULL)
        search = DEFAULT_PATH;
    while (!found) {
        size_t n = strcspn(search, ":");
        struct strbuf candidate = STRBUF_INIT;

        /* An empty PATH entry means the current folder. */
        if (n == 0)
            strbuf_addstr(&candidate, ".");
        else
            strbuf_add(&candidate, search, n);
        strbuf_addf(&candidate, "/%s", name);
        found = is_executable_file(strbuf_str(&candidate));
        strbuf_release(&candidate);
        if (search[n] == '\0')
            break;
        search += n + 1;
    }
    return found;
}

/* True when path, with symbolic links resolved, lies inside root. */
static bool inside_root(const char *root, const char *path)
{
    char resolved[PATH_MAX];
    size_t n = strlen(root);

    if (realpath(path, resolved) == NULL)
        return false;
    return strncmp(resolved, root, n) == 0 && (resolved[n] == '/' || resolved[n] == '\0');
}

/* Adds the execute bit wherever the read bit is set, as `chmod +x` does
 * for a file its owner, group and others may read. */
static int set_execute_bit(const char *path)
{
    struct stat st;
    mode_t mode;

    if (stat(path, &st) != 0)
        return -1;
    mode = st.st_mode & 07777;
    mode |= S_IXUSR | ((mode & S_IRGRP) ? S_IXGRP : 0) | ((mode & S_IROTH) ? S_IXOTH : 0);
    return chmod(path, mode);
}

/* Checks one process path; returns true when it is a problem that remains. */
static bool check_one_path(struct check_state *st, struct check_result *r,
                           const struct check_file *f, const char *field, const char *path)
{
    struct stat info;
    char *full;
    bool problem = false;

    if (strchr(path, '/') == NULL) {
        if (found_in_path(path))
            return false;
        result_problem(r, "%s: %s: '%s' was not found as an executable in PATH", f->display,
                       field, path);
        return true;
    }

    full = check_absolute(st, path);
    if (stat(full, &info) != 0) {
        result_problem(r, "%s: %s: '%s' does not exist: %s", f->display, field, path,
                       strerror(errno));
        problem = true;
    } else if (!S_ISREG(info.st_mode)) {
        result_problem(r, "%s: %s: '%s' is not a regular file", f->display, field, path);
        problem = true;
    } else if (access(full, X_OK) != 0) {
        bool inside = inside_root(st->root, full);
        if (st->opts->fix && inside && set_execute_bit(full) == 0 && access(full, X_OK) == 0) {
            char *shown = check_relative(st, full);
            result_change(r, "set the execute bit on '%s'", shown);
            free(shown);
        } else {
            result_problem(r, "%s: %s: '%s' is not executable%s", f->display, field, path,
                           st->opts->fix && !inside
                               ? " (outside the repository, so --fix leaves it alone)"
                               : "");
            problem = true;
        }
    }
    free(full);
    return problem;
}

/* Checks every process provider's path in one activity list. */
static size_t check_list(struct check_state *st, struct check_result *r,
                         const struct check_file *f, json_t *list, const char *name)
{
    size_t i, problems = 0;
    json_t *activity;

    json_array_foreach(list, i, activity) {
        json_t *provider = json_object_get(activity, "provider");
        const char *type = json_string_value(json_object_get(provider, "type"));
        const char *path = json_string_value(json_object_get(provider, "path"));
        char field[128];

        if (type == NULL || strcmp(type, "process") != 0 || path == NULL || path[0] == '\0')
            continue;
        /* A path that still holds a reference is check 2's to report. */
        if (strstr(path, "${") != NULL)
            continue;
        snprintf(field, sizeof(field), "%s[%zu].provider.path", name, i);
        if (check_one_path(st, r, f, field, path))
            problems++;
    }
    return problems;
}

void check_process_paths(struct check_state *st, struct check_result *r)
{
    for (size_t i = 0; i < st->n_files; i++) {
        struct check_file *f = &st->files[i];
        json_t *tree;
        size_t problems;

        if (left_to_check_one(st, f, r))
            continue;
        /* Substituted values when check 2 produced them, else the file as written. */
        tree = f->exec != NULL ? json_incref(f->exec) : json_deep_copy(f->doc);
        if (f->exec == NULL)
            experiment_resolve_refs(tree);
        problems = check_list(st, r, f,
                              json_object_get(json_object_get(tree, "steady-state-hypothesis"),
                                              "probes"),
                              "steady-state-hypothesis.probes");
        problems += check_list(st, r, f, json_object_get(tree, "method"), "method");
        problems += check_list(st, r, f, json_object_get(tree, "rollbacks"), "rollbacks");
        json_decref(tree);
        if (problems > 0)
            f->bad_path = true;
    }
    if (r->problems.count > 0)
        result_fail(r, "create the file, give its full path, or make it executable "
                       "('aftershock check --fix' does so inside the repository)",
                    "%zu process path%s cannot run: %s", r->problems.count,
                    r->problems.count == 1 ? "" : "s", first_problem(r));
    else if (r->changes.count > 0)
        result_pass(r, "made %zu process file%s executable", r->changes.count,
                    r->changes.count == 1 ? "" : "s");
    else
        result_pass(r, "every process path exists and is executable");
}
