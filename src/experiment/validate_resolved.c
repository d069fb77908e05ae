/* Checks that need substituted values: process paths that must exist and be executable. */
#include "experiment/validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "experiment/validate_internal.h"
#include "util/strbuf.h"

/* Used when PATH is unset, as execvp does. */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static bool is_executable_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool found_in_path(const char *name)
{
    const char *search = getenv("PATH");
    struct strbuf candidate = STRBUF_INIT;
    bool found = false;

    if (search == NULL)
        search = DEFAULT_PATH;
    while (!found) {
        size_t n = strcspn(search, ":");
        strbuf_reset(&candidate);
        /* An empty PATH entry means the current folder. */
        if (n == 0)
            strbuf_addstr(&candidate, ".");
        else
            strbuf_add(&candidate, search, n);
        strbuf_addf(&candidate, "/%s", name);
        found = is_executable_file(strbuf_str(&candidate));
        if (search[n] == '\0')
            break;
        search += n + 1;
    }
    strbuf_release(&candidate);
    return found;
}

static void check_path(struct validation *v, const char *path, const char *base_dir,
                       const char *field)
{
    struct strbuf full = STRBUF_INIT;
    struct stat st;

    if (strchr(path, '/') == NULL) {
        if (!found_in_path(path))
            problems_add(v->problems, field,
                         "'%s' was not found as an executable in PATH; give its full path",
                         path);
        return;
    }

    if (path[0] != '/' && base_dir != NULL && base_dir[0] != '\0')
        strbuf_addf(&full, "%s/", base_dir);
    strbuf_addstr(&full, path);
    if (stat(strbuf_str(&full), &st) != 0)
        problems_add(v->problems, field, "'%s' (resolved to '%s') does not exist: %s", path,
                     strbuf_str(&full), strerror(errno));
    else if (S_ISDIR(st.st_mode))
        problems_add(v->problems, field, "'%s' is a folder, not an executable file", path);
    else if (!S_ISREG(st.st_mode) || access(strbuf_str(&full), X_OK) != 0)
        problems_add(v->problems, field, "'%s' is not executable; run chmod +x on it", path);
    strbuf_release(&full);
}

static void check_process_paths(struct validation *v, json_t *list, const char *name,
                                const char *base_dir)
{
    size_t i;
    json_t *activity;

    if (!json_is_array(list))
        return;
    json_array_foreach(list, i, activity) {
        json_t *provider = json_object_get(activity, "provider");
        const char *type = json_string_value(json_object_get(provider, "type"));
        const char *path = json_string_value(json_object_get(provider, "path"));
        char field[256];

        if (type == NULL || strcmp(type, "process") != 0 || path == NULL || path[0] == '\0')
            continue;
        snprintf(field, sizeof(field), "%s[%zu].provider.path", name, i);
        check_path(v, path, base_dir, field);
    }
}

int experiment_validate_resolved(json_t *experiment, const char *base_dir,
                                 struct problems *problems)
{
    struct validation v = { .problems = problems, .first_problem = problems->count,
                            .resolved = true };
    json_t *hypothesis = json_object_get(experiment, "steady-state-hypothesis");

    validation_run(&v, experiment);
    check_process_paths(&v, json_object_get(hypothesis, "probes"), "steady-state-hypothesis.probes",
                        base_dir);
    check_process_paths(&v, json_object_get(experiment, "method"), "method", base_dir);
    check_process_paths(&v, json_object_get(experiment, "rollbacks"), "rollbacks", base_dir);
    return (int)(problems->count - v.first_problem);
}
