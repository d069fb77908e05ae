/* `aftershock proxy`: the fault-injecting TCP proxy server, and client verbs that drive any
 * Toxiproxy-compatible API from a terminal. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/command.h"
#include "fault/toxic.h"
#include "proxy/proxy.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/ui.h"

#define CONFIG_MAX_BYTES (16 * 1024 * 1024)

static const struct opt_spec proxy_options[] = {
    { "host", 0, "HOST", "server: address the API listens on (default 127.0.0.1)" },
    { "port", 'p', "PORT", "server: API port (default 8474; 0 picks a free port)" },
    { "config", 'c', "FILE", "server: JSON array of proxies created at start and on SIGHUP" },
    { "api", 0, "URL", "verbs: API to talk to (default $AFTERSHOCK_PROXY_API, else "
      "http://127.0.0.1:8474)" },
    { "type", 't', "TYPE", "add-toxic: latency, bandwidth, slow_close, timeout, reset_peer, "
      "slicer, limit_data or noop" },
    { "stream", 's', "STREAM", "add-toxic: upstream or downstream (default downstream)" },
    { "toxicity", 0, "P", "add-toxic: probability from 0 to 1 that the toxic applies to a "
      "connection (default 1)" },
    { "attribute", 'a', "KEY=VALUE", "add-toxic: toxic attribute, e.g. latency=100 "
      "(repeatable)" },
    { "name", 'n', "NAME", "add-toxic: toxic name (default TYPE_STREAM)" },
    { "json", 0, NULL, "list, toxics: print the API's JSON" },
    { NULL, 0, NULL, NULL },
};

static const char *const server_only[] = { "host", "port", "config", NULL };
static const char *const client_only[] = { "api", "type", "stream", "toxicity", "attribute",
                                           "name", "json", NULL };

/* Rejects options that belong to another mode than the one used. */
static int check_options(const struct opt_values *opts, const char *const *forbidden,
                         const char *mode)
{
    for (int i = 0; forbidden[i] != NULL; i++) {
        if (opt_has(opts, forbidden[i])) {
            ui_error("option '--%s' does not apply to %s", forbidden[i], mode);
            ui_hint("run 'aftershock proxy --help' to see which options each verb takes");
            return -1;
        }
    }
    return 0;
}

/* ---- server ---- */

struct serve_state {
    struct proxy_server *server;
    const char *config_path;
};

/* Lets the proxy hold as many connections as the hard limit allows: each
 * proxied connection uses two file descriptors. */
static void raise_fd_limit(void)
{
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            log_warn("proxy", "cannot raise the open file limit error=\"%s\"", strerror(errno));
    }
}

/* Loads the --config file. Returns 0, EXIT_USAGE for an invalid file, or
 * EXIT_RUNFAIL when a proxy in it cannot listen. */
static int load_config(struct proxy_server *server, const char *path)
{
    struct err err;
    size_t len;
    char *text = fs_read_file(path, CONFIG_MAX_BYTES, &len, &err);
    int rc;

    if (text == NULL) {
        ui_error("%s", err.msg);
        return EXIT_USAGE;
    }
    rc = proxy_server_populate(server, text, len, true, &err);
    free(text);
    if (rc != 0) {
        ui_error("config '%s': %s", path, err.msg);
        return rc == -2 ? EXIT_RUNFAIL : EXIT_USAGE;
    }
    return 0;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct serve_state *state = arg;

    (void)what;
    log_info("proxy", "stopping signal=%s", sig == SIGINT ? "INT" : "TERM");
    proxy_server_stop(state->server);
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
    struct serve_state *state = arg;

    (void)sig;
    (void)what;
    if (state->config_path == NULL) {
        log_warn("proxy", "SIGHUP received but no --config file was given; nothing to reload");
        return;
    }
    log_info("proxy", "reloading config=%s", state->config_path);
    if (load_config(state->server, state->config_path) != 0)
        log_error("proxy", "reload failed; the proxies stay as they were config=%s",
                  state->config_path);
}

static int serve(const struct opt_values *opts)
{
    struct serve_state state = { NULL, opt_get(opts, "config") };
    const char *host = opt_get(opts, "host") ? opt_get(opts, "host") : PROXY_DEFAULT_API_HOST;
    struct event *signals[3] = { NULL, NULL, NULL };
    long port;
    struct err err;
    int code = EXIT_RUNFAIL;

    if (check_options(opts, client_only, "the server") != 0 ||
        opt_int(opts, "port", PROXY_DEFAULT_API_PORT, 0, 65535, &port) != 0)
        return EXIT_USAGE;
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    state.server = proxy_server_new(&err);
    if (state.server == NULL) {
        ui_error("%s", err.msg);
        return EXIT_RUNFAIL;
    }
    if (state.config_path != NULL && (code = load_config(state.server, state.config_path)) != 0)
        goto cleanup;
    code = EXIT_RUNFAIL;
    if (proxy_server_listen_api(state.server, host, (int)port, &err) != 0) {
        ui_error("%s", err.msg);
        ui_hint("another server may use the port; pick one with --port, or 0 for any free port");
        goto cleanup;
    }
    printf("aftershock proxy API at http://%s\n", proxy_server_api_address(state.server));
    fflush(stdout);

    signals[0] = evsignal_new(proxy_server_base(state.server), SIGTERM, on_stop_signal, &state);
    signals[1] = evsignal_new(proxy_server_base(state.server), SIGINT, on_stop_signal, &state);
    signals[2] = evsignal_new(proxy_server_base(state.server), SIGHUP, on_reload_signal, &state);
    for (int i = 0; i < 3; i++)
        event_add(signals[i], NULL);
    code = proxy_server_run(state.server) == 0 ? EXIT_OK : EXIT_RUNFAIL;
    log_info("proxy", "stopped");

cleanup:
    for (int i = 0; i < 3; i++) {
        if (signals[i] != NULL)
            event_free(signals[i]);
    }
    proxy_server_free(state.server);
    return code;
}

/* ---- client verbs ---- */

static const char *api_url(const struct opt_values *opts)
{
    const char *env = getenv("AFTERSHOCK_PROXY_API");

    if (opt_get(opts, "api") != NULL)
        return opt_get(opts, "api");
    return env != NULL && env[0] != '\0' ? env : TOXIC_API_DEFAULT_URL;
}

/* Sends a request and turns failures into messages and exit codes: 2 when
 * the API rejected the request, 3 when it could not be reached or failed. */
static int call(const struct opt_values *opts, const char *method, const char *path,
                json_t *body, long expected, json_t **doc)
{
    const char *api = api_url(opts);
    struct err err;
    long status = toxic_api_call(api, method, path, body, doc, NULL, &err);
    const char *message;

    if (status < 0) {
        ui_error("cannot reach the proxy API at '%s': %s", api, err.msg);
        ui_hint("start one with 'aftershock proxy', or point --api at a running one");
        return EXIT_RUNFAIL;
    }
    if (status == expected)
        return EXIT_OK;
    message = json_string_value(json_object_get(*doc, "error"));
    ui_error("%s %s%s returned %ld%s%s", method, api, path, status, message ? ": " : "",
             message ? message : "");
    json_decref(*doc);
    *doc = NULL;
    return status >= 400 && status < 500 ? EXIT_USAGE : EXIT_RUNFAIL;
}

static int print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    printf("%s\n", text != NULL ? text : "null");
    free(text);
    return EXIT_OK;
}

static int verb_list(const struct command_args *args)
{
    json_t *doc = NULL, *proxy;
    const char *name;
    int code = call(args->opts, "GET", "/proxies", NULL, 200, &doc);

    if (code != EXIT_OK)
        return code;
    if (opt_has(args->opts, "json")) {
        code = print_json(doc);
    } else {
        printf("%-24s %-24s %-24s %-8s %s\n", "NAME", "LISTEN", "UPSTREAM", "ENABLED", "TOXICS");
        json_object_foreach(doc, name, proxy) {
            printf("%-24s %-24s %-24s %-8s %zu\n", name,
                   json_string_value(json_object_get(proxy, "listen")),
                   json_string_value(json_object_get(proxy, "upstream")),
                   json_is_true(json_object_get(proxy, "enabled")) ? "true" : "false",
                   json_array_size(json_object_get(proxy, "toxics")));
        }
    }
    json_decref(doc);
    return code;
}

static void print_attributes(json_t *attributes)
{
    const char *key;
    json_t *value;
    bool first = true;

    json_object_foreach(attributes, key, value) {
        printf("%s%s=%" JSON_INTEGER_FORMAT, first ? "" : " ", key, json_integer_value(value));
        first = false;
    }
}

static int verb_toxics(const struct command_args *args)
{
    char *proxy = toxic_api_escape(args->argv[1]);
    char path[1024];
    json_t *doc = NULL, *toxic;
    size_t i;
    int code;

    snprintf(path, sizeof(path), "/proxies/%s/toxics", proxy);
    free(proxy);
    code = call(args->opts, "GET", path, NULL, 200, &doc);
    if (code != EXIT_OK)
        return code;
    if (opt_has(args->opts, "json")) {
        code = print_json(doc);
    } else {
        printf("%-24s %-12s %-11s %-9s %s\n", "NAME", "TYPE", "STREAM", "TOXICITY", "ATTRIBUTES");
        json_array_foreach(doc, i, toxic) {
            printf("%-24s %-12s %-11s %-9g ", json_string_value(json_object_get(toxic, "name")),
                   json_string_value(json_object_get(toxic, "type")),
                   json_string_value(json_object_get(toxic, "stream")),
                   json_number_value(json_object_get(toxic, "toxicity")));
            print_attributes(json_object_get(toxic, "attributes"));
            printf("\n");
        }
    }
    json_decref(doc);
    return code;
}

/* Builds the toxic body from --type, --stream, --toxicity, --attribute and --name. */
static json_t *toxic_body(const struct opt_values *opts)
{
    json_t *body = json_object(), *attributes = json_object();
    const char *const *pairs;
    int n;
    double toxicity;

    json_object_set_new(body, "type", json_string(opt_get(opts, "type")));
    if (opt_get(opts, "stream") != NULL)
        json_object_set_new(body, "stream", json_string(opt_get(opts, "stream")));
    if (opt_get(opts, "name") != NULL)
        json_object_set_new(body, "name", json_string(opt_get(opts, "name")));
    if (opt_has(opts, "toxicity")) {
        if (opt_number(opts, "toxicity", 1.0, 0.0, 1.0, &toxicity) != 0)
            goto fail;
        json_object_set_new(body, "toxicity", json_real(toxicity));
    }
    pairs = opt_all(opts, "attribute", &n);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        char *end;
        long long value;

        errno = 0;
        value = eq != NULL ? strtoll(eq + 1, &end, 10) : 0;
        if (eq == NULL || eq == pairs[i] || eq[1] == '\0' || *end != '\0' || errno != 0) {
            ui_error("invalid value '%s' for --attribute: expected KEY=WHOLE_NUMBER, e.g. "
                     "latency=100", pairs[i]);
            goto fail;
        }
        char *key = strndup(pairs[i], (size_t)(eq - pairs[i]));
        json_object_set_new(attributes, key, json_integer(value));
        free(key);
    }
    json_object_set_new(body, "attributes", attributes);
    return body;

fail:
    json_decref(attributes);
    json_decref(body);
    return NULL;
}

static int verb_add_toxic(const struct command_args *args)
{
    char *proxy = toxic_api_escape(args->argv[1]);
    char path[1024];
    json_t *body, *doc = NULL;
    int code;

    snprintf(path, sizeof(path), "/proxies/%s/toxics", proxy);
    free(proxy);
    if (opt_get(args->opts, "type") == NULL) {
        ui_error("add-toxic needs --type");
        ui_hint("for example: aftershock proxy add-toxic %s --type latency -a latency=100",
                args->argv[1]);
        return EXIT_USAGE;
    }
    body = toxic_body(args->opts);
    if (body == NULL)
        return EXIT_USAGE;
    code = call(args->opts, "POST", path, body, 200, &doc);
    if (code == EXIT_OK)
        printf("added toxic '%s' (%s, %s) to proxy '%s'\n",
               json_string_value(json_object_get(doc, "name")),
               json_string_value(json_object_get(doc, "type")),
               json_string_value(json_object_get(doc, "stream")), args->argv[1]);
    json_decref(doc);
    json_decref(body);
    return code;
}

static int verb_remove_toxic(const struct command_args *args)
{
    char *proxy = toxic_api_escape(args->argv[1]), *toxic = toxic_api_escape(args->argv[2]);
    char path[2048];
    json_t *doc = NULL;
    int code;

    snprintf(path, sizeof(path), "/proxies/%s/toxics/%s", proxy, toxic);
    free(proxy);
    free(toxic);
    code = call(args->opts, "DELETE", path, NULL, 204, &doc);
    if (code == EXIT_OK)
        printf("removed toxic '%s' from proxy '%s'\n", args->argv[2], args->argv[1]);
    json_decref(doc);
    return code;
}

static int verb_reset(const struct command_args *args)
{
    json_t *doc = NULL;
    int code = call(args->opts, "POST", "/reset", NULL, 204, &doc);

    if (code == EXIT_OK)
        printf("enabled every proxy and removed every toxic\n");
    json_decref(doc);
    return code;
}

/* Each verb with its positional arguments after the verb. */
static const struct verb {
    const char *name;
    const char *args;
    int n_args;
    int (*run)(const struct command_args *args);
} verbs[] = {
    { "list", "", 0, verb_list },
    { "toxics", "PROXY", 1, verb_toxics },
    { "add-toxic", "PROXY", 1, verb_add_toxic },
    { "remove-toxic", "PROXY TOXIC", 2, verb_remove_toxic },
    { "reset", "", 0, verb_reset },
};

static int proxy_main(const struct command_args *args)
{
    if (args->argc == 0)
        return serve(args->opts);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(args->argv[0], verbs[i].name) != 0)
            continue;
        if (args->argc - 1 != verbs[i].n_args) {
            ui_error("'proxy %s' takes %s%s", verbs[i].name,
                     verbs[i].n_args ? "the arguments " : "no arguments", verbs[i].args);
            ui_hint("run 'aftershock proxy --help' for usage");
            return EXIT_USAGE;
        }
        if (check_options(args->opts, server_only, "client verbs") != 0)
            return EXIT_USAGE;
        if (strcmp(verbs[i].name, "add-toxic") != 0 &&
            (opt_has(args->opts, "type") || opt_has(args->opts, "stream") ||
             opt_has(args->opts, "toxicity") || opt_has(args->opts, "attribute") ||
             opt_has(args->opts, "name"))) {
            ui_error("--type, --stream, --toxicity, --attribute and --name apply to add-toxic "
                     "only, not to '%s'", verbs[i].name);
            return EXIT_USAGE;
        }
        return verbs[i].run(args);
    }
    ui_error("unknown verb '%s' for 'aftershock proxy'", args->argv[0]);
    ui_hint("use list, toxics, add-toxic, remove-toxic or reset, or no verb to run the server");
    return EXIT_USAGE;
}

const struct command command_proxy = {
    .name = "proxy",
    .summary = "fault-injecting TCP proxy with a Toxiproxy-compatible HTTP API",
    .usage = "[options] [list | toxics PROXY | add-toxic PROXY | remove-toxic PROXY TOXIC | "
             "reset]",
    .description =
        "Without a verb, runs the proxy server: the HTTP API on --host and --port, and the\n"
        "proxies of --config (a JSON array, as POST /populate takes). SIGTERM and SIGINT\n"
        "close every listener and connection and exit 0; SIGHUP reads --config again.\n"
        "\n"
        "Verbs talk to a running API (aftershock's or Toxiproxy's), given by --api:\n"
        "  list                      proxies with their addresses and toxic counts\n"
        "  toxics PROXY              the toxics of one proxy\n"
        "  add-toxic PROXY           add a toxic: --type, -a KEY=VALUE, --stream, --toxicity\n"
        "  remove-toxic PROXY TOXIC  remove one toxic\n"
        "  reset                     enable every proxy and remove every toxic\n"
        "\n"
        "Exit status: 0 success, 2 invalid arguments or a request the API rejected,\n"
        "3 the API could not be reached or the server could not start.\n",
    .options = proxy_options,
    .min_args = 0,
    .handler = proxy_main,
};
