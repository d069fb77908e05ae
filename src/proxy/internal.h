/* Structures shared by the proxy's source files: server, proxies, connections, links, stages, chunks. */
#ifndef AFTERSHOCK_PROXY_INTERNAL_H
#define AFTERSHOCK_PROXY_INTERNAL_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/proxy.h"
#include "proxy/toxic.h"
#include "util/err.h"

/* Bytes read from a socket in one call, into the server's scratch buffer. */
#define PROXY_READ_SIZE (256 * 1024)
/* Reads per readiness callback, so one busy link cannot starve the others. */
#define PROXY_READS_PER_CALLBACK 4
/* A link stops reading its source while it contains more than this many bytes
 * (in toxics and waiting to be written), and reads again below the low mark. */
#define LINK_HIGH_WATER (1024 * 1024)
#define LINK_LOW_WATER (256 * 1024)
/* Addresses one listen or upstream string may resolve to. */
#define ADDR_MAX 4

/* Returns the monotonic clock in microseconds. */
uint64_t proxy_now_us(void);

/* ---- addresses (addr.c) ---- */

struct addr_list {
    int count;
    struct sockaddr_storage addrs[ADDR_MAX];
    socklen_t lens[ADDR_MAX];
};

/* Splits "host:port" or "[v6]:port" into host and port. An empty host
 * becomes 127.0.0.1. Returns 0 or -1 with e set (400). */
int addr_split(const char *text, char *host, size_t host_size, int *port, struct api_error *e);

/* Resolves "host:port" for connecting (upstream) or binding (listen).
 * "localhost" yields both ::1 and 127.0.0.1. Returns 0 or -1 with e set. */
int addr_resolve(const char *text, bool passive, struct addr_list *out, struct api_error *e);

/* Formats an address as "127.0.0.1:80" or "[::1]:80". */
void addr_format(const struct sockaddr *sa, char *out, size_t size);

/* Binds and listens on every address of text (both loopback families for
 * localhost, on one port even when the port is 0). Fills fds and *n and
 * writes the first bound address to bound. Returns 0 or -1 with e set to a
 * 500 error that names the address, as Toxiproxy does. */
int addr_listen(const char *text, int *fds, int *n, char *bound, size_t bound_size,
                struct api_error *e);

/* ---- chunks (link.c) ---- */

/* Bytes read in one call. Invariant: off + len <= size, and len > 0 while
 * the chunk is queued. */
struct chunk {
    struct chunk *next;
    uint64_t due_us;     /* latency: the earliest time it may leave the stage it is in */
    uint32_t off;
    uint32_t len;
    uint32_t size;
    char data[];
};

/* FIFO of chunks. Invariant: bytes is the sum of len over the list; tail is
 * NULL exactly when head is. */
struct chunk_queue {
    struct chunk *head;
    struct chunk *tail;
    size_t bytes;
};

/* End of a direction: half-close (shutdown write, the peer may go on
 * sending the other way) or closing the whole connection. */
enum link_end {
    END_NONE = 0,
    END_HALF = 1,
    END_CLOSE = 2,
};

struct link;

/* One toxic applied to one link. Invariants: toxic points at a toxic of
 * the link's proxy on the link's stream. end is set only after every chunk
 * that came before it, so it leaves only once queue is empty. timer is
 * pending only while the stage waits for a due time. */
struct stage {
    struct link *link;
    struct proxy_toxic *toxic;
    bool active;              /* toxicity drawn for this link */
    bool finished;            /* limit_data spent or timeout fired: input is dropped */
    struct chunk_queue queue;
    enum link_end end;
    struct event timer;
    uint64_t timer_due_us;    /* when the armed timer is due, on the precise clock */
    uint64_t next_us;         /* bandwidth, slicer: when the next bytes may leave */
    uint64_t last_due_us;     /* latency: keeps chunks in order */
    uint64_t passed;          /* limit_data: bytes let through so far */
    bool closing_armed;       /* slow_close: the close is waiting for its delay */
};

/* One direction of a connection: bytes read from src go through the stages
 * in order, then to out, then to dst. Invariant: queued equals the bytes in
 * every stage queue plus out; reading from src is disabled while paused or
 * after src_eof. */
struct link {
    struct conn *conn;
    enum toxic_stream stream;
    int src_fd;
    int dst_fd;
    struct event *src_read;
    struct event *dst_write;
    struct stage **stages;
    size_t n_stages;
    struct chunk_queue out;
    enum link_end out_end;
    size_t queued;
    bool paused;
    bool src_eof;
    bool shut;                /* dst was shut down for writing */
};

enum conn_state {
    CONN_CONNECTING,
    CONN_OPEN,
    CONN_CLOSED,
};

/* A client connection and its upstream connection. Invariants: while
 * state is not CONN_CLOSED, the conn is on its proxy's list and its fds are
 * open (upstream_fd from the first connect attempt on). Once CONN_CLOSED,
 * its fds are closed and its events deleted, and it waits on the server's
 * graveyard list to be freed. */
struct conn {
    struct conn *prev, *next;        /* the proxy's list, or the graveyard */
    struct proxy *proxy;
    enum conn_state state;
    int client_fd;
    int upstream_fd;
    int next_addr;                   /* upstream address to try after the current one */
    struct event client_read, client_write, upstream_read, upstream_write;
    struct link links[2];            /* indexed by enum toxic_stream */
};

/* A toxic of a proxy; the stages of its connections point at it. */
struct proxy_toxic {
    struct toxic config;
};

/* One proxy. Invariant: enabled is true exactly when n_listeners > 0;
 * toxics[s] lists the toxics of stream s in insertion order, and every
 * open conn has one stage per toxic, in the same order, on link s. */
struct proxy {
    struct proxy_server *server;
    char *name;
    char *listen;                    /* as configured */
    char bound[128];                 /* listening address, valid while enabled */
    char *upstream;
    bool enabled;
    bool from_config;                /* created from --config; a reload may remove it */
    struct evconnlistener *listeners[ADDR_MAX];
    int n_listeners;
    struct event *accept_retry;      /* re-enables the listeners after accept failed */
    struct addr_list upstream_addrs;
    struct proxy_toxic **toxics[2];
    size_t n_toxics[2];
    struct conn *conns;
    uint64_t received[2], sent[2];   /* bytes per stream, for /metrics */
    uint64_t conns_total;
    uint64_t conns_open;
    double last_warning;             /* upstream failures are logged at most once a second */
    uint64_t suppressed_warnings;
};

/* The event loop and everything on it. Invariants: proxies is sorted by
 * name, and graveyard lists the closed conns not yet freed. */
struct proxy_server {
    struct event_base *base;
    struct evhttp *http;
    char api_address[128];
    struct proxy **proxies;
    size_t n_proxies;
    struct conn *graveyard;
    struct event *reaper;
    struct event *wake;
    int wake_fds[2];
    char *scratch;                   /* PROXY_READ_SIZE bytes shared by every read */
    uint64_t random_state;
};

/* Returns 64 random bits from the server's generator (not for secrets). */
uint64_t proxy_random(struct proxy_server *server);

/* ---- proxies (proxy.c, proxy_config.c) ---- */

/* Input for creating or updating a proxy; NULL fields are absent. */
struct proxy_spec {
    const char *name;
    const char *listen;
    const char *upstream;
    int enabled;                     /* -1 absent, 0 or 1 */
};

/* Reads a proxy body (create: name and upstream required). Returns 0 or -1 with e set. */
int proxy_spec_parse(json_t *body, bool create, struct proxy_spec *spec, struct api_error *e);

struct proxy *proxy_find(struct proxy_server *server, const char *name);
/* Creates a proxy and starts it when enabled. Returns it, or NULL with e
 * set (409 for a duplicate name, 500 when the address cannot be bound). */
struct proxy *proxy_create(struct proxy_server *server, const struct proxy_spec *spec,
                           struct api_error *e);
/* Applies an update; changing listen or upstream restarts the proxy. */
int proxy_update(struct proxy *proxy, const struct proxy_spec *spec, struct api_error *e);
/* Starts listening (enabled true) or stops, closing every connection. */
int proxy_start(struct proxy *proxy, struct api_error *e);
void proxy_stop(struct proxy *proxy);
/* Stops the proxy, removes it from the server and frees it. */
void proxy_delete(struct proxy *proxy);
json_t *proxy_to_json(const struct proxy *proxy);

struct proxy_toxic *proxy_toxic_find(struct proxy *proxy, const char *name);
/* Adds a toxic (ownership of config moves in) to the proxy and to every open connection. */
void proxy_toxic_add(struct proxy *proxy, struct toxic *config);
/* Replaces a toxic's configuration on the proxy and its open connections. */
void proxy_toxic_update(struct proxy *proxy, struct proxy_toxic *toxic, struct toxic *config);
void proxy_toxic_remove(struct proxy *proxy, struct proxy_toxic *toxic);
void proxy_toxics_reset(struct proxy *proxy);

/* Applies a populate body (a JSON array of proxies). On success returns 0
 * and *out gets the list of resulting proxies as JSON; on failure returns
 * -1 with e set, and *out (possibly NULL) lists what was applied first. */
int proxy_populate(struct proxy_server *server, json_t *body, bool from_config, json_t **out,
                   struct api_error *e);

/* ---- connections (conn.c) ---- */

/* Takes over an accepted client socket and starts connecting upstream. */
void conn_accept(struct proxy *proxy, int client_fd);
/* Closes both sockets (with RST when reset) and queues the conn to be freed. */
void conn_close(struct conn *conn, bool reset);
/* Frees the conns on the graveyard. */
void conn_reap(struct proxy_server *server);
/* Called by a link when its direction has ended, to close the conn once both have. */
void conn_check_done(struct conn *conn);

/* ---- links and stages (link.c, stage.c) ---- */

void link_init(struct link *link, struct conn *conn, enum toxic_stream stream);
/* Reads what src has and sends it through the stages. */
void link_on_readable(struct link *link);
/* Writes out to dst. */
void link_on_writable(struct link *link);
/* Delivers a chunk or an end to stage index (n_stages means the writer). */
void link_push(struct link *link, size_t index, struct chunk *chunk);
void link_push_end(struct link *link, size_t index, enum link_end end);
/* Drops a chunk held by the link (timeout, limit_data), keeping queued exact. */
void link_drop(struct link *link, struct chunk *chunk);
/* Appends a stage for toxic; removes or refreshes the stage of toxic. */
void link_add_stage(struct link *link, struct proxy_toxic *toxic);
void link_remove_stage(struct link *link, struct proxy_toxic *toxic);
void link_update_stage(struct link *link, struct proxy_toxic *toxic, bool redraw);
/* Frees stages and queued chunks; the conn is closed. */
void link_release(struct link *link);
/* Checks the link invariants (debug builds only). */
void link_assert_valid(const struct link *link);

struct chunk *chunk_new(const char *data, size_t len);
/* Splits the first len bytes of c off into a new chunk. */
struct chunk *chunk_split(struct chunk *c, size_t len);
void queue_push(struct chunk_queue *q, struct chunk *c);
struct chunk *queue_pop(struct chunk_queue *q);

/* Index of a stage within its link. */
size_t stage_index(const struct stage *stage);
/* Initializes a stage for a toxic on a link; draws toxicity and arms timers. */
void stage_init(struct stage *stage, struct link *link, struct proxy_toxic *toxic);
/* Takes a chunk or an end into the stage and moves on whatever may leave. */
void stage_accept(struct stage *stage, struct chunk *chunk);
void stage_accept_end(struct stage *stage, enum link_end end);
/* Moves on whatever may leave now and arms the timer for the rest. */
void stage_run(struct stage *stage);
/* The toxic changed: re-draws toxicity when redraw, re-arms timers. */
void stage_refresh(struct stage *stage, bool redraw);
/* Stops timers; queued chunks stay for the caller to move or free. */
void stage_stop(struct stage *stage);

/* ---- API (api.c, metrics.c) ---- */

/* Routes one API request. Returns the status and fills body (a JSON
 * document, plain text, or empty) and content_type. */
struct api_request {
    const char *method;
    const char *path;
    const char *user_agent;
    const char *body;
    size_t body_len;
};

struct api_response {
    int status;
    char *body;                      /* malloc'd; NULL for no body */
    const char *content_type;
};

void api_dispatch(struct proxy_server *server, const struct api_request *req,
                  struct api_response *res);
/* Prometheus text for GET /metrics (malloc'd). */
char *metrics_render(struct proxy_server *server);

#endif
