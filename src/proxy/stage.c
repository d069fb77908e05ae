/* Toxic behaviour on one link: holding, delaying, pacing, slicing, cutting, closing or resetting its bytes. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/internal.h"

/* A bandwidth link that has been idle longer than this starts a new
 * schedule, so idle time does not turn into a burst. Shorter gaps are made
 * up, so timer lateness does not lower the average rate. */
#define BANDWIDTH_SLACK_US 10000

uint64_t proxy_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

size_t stage_index(const struct stage *stage)
{
    const struct link *link = stage->link;

    for (size_t i = 0; i < link->n_stages; i++) {
        if (link->stages[i] == stage)
            return i;
    }
    assert(!"stage not on its link");
    return link->n_stages;
}

static bool conn_closed(const struct stage *stage)
{
    return stage->link->conn->state == CONN_CLOSED;
}

/* Arms the stage's timer. libevent measures timeouts on a coarse clock
 * (a few milliseconds of granularity without EVENT_BASE_FLAG_PRECISE_TIMER),
 * so the due time is kept on the precise clock and stage_on_timer re-arms a
 * timer that fired early. */
static void arm_timer(struct stage *stage, uint64_t delay_us)
{
    struct timeval tv = { .tv_sec = (time_t)(delay_us / 1000000u),
                          .tv_usec = (suseconds_t)(delay_us % 1000000u) };

    stage->timer_due_us = proxy_now_us() + delay_us;
    evtimer_add(&stage->timer, &tv);
}

/* Takes exactly len bytes from the head of the stage's queue as one chunk. */
static struct chunk *take_bytes(struct stage *stage, size_t len)
{
    struct chunk_queue *q = &stage->queue;

    if (len >= q->head->len)
        return queue_pop(q);
    q->bytes -= len;
    return chunk_split(q->head, len);
}

/* Passes the stage's end on once its queue is empty. */
static void forward_end(struct stage *stage, size_t index)
{
    enum link_end end = stage->end;

    if (end == END_NONE || stage->queue.head != NULL || conn_closed(stage))
        return;
    stage->end = END_NONE;
    link_push_end(stage->link, index + 1, end);
}

/* Ends the connection from this stage. The bytes queued here are dropped,
 * and the close follows the bytes that later stages still have queued. */
static void finish_with_close(struct stage *stage, size_t index)
{
    struct chunk *c;

    stage->finished = true;
    stage->end = END_NONE;
    evtimer_del(&stage->timer);
    while ((c = queue_pop(&stage->queue)) != NULL)
        link_drop(stage->link, c);
    link_push_end(stage->link, index + 1, END_CLOSE);
}

static void pass_all(struct stage *stage, size_t index)
{
    struct chunk *c;

    while (!conn_closed(stage) && (c = queue_pop(&stage->queue)) != NULL)
        link_push(stage->link, index + 1, c);
}

static void run_latency(struct stage *stage, size_t index)
{
    uint64_t now = proxy_now_us();

    while (stage->queue.head != NULL && stage->queue.head->due_us <= now) {
        link_push(stage->link, index + 1, queue_pop(&stage->queue));
        if (conn_closed(stage))
            return;
    }
    if (stage->queue.head != NULL)
        arm_timer(stage, stage->queue.head->due_us - now);
    else
        forward_end(stage, index);
}

static void run_bandwidth(struct stage *stage, size_t index)
{
    int64_t rate = stage->toxic->config.attrs[ATTR_RATE_KBPS];
    size_t piece = toxic_bandwidth_piece(rate);
    uint64_t now = proxy_now_us();

    if (stage->next_us + BANDWIDTH_SLACK_US < now)
        stage->next_us = now;
    while (stage->queue.head != NULL) {
        size_t len = stage->queue.head->len < piece ? stage->queue.head->len : piece;

        if (stage->next_us > now) {
            arm_timer(stage, stage->next_us - now);
            return;
        }
        stage->next_us += toxic_bandwidth_interval_us(len, rate);
        link_push(stage->link, index + 1, take_bytes(stage, len));
        if (conn_closed(stage))
            return;
    }
    forward_end(stage, index);
}

static void run_slicer(struct stage *stage, size_t index)
{
    const int64_t *attrs = stage->toxic->config.attrs;
    struct proxy_server *server = stage->link->conn->proxy->server;
    uint64_t now = proxy_now_us();

    while (stage->queue.head != NULL) {
        size_t size;

        if (attrs[ATTR_SLICER_DELAY_US] > 0 && stage->next_us > now) {
            arm_timer(stage, stage->next_us - now);
            return;
        }
        size = toxic_slicer_size(attrs[ATTR_SLICER_AVERAGE], attrs[ATTR_SLICER_VARIATION],
                                 proxy_random(server));
        link_push(stage->link, index + 1, take_bytes(stage, size));
        if (conn_closed(stage))
            return;
        stage->next_us = now + (uint64_t)attrs[ATTR_SLICER_DELAY_US];
    }
    forward_end(stage, index);
}

/* Lets through at most `bytes` bytes, then closes the connection: at once
 * when the limit is reached, or when more data arrives after a limit of 0. */
static void run_limit_data(struct stage *stage, size_t index)
{
    uint64_t limit = (uint64_t)stage->toxic->config.attrs[ATTR_LIMIT_BYTES];

    while (stage->queue.head != NULL) {
        uint64_t remaining = stage->passed < limit ? limit - stage->passed : 0;
        size_t len = stage->queue.head->len;

        if (remaining == 0)
            break;
        if (len > remaining)
            len = (size_t)remaining;
        stage->passed += len;
        link_push(stage->link, index + 1, take_bytes(stage, len));
        if (conn_closed(stage))
            return;
        if (stage->passed >= limit)
            break;
    }
    if (stage->passed >= limit && (stage->queue.head != NULL || limit > 0)) {
        finish_with_close(stage, index);
        return;
    }
    forward_end(stage, index);
}

static void run_slow_close(struct stage *stage, size_t index)
{
    pass_all(stage, index);
    if (conn_closed(stage) || stage->end == END_NONE || stage->closing_armed)
        return;
    stage->closing_armed = true;
    arm_timer(stage, (uint64_t)stage->toxic->config.attrs[ATTR_SLOW_CLOSE_DELAY_MS] * 1000u);
}

void stage_run(struct stage *stage)
{
    size_t index;

    if (conn_closed(stage) || stage->finished)
        return;
    index = stage_index(stage);
    if (!stage->active) {
        pass_all(stage, index);
        forward_end(stage, index);
        return;
    }
    switch (stage->toxic->config.type) {
    case TOXIC_LATENCY:
        run_latency(stage, index);
        break;
    case TOXIC_BANDWIDTH:
        run_bandwidth(stage, index);
        break;
    case TOXIC_SLICER:
        run_slicer(stage, index);
        break;
    case TOXIC_LIMIT_DATA:
        run_limit_data(stage, index);
        break;
    case TOXIC_SLOW_CLOSE:
        run_slow_close(stage, index);
        break;
    case TOXIC_TIMEOUT:
        /* Holds everything, the end of the stream too, until it fires or is removed. */
        break;
    case TOXIC_NOOP:
    case TOXIC_RESET_PEER:
    default:
        pass_all(stage, index);
        forward_end(stage, index);
        break;
    }
}

static void stage_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct stage *stage = arg;
    enum toxic_type type = stage->toxic->config.type;
    uint64_t now;

    (void)fd;
    (void)what;
    if (conn_closed(stage) || stage->finished)
        return;
    now = proxy_now_us();
    if (now < stage->timer_due_us) {
        uint64_t left = stage->timer_due_us - now;
        arm_timer(stage, left);
        return;
    }
    if (type == TOXIC_TIMEOUT && stage->active) {
        finish_with_close(stage, stage_index(stage));
    } else if (type == TOXIC_RESET_PEER && stage->active) {
        conn_close(stage->link->conn, true);
    } else if (type == TOXIC_SLOW_CLOSE && stage->closing_armed) {
        stage->closing_armed = false;
        stage->end = stage->end == END_NONE ? END_HALF : stage->end;
        forward_end(stage, stage_index(stage));
    } else {
        stage_run(stage);
    }
}

/* Starts the clock of a timeout or reset_peer toxic; it runs from when the
 * toxic meets the link (connection opened, toxic added or updated). */
static void arm_deadline(struct stage *stage)
{
    enum toxic_type type = stage->toxic->config.type;
    int64_t ms = stage->toxic->config.attrs[ATTR_TIMEOUT_MS];

    if (!stage->active || stage->finished)
        return;
    if (type == TOXIC_RESET_PEER || (type == TOXIC_TIMEOUT && ms > 0))
        arm_timer(stage, (uint64_t)ms * 1000u);
}

void stage_init(struct stage *stage, struct link *link, struct proxy_toxic *toxic)
{
    struct proxy_server *server = link->conn->proxy->server;

    memset(stage, 0, sizeof(*stage));
    stage->link = link;
    stage->toxic = toxic;
    stage->active = toxic_draw(toxic->config.toxicity, proxy_random(server));
    evtimer_assign(&stage->timer, server->base, stage_on_timer, stage);
    arm_deadline(stage);
}

void stage_accept(struct stage *stage, struct chunk *chunk)
{
    if (stage->finished) {
        link_drop(stage->link, chunk);
        return;
    }
    if (stage->active && stage->toxic->config.type == TOXIC_LATENCY) {
        const int64_t *attrs = stage->toxic->config.attrs;
        struct proxy_server *server = stage->link->conn->proxy->server;
        uint64_t due = proxy_now_us() + toxic_latency_delay_us(attrs[ATTR_LATENCY_MS],
                                                               attrs[ATTR_JITTER_MS],
                                                               proxy_random(server));
        /* Jitter must not reorder bytes: a chunk never leaves before the one ahead. */
        if (due < stage->last_due_us)
            due = stage->last_due_us;
        stage->last_due_us = due;
        chunk->due_us = due;
    }
    queue_push(&stage->queue, chunk);
    stage_run(stage);
}

void stage_accept_end(struct stage *stage, enum link_end end)
{
    if (stage->finished)
        return;
    if (end > stage->end)
        stage->end = end;
    stage_run(stage);
}

void stage_refresh(struct stage *stage, bool redraw)
{
    enum toxic_type type = stage->toxic->config.type;

    if (stage->finished)
        return;
    if (redraw)
        stage->active = toxic_draw(stage->toxic->config.toxicity,
                                   proxy_random(stage->link->conn->proxy->server));
    if (type == TOXIC_TIMEOUT || type == TOXIC_RESET_PEER) {
        evtimer_del(&stage->timer);
        arm_deadline(stage);
    }
    stage_run(stage);
}

void stage_stop(struct stage *stage)
{
    evtimer_del(&stage->timer);
}
