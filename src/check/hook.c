/* Writing the git pre-push hook that runs `aftershock check`. */
#include "check/hook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/spawn.h"
#include "util/strbuf.h"

/* First comment line of every hook this module writes, so a later
 * --install-hook recognizes the hook as its own and may replace it. */
#define HOOK_MARKER "# aftershock pre-push hook"

#define CHAINED_SUFFIX ".chained"

/* Asks git where the hook goes, which also covers worktrees and core.hooksPath. */
static char *hook_path(const char *root, struct err *err)
{
    char *const argv[] = { "git", "rev-parse", "--git-path", "hooks/pre-push", NULL };
    struct spawn_opts opts = { .argv = argv, .cwd = root, .timeout = 30, .stdin_null = true };
    struct spawn_result res;
    struct strbuf path = STRBUF_INIT;

    if (spawn_run(&opts, &res, err) != 0)
        return NULL;
    if (res.exit_code != 0) {
        err_set(err, "'%s' is not inside a git repository (git rev-parse exited with code %d)",
                root, res.exit_code);
        spawn_result_release(&res);
        return NULL;
    }
    res.out[strcspn(res.out, "\n")] = '\0';
    if (res.out[0] != '/')
        strbuf_addf(&path, "%s/", root);
    strbuf_addstr(&path, res.out);
    spawn_result_release(&res);
    return strbuf_detach(&path);
}

/* Appends text as one single-quoted shell word. */
static void add_quoted(struct strbuf *sb, const char *text)
{
    strbuf_addch(sb, '\'');
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\'')
            strbuf_addstr(sb, "'\\''");
        else
            strbuf_addch(sb, *p);
    }
    strbuf_addch(sb, '\'');
}

static char *hook_text(const char *self, bool chained)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_addstr(&sb, "#!/bin/sh\n" HOOK_MARKER ": runs the pre-push checks before each push.\n"
                       "# Written by 'aftershock check --install-hook'; 'git push --no-verify' "
                       "skips it.\n");
    if (chained)
        strbuf_addstr(&sb, "\n# The hook that was here before runs first, with the same "
                           "arguments and input.\n"
                           "input=$(cat)\n"
                           "if [ -n \"$input\" ]; then printf '%s\\n' \"$input\"; fi |\n"
                           "    \"$(dirname \"$0\")/pre-push" CHAINED_SUFFIX "\" \"$@\" || "
                           "exit $?\n");
    strbuf_addstr(&sb, "\naftershock=");
    add_quoted(&sb, self);
    strbuf_addstr(&sb, "\n[ -x \"$aftershock\" ] || aftershock=aftershock\n"
                       "exec \"$aftershock\" check\n");
    return strbuf_detach(&sb);
}

static bool is_own_hook(const char *path)
{
    struct err err;
    size_t len;
    char *text = fs_read_file(path, 1024 * 1024, &len, &err);
    bool own = text != NULL && strstr(text, HOOK_MARKER) != NULL;

    free(text);
    return own;
}

static int write_hook(const char *path, const char *text, struct err *err)
{
    char *folder = strdup(path);
    int rc;

    if (folder == NULL)
        abort();
    *strrchr(folder, '/') = '\0';
    rc = fs_mkdirs(folder, err);
    free(folder);
    if (rc == 0)
        rc = fs_write_atomic(path, text, strlen(text), err);
    if (rc == 0 && chmod(path, 0755) != 0)
        rc = err_set_errno(err, errno, "cannot make the hook '%s' executable", path);
    return rc;
}

int hook_install(const char *root, const char *self, bool force, struct hook_result *out,
                 struct err *err)
{
    struct stat st;
    struct strbuf chained = STRBUF_INIT;
    char *text;
    int rc;

    memset(out, 0, sizeof(*out));
    out->path = hook_path(root, err);
    if (out->path == NULL)
        return -1;
    strbuf_addf(&chained, "%s%s", out->path, CHAINED_SUFFIX);

    if (lstat(out->path, &st) == 0 && !is_own_hook(out->path)) {
        if (!force) {
            strbuf_release(&chained);
            return 1;
        }
        if (lstat(strbuf_str(&chained), &st) == 0) {
            rc = err_set(err, "cannot chain the existing hook: '%s' already exists; move it "
                              "away first", strbuf_str(&chained));
            strbuf_release(&chained);
            return rc;
        }
        if (rename(out->path, strbuf_str(&chained)) != 0) {
            rc = err_set_errno(err, errno, "cannot move the existing hook to '%s'",
                               strbuf_str(&chained));
            strbuf_release(&chained);
            return rc;
        }
        out->chained_path = strbuf_detach(&chained);
    } else if (lstat(strbuf_str(&chained), &st) == 0) {
        /* Reinstalling over a hook that already chains keeps the chain. */
        out->chained_path = strbuf_detach(&chained);
    }
    strbuf_release(&chained);

    text = hook_text(self, out->chained_path != NULL);
    rc = write_hook(out->path, text, err);
    free(text);
    return rc;
}

void hook_result_release(struct hook_result *result)
{
    free(result->path);
    free(result->chained_path);
    memset(result, 0, sizeof(*result));
}
