/* A process-wide list of secret values and the functions that mask them. */
#include "util/redact.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define REDACT_MAX_SECRETS 256

static char *secrets[REDACT_MAX_SECRETS];
static int secret_count;

void redact_add_secret(const char *value)
{
    if (value == NULL || strlen(value) < REDACT_MIN_LENGTH || secret_count >= REDACT_MAX_SECRETS)
        return;
    for (int i = 0; i < secret_count; i++) {
        if (strcmp(secrets[i], value) == 0)
            return;
    }
    secrets[secret_count] = strdup(value);
    if (secrets[secret_count] == NULL)
        abort();
    secret_count++;
}

void redact_clear(void)
{
    for (int i = 0; i < secret_count; i++)
        free(secrets[i]);
    secret_count = 0;
}

/* Returns whether text contains any secret, so the common case copies nothing. */
static int contains_secret(const char *text)
{
    for (int i = 0; i < secret_count; i++) {
        if (strstr(text, secrets[i]) != NULL)
            return 1;
    }
    return 0;
}

char *redact_text(const char *text)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = text;

    if (!contains_secret(text))
        return strdup(text);
    while (*p) {
        int matched = -1;
        size_t matched_len = 0;

        /* The longest matching secret is masked, so a secret that contains
         * another one is masked whole. */
        for (int i = 0; i < secret_count; i++) {
            size_t len = strlen(secrets[i]);
            if (len > matched_len && strncmp(p, secrets[i], len) == 0) {
                matched = i;
                matched_len = len;
            }
        }
        if (matched >= 0) {
            strbuf_addstr(&sb, REDACT_MASK);
            p += matched_len;
        } else {
            strbuf_addch(&sb, *p);
            p++;
        }
    }
    return strbuf_detach(&sb);
}

void redact_tree(json_t *node)
{
    if (secret_count == 0 || node == NULL)
        return;
    if (json_is_string(node)) {
        if (contains_secret(json_string_value(node))) {
            char *masked = redact_text(json_string_value(node));
            json_string_set(node, masked);
            free(masked);
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *item;
        json_array_foreach(node, i, item)
            redact_tree(item);
    } else if (json_is_object(node)) {
        const char *key;
        json_t *value;
        json_object_foreach(node, key, value)
            redact_tree(value);
    }
}
