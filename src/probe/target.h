/* Probe targets: what `aftershock probe` waits for, parsed from its arguments. */
#ifndef AFTERSHOCK_PROBE_TARGET_H
#define AFTERSHOCK_PROBE_TARGET_H

#include "util/err.h"

enum probe_kind {
    PROBE_HTTP,   /* http:// or https:// URL: a response with an expected status */
    PROBE_TCP,    /* tcp://HOST:PORT: a connection is accepted */
    PROBE_EXEC,   /* exec:COMMAND: the command exits with status 0 */
};

/* One parsed target, owning its strings. Invariant: text and display are
 * always set. PROBE_HTTP also sets url, host and port, PROBE_TCP sets host
 * and port, and PROBE_EXEC sets a command that is not blank. */
struct probe_target {
    enum probe_kind kind;
    char *text;      /* the argument as given */
    char *display;   /* text for messages: as given, with a URL password masked */
    char *url;       /* http: the URL */
    char *host;      /* http, tcp: host name or numeric address, IPv6 without brackets */
    char *port;      /* http, tcp: port number 1-65535; http defaults to 80 or 443 */
    char *command;   /* exec: the shell command */
};

/* Parses "http://...", "https://...", "tcp://HOST:PORT" or "exec:COMMAND".
 * Returns 0, or -1 with err naming the argument and what is wrong with it
 * (unknown scheme, missing or invalid port, empty command, ...). */
int probe_target_parse(const char *text, struct probe_target *target, struct err *err);

void probe_target_release(struct probe_target *target);

/* Parses an expected status "200" or range "200-299" (codes 100-599).
 * Returns 0, or -1 with err naming the text. */
int probe_parse_status(const char *text, long *min, long *max, struct err *err);

#endif
