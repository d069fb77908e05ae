/* Fixed-rate traffic in the open model: requests are sent at their intended
 * times whatever earlier requests did, and latency counts from the intended
 * send time, so a stalled server shows up as latency and failures instead of
 * a lower rate. One run yields a per-second timeline for the journal. */
#ifndef AFTERSHOCK_TRAFFIC_TRAFFIC_H
#define AFTERSHOCK_TRAFFIC_TRAFFIC_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "util/err.h"

#define TRAFFIC_DEFAULT_CONNECTIONS 64
#define TRAFFIC_MAX_CONNECTIONS 10000
#define TRAFFIC_DEFAULT_TIMEOUT 5.0
#define TRAFFIC_MAX_RATE 1000000.0
#define TRAFFIC_MAX_STATUSES 32

enum traffic_kind { TRAFFIC_HTTP, TRAFFIC_TCP };

/* Ways a request fails, in the order of the journal's `failed` keys. */
enum traffic_failure {
    TRAFFIC_FAIL_TIMEOUT,
    TRAFFIC_FAIL_REFUSED,
    TRAFFIC_FAIL_RESET,
    TRAFFIC_FAIL_BAD_STATUS,
    TRAFFIC_FAIL_OTHER,
    TRAFFIC_FAIL_KINDS,
};

/* Journal name of a failure kind: "timeout", "refused", "reset", "bad_status", "other". */
const char *traffic_failure_name(enum traffic_failure kind);

/* What to send. Owns its strings; release with traffic_spec_release. */
struct traffic_spec {
    enum traffic_kind kind;
    char *url;              /* http(s)://... as given; tcp://HOST:PORT for TCP connects */
    char *connect_url;      /* URL handed to curl */
    char *method;           /* HTTP method, "GET" by default */
    char **headers;         /* "Name: value" lines, NULL-terminated */
    char *body;             /* request body or NULL */
    int statuses[TRAFFIC_MAX_STATUSES]; /* expected statuses; none: any status below 400 */
    int n_statuses;
    double rate;            /* requests per second, > 0 */
    double duration;        /* seconds; 0: until stopped */
    int connections;        /* maximum requests in flight at once */
    double timeout;         /* seconds per request, counted from the intended send time */
    bool verify_tls;
    double tail;            /* run-wide traffic only: seconds to keep sending after the run */
};

/* Reads a traffic declaration (provider or the experiment's `traffic` key).
 * Returns 0, or -1 with err naming the key and the value at fault. */
int traffic_spec_parse(json_t *decl, struct traffic_spec *spec, struct err *err);
void traffic_spec_release(struct traffic_spec *spec);

/* Sends the traffic until its duration ends or *stop becomes non-zero (stop
 * may be NULL when there is a duration), then waits for the requests in
 * flight, at most the timeout. Returns the result document (see
 * docs/resilience.md), or NULL with err set when the traffic could not start. */
json_t *traffic_run(const struct traffic_spec *spec, volatile sig_atomic_t *stop,
                    struct err *err);

/* traffic_run, calling started(arg) once, on the traffic's thread, right
 * after the first request was handed to a connection (not called when the
 * traffic cannot start). */
json_t *traffic_run_notify(const struct traffic_spec *spec, volatile sig_atomic_t *stop,
                           struct err *err, void (*started)(void *), void *arg);

/* Traffic on a thread of its own, for the experiment-wide `traffic` key. */
struct traffic_session;

/* Starts sending on a new thread and returns once the first request is
 * sent, so what the caller does next is covered by the timeline. Returns 0,
 * or -1 with err set (the traffic could not start). */
int traffic_session_start(json_t *decl, struct traffic_session **out, struct err *err);

/* Waits the spec's tail, stops the traffic, joins the thread and returns the
 * result document (a new reference; an {"error": ...} object when the
 * traffic failed), then frees the session. */
json_t *traffic_session_finish(struct traffic_session *session,
                               volatile sig_atomic_t *interrupted);

#endif
