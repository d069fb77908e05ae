/* The libpq functions the PostgreSQL store calls, loaded with dlopen on
 * first use.
 *
 * libpq and the libraries it depends on (TLS, LDAP, Kerberos) take about
 * 8 ms to map and relocate at every process start, paid by every command
 * even when the history store is SQLite. The binary is therefore not
 * linked against libpq: these definitions carry libpq's own names and
 * prototypes from <libpq-fe.h> and forward to the library, which
 * pq_library_error loads. postgres.c calls it before connecting, so the
 * other functions only run once the library is loaded. */
#include <libpq-fe.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "store/pq_loader.h"

/* libpq's SONAME since PostgreSQL 8.0. */
#define PQ_LIBRARY "libpq.so.5"

static struct {
    PGconn *(*connectdb_params)(const char *const *keywords, const char *const *values,
                                int expand_dbname);
    void (*finish)(PGconn *conn);
    ConnStatusType (*status)(const PGconn *conn);
    PGTransactionStatusType (*transaction_status)(const PGconn *conn);
    int (*server_version)(const PGconn *conn);
    char *(*error_message)(const PGconn *conn);
    PQnoticeProcessor (*set_notice_processor)(PGconn *conn, PQnoticeProcessor proc, void *arg);
    PGresult *(*exec)(PGconn *conn, const char *query);
    PGresult *(*exec_params)(PGconn *conn, const char *command, int n_params,
                             const Oid *param_types, const char *const *param_values,
                             const int *param_lengths, const int *param_formats,
                             int result_format);
    ExecStatusType (*result_status)(const PGresult *res);
    char *(*result_error_field)(const PGresult *res, int field_code);
    int (*ntuples)(const PGresult *res);
    char *(*getvalue)(const PGresult *res, int row, int column);
    int (*getisnull)(const PGresult *res, int row, int column);
    void (*clear)(PGresult *res);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];

#define LOAD(field, name)                                                                   \
    do {                                                                                    \
        *(void **)(&api.field) = dlsym(library, name);                                      \
        if (api.field == NULL) {                                                            \
            snprintf(load_error, sizeof(load_error), "%s has no symbol %s: %s", PQ_LIBRARY, \
                     name, dlerror());                                                      \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static void load_library(void)
{
    void *library = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);

    if (library == NULL) {
        snprintf(load_error, sizeof(load_error),
                 "cannot load %s, needed for PostgreSQL: %s (install Debian's libpq5 package)",
                 PQ_LIBRARY, dlerror());
        return;
    }
    LOAD(connectdb_params, "PQconnectdbParams");
    LOAD(finish, "PQfinish");
    LOAD(status, "PQstatus");
    LOAD(transaction_status, "PQtransactionStatus");
    LOAD(server_version, "PQserverVersion");
    LOAD(error_message, "PQerrorMessage");
    LOAD(set_notice_processor, "PQsetNoticeProcessor");
    LOAD(exec, "PQexec");
    LOAD(exec_params, "PQexecParams");
    LOAD(result_status, "PQresultStatus");
    LOAD(result_error_field, "PQresultErrorField");
    LOAD(ntuples, "PQntuples");
    LOAD(getvalue, "PQgetvalue");
    LOAD(getisnull, "PQgetisnull");
    LOAD(clear, "PQclear");
}

const char *pq_library_error(void)
{
    pthread_once(&load_once, load_library);
    return load_error[0] != '\0' ? load_error : NULL;
}

PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values,
                          int expand_dbname)
{
    return pq_library_error() == NULL ? api.connectdb_params(keywords, values, expand_dbname)
                                      : NULL;
}

void PQfinish(PGconn *conn)
{
    if (pq_library_error() == NULL)
        api.finish(conn);
}

ConnStatusType PQstatus(const PGconn *conn)
{
    return api.status(conn);
}

PGTransactionStatusType PQtransactionStatus(const PGconn *conn)
{
    return api.transaction_status(conn);
}

int PQserverVersion(const PGconn *conn)
{
    return api.server_version(conn);
}

char *PQerrorMessage(const PGconn *conn)
{
    return api.error_message(conn);
}

PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg)
{
    return api.set_notice_processor(conn, proc, arg);
}

PGresult *PQexec(PGconn *conn, const char *query)
{
    return api.exec(conn, query);
}

PGresult *PQexecParams(PGconn *conn, const char *command, int n_params, const Oid *param_types,
                       const char *const *param_values, const int *param_lengths,
                       const int *param_formats, int result_format)
{
    return api.exec_params(conn, command, n_params, param_types, param_values, param_lengths,
                           param_formats, result_format);
}

ExecStatusType PQresultStatus(const PGresult *res)
{
    return api.result_status(res);
}

char *PQresultErrorField(const PGresult *res, int field_code)
{
    return api.result_error_field(res, field_code);
}

int PQntuples(const PGresult *res)
{
    return api.ntuples(res);
}

char *PQgetvalue(const PGresult *res, int row, int column)
{
    return api.getvalue(res, row, column);
}

int PQgetisnull(const PGresult *res, int row, int column)
{
    return api.getisnull(res, row, column);
}

void PQclear(PGresult *res)
{
    if (res != NULL)
        api.clear(res);
}
