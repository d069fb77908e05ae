/* The open-model sender: one thread drives every request through a libcurl
 * multi handle, scheduling each at start + i / rate.
 *
 * Each pass of the loop, in order: queue the requests whose intended time
 * has come; fail as timeouts the queued requests that waited longer than
 * the timeout for a free connection; hand queued requests to free transfer
 * slots; let curl progress; record finished transfers; close the seconds
 * whose requests have all finished; sleep until the next intended time or
 * until curl has work. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traffic/histogram.h"
#include "traffic/traffic.h"
#include "util/log.h"
#include "util/timeutil.h"

/* One transfer slot; an easy handle is reused so its connection stays open. */
struct slot {
    CURL *easy;
    double intended;     /* monotonic time the request was meant to be sent */
    size_t second;
    char error[CURL_ERROR_SIZE];
};

/* Counts for one second of intended send times. Invariant: pending is the
 * number of its requests queued or in flight; hist is NULL once the second
 * is closed and its journal entry written. */
struct second {
    uint64_t sent, succeeded;
    uint64_t failed[TRAFFIC_FAIL_KINDS];
    uint64_t pending;
    struct histogram *hist;
};

/* Intended send times waiting for a free slot, oldest first (a ring). */
struct backlog {
    double *times;
    size_t *seconds;
    size_t head, count, cap;
};

struct engine {
    const struct traffic_spec *spec;
    CURLM *multi;
    struct curl_slist *headers;
    struct slot *slots;
    struct slot **free_slots;
    int n_free;
    struct backlog backlog;
    size_t max_backlog;
    struct second *seconds;
    size_t n_seconds, cap_seconds, first_open;
    double t0;
    struct histogram total, lag;
    uint64_t sent, succeeded, failed[TRAFFIC_FAIL_KINDS];
    json_t *timeline;
    json_t *errors;      /* first message of each failure kind */
};

static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static void backlog_push(struct backlog *b, double t, size_t second)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        double *times = malloc(cap * sizeof(double));
        size_t *seconds = malloc(cap * sizeof(size_t));
        if (times == NULL || seconds == NULL)
            abort();
        for (size_t i = 0; i < b->count; i++) {
            times[i] = b->times[(b->head + i) % b->cap];
            seconds[i] = b->seconds[(b->head + i) % b->cap];
        }
        free(b->times);
        free(b->seconds);
        b->times = times;
        b->seconds = seconds;
        b->head = 0;
        b->cap = cap;
    }
    b->times[(b->head + b->count) % b->cap] = t;
    b->seconds[(b->head + b->count) % b->cap] = second;
    b->count++;
}

static void backlog_pop(struct backlog *b, double *t, size_t *second)
{
    *t = b->times[b->head];
    *second = b->seconds[b->head];
    b->head = (b->head + 1) % b->cap;
    b->count--;
}

static struct second *second_at(struct engine *e, size_t index)
{
    while (index >= e->n_seconds) {
        if (e->n_seconds == e->cap_seconds) {
            e->cap_seconds = e->cap_seconds ? e->cap_seconds * 2 : 64;
            e->seconds = realloc(e->seconds, e->cap_seconds * sizeof(struct second));
            if (e->seconds == NULL)
                abort();
        }
        memset(&e->seconds[e->n_seconds], 0, sizeof(struct second));
        e->seconds[e->n_seconds].hist = malloc(sizeof(struct histogram));
        if (e->seconds[e->n_seconds].hist == NULL)
            abort();
        histogram_init(e->seconds[e->n_seconds].hist);
        e->n_seconds++;
    }
    return &e->seconds[index];
}

static json_t *failed_json(const uint64_t *failed)
{
    json_t *out = json_object();

    for (int k = 0; k < TRAFFIC_FAIL_KINDS; k++)
        json_object_set_new(out, traffic_failure_name(k), json_integer((json_int_t)failed[k]));
    return out;
}

/* Writes the journal entry of second index and frees its histogram. */
static void second_close(struct engine *e, size_t index)
{
    struct second *s = &e->seconds[index];

    json_array_append_new(e->timeline,
                          json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "second", (json_int_t)index,
                                    "sent", (json_int_t)s->sent, "succeeded",
                                    (json_int_t)s->succeeded, "failed", failed_json(s->failed),
                                    "latency_ms", histogram_summary_json(s->hist), "histogram",
                                    histogram_to_json(s->hist)));
    free(s->hist);
    s->hist = NULL;
}

/* Closes, in order, the seconds that are over and have nothing pending. */
static void close_seconds(struct engine *e, double now, bool all)
{
    while (e->first_open < e->n_seconds) {
        struct second *s = &e->seconds[e->first_open];
        bool over = all || now >= e->t0 + (double)(e->first_open + 1);
        if (!over || s->pending > 0)
            break;
        second_close(e, e->first_open++);
    }
}

static void record(struct engine *e, size_t second, double intended, double now, int failure,
                   const char *message)
{
    struct second *s = &e->seconds[second];
    double latency = now - intended;
    uint64_t us = latency > 0 ? (uint64_t)(latency * 1e6 + 0.5) : 0;

    s->pending--;
    if (failure < 0) {
        s->succeeded++;
        e->succeeded++;
    } else {
        s->failed[failure]++;
        e->failed[failure]++;
        if (message != NULL && json_object_get(e->errors, traffic_failure_name(failure)) == NULL)
            json_object_set_new(e->errors, traffic_failure_name(failure), json_string(message));
    }
    histogram_record(s->hist, us);
    histogram_record(&e->total, us);
}

static bool status_expected(const struct traffic_spec *spec, long status)
{
    if (spec->n_statuses == 0)
        return status >= 100 && status < 400;
    for (int i = 0; i < spec->n_statuses; i++) {
        if (spec->statuses[i] == status)
            return true;
    }
    return false;
}

/* Maps a finished transfer to a failure kind, or -1 for a success. */
static int classify(const struct engine *e, CURL *easy, CURLcode rc)
{
    long status = 0, os_errno = 0;

    switch (rc) {
    case CURLE_OK:
        if (e->spec->kind == TRAFFIC_TCP)
            return -1;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        return status_expected(e->spec, status) ? -1 : TRAFFIC_FAIL_BAD_STATUS;
    case CURLE_OPERATION_TIMEDOUT:
        return TRAFFIC_FAIL_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno == ETIMEDOUT)
            return TRAFFIC_FAIL_TIMEOUT;
        return os_errno == ECONNREFUSED || os_errno == 0 ? TRAFFIC_FAIL_REFUSED
                                                         : TRAFFIC_FAIL_OTHER;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return TRAFFIC_FAIL_RESET;
    default:
        return TRAFFIC_FAIL_OTHER;
    }
}

static int slots_init(struct engine *e, struct err *err)
{
    const struct traffic_spec *spec = e->spec;

    for (size_t i = 0; spec->headers != NULL && spec->headers[i] != NULL; i++)
        e->headers = curl_slist_append(e->headers, spec->headers[i]);
    e->slots = calloc((size_t)spec->connections, sizeof(struct slot));
    e->free_slots = calloc((size_t)spec->connections, sizeof(struct slot *));
    if (e->slots == NULL || e->free_slots == NULL)
        abort();
    for (int i = 0; i < spec->connections; i++) {
        CURL *easy = curl_easy_init();
        if (easy == NULL)
            return err_set(err, "cannot create a transfer for the traffic");
        e->slots[i].easy = easy;
        curl_easy_setopt(easy, CURLOPT_URL, spec->connect_url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &e->slots[i]);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, e->slots[i].error);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, spec->verify_tls ? 1L : 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, spec->verify_tls ? 2L : 0L);
        if (spec->kind == TRAFFIC_TCP) {
            curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
            curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
        } else {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, spec->method);
            if (strcmp(spec->method, "HEAD") == 0)
                curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
            if (spec->body != NULL)
                curl_easy_setopt(easy, CURLOPT_POSTFIELDS, spec->body);
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, e->headers);
        }
        e->free_slots[e->n_free++] = &e->slots[i];
    }
    return 0;
}

/* Hands a queued request to a free slot. */
static void start_request(struct engine *e, double now)
{
    struct slot *slot = e->free_slots[--e->n_free];
    double remaining;
    long ms;

    backlog_pop(&e->backlog, &slot->intended, &slot->second);
    remaining = e->spec->timeout - (now - slot->intended);
    ms = (long)ceil(remaining * 1000.0);
    slot->error[0] = '\0';
    curl_easy_setopt(slot->easy, CURLOPT_TIMEOUT_MS, ms > 1 ? ms : 1L);
    histogram_record(&e->lag, now > slot->intended ? (uint64_t)((now - slot->intended) * 1e6) : 0);
    curl_multi_add_handle(e->multi, slot->easy);
}

static void collect_done(struct engine *e)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        struct slot *slot = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
        int failure = classify(e, easy, rc);
        curl_multi_remove_handle(e->multi, easy);
        record(e, slot->second, slot->intended, time_monotonic(), failure,
               failure < 0 ? NULL : slot->error[0] ? slot->error : curl_easy_strerror(rc));
        e->free_slots[e->n_free++] = slot;
    }
}

/* Queues every request whose intended time has come. */
static void schedule(struct engine *e, double now, uint64_t *n_sched)
{
    for (;;) {
        double offset = (double)*n_sched / e->spec->rate;
        if (e->t0 + offset > now || (e->spec->duration > 0 && offset >= e->spec->duration))
            break;
        size_t index = (size_t)offset;
        struct second *s = second_at(e, index);
        s->sent++;
        s->pending++;
        e->sent++;
        backlog_push(&e->backlog, e->t0 + offset, index);
        (*n_sched)++;
    }
    if (e->backlog.count > e->max_backlog)
        e->max_backlog = e->backlog.count;
}

/* Fails as timeouts the queued requests that waited longer than the timeout. */
static void expire_backlog(struct engine *e, double now)
{
    while (e->backlog.count > 0 && now - e->backlog.times[e->backlog.head] >= e->spec->timeout) {
        double t;
        size_t second;
        backlog_pop(&e->backlog, &t, &second);
        record(e, second, t, now, TRAFFIC_FAIL_TIMEOUT,
               "no free connection within the timeout (raise connections)");
    }
}

static void loop(struct engine *e, volatile sig_atomic_t *stop)
{
    uint64_t n_sched = 0;
    bool stopping = false;
    int running = 0;

    for (;;) {
        double now = time_monotonic();
        if ((stop != NULL && *stop) ||
            (e->spec->duration > 0 && now - e->t0 >= e->spec->duration))
            stopping = true;
        if (!stopping)
            schedule(e, now, &n_sched);
        expire_backlog(e, now);
        while (e->backlog.count > 0 && e->n_free > 0)
            start_request(e, now);
        curl_multi_perform(e->multi, &running);
        collect_done(e);
        close_seconds(e, time_monotonic(), false);
        if (stopping && e->backlog.count == 0 && e->n_free == e->spec->connections)
            break;

        double next = stopping ? now + 0.05 : e->t0 + (double)n_sched / e->spec->rate;
        double wait = next - time_monotonic();
        if (wait > 0.05)
            wait = 0.05;
        if (wait > 0)
            curl_multi_poll(e->multi, NULL, 0, (int)ceil(wait * 1000.0), NULL);
    }
}

static json_t *result_json(struct engine *e, double wall0, double elapsed)
{
    char stamp[40];

    time_format_iso8601(wall0, stamp, sizeof(stamp));
    return json_pack("{s:s, s:s, s:s, s:f, s:f, s:i, s:f, s:s, s:f, s:f, s:I, s:I, s:o, s:o, "
                     "s:{s:s, s:i}, s:o, s:I, s:o, s:o}",
                     "url", e->spec->url, "kind", e->spec->kind == TRAFFIC_TCP ? "tcp" : "http",
                     "method", e->spec->kind == TRAFFIC_TCP ? "CONNECT" : e->spec->method,
                     "rate", e->spec->rate, "duration", e->spec->duration, "connections",
                     e->spec->connections, "timeout", e->spec->timeout, "start", stamp,
                     "start_epoch", wall0, "elapsed", elapsed, "sent", (json_int_t)e->sent,
                     "succeeded", (json_int_t)e->succeeded, "failed", failed_json(e->failed),
                     "latency_ms", histogram_summary_json(&e->total), "histogram", "unit", "us",
                     "sub_buckets", (int)HIST_SUB, "send_lag_ms", histogram_summary_json(&e->lag),
                     "max_backlog", (json_int_t)e->max_backlog, "errors", json_incref(e->errors),
                     "timeline", json_incref(e->timeline));
}

static void engine_release(struct engine *e)
{
    for (int i = 0; e->slots != NULL && i < e->spec->connections; i++) {
        if (e->slots[i].easy != NULL)
            curl_easy_cleanup(e->slots[i].easy);
    }
    if (e->multi != NULL)
        curl_multi_cleanup(e->multi);
    curl_slist_free_all(e->headers);
    for (size_t i = 0; i < e->n_seconds; i++)
        free(e->seconds[i].hist);
    free(e->seconds);
    free(e->slots);
    free(e->free_slots);
    free(e->backlog.times);
    free(e->backlog.seconds);
    json_decref(e->timeline);
    json_decref(e->errors);
}

json_t *traffic_run(const struct traffic_spec *spec, volatile sig_atomic_t *stop,
                    struct err *err)
{
    struct engine e;
    json_t *result = NULL;
    double wall0;

    memset(&e, 0, sizeof(e));
    e.spec = spec;
    e.timeline = json_array();
    e.errors = json_object();
    histogram_init(&e.total);
    histogram_init(&e.lag);
    e.multi = curl_multi_init();
    if (e.multi == NULL) {
        err_set(err, "cannot start the traffic: curl_multi_init failed");
        goto cleanup;
    }
    curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, (long)spec->connections);
    if (slots_init(&e, err) != 0)
        goto cleanup;

    log_info("traffic", "start url=%s rate=%g duration=%g connections=%d", spec->url,
             spec->rate, spec->duration, spec->connections);
    wall0 = time_wall();
    e.t0 = time_monotonic();
    loop(&e, stop);
    double elapsed = time_monotonic() - e.t0;
    close_seconds(&e, time_monotonic(), true);
    log_info("traffic", "stop url=%s sent=%llu succeeded=%llu", spec->url,
             (unsigned long long)e.sent, (unsigned long long)e.succeeded);
    result = result_json(&e, wall0, elapsed);

cleanup:
    engine_release(&e);
    return result;
}
