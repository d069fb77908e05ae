/* One health check of one target: an HTTP request, a TCP connect or a command. */
#ifndef AFTERSHOCK_PROBE_ATTEMPT_H
#define AFTERSHOCK_PROBE_ATTEMPT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "probe/target.h"
#include "util/err.h"

#define PROBE_ADDRESSES_MAX 16

struct pcre2_real_code_8;

/* Health criteria for http targets, shared by all targets of one run and
 * read-only while attempts run. */
struct probe_check {
    long status_min;               /* accepted status codes, inclusive */
    long status_max;
    struct pcre2_real_code_8 *body_regex; /* compiled pattern, or NULL for any body */
    const char *body_regex_text;   /* the pattern as given, for messages */
    const char *const *headers;    /* "Name: value" lines, NULL-terminated; may be NULL */
    bool insecure;                 /* skip TLS certificate and host name checks */
};

/* Compiles pattern into c->body_regex. Returns 0, or -1 with err naming the
 * pattern, the offset and PCRE2's reason. */
int probe_check_set_regex(struct probe_check *c, const char *pattern, struct err *err);

/* Checks a --header line: a token name, a colon, and a value without line
 * breaks. Returns 0, or -1 with err; the message never contains the value. */
int probe_check_header(const char *line, struct err *err);

void probe_check_release(struct probe_check *c);

/* Numeric addresses a host stands for, in the order they are tried. */
struct probe_addresses {
    size_t count;
    char list[PROBE_ADDRESSES_MAX][64];
};

/* Resolves host to all its IPv6 and IPv4 addresses, without duplicates.
 * "localhost" and names under ".localhost" resolve to ::1 and 127.0.0.1
 * regardless of /etc/hosts (RFC 6761, section 6.3), so a server bound to
 * either loopback address is found. Returns 0, or -1 with err set. */
int probe_resolve(const char *host, const char *port, struct probe_addresses *out,
                  struct err *err);

/* Runs one attempt against target within timeout seconds (> 0). Returns 0
 * when the target is healthy, or -1 with reason set to the reason it is not.
 * Each address of an http or tcp target is tried in turn, sharing the
 * timeout, until one responds. An exec attempt that times out gets SIGTERM,
 * then SIGKILL one second later, so it may take up to that second longer.
 * When *stop becomes non-zero the attempt ends early and fails. */
int probe_attempt(const struct probe_target *target, const struct probe_check *check,
                  double timeout, volatile sig_atomic_t *stop, struct err *reason);

#endif
