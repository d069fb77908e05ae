/* Opening a history store by location, and the backend-neutral query calls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/backend.h"
#include "util/log.h"

const char *store_location(const char *option)
{
    const char *env = getenv(STORE_ENV_LOCATION);

    if (option != NULL)
        return option;
    if (env != NULL && env[0] != '\0')
        return env;
    return STORE_DEFAULT_LOCATION;
}

bool store_is_url(const char *location)
{
    return strncmp(location, "postgresql://", 13) == 0 ||
           strncmp(location, "postgres://", 11) == 0;
}

void store_location_display(const char *location, char *out, size_t size)
{
    const char *scheme_end = strstr(location, "://");
    const char *at;
    const char *colon;

    snprintf(out, size, "%s", location);
    if (!store_is_url(location) || scheme_end == NULL)
        return;
    /* The user information ends at the last '@' before the path starts. */
    const char *authority = scheme_end + 3;
    size_t authority_len = strcspn(authority, "/?");
    at = NULL;
    for (const char *p = authority; p < authority + authority_len; p++) {
        if (*p == '@')
            at = p;
    }
    if (at == NULL)
        goto query;
    colon = memchr(authority, ':', (size_t)(at - authority));
    if (colon != NULL)
        snprintf(out, size, "%.*s:***%s", (int)(colon - location), location, at);

query:
    /* A password may also come as a query parameter. */
    if (strstr(out, "password=") != NULL) {
        char *p = strstr(out, "password=") + strlen("password=");
        size_t value_len = strcspn(p, "&");
        memmove(p + 3, p + value_len, strlen(p + value_len) + 1);
        memcpy(p, "***", 3);
    }
}

int store_open_at_version(const char *location, enum store_mode mode, int version,
                          struct store **out, struct err *err)
{
    struct store *store = calloc(1, sizeof(*store));
    int rc;

    if (store == NULL)
        abort();
    if (location[0] == '\0') {
        free(store);
        return err_set(err, "empty history store location: pass --db PATH or a "
                       "postgresql:// URL");
    }
    if (version < 1 || version > STORE_SCHEMA_VERSION) {
        free(store);
        return err_set(err, "internal: cannot open a store at schema version %d", version);
    }
    store_location_display(location, store->display, sizeof(store->display));
    store->mode = mode;
    if (store_is_url(location))
        rc = store_postgres_open(store, location, err);
    else
        rc = store_sqlite_open(store, location, mode, err);
    if (rc != 0) {
        free(store);
        return -1;
    }
    if (store_migrate(store, version, err) != 0) {
        store_close(store);
        return -1;
    }
    log_debug("store", "opened store=%s backend=%s version=%d", store->display,
              store->backend->name, store->version);
    *out = store;
    return 0;
}

int store_open(const char *location, enum store_mode mode, struct store **out, struct err *err)
{
    return store_open_at_version(location, mode, STORE_SCHEMA_VERSION, out, err);
}

int store_inspect(const char *location, int *version, struct err *err)
{
    struct store store = { 0 };
    int rc;

    *version = 0;
    if (location[0] == '\0')
        return err_set(err, "empty history store location: pass --db PATH or a "
                       "postgresql:// URL");
    store_location_display(location, store.display, sizeof(store.display));
    store.mode = STORE_READ;
    if (store_is_url(location))
        rc = store_postgres_open(&store, location, err);
    else
        rc = store_sqlite_open(&store, location, STORE_READ, err);
    if (rc != 0)
        return -1;
    rc = store.backend->read_version(&store, version, err);
    store.backend->close(&store);
    return rc == 0 ? 0 : -1;
}

void store_close(struct store *store)
{
    if (store == NULL)
        return;
    store->backend->close(store);
    free(store);
}

const char *store_backend_name(const struct store *store)
{
    return store->backend->name;
}

int store_version(const struct store *store)
{
    return store->version;
}

const char *store_display(const struct store *store)
{
    return store->display;
}

int store_query(struct store *store, const char *sql, const struct store_value *params,
                int n_params, struct store_rows **rows, struct err *err)
{
    return store->backend->query(store, sql, params, n_params, rows, err);
}

int store_rows_next(struct store_rows *rows, struct err *err)
{
    return rows->next(rows, err);
}

bool store_rows_is_null(const struct store_rows *rows, int column)
{
    return rows->is_null(rows, column);
}

int64_t store_rows_int(const struct store_rows *rows, int column)
{
    return rows->get_int(rows, column);
}

double store_rows_real(const struct store_rows *rows, int column)
{
    return rows->get_real(rows, column);
}

const char *store_rows_text(const struct store_rows *rows, int column)
{
    return rows->get_text(rows, column);
}

void store_rows_free(struct store_rows *rows)
{
    if (rows != NULL)
        rows->release(rows);
}

int store_exec(struct store *store, const char *sql, const struct store_value *params,
               int n_params, struct err *err)
{
    struct store_rows *rows;
    int rc = store_query(store, sql, params, n_params, &rows, err);

    if (rc != 0)
        return rc;
    while ((rc = store_rows_next(rows, err)) == 1)
        ;
    store_rows_free(rows);
    return rc;
}

int store_query_int(struct store *store, const char *sql, const struct store_value *params,
                    int n_params, int64_t *value, struct err *err)
{
    struct store_rows *rows;
    int rc = store_query(store, sql, params, n_params, &rows, err);

    if (rc != 0)
        return rc;
    *value = 0;
    rc = store_rows_next(rows, err);
    if (rc == 1)
        *value = store_rows_int(rows, 0);
    store_rows_free(rows);
    return rc < 0 ? rc : 0;
}

int64_t store_epoch_ms(double epoch)
{
    /* Rounding to whole microseconds first keeps a time parsed from text
     * such as ".123000" from landing at 122.9999 ms. */
    int64_t micros = (int64_t)llround(epoch * 1e6);
    int64_t ms = micros / 1000;

    if (micros % 1000 < 0)
        ms -= 1;
    return ms;
}

void store_format_time(double epoch, char *out, size_t size)
{
    int64_t micros = (int64_t)llround(epoch * 1e6);
    time_t seconds = (time_t)(micros / 1000000);
    long fraction = (long)(micros % 1000000);
    struct tm tm;
    char date[32];

    if (fraction < 0) {
        fraction += 1000000;
        seconds -= 1;
    }
    gmtime_r(&seconds, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%06ldZ", date, fraction);
}
