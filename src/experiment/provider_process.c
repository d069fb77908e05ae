/* The `process` provider: runs a program without a shell (arguments as a list) or through the shell (arguments as a string). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/activity.h"
#include "util/log.h"
#include "util/spawn.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#define PROCESS_CAPTURE_MAX (1024 * 1024)

/* Appends text to sb quoted for /bin/sh. */
static void shell_quote(struct strbuf *sb, const char *text)
{
    strbuf_addch(sb, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            strbuf_addstr(sb, "'\\''");
        else
            strbuf_addch(sb, *p);
    }
    strbuf_addch(sb, '\'');
}

/* Formats one JSON scalar as an argument; returns a new string. */
static char *argument_text(json_t *value)
{
    if (json_is_string(value))
        return strdup(json_string_value(value));
    if (json_is_integer(value) || json_is_real(value) || json_is_boolean(value) ||
        json_is_null(value))
        return json_dumps(value, JSON_ENCODE_ANY);
    return json_dumps(value, JSON_COMPACT);
}

/* Builds argv from path and a list or object of arguments. An object becomes
 * "--key value" pairs; true becomes a bare "--key" and false is left out. */
static char **build_argv(const char *path, json_t *arguments)
{
    size_t cap = 2 + (json_is_array(arguments) ? json_array_size(arguments)
                                               : 2 * json_object_size(arguments));
    char **argv = calloc(cap + 1, sizeof(char *));
    size_t n = 0;

    if (argv == NULL)
        abort();
    argv[n++] = strdup(path);
    if (json_is_array(arguments)) {
        size_t i;
        json_t *value;
        json_array_foreach(arguments, i, value)
            argv[n++] = argument_text(value);
    } else if (json_is_object(arguments)) {
        const char *key;
        json_t *value;
        json_object_foreach(arguments, key, value) {
            if (json_is_false(value) || json_is_null(value))
                continue;
            struct strbuf flag = STRBUF_INIT;
            strbuf_addf(&flag, "--%s", key);
            argv[n++] = strbuf_detach(&flag);
            if (!json_is_true(value))
                argv[n++] = argument_text(value);
        }
    }
    argv[n] = NULL;
    return argv;
}

static void free_argv(char **argv)
{
    for (size_t i = 0; argv[i] != NULL; i++)
        free(argv[i]);
    free(argv);
}

int provider_process_run(const struct activity_env *env, json_t *provider, const char *name,
                         json_t **output, struct err *err)
{
    const char *path = json_string_value(json_object_get(provider, "path"));
    json_t *arguments = json_object_get(provider, "arguments");
    double connect_timeout = 0, timeout = 0;
    struct spawn_opts opts;
    struct spawn_result res;
    struct strbuf command = STRBUF_INIT;
    char **argv = NULL;
    int rc;

    if (path == NULL)
        return err_set(err, "process provider has no path");
    provider_read_timeout(json_object_get(provider, "timeout"), &connect_timeout, &timeout);

    memset(&opts, 0, sizeof(opts));
    opts.cwd = env->base_dir;
    opts.timeout = timeout;
    opts.capture_max = PROCESS_CAPTURE_MAX;
    opts.stdin_null = true;
    opts.stop = env->stop;
    opts.pid_out = process_registry_slot(env->processes, name);
    if (json_is_string(arguments)) {
        /* A string of arguments goes through the shell, as written. */
        shell_quote(&command, path);
        strbuf_addch(&command, ' ');
        strbuf_addstr(&command, json_string_value(arguments));
        opts.shell_command = strbuf_str(&command);
    } else {
        argv = build_argv(path, arguments);
        opts.argv = argv;
    }

    log_debug("process", "start path=%s timeout=%g", path, timeout);
    rc = spawn_run(&opts, &res, err);
    if (argv != NULL)
        free_argv(argv);
    strbuf_release(&command);
    if (rc != 0)
        return -1;

    if (res.timed_out) {
        err_set(err, "process '%s' timed out after %g s and was ended", path, timeout);
        spawn_result_release(&res);
        return -1;
    }
    if (res.interrupted) {
        err_set(err, "process '%s' was ended because the method was stopped (interrupted, "
                "or --fail-fast)", path);
        spawn_result_release(&res);
        return -1;
    }
    /* utf8_sanitize turns NUL bytes, like any invalid byte, into U+FFFD, so
     * the text after a NUL is kept. A stream cut at PROCESS_CAPTURE_MAX is
     * flagged, so a reader can tell a partial output from a whole one. */
    char *out_text = utf8_sanitize(res.out, res.out_len);
    char *err_text = utf8_sanitize(res.err, res.err_len);
    *output = json_pack("{s:i, s:s, s:s}", "status", res.exit_code, "stdout", out_text,
                        "stderr", err_text);
    if (res.out_truncated)
        json_object_set_new(*output, "stdout_truncated", json_true());
    if (res.err_truncated)
        json_object_set_new(*output, "stderr_truncated", json_true());
    if (res.out_truncated || res.err_truncated)
        log_warn("process", "output of '%s' was cut at %d bytes per stream", path,
                    PROCESS_CAPTURE_MAX);
    free(out_text);
    free(err_text);
    spawn_result_release(&res);
    return 0;
}
