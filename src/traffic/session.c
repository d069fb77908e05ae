/* Experiment-wide traffic on its own thread, started before the steady state and stopped after the rollbacks. */
#include <pthread.h>
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
};

static void *session_main(void *arg)
{
    struct traffic_session *s = arg;

    s->result = traffic_run(&s->spec, &s->stop, &s->err);
    return NULL;
}

int traffic_session_start(json_t *decl, struct traffic_session **out, struct err *err)
{
    struct traffic_session *s = calloc(1, sizeof(*s));

    if (s == NULL)
        abort();
    if (traffic_spec_parse(decl, &s->spec, err) != 0) {
        traffic_spec_release(&s->spec);
        free(s);
        return -1;
    }
    /* Run-wide traffic lasts as long as the run; its duration is not a limit. */
    s->spec.duration = 0;
    if (pthread_create(&s->thread, NULL, session_main, s) != 0) {
        traffic_spec_release(&s->spec);
        free(s);
        return err_set(err, "cannot start a thread for the traffic");
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
    traffic_spec_release(&s->spec);
    free(s);
    return result;
}
