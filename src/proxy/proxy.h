/* Fault-injecting TCP proxy server: one libevent loop running the proxies, their toxics and the HTTP API. */
#ifndef AFTERSHOCK_PROXY_PROXY_H
#define AFTERSHOCK_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define PROXY_DEFAULT_API_HOST "127.0.0.1"
#define PROXY_DEFAULT_API_PORT 8474

struct proxy_server;
struct event_base;

/* Creates a server with no proxies and no API listener. Returns NULL with err set. */
struct proxy_server *proxy_server_new(struct err *err);

/* Starts the HTTP API on host:port (port 0 picks a free port; "localhost"
 * listens on both 127.0.0.1 and ::1). Returns 0 or -1 with err naming the address. */
int proxy_server_listen_api(struct proxy_server *server, const char *host, int port,
                            struct err *err);

/* The API's address as "127.0.0.1:8474", or "" before proxy_server_listen_api. */
const char *proxy_server_api_address(const struct proxy_server *server);

/* Applies a JSON array of proxies as POST /populate does. from_config marks
 * the proxies as coming from a configuration file: a later call with
 * from_config removes those of them the new array no longer lists.
 * Returns 0, -1 with err set when the array is invalid, or -2 with err set
 * when a proxy could not listen (the entries before it are applied). */
int proxy_server_populate(struct proxy_server *server, const char *json, size_t len,
                          bool from_config, struct err *err);

/* The loop, for callers that add their own events (signals). */
struct event_base *proxy_server_base(struct proxy_server *server);

/* Runs the loop until proxy_server_stop. Returns 0, or -1 when the loop failed. */
int proxy_server_run(struct proxy_server *server);

/* Makes proxy_server_run return soon. Safe from any thread and from a signal handler. */
void proxy_server_stop(struct proxy_server *server);

/* Closes every connection and listener and frees the server. Call only
 * when the loop is not running. */
void proxy_server_free(struct proxy_server *server);

/* A server running on its own thread (embedded.c). */
struct proxy_thread;

/* Creates the proxies of a JSON array (as /populate takes it), starts the
 * API on 127.0.0.1 on a free port, and runs the loop on a new thread that
 * blocks every signal. Returns NULL with err set when a proxy or the API
 * cannot start. */
struct proxy_thread *proxy_thread_start(const char *proxies_json, size_t len, struct err *err);

/* The API's URL, such as "http://127.0.0.1:41234". */
const char *proxy_thread_api_url(const struct proxy_thread *t);

/* Stops the loop, joins the thread, closes every connection and frees t. NULL is ignored. */
void proxy_thread_stop(struct proxy_thread *t);

#endif
