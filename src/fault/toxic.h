/* Client for any Toxiproxy-compatible API, and the ledger of toxics a run added so they can be removed. */
#ifndef AFTERSHOCK_FAULT_TOXIC_H
#define AFTERSHOCK_FAULT_TOXIC_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>

#include "util/err.h"

#define TOXIC_API_DEFAULT_URL "http://127.0.0.1:8474"
/* Seconds one API call may take. */
#define TOXIC_API_TIMEOUT 10.0

/* Returned by toxic_api_call and toxic_api_remove when the API refused the
 * connection, so the request never reached it. */
#define TOXIC_API_REFUSED (-2)
/* Returned by toxic_api_add when the request was sent but no response came
 * back, so the toxic may have been added. */
#define TOXIC_API_UNANSWERED (-3)

/* Sends one API request: method, a path under the API URL (already
 * encoded), and an optional JSON body. Returns the status and sets *doc to
 * the parsed JSON response (NULL when the body is empty or not JSON), or
 * returns -1 with err set when no response arrived (TOXIC_API_REFUSED when
 * the connection was refused). stop may be NULL. */
long toxic_api_call(const char *api, const char *method, const char *path, json_t *body,
                    json_t **doc, volatile sig_atomic_t *stop, struct err *err);

/* Percent-encodes a proxy or toxic name for a path (caller frees). */
char *toxic_api_escape(const char *name);

/* Adds a toxic (the body as the API takes it) to proxy. On success returns
 * 0 and *created holds the toxic the API returned (new reference). Returns
 * -1 when the toxic was not added, TOXIC_API_UNANSWERED when it may have been. */
int toxic_api_add(const char *api, const char *proxy, json_t *toxic, json_t **created,
                  volatile sig_atomic_t *stop, struct err *err);

/* Updates a toxic; *updated gets the API's response (may be NULL on success). */
int toxic_api_update(const char *api, const char *proxy, const char *name, json_t *changes,
                     json_t **updated, volatile sig_atomic_t *stop, struct err *err);

/* Removes a toxic. Returns 0 when removed, 1 when it or its proxy was not
 * there, TOXIC_API_REFUSED when the API refused the connection, else -1;
 * err is set for negative returns. */
int toxic_api_remove(const char *api, const char *proxy, const char *name,
                     volatile sig_atomic_t *stop, struct err *err);

/* Sends GET for a path that must return 200 with JSON; *doc gets it. Returns 0 or -1. */
int toxic_api_get(const char *api, const char *path, json_t **doc, struct err *err);

/* Toxics a run added, so the run can remove them whatever way it ends.
 * Invariant: entries[0..count) are the toxics added and not yet removed,
 * each as (api, proxy, name) strings the ledger owns. */
struct fault_ledger;
struct toxic_ledger {
    pthread_mutex_t lock;
    struct fault_ledger *faults; /* the run's fault ledger, cleared of each removed toxic;
                                  * may be NULL */
    struct toxic_entry {
        char *api;
        char *proxy;
        char *name;
    } *entries;
    size_t count;
};

void toxic_ledger_init(struct toxic_ledger *ledger);
/* Records a toxic that was added. */
void toxic_ledger_record(struct toxic_ledger *ledger, const char *api, const char *proxy,
                         const char *name);
/* Forgets a toxic that was removed on purpose. */
void toxic_ledger_forget(struct toxic_ledger *ledger, const char *api, const char *proxy,
                         const char *name);
/* Removes every recorded toxic, newest first, and empties the ledger.
 * Returns how many removals failed (each is logged). */
int toxic_ledger_remove_all(struct toxic_ledger *ledger);
void toxic_ledger_release(struct toxic_ledger *ledger);

#endif
