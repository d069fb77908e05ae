/* Toxic API client on util/http, and the ledger of toxics to remove when a run ends. */
#include "fault/toxic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/ledger.h"
#include "util/http.h"
#include "util/log.h"
#include "util/strbuf.h"

char *toxic_api_escape(const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    struct strbuf sb = STRBUF_INIT;

    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            strbuf_addch(&sb, (char)*p);
        } else {
            strbuf_addch(&sb, '%');
            strbuf_addch(&sb, hex[*p >> 4]);
            strbuf_addch(&sb, hex[*p & 15]);
        }
    }
    return strbuf_detach(&sb);
}

long toxic_api_call(const char *api, const char *method, const char *path, json_t *body,
                    json_t **doc, volatile sig_atomic_t *stop, struct err *err)
{
    static const char *const json_headers[] = { "Content-Type: application/json",
                                                "User-Agent: aftershock", NULL };
    struct http_request req = { 0 };
    struct http_response res = { 0 };
    enum http_error_kind kind;
    struct strbuf url = STRBUF_INIT;
    char *text = NULL;
    long status;

    *doc = NULL;
    strbuf_addstr(&url, api);
    while (url.len > 0 && url.buf[url.len - 1] == '/')
        url.buf[--url.len] = '\0';
    strbuf_addstr(&url, path);
    if (body != NULL)
        text = json_dumps(body, JSON_COMPACT);

    http_global_init();
    req.method = method;
    req.url = strbuf_str(&url);
    req.headers = json_headers;
    req.body = text;
    req.body_len = text != NULL ? strlen(text) : 0;
    req.timeout = TOXIC_API_TIMEOUT;
    req.stop = stop;
    if (http_send(&req, &res, &kind, err) != 0) {
        status = kind == HTTP_ERR_REFUSED ? TOXIC_API_REFUSED : -1;
        goto cleanup;
    }
    status = res.status;
    if (res.body_len > 0)
        *doc = json_loadb(res.body, res.body_len, JSON_DECODE_ANY, NULL);

cleanup:
    http_response_release(&res);
    strbuf_release(&url);
    free(text);
    return status;
}

/* Describes a failed request, with the "error" text of the response when it has one. */
static int answer_error(struct err *err, const char *what, long status, json_t *doc)
{
    const char *message = json_string_value(json_object_get(doc, "error"));

    return err_set(err, "%s: the API returned %ld%s%s", what, status, message ? ": " : "",
                   message ? message : "");
}

/* Builds "/proxies/NAME/toxics[/TOXIC]" with both names encoded. */
static char *toxic_path(const char *proxy, const char *name)
{
    char *p = toxic_api_escape(proxy), *t = name != NULL ? toxic_api_escape(name) : NULL;
    struct strbuf sb = STRBUF_INIT;

    strbuf_addf(&sb, "/proxies/%s/toxics", p);
    if (t != NULL)
        strbuf_addf(&sb, "/%s", t);
    free(p);
    free(t);
    return strbuf_detach(&sb);
}

int toxic_api_add(const char *api, const char *proxy, json_t *toxic, json_t **created,
                  volatile sig_atomic_t *stop, struct err *err)
{
    char *path = toxic_path(proxy, NULL);
    char what[512];
    long status = toxic_api_call(api, "POST", path, toxic, created, stop, err);

    free(path);
    if (status == TOXIC_API_REFUSED)
        return -1;
    if (status < 0)
        return TOXIC_API_UNANSWERED;
    snprintf(what, sizeof(what), "cannot add a toxic to proxy '%s' at %s", proxy, api);
    if (status != 200 && status != 201) {
        answer_error(err, what, status, *created);
        json_decref(*created);
        *created = NULL;
        return -1;
    }
    if (!json_is_string(json_object_get(*created, "name"))) {
        json_decref(*created);
        *created = NULL;
        return err_set(err, "%s: the response has no toxic name", what);
    }
    return 0;
}

int toxic_api_update(const char *api, const char *proxy, const char *name, json_t *changes,
                     json_t **updated, volatile sig_atomic_t *stop, struct err *err)
{
    char *path = toxic_path(proxy, name);
    char what[512];
    long status = toxic_api_call(api, "POST", path, changes, updated, stop, err);

    free(path);
    if (status < 0)
        return -1;
    if (status != 200) {
        snprintf(what, sizeof(what), "cannot update toxic '%s' of proxy '%s' at %s", name, proxy,
                 api);
        answer_error(err, what, status, *updated);
        json_decref(*updated);
        *updated = NULL;
        return -1;
    }
    return 0;
}

int toxic_api_remove(const char *api, const char *proxy, const char *name,
                     volatile sig_atomic_t *stop, struct err *err)
{
    char *path = toxic_path(proxy, name);
    char what[512];
    json_t *doc = NULL;
    long status = toxic_api_call(api, "DELETE", path, NULL, &doc, stop, err);
    int rc = 0;

    free(path);
    if (status < 0)
        return (int)status;
    if (status == 404) {
        rc = 1;
    } else if (status != 204 && status != 200) {
        snprintf(what, sizeof(what), "cannot remove toxic '%s' of proxy '%s' at %s", name, proxy,
                 api);
        rc = answer_error(err, what, status, doc);
    }
    json_decref(doc);
    return rc;
}

int toxic_api_get(const char *api, const char *path, json_t **doc, struct err *err)
{
    long status = toxic_api_call(api, "GET", path, NULL, doc, NULL, err);
    char what[512];

    if (status < 0)
        return -1;
    if (status != 200 || *doc == NULL) {
        snprintf(what, sizeof(what), "cannot read %s%s", api, path);
        answer_error(err, what, status, *doc);
        json_decref(*doc);
        *doc = NULL;
        return -1;
    }
    return 0;
}

void toxic_ledger_init(struct toxic_ledger *ledger)
{
    memset(ledger, 0, sizeof(*ledger));
    pthread_mutex_init(&ledger->lock, NULL);
}

static char *copy(const char *text)
{
    char *c = strdup(text);

    if (c == NULL)
        abort();
    return c;
}

void toxic_ledger_record(struct toxic_ledger *ledger, const char *api, const char *proxy,
                         const char *name)
{
    struct toxic_entry *grown;

    pthread_mutex_lock(&ledger->lock);
    grown = realloc(ledger->entries, sizeof(*grown) * (ledger->count + 1));
    if (grown == NULL)
        abort();
    ledger->entries = grown;
    grown[ledger->count].api = copy(api);
    grown[ledger->count].proxy = copy(proxy);
    grown[ledger->count].name = copy(name);
    ledger->count++;
    pthread_mutex_unlock(&ledger->lock);
}

static void entry_free(struct toxic_entry *entry)
{
    free(entry->api);
    free(entry->proxy);
    free(entry->name);
}

void toxic_ledger_forget(struct toxic_ledger *ledger, const char *api, const char *proxy,
                         const char *name)
{
    pthread_mutex_lock(&ledger->lock);
    for (size_t i = ledger->count; i-- > 0;) {
        struct toxic_entry *e = &ledger->entries[i];
        if (strcmp(e->api, api) == 0 && strcmp(e->proxy, proxy) == 0 &&
            strcmp(e->name, name) == 0) {
            entry_free(e);
            memmove(e, e + 1, sizeof(*e) * (ledger->count - i - 1));
            ledger->count--;
            break;
        }
    }
    pthread_mutex_unlock(&ledger->lock);
}

int toxic_ledger_remove_all(struct toxic_ledger *ledger)
{
    int failed = 0;

    pthread_mutex_lock(&ledger->lock);
    for (size_t i = ledger->count; i-- > 0;) {
        struct toxic_entry *e = &ledger->entries[i];
        struct err err;
        int rc = toxic_api_remove(e->api, e->proxy, e->name, NULL, &err);

        if (rc < 0) {
            log_error("toxic", "cannot remove a toxic the run added proxy=%s toxic=%s error=\"%s\"",
                      e->proxy, e->name, err.msg);
            failed++;
        } else {
            log_info("toxic", "removed a toxic the run added proxy=%s toxic=%s%s", e->proxy,
                     e->name, rc == 1 ? " (it was already gone)" : "");
            fault_ledger_remove_toxic(ledger->faults, e->api, e->proxy, e->name);
        }
        entry_free(e);
    }
    ledger->count = 0;
    pthread_mutex_unlock(&ledger->lock);
    return failed;
}

void toxic_ledger_release(struct toxic_ledger *ledger)
{
    for (size_t i = 0; i < ledger->count; i++)
        entry_free(&ledger->entries[i]);
    free(ledger->entries);
    ledger->entries = NULL;
    ledger->count = 0;
    pthread_mutex_destroy(&ledger->lock);
}
