/* GitHub REST API requests with retries, and the comment and issue calls built on them. */
#include "ci/github.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/fsutil.h"
#include "util/http.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

/* Comments read per page, and pages read at most, when looking for the marker. */
#define COMMENTS_PER_PAGE 100
#define MAX_PAGES 20

/* Largest event file read, in bytes. */
#define EVENT_MAX_SIZE (16 * 1024 * 1024)

static const char *header_value(const struct http_response *res, const char *name)
{
    for (size_t i = 0; i < res->header_count; i++) {
        if (strcasecmp(res->header_names[i], name) == 0)
            return res->header_values[i];
    }
    return NULL;
}

static bool is_rate_limited(const struct http_response *res)
{
    const char *remaining = header_value(res, "x-ratelimit-remaining");

    if (res->status == 429)
        return true;
    return res->status == 403 &&
           ((remaining != NULL && strtol(remaining, NULL, 10) == 0) ||
            header_value(res, "retry-after") != NULL);
}

/* Seconds to wait before retry n: Retry-After, else the rate-limit reset
 * time, else the exponential delay; capped at GITHUB_MAX_RETRY_WAIT. */
static double retry_wait(const struct github_client *client, const struct http_response *res,
                         int n)
{
    double wait = client->retry_delay * pow(2.0, n);
    const char *after = res != NULL ? header_value(res, "retry-after") : NULL;
    const char *reset = res != NULL ? header_value(res, "x-ratelimit-reset") : NULL;

    if (after != NULL) {
        char *end;
        double seconds = strtod(after, &end);
        if (end != after && seconds >= 0)
            wait = seconds;
    } else if (reset != NULL && is_rate_limited(res)) {
        double at = strtod(reset, NULL);
        if (at > time_wall())
            wait = at - time_wall();
    }
    return wait > GITHUB_MAX_RETRY_WAIT ? GITHUB_MAX_RETRY_WAIT : wait;
}

/* Returns what to check after a response that a retry would not change. */
static const char *rejection_hint(long status)
{
    switch (status) {
    case 401:
        return "check that GITHUB_TOKEN is set to a valid token";
    case 403:
        return "check the token's permissions: pull-requests: write for the comment, issues: "
               "write for the issue";
    case 404:
        return "check GITHUB_REPOSITORY and the pull request or issue number, and that the "
               "token can see the repository";
    case 422:
        return "GitHub rejected the request body; check that the label and fields are allowed";
    default:
        return "check the request against the GitHub REST API documentation";
    }
}

/* Returns GitHub's own "message" from an error body, masked, or "" (caller frees). */
static char *error_message(const struct http_response *res)
{
    json_t *doc = json_loadb(res->body, res->body_len, 0, NULL);
    const char *message = json_string_value(json_object_get(doc, "message"));
    char *text = redact_text(message != NULL ? message : "");

    json_decref(doc);
    return text;
}

static void build_headers(const struct github_client *client, struct strbuf *auth,
                          const char *headers[6])
{
    strbuf_addf(auth, "Authorization: Bearer %s", client->token);
    headers[0] = strbuf_str(auth);
    headers[1] = "Accept: application/vnd.github+json";
    headers[2] = "X-GitHub-Api-Version: 2022-11-28";
    headers[3] = "Content-Type: application/json";
    headers[4] = "User-Agent: aftershock";
    headers[5] = NULL;
}

enum github_outcome github_request(const struct github_client *client, const char *method,
                                   const char *path, json_t *body, json_t **response,
                                   struct err *err)
{
    struct strbuf url = STRBUF_INIT, auth = STRBUF_INIT;
    const char *headers[6];
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    enum github_outcome outcome = GITHUB_FAILED;

    if (response != NULL)
        *response = NULL;
    strbuf_addf(&url, "%s%s", client->api_url, path);
    build_headers(client, &auth, headers);

    for (int attempt = 0;; attempt++) {
        struct http_request req = {
            .method = method, .url = strbuf_str(&url), .headers = headers, .body = text,
            .body_len = text != NULL ? strlen(text) : 0, .timeout = client->timeout,
            .verify_tls = true, .body_max = 8 * 1024 * 1024,
        };
        struct http_response res;
        enum http_error_kind kind;
        bool retry;
        double wait;

        if (http_send(&req, &res, &kind, err) != 0) {
            log_warn("ci", "request failed method=%s path=%s attempt=%d error=\"%s\"", method,
                     path, attempt + 1, err->msg);
            retry = attempt < client->retries;
            wait = retry_wait(client, NULL, attempt);
        } else if (res.status >= 200 && res.status < 300) {
            if (response != NULL && res.body_len > 0)
                *response = json_loadb(res.body, res.body_len, 0, NULL);
            http_response_release(&res);
            outcome = GITHUB_OK;
            break;
        } else {
            char *message = error_message(&res);
            bool transient = res.status >= 500 || is_rate_limited(&res);

            log_warn("ci", "request failed method=%s path=%s status=%ld attempt=%d", method,
                     path, res.status, attempt + 1);
            if (transient)
                err_set(err, "GitHub API answered %ld to %s %s%s%s after %d attempt%s",
                        res.status, method, path, message[0] ? ": " : "", message, attempt + 1,
                        attempt == 0 ? "" : "s");
            else
                err_set(err, "GitHub API answered %ld to %s %s%s%s: %s", res.status, method,
                        path, message[0] ? ": " : "", message, rejection_hint(res.status));
            free(message);
            if (!transient) {
                http_response_release(&res);
                outcome = GITHUB_REJECTED;
                break;
            }
            retry = attempt < client->retries;
            wait = retry_wait(client, &res, attempt);
            http_response_release(&res);
        }
        if (!retry)
            break;
        log_info("ci", "retrying method=%s path=%s wait=%.2fs", method, path, wait);
        time_sleep(wait, NULL);
    }
    free(text);
    strbuf_release(&url);
    strbuf_release(&auth);
    return outcome;
}

/* Pages through GET base_path (at most MAX_PAGES pages)
 * for the first item whose body contains marker, and sets *value to that
 * item's integer field, or to 0 when no item has the marker. Pull requests,
 * which the issues endpoint lists too, are skipped. */
static enum github_outcome find_marked(const struct github_client *client, const char *base_path,
                                       const char *marker, const char *field, long long *value,
                                       struct err *err)
{
    *value = 0;
    for (int page = 1; page <= MAX_PAGES; page++) {
        char path[512];
        json_t *list = NULL, *item;
        size_t i, count;
        enum github_outcome outcome;

        snprintf(path, sizeof(path), "%s%cper_page=%d&page=%d", base_path,
                 strchr(base_path, '?') != NULL ? '&' : '?', COMMENTS_PER_PAGE, page);
        outcome = github_request(client, "GET", path, NULL, &list, err);
        if (outcome != GITHUB_OK)
            return outcome;
        count = json_array_size(list);
        json_array_foreach(list, i, item) {
            const char *body = json_string_value(json_object_get(item, "body"));
            bool pull_request = json_object_get(item, "pull_request") != NULL;

            if (*value == 0 && !pull_request && body != NULL && strstr(body, marker) != NULL)
                *value = json_integer_value(json_object_get(item, field));
        }
        json_decref(list);
        if (*value != 0 || count < COMMENTS_PER_PAGE)
            break;
    }
    return GITHUB_OK;
}

/* Looks through the comments of issue number for marker; *id is 0 when none has it. */
static enum github_outcome find_comment(const struct github_client *client, long number,
                                        const char *marker, long long *id, struct err *err)
{
    char base_path[400];

    snprintf(base_path, sizeof(base_path), "/repos/%s/issues/%ld/comments", client->repo,
             number);
    return find_marked(client, base_path, marker, "id", id, err);
}

enum github_outcome github_upsert_comment(const struct github_client *client, long number,
                                          const char *marker, const char *body, bool *updated,
                                          struct err *err)
{
    long long id;
    char path[512];
    enum github_outcome outcome = find_comment(client, number, marker, &id, err);
    json_t *payload;

    if (outcome != GITHUB_OK)
        return outcome;
    payload = json_pack("{s:s}", "body", body);
    *updated = id != 0;
    if (id != 0) {
        snprintf(path, sizeof(path), "/repos/%s/issues/comments/%lld", client->repo, id);
        outcome = github_request(client, "PATCH", path, payload, NULL, err);
    } else {
        snprintf(path, sizeof(path), "/repos/%s/issues/%ld/comments", client->repo, number);
        outcome = github_request(client, "POST", path, payload, NULL, err);
    }
    json_decref(payload);
    return outcome;
}

enum github_outcome github_find_issue(const struct github_client *client, const char *marker,
                                      long *number, struct err *err)
{
    char base_path[400];
    long long found;
    enum github_outcome outcome;

    snprintf(base_path, sizeof(base_path), "/repos/%s/issues?state=open&labels=%s",
             client->repo, GITHUB_ISSUE_LABEL);
    outcome = find_marked(client, base_path, marker, "number", &found, err);
    *number = (long)found;
    return outcome;
}

enum github_outcome github_open_issue(const struct github_client *client, const char *title,
                                      const char *body, long *number, struct err *err)
{
    char path[512];
    json_t *payload = json_pack("{s:s, s:s, s:[s]}", "title", title, "body", body, "labels",
                                GITHUB_ISSUE_LABEL);
    json_t *created = NULL;
    enum github_outcome outcome;

    snprintf(path, sizeof(path), "/repos/%s/issues", client->repo);
    outcome = github_request(client, "POST", path, payload, &created, err);
    *number = (long)json_integer_value(json_object_get(created, "number"));
    json_decref(created);
    json_decref(payload);
    return outcome;
}

enum github_outcome github_comment(const struct github_client *client, long number,
                                   const char *body, struct err *err)
{
    char path[512];
    json_t *payload = json_pack("{s:s}", "body", body);
    enum github_outcome outcome;

    snprintf(path, sizeof(path), "/repos/%s/issues/%ld/comments", client->repo, number);
    outcome = github_request(client, "POST", path, payload, NULL, err);
    json_decref(payload);
    return outcome;
}

enum github_outcome github_close_issue(const struct github_client *client, long number,
                                       const char *comment, struct err *err)
{
    char path[512];
    json_t *payload;
    enum github_outcome outcome = github_comment(client, number, comment, err);

    if (outcome != GITHUB_OK)
        return outcome;
    payload = json_pack("{s:s, s:s}", "state", "closed", "state_reason", "completed");
    snprintf(path, sizeof(path), "/repos/%s/issues/%ld", client->repo, number);
    outcome = github_request(client, "PATCH", path, payload, NULL, err);
    json_decref(payload);
    return outcome;
}

int github_event_parse(const char *text, size_t len, struct github_event *out, struct err *err)
{
    json_t *event = json_loadb(text, len, 0, NULL);
    json_t *number;
    const char *branch;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(event)) {
        json_decref(event);
        return err_set(err, "the event is not a JSON object");
    }
    number = json_object_get(json_object_get(event, "pull_request"), "number");
    if (json_is_integer(number) && json_integer_value(number) > 0 &&
        json_integer_value(number) <= LONG_MAX)
        out->pull_request = (long)json_integer_value(number);
    branch = json_string_value(
        json_object_get(json_object_get(event, "repository"), "default_branch"));
    if (branch != NULL)
        snprintf(out->default_branch, sizeof(out->default_branch), "%s", branch);
    json_decref(event);
    return 0;
}

int github_event_load(const char *event_path, struct github_event *out, struct err *err)
{
    size_t len;
    char *text = fs_read_file(event_path, EVENT_MAX_SIZE, &len, err);
    int rc;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return -1;
    rc = github_event_parse(text, len, out, err);
    free(text);
    if (rc != 0)
        err_set(err, "the event file '%s' is not a JSON object", event_path);
    return rc;
}
