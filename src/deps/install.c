/* Installing distributions with pip and checking that modules import. */
#include "deps/install.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps/distmap.h"
#include "util/log.h"
#include "util/spawn.h"
#include "util/strbuf.h"

#define PIP_TIMEOUT 1800.0
#define IMPORT_TIMEOUT 300.0

/* Imports every module named in argv and prints "ok NAME" or "fail NAME: ERROR". */
static const char import_script[] =
    "import importlib, sys\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "        print('ok', name, flush=True)\n"
    "    except BaseException as e:\n"
    "        text = (type(e).__name__ + ': ' + str(e)).replace('\\n', ' ')\n"
    "        print('fail', name, text[:250], flush=True)\n";

char **install_split_words(const char *text, struct err *err)
{
    size_t cap = 8, n = 0;
    char **words = calloc(cap, sizeof(*words));
    const char *p = text != NULL ? text : "";

    if (words == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    for (;;) {
        struct strbuf word = STRBUF_INIT;
        char quote = 0;
        bool any = false;

        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        for (; *p != '\0' && (quote || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
            if (quote && *p == quote) {
                quote = 0;
            } else if (!quote && (*p == '"' || *p == '\'')) {
                quote = *p;
                any = true;
            } else {
                strbuf_addch(&word, *p);
                any = true;
            }
        }
        if (quote) {
            strbuf_release(&word);
            install_free_words(words);
            err_set(err, "unbalanced quote in --pip-args '%s'", text);
            return NULL;
        }
        if (any) {
            if (n + 2 > cap) {
                char **grown = realloc(words, (cap *= 2) * sizeof(*words));

                if (grown == NULL) {
                    strbuf_release(&word);
                    install_free_words(words);
                    err_set(err, "out of memory");
                    return NULL;
                }
                words = grown;
            }
            words[n++] = strbuf_detach(&word);
            words[n] = NULL;
        }
        strbuf_release(&word);
    }
    return words;
}

void install_free_words(char **words)
{
    for (size_t i = 0; words != NULL && words[i] != NULL; i++)
        free(words[i]);
    free(words);
}

/* The last non-empty line of text, for a one-line failure message. */
static void last_line(const char *text, char *out, size_t size)
{
    const char *end = text + strlen(text);

    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;

    while (start > text && start[-1] != '\n')
        start--;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* Runs pip install once. Sets *managed when pip rejected the interpreter as
 * externally managed (PEP 668); pip then installs nothing. */
static int run_pip(const char *python, char *const *pip_args, const char *const *names,
                   size_t n, int *status, bool *managed, char *message, size_t message_size,
                   struct err *err)
{
    size_t n_args = 0;
    char **argv;
    struct spawn_result res;
    int rc;

    while (pip_args != NULL && pip_args[n_args] != NULL)
        n_args++;
    argv = calloc(n_args + n + 5, sizeof(*argv));
    if (argv == NULL)
        return err_set(err, "out of memory");
    argv[0] = (char *)python;
    argv[1] = "-m";
    argv[2] = "pip";
    argv[3] = "install";
    for (size_t i = 0; i < n_args; i++)
        argv[4 + i] = pip_args[i];
    for (size_t i = 0; i < n; i++)
        argv[4 + n_args + i] = (char *)names[i];

    struct spawn_opts opts = { .argv = argv, .timeout = PIP_TIMEOUT, .stdin_null = true,
                               .capture_max = 256 << 10 };

    log_info("deps", "running pip install packages=%zu", n);
    rc = spawn_run(&opts, &res, err);
    free(argv);
    if (rc != 0)
        return -1;
    *status = res.timed_out ? -1 : res.exit_code;
    /* pip 23.0 and later print this error code when the interpreter's stdlib
     * folder has an EXTERNALLY-MANAGED file, as Debian 12's python3 has. */
    *managed = res.exit_code != 0 && (strstr(res.err, "externally-managed-environment") != NULL ||
                                      strstr(res.out, "externally-managed-environment") != NULL);
    if (res.exit_code != 0) {
        last_line(res.err[0] != '\0' ? res.err : res.out, message, message_size);
        if (*managed)
            snprintf(message, message_size, "the interpreter is externally managed (PEP 668)");
        if (res.timed_out)
            snprintf(message, message_size, "pip timed out after %.0f s", PIP_TIMEOUT);
        log_warn("deps", "pip install failed status=%d message=%s", res.exit_code, message);
    }
    spawn_result_release(&res);
    return 0;
}

int install_run(const char *python, char *const *pip_args, const char *const *names,
                size_t n, struct install_outcome *outcomes, struct err *err)
{
    int status;
    bool managed = false;
    char message[512] = "";

    for (size_t i = 0; i < n; i++) {
        outcomes[i].name = names[i];
        outcomes[i].ok = false;
        outcomes[i].message[0] = '\0';
        if (!dist_is_valid_name(names[i]))
            return err_set(err, "'%s' is not a valid distribution name; not installing it",
                           names[i]);
    }
    if (n == 0)
        return 0;
    if (run_pip(python, pip_args, names, n, &status, &managed, message, sizeof(message), err) != 0)
        return -1;
    if (managed) {
        err_set(err, "'%s' is managed by the system (PEP 668), so pip does not install into it",
                python);
        return INSTALL_EXTERNALLY_MANAGED;
    }
    if (status == 0) {
        for (size_t i = 0; i < n; i++)
            outcomes[i].ok = true;
        return 0;
    }
    if (n == 1) {
        snprintf(outcomes[0].message, sizeof(outcomes[0].message), "%s", message);
        return 0;
    }

    /* One failure fails the whole batch, so each package is tried alone to tell which. */
    for (size_t i = 0; i < n; i++) {
        if (run_pip(python, pip_args, &names[i], 1, &status, &managed, outcomes[i].message,
                    sizeof(outcomes[i].message), err) != 0)
            return -1;
        outcomes[i].ok = status == 0;
    }
    return 0;
}

int install_check_imports(const char *python, const char *const *modules, size_t n,
                          struct import_outcome *outcomes, struct err *err)
{
    char **argv = calloc(n + 4, sizeof(*argv));
    struct spawn_result res;
    int rc;

    if (argv == NULL)
        return err_set(err, "out of memory");
    argv[0] = (char *)python;
    argv[1] = "-c";
    argv[2] = (char *)import_script;
    for (size_t i = 0; i < n; i++) {
        argv[3 + i] = (char *)modules[i];
        outcomes[i].module = modules[i];
        outcomes[i].ok = false;
        snprintf(outcomes[i].message, sizeof(outcomes[i].message), "not checked");
    }

    struct spawn_opts opts = { .argv = argv, .cwd = "/", .timeout = IMPORT_TIMEOUT,
                               .stdin_null = true, .capture_max = 1 << 20 };

    rc = spawn_run(&opts, &res, err);
    free(argv);
    if (rc != 0)
        return -1;
    for (char *line = res.out; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        bool ok = strncmp(line, "ok ", 3) == 0;

        if (nl != NULL)
            *nl = '\0';
        if (ok || strncmp(line, "fail ", 5) == 0) {
            const char *name = line + (ok ? 3 : 5);
            size_t name_len = strcspn(name, " ");

            for (size_t i = 0; i < n; i++) {
                if (strlen(modules[i]) != name_len || strncmp(modules[i], name, name_len) != 0)
                    continue;
                outcomes[i].ok = ok;
                snprintf(outcomes[i].message, sizeof(outcomes[i].message), "%s",
                         ok ? "" : name + name_len + (name[name_len] == ' ' ? 1 : 0));
            }
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    spawn_result_release(&res);
    return 0;
}
