/* One direction of a connection: reading the source, the chain of toxic stages, and writing the destination. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "proxy/internal.h"
#include "util/log.h"

/* Chunks gathered into one sendmsg call. */
#define WRITE_IOV_MAX 64

struct chunk *chunk_new(const char *data, size_t len)
{
    struct chunk *c = malloc(sizeof(*c) + len);

    if (c == NULL)
        abort();
    c->next = NULL;
    c->due_us = 0;
    c->off = 0;
    c->len = (uint32_t)len;
    c->size = (uint32_t)len;
    memcpy(c->data, data, len);
    return c;
}

struct chunk *chunk_split(struct chunk *c, size_t len)
{
    struct chunk *head;

    assert(len > 0);
    assert(len < c->len);
    head = chunk_new(c->data + c->off, len);
    head->due_us = c->due_us;
    c->off += (uint32_t)len;
    c->len -= (uint32_t)len;
    return head;
}

void queue_push(struct chunk_queue *q, struct chunk *c)
{
    c->next = NULL;
    if (q->tail != NULL)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->bytes += c->len;
}

struct chunk *queue_pop(struct chunk_queue *q)
{
    struct chunk *c = q->head;

    if (c == NULL)
        return NULL;
    q->head = c->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->bytes -= c->len;
    c->next = NULL;
    return c;
}

static void queue_free(struct chunk_queue *q)
{
    struct chunk *c;

    while ((c = queue_pop(q)) != NULL)
        free(c);
}

void link_assert_valid(const struct link *link)
{
#ifndef NDEBUG
    size_t total = 0;

    for (size_t i = 0; i <= link->n_stages; i++) {
        const struct chunk_queue *q = i < link->n_stages ? &link->stages[i]->queue : &link->out;
        size_t bytes = 0;
        const struct chunk *last = NULL;

        for (const struct chunk *c = q->head; c != NULL; c = c->next) {
            assert(c->len > 0);
            assert((size_t)c->off + c->len <= c->size);
            bytes += c->len;
            last = c;
        }
        assert(bytes == q->bytes);
        assert(last == q->tail);
        assert(i == link->n_stages || link->stages[i]->link == link);
        total += bytes;
    }
    assert(total == link->queued);
    assert(!link->src_eof || !event_pending(link->src_read, EV_READ, NULL));
#else
    (void)link;
#endif
}

void link_init(struct link *link, struct conn *conn, enum toxic_stream stream)
{
    memset(link, 0, sizeof(*link));
    link->conn = conn;
    link->stream = stream;
}

/* Resumes reading once the link buffers little data, and pauses it while the link buffers much. */
static void link_update_flow(struct link *link)
{
    if (link->conn->state != CONN_OPEN || link->src_eof)
        return;
    if (!link->paused && link->queued > LINK_HIGH_WATER) {
        event_del(link->src_read);
        link->paused = true;
    } else if (link->paused && link->queued < LINK_LOW_WATER) {
        event_add(link->src_read, NULL);
        link->paused = false;
    }
}

/* Ends the direction once out is empty: shutdown for a half-close, or close the conn. */
static void link_finish_output(struct link *link)
{
    if (link->out_end == END_CLOSE) {
        conn_close(link->conn, false);
        return;
    }
    if (link->out_end == END_HALF && !link->shut) {
        shutdown(link->dst_fd, SHUT_WR);
        link->shut = true;
        conn_check_done(link->conn);
    }
}

/* Writes out to dst until it is empty or dst would block. */
static void link_flush(struct link *link)
{
    struct proxy *proxy = link->conn->proxy;

    while (link->out.head != NULL) {
        struct iovec iov[WRITE_IOV_MAX];
        struct msghdr msg;
        size_t n = 0, total = 0;
        ssize_t written;

        for (struct chunk *c = link->out.head; c != NULL && n < WRITE_IOV_MAX; c = c->next) {
            iov[n].iov_base = c->data + c->off;
            iov[n].iov_len = c->len;
            total += c->len;
            n++;
        }
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = iov;
        msg.msg_iovlen = n;
        written = sendmsg(link->dst_fd, &msg, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            log_debug("proxy", "write failed proxy=%s stream=%s error=\"%s\"", proxy->name,
                      toxic_stream_name(link->stream), strerror(errno));
            conn_close(link->conn, true);
            return;
        }
        proxy->sent[link->stream] += (uint64_t)written;
        link->queued -= (size_t)written;
        link->out.bytes -= (size_t)written;
        for (size_t left = (size_t)written; left > 0;) {
            struct chunk *c = link->out.head;
            if (left < c->len) {
                c->off += (uint32_t)left;
                c->len -= (uint32_t)left;
                break;
            }
            left -= c->len;
            link->out.head = c->next;
            if (link->out.head == NULL)
                link->out.tail = NULL;
            free(c);
        }
        if ((size_t)written < total)
            break;
    }

    if (link->out.head != NULL) {
        event_add(link->dst_write, NULL);
    } else {
        event_del(link->dst_write);
        link_finish_output(link);
        if (link->conn->state == CONN_CLOSED)
            return;
    }
    link_update_flow(link);
}

void link_on_writable(struct link *link)
{
    link_flush(link);
}

void link_push(struct link *link, size_t index, struct chunk *chunk)
{
    if (index < link->n_stages) {
        stage_accept(link->stages[index], chunk);
        return;
    }
    queue_push(&link->out, chunk);
    /* Writing waits for the writable event when earlier bytes are still queued. */
    if (link->out.head == chunk)
        link_flush(link);
}

void link_push_end(struct link *link, size_t index, enum link_end end)
{
    if (index < link->n_stages) {
        stage_accept_end(link->stages[index], end);
        return;
    }
    if (end > link->out_end)
        link->out_end = end;
    if (link->out.head == NULL)
        link_finish_output(link);
}

void link_drop(struct link *link, struct chunk *chunk)
{
    link->queued -= chunk->len;
    free(chunk);
    link_update_flow(link);
}

/* Sends bytes with no toxic in the way: straight from the read buffer, and
 * only what the socket does not take is copied into out. */
static void link_send_direct(struct link *link, const char *data, size_t len)
{
    ssize_t written = send(link->dst_fd, data, len, MSG_NOSIGNAL);

    if (written < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(link->conn, true);
            return;
        }
        written = 0;
    }
    link->conn->proxy->sent[link->stream] += (uint64_t)written;
    if ((size_t)written == len)
        return;
    link->queued += len - (size_t)written;
    queue_push(&link->out, chunk_new(data + written, len - (size_t)written));
    event_add(link->dst_write, NULL);
}

/* Handles a read that returned 0 or failed. Returns true when reading must stop. */
static bool link_read_ended(struct link *link, ssize_t n)
{
    if (n == 0) {
        link->src_eof = true;
        event_del(link->src_read);
        link_push_end(link, 0, END_HALF);
        return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return true;
    log_debug("proxy", "read failed proxy=%s stream=%s error=\"%s\"", link->conn->proxy->name,
              toxic_stream_name(link->stream), strerror(errno));
    conn_close(link->conn, true);
    return true;
}

void link_on_readable(struct link *link)
{
    struct conn *conn = link->conn;
    char *buffer = conn->proxy->server->scratch;

    for (int i = 0; i < PROXY_READS_PER_CALLBACK; i++) {
        ssize_t n = recv(link->src_fd, buffer, PROXY_READ_SIZE, 0);

        if (n <= 0) {
            link_read_ended(link, n);
            break;
        }
        conn->proxy->received[link->stream] += (uint64_t)n;
        if (link->n_stages == 0 && link->out.head == NULL) {
            link_send_direct(link, buffer, (size_t)n);
        } else {
            link->queued += (size_t)n;
            link_push(link, 0, chunk_new(buffer, (size_t)n));
        }
        if (conn->state == CONN_CLOSED)
            return;
        link_update_flow(link);
        if (link->paused || link->out.head != NULL || (size_t)n < PROXY_READ_SIZE)
            break;
    }
    if (conn->state != CONN_CLOSED)
        link_assert_valid(link);
}

static struct stage **link_find_stage(struct link *link, const struct proxy_toxic *toxic)
{
    for (size_t i = 0; i < link->n_stages; i++) {
        if (link->stages[i]->toxic == toxic)
            return &link->stages[i];
    }
    return NULL;
}

void link_add_stage(struct link *link, struct proxy_toxic *toxic)
{
    struct stage **grown = realloc(link->stages, sizeof(*grown) * (link->n_stages + 1));
    struct stage *stage = calloc(1, sizeof(*stage));

    if (grown == NULL || stage == NULL)
        abort();
    link->stages = grown;
    link->stages[link->n_stages++] = stage;
    stage_init(stage, link, toxic);
}

void link_remove_stage(struct link *link, struct proxy_toxic *toxic)
{
    struct stage **slot = link_find_stage(link, toxic);
    struct stage *stage;
    size_t index;
    bool closes;
    struct chunk *c;

    if (slot == NULL)
        return;
    stage = *slot;
    index = (size_t)(slot - link->stages);
    stage_stop(stage);
    memmove(slot, slot + 1, sizeof(*slot) * (link->n_stages - index - 1));
    link->n_stages--;

    /* A removed timeout toxic ends the connections it held; any other toxic
     * hands what it held to the next stage, so no byte is lost. */
    closes = toxic->config.type == TOXIC_TIMEOUT && stage->active;
    if (closes) {
        link->queued -= stage->queue.bytes;
        queue_free(&stage->queue);
        conn_close(link->conn, false);
    }
    while ((c = queue_pop(&stage->queue)) != NULL) {
        if (link->conn->state == CONN_CLOSED) {
            free(c);
            continue;
        }
        link_push(link, index, c);
    }
    if (stage->end != END_NONE && link->conn->state != CONN_CLOSED)
        link_push_end(link, index, stage->end);
    free(stage);
    if (link->conn->state != CONN_CLOSED)
        link_assert_valid(link);
}

void link_update_stage(struct link *link, struct proxy_toxic *toxic, bool redraw)
{
    struct stage **slot = link_find_stage(link, toxic);

    if (slot != NULL)
        stage_refresh(*slot, redraw);
}

void link_release(struct link *link)
{
    for (size_t i = 0; i < link->n_stages; i++) {
        stage_stop(link->stages[i]);
        queue_free(&link->stages[i]->queue);
        free(link->stages[i]);
    }
    free(link->stages);
    link->stages = NULL;
    link->n_stages = 0;
    queue_free(&link->out);
    link->queued = 0;
}
