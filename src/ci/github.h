/* A small GitHub REST API client for the pull request comment and the issue
 * that `ci summary` keeps up to date. */
#ifndef AFTERSHOCK_CI_GITHUB_H
#define AFTERSHOCK_CI_GITHUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Label of the issues `ci summary --issue-after` opens. */
#define GITHUB_ISSUE_LABEL "chaos-validation"

/* Maximum wait taken from a Retry-After or rate-limit reset header, in seconds. */
#define GITHUB_MAX_RETRY_WAIT 120.0

/* Connection settings. token is never printed: messages name the method,
 * the path and the status only. */
struct github_client {
    const char *api_url;   /* GITHUB_API_URL, without a trailing slash */
    const char *repo;      /* "owner/name" */
    const char *token;
    int retries;           /* retries after a 5xx, a 429 or a rate-limited 403 */
    double retry_delay;    /* seconds before the first retry; doubles each time */
    double timeout;        /* seconds per request */
};

/* Outcome of a request. */
enum github_outcome {
    GITHUB_OK,        /* 2xx */
    GITHUB_REJECTED,  /* 401, 403 (not rate limited), 404 or 422: retrying does not help */
    GITHUB_FAILED,    /* no response, or 5xx and rate limits after every retry */
};

/* Sends one request to api_url + path with body (may be NULL) as JSON.
 * Retries 5xx responses, 429, a 403 that reports an exhausted rate limit,
 * and transport errors, waiting retry_delay * 2^n seconds or as
 * long as Retry-After or x-ratelimit-reset ask (at most
 * GITHUB_MAX_RETRY_WAIT). *response gets the parsed body of a 2xx response
 * (NULL when empty; may be NULL). err gets a message with what to check
 * unless the outcome is GITHUB_OK. */
enum github_outcome github_request(const struct github_client *client, const char *method,
                                   const char *path, json_t *body, json_t **response,
                                   struct err *err);

/* Creates or updates the one comment on issue or pull request number whose
 * body contains marker. *updated is true when it existed. */
enum github_outcome github_upsert_comment(const struct github_client *client, long number,
                                          const char *marker, const char *body, bool *updated,
                                          struct err *err);

/* Finds the open issue labelled GITHUB_ISSUE_LABEL whose body contains
 * marker. *number is 0 when there is none. */
enum github_outcome github_find_issue(const struct github_client *client, const char *marker,
                                      long *number, struct err *err);

/* Opens an issue labelled GITHUB_ISSUE_LABEL; *number gets its number. */
enum github_outcome github_open_issue(const struct github_client *client, const char *title,
                                      const char *body, long *number, struct err *err);

enum github_outcome github_comment(const struct github_client *client, long number,
                                   const char *body, struct err *err);

/* Comments on an issue, then closes it as completed. */
enum github_outcome github_close_issue(const struct github_client *client, long number,
                                       const char *comment, struct err *err);

/* Fields `ci summary` reads from the event of a GitHub Actions run. */
struct github_event {
    long pull_request;        /* pull request number, 0 when the event has none */
    char default_branch[256]; /* repository.default_branch, "" when absent */
};

/* Parses the JSON text of an event. Returns 0, or -1 with err set for text
 * that is not a JSON object. */
int github_event_parse(const char *text, size_t len, struct github_event *out, struct err *err);

/* Reads and parses the event file (GITHUB_EVENT_PATH). Returns 0 or -1 with err set. */
int github_event_load(const char *event_path, struct github_event *out, struct err *err);

#endif
