/* Check 6: the history store is writable and its schema is current. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "store/store.h"
#include "util/fsutil.h"

char *check_store_location(const struct check_state *st)
{
    const char *env = getenv(STORE_ENV_LOCATION);
    const char *location = st->cfg->store != NULL ? st->cfg->store : STORE_DEFAULT_LOCATION;

    if (env != NULL && env[0] != '\0')
        location = env;
    if (store_is_url(location))
        return strdup(location);
    return check_absolute(st, location);
}

static char *parent_folder(const char *path)
{
    char *folder = strdup(path);
    char *slash = strrchr(folder, '/');

    if (slash == folder)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    return folder;
}

/* Returns the nearest folder above path that exists, or the nearest
 * ancestor that exists but is not a folder (caller frees). */
static char *existing_ancestor(const char *path)
{
    char *current = parent_folder(path);
    struct stat info;

    while (stat(current, &info) != 0 && strcmp(current, "/") != 0 && strchr(current, '/')) {
        char *up = parent_folder(current);
        free(current);
        current = up;
    }
    return current;
}

/* Creates or migrates the store through store_open, as `run` would. */
static int open_for_writing(const char *location, struct check_result *r)
{
    struct store *store;
    struct err err;

    if (store_open(location, STORE_WRITE, &store, &err) != 0) {
        result_fail(r, "choose another store with 'store' in aftershock.yaml or $AFTERSHOCK_DB",
                    "%s", err.msg);
        return -1;
    }
    store_close(store);
    return 0;
}

/* Checks a store that exists: readable, writable, and its schema version. */
static void check_existing(struct check_state *st, struct check_result *r, const char *location,
                           const char *shown)
{
    struct err err;
    int version;

    if (!store_is_url(location) && access(location, W_OK) != 0) {
        result_fail(r, "make the file writable, or choose another store",
                    "history store '%s' is not writable: %s", shown, strerror(errno));
        return;
    }
    if (store_inspect(location, &version, &err) != 0) {
        result_fail(r, "check the store (a SQLite file or a reachable PostgreSQL database), or "
                       "choose another one",
                    "%s", err.msg);
        return;
    }
    if (version > STORE_SCHEMA_VERSION) {
        result_fail(r, "upgrade aftershock, or choose another store",
                    "history store '%s' has schema version %d, newer than this aftershock's "
                    "version %d", shown, version, STORE_SCHEMA_VERSION);
        return;
    }
    if (version == STORE_SCHEMA_VERSION) {
        result_pass(r, "history store '%s' is writable, schema version %d", shown, version);
        return;
    }
    if (!st->opts->fix) {
        result_fail(r, "aftershock check --fix migrates it",
                    "history store '%s' has schema version %d; the current version is %d",
                    shown, version, STORE_SCHEMA_VERSION);
        return;
    }
    if (open_for_writing(location, r) != 0)
        return;
    result_change(r, "migrated '%s' from schema version %d to %d", shown, version,
                  STORE_SCHEMA_VERSION);
    result_pass(r, "migrated history store '%s' to schema version %d", shown,
                STORE_SCHEMA_VERSION);
}

void check_history_store(struct check_state *st, struct check_result *r)
{
    char *location = check_store_location(st);
    char *relative = check_relative(st, location);
    char shown[512];
    struct stat info;

    store_location_display(relative, shown, sizeof(shown));
    free(relative);
    if (store_is_url(location) || stat(location, &info) == 0) {
        check_existing(st, r, location, shown);
        free(location);
        return;
    }

    /* A missing SQLite file is created by the first run, when its folder allows it. */
    char *folder = parent_folder(location);
    bool folder_exists = stat(folder, &info) == 0 && S_ISDIR(info.st_mode);
    char *folder_shown = check_relative(st, folder);

    if (st->opts->fix && (!folder_exists || access(folder, W_OK) == 0)) {
        if (open_for_writing(location, r) == 0) {
            if (!folder_exists)
                result_change(r, "created the folder '%s'", folder_shown);
            result_change(r, "created the history store '%s'", shown);
            result_pass(r, "created history store '%s' at schema version %d", shown,
                        STORE_SCHEMA_VERSION);
        }
    } else if (!folder_exists) {
        /* `run` creates the missing folders, as long as the nearest one that exists is a
         * writable folder. */
        char *ancestor = existing_ancestor(location);
        char *ancestor_shown = check_relative(st, ancestor);
        bool ancestor_dir = stat(ancestor, &info) == 0 && S_ISDIR(info.st_mode);

        if (!ancestor_dir)
            result_fail(r, "remove or rename the file '%s', or choose another store with "
                           "'store' in aftershock.yaml or $AFTERSHOCK_DB",
                        "the folder '%s' of history store '%s' cannot be created: '%s' is not "
                        "a folder", folder_shown, shown, ancestor_shown);
        else if (access(ancestor, W_OK) != 0)
            result_fail(r, "make the folder writable, or choose another store",
                        "the folder '%s' of history store '%s' cannot be created: '%s' is not "
                        "writable", folder_shown, shown, ancestor_shown);
        else
            result_pass(r, "history store '%s' does not exist yet: the first run creates it "
                           "and its folder '%s' ('aftershock check --fix' does so now)",
                        shown, folder_shown);
        free(ancestor_shown);
        free(ancestor);
    } else if (access(folder, W_OK) != 0) {
        result_fail(r, "make the folder writable, or choose another store",
                    "the folder '%s' of history store '%s' is not writable", folder_shown, shown);
    } else {
        result_pass(r, "history store '%s' does not exist yet; the first run creates it", shown);
    }
    free(folder_shown);
    free(folder);
    free(location);
}
