/* The libcurl transport: a multi handle with one reused easy handle per connection, for HTTPS. */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traffic/engine.h"
#include "util/timeutil.h"

/* One transfer slot; an easy handle is reused so its connection stays open. */
struct slot {
    CURL *easy;
    double intended;     /* monotonic time the request was meant to be sent */
    size_t second;
    char error[CURL_ERROR_SIZE];
};

struct curl_state {
    CURLM *multi;
    struct curl_slist *headers;
    struct slot *slots;
    struct slot **idle;  /* the first engine->idle entries are free slots */
};

static size_t discard_body(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* Maps a finished transfer to a failure kind, or -1 for a success. */
static int classify(const struct engine *e, CURL *easy, CURLcode rc)
{
    long status = 0, os_errno = 0;

    switch (rc) {
    case CURLE_OK:
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        return traffic_status_expected(e->spec, status) ? -1 : TRAFFIC_FAIL_BAD_STATUS;
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

static void setup_easy(struct curl_state *st, const struct traffic_spec *spec, struct slot *slot)
{
    CURL *easy = slot->easy;

    curl_easy_setopt(easy, CURLOPT_URL, spec->connect_url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    /* Traffic goes to the target itself, never through a proxy from the environment. */
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_PRIVATE, slot);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, slot->error);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, spec->verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, spec->verify_tls ? 2L : 0L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, spec->method);
    if (strcmp(spec->method, "HEAD") == 0)
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    if (spec->body != NULL)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, spec->body);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, st->headers);
}

static int curl_init(struct engine *e, struct err *err)
{
    const struct traffic_spec *spec = e->spec;
    struct curl_state *st = calloc(1, sizeof(*st));

    if (st == NULL)
        abort();
    e->state = st;
    st->multi = curl_multi_init();
    st->slots = calloc((size_t)spec->connections, sizeof(struct slot));
    st->idle = calloc((size_t)spec->connections, sizeof(struct slot *));
    if (st->slots == NULL || st->idle == NULL)
        abort();
    if (st->multi == NULL)
        return err_set(err, "cannot start the traffic: curl_multi_init failed");
    curl_multi_setopt(st->multi, CURLMOPT_MAXCONNECTS, (long)spec->connections);
    for (size_t i = 0; spec->headers != NULL && spec->headers[i] != NULL; i++)
        st->headers = curl_slist_append(st->headers, spec->headers[i]);
    for (int i = 0; i < spec->connections; i++) {
        st->slots[i].easy = curl_easy_init();
        if (st->slots[i].easy == NULL)
            return err_set(err, "cannot create a transfer for the traffic");
        setup_easy(st, spec, &st->slots[i]);
        st->idle[e->idle++] = &st->slots[i];
    }
    return 0;
}

static void curl_start(struct engine *e, double intended, size_t second, double now)
{
    struct curl_state *st = e->state;
    struct slot *slot = st->idle[--e->idle];
    long ms = (long)ceil((e->spec->timeout - (now - intended)) * 1000.0);

    slot->intended = intended;
    slot->second = second;
    slot->error[0] = '\0';
    curl_easy_setopt(slot->easy, CURLOPT_TIMEOUT_MS, ms > 1 ? ms : 1L);
    curl_multi_add_handle(st->multi, slot->easy);
}

static void collect_done(struct engine *e)
{
    struct curl_state *st = e->state;
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(st->multi, &left)) != NULL) {
        struct slot *slot = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&slot);
        int failure = classify(e, easy, rc);
        const char *message = NULL;

        if (failure >= 0)
            message = slot->error[0] != '\0' ? slot->error : curl_easy_strerror(rc);
        curl_multi_remove_handle(st->multi, easy);
        engine_record(e, slot->second, slot->intended, time_monotonic(), failure, message);
        st->idle[e->idle++] = slot;
    }
}

static void curl_wait(struct engine *e, int timeout_ms)
{
    struct curl_state *st = e->state;
    int running;

    curl_multi_perform(st->multi, &running);
    collect_done(e);
    if (timeout_ms > 0) {
        curl_multi_poll(st->multi, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(st->multi, &running);
        collect_done(e);
    }
}

static void curl_release(struct engine *e)
{
    struct curl_state *st = e->state;

    if (st == NULL)
        return;
    for (int i = 0; st->slots != NULL && i < e->spec->connections; i++) {
        if (st->slots[i].easy != NULL)
            curl_easy_cleanup(st->slots[i].easy);
    }
    if (st->multi != NULL)
        curl_multi_cleanup(st->multi);
    curl_slist_free_all(st->headers);
    free(st->slots);
    free(st->idle);
    free(st);
    e->state = NULL;
}

const struct transport transport_curl = {
    .init = curl_init,
    .start = curl_start,
    .wait = curl_wait,
    .release = curl_release,
};
