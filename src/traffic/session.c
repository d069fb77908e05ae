/* Experiment-wide traffic on its own thread, started before the steady state and stopped after the rollbacks. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "traffic/traffic.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The thread owns spec and writes result and err; the caller reads them
 * only after pthread_join. */
struct traffic_session {
    struct traffic_spec spec;
    volatile sig_atomic_t stop;
    pthread_t thread;
    json_t *result;
    struct err err;
    /* Set once the first request is sent or the traffic has ended. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, ended;
};

static void session_started(void *arg)
{
    struct traffic_session *s = arg;

    pthread_mutex_lock(&s->lock);
    s->started = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void *session_main(void *arg)
{
    struct traffic_session *s = arg;

    s->result = traffic_run_notify(&s->spec, &s->stop, &s->err, session_started, s);
    pthread_mutex_lock(&s->lock);
    s->ended = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void session_free(struct traffic_session *s)
{
    traffic_spec_release(&s->spec);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

int traffic_session_start(json_t *decl, struct traffic_session **out, struct err *err)
{
    struct traffic_session *s = calloc(1, sizeof(*s));

    bool started;

    if (s == NULL)
        abort();
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (traffic_spec_parse(decl, &s->spec, err) != 0) {
        session_free(s);
        return -1;
    }
    /* Run-wide traffic lasts as long as the run; its duration is not a limit. */
    s->spec.duration = 0;
    if (pthread_create(&s->thread, NULL, session_main, s) != 0) {
        session_free(s);
        return err_set(err, "cannot start a thread for the traffic");
    }
    /* Wait until requests flow, so the steady state and the method that
     * follow fall inside the timeline. */
    pthread_mutex_lock(&s->lock);
    while (!s->started && !s->ended)
        pthread_cond_wait(&s->cond, &s->lock);
    started = s->started;
    pthread_mutex_unlock(&s->lock);
    if (!started) {
        pthread_join(s->thread, NULL);
        err_set(err, "%s", s->err.msg);
        json_decref(s->result);
        session_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

json_t *traffic_session_finish(struct traffic_session *s, volatile sig_atomic_t *interrupted)
{
    json_t *result;

    if (s->spec.tail > 0 && (interrupted == NULL || !*interrupted)) {
        log_info("traffic", "sending %g s more after the run", s->spec.tail);
        time_sleep(s->spec.tail, interrupted);
    }
    s->stop = 1;
    pthread_join(s->thread, NULL);
    if (s->result == NULL)
        log_error("traffic", "the run-wide traffic did not run: %s", s->err.msg);
    result = s->result != NULL ? s->result : json_pack("{s:s}", "error", s->err.msg);
    session_free(s);
    return result;
}
