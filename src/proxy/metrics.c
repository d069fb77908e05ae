/* GET /metrics: bytes, connections and active toxics per proxy, in Prometheus text format. */
#include <stdlib.h>
#include <string.h>

#include "proxy/internal.h"
#include "util/strbuf.h"

/* Appends a label value with backslash, quote and newline escaped, as the format requires. */
static void add_label_value(struct strbuf *sb, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_addch(sb, '\\');
        if (*p == '\n') {
            strbuf_addstr(sb, "\\n");
            continue;
        }
        strbuf_addch(sb, *p);
    }
}

static void add_labels(struct strbuf *sb, const struct proxy *proxy, const char *direction)
{
    strbuf_addstr(sb, "{");
    if (direction != NULL)
        strbuf_addf(sb, "direction=\"%s\",", direction);
    strbuf_addstr(sb, "listener=\"");
    add_label_value(sb, proxy->enabled ? proxy->bound : proxy->listen);
    strbuf_addstr(sb, "\",proxy=\"");
    add_label_value(sb, proxy->name);
    strbuf_addstr(sb, "\",upstream=\"");
    add_label_value(sb, proxy->upstream);
    strbuf_addstr(sb, "\"}");
}

static void add_header(struct strbuf *sb, const char *name, const char *type, const char *help)
{
    strbuf_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes one metric per proxy and stream, or per proxy when per_stream is false. */
static void add_metric(struct strbuf *sb, struct proxy_server *server, const char *name,
                       bool per_stream, uint64_t (*value)(const struct proxy *, int))
{
    for (size_t i = 0; i < server->n_proxies; i++) {
        const struct proxy *proxy = server->proxies[i];

        for (int s = 0; s < (per_stream ? 2 : 1); s++) {
            strbuf_addstr(sb, name);
            add_labels(sb, proxy, per_stream ? toxic_stream_name((enum toxic_stream)s) : NULL);
            strbuf_addf(sb, " %llu\n", (unsigned long long)value(proxy, s));
        }
    }
}

static uint64_t received(const struct proxy *p, int s) { return p->received[s]; }
static uint64_t sent(const struct proxy *p, int s) { return p->sent[s]; }
static uint64_t conns_total(const struct proxy *p, int s) { (void)s; return p->conns_total; }
static uint64_t conns_open(const struct proxy *p, int s) { (void)s; return p->conns_open; }
static uint64_t toxics(const struct proxy *p, int s) { (void)s; return p->n_toxics[0] + p->n_toxics[1]; }

char *metrics_render(struct proxy_server *server)
{
    struct strbuf sb = STRBUF_INIT;

    /* The two byte counters keep Toxiproxy's names and labels, so its dashboards work. */
    add_header(&sb, "toxiproxy_proxy_received_bytes_total", "counter",
               "Bytes the proxy read, by the direction of the link.");
    add_metric(&sb, server, "toxiproxy_proxy_received_bytes_total", true, received);
    add_header(&sb, "toxiproxy_proxy_sent_bytes_total", "counter",
               "Bytes the proxy wrote, by the direction of the link.");
    add_metric(&sb, server, "toxiproxy_proxy_sent_bytes_total", true, sent);
    add_header(&sb, "aftershock_proxy_connections_total", "counter",
               "Client connections accepted.");
    add_metric(&sb, server, "aftershock_proxy_connections_total", false, conns_total);
    add_header(&sb, "aftershock_proxy_connections_open", "gauge", "Client connections open now.");
    add_metric(&sb, server, "aftershock_proxy_connections_open", false, conns_open);
    add_header(&sb, "aftershock_proxy_toxics_active", "gauge", "Toxics on the proxy.");
    add_metric(&sb, server, "aftershock_proxy_toxics_active", false, toxics);
    return strbuf_detach(&sb);
}
