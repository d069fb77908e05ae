/* The libcurl functions aftershock calls, loaded with dlopen on first use.
 *
 * libcurl and the libraries it depends on (TLS, LDAP, Kerberos, SSH) take
 * about 8 ms to map and relocate at every process start, which would make
 * each `heal`, `check` or `probe` call pay for HTTP support it may not use.
 * The binary is therefore not linked against libcurl: these definitions
 * carry libcurl's own names and prototypes from <curl/curl.h> and forward
 * to the library, loaded once by the first call. When it cannot be loaded,
 * the constructors (curl_easy_init, curl_multi_init, curl_url,
 * curl_slist_append) return NULL and curl_global_init fails, so callers
 * report an error through their usual paths. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include "util/log.h"

/* libcurl's SONAME on Linux since libcurl 7.16 (2006). */
#define CURL_LIBRARY "libcurl.so.4"

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    void (*free)(void *p);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *curl);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *curl);
    CURLMcode (*multi_perform)(CURLM *multi, int *running);
    CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra[], unsigned int extra_nfds,
                            int timeout_ms, int *ret);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *queued);
    CURLMcode (*multi_cleanup)(CURLM *multi);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *url, CURLUPart part, const char *content, unsigned int flags);
    CURLUcode (*url_get)(CURLU *url, CURLUPart part, char **content, unsigned int flags);
    void (*url_cleanup)(CURLU *url);
    const char *(*url_strerror)(CURLUcode code);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;

/* Looks up one symbol; on failure logs it and returns NULL. */
static void *symbol(void *library, const char *name)
{
    void *address = dlsym(library, name);

    if (address == NULL)
        log_error("http", "%s has no symbol %s: %s", CURL_LIBRARY, name, dlerror());
    return address;
}

#define LOAD(field, name)                                          \
    do {                                                           \
        *(void **)(&api.field) = symbol(library, name);            \
        if (api.field == NULL)                                     \
            return;                                                \
    } while (0)

static void load_library(void)
{
    void *library = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);

    if (library == NULL) {
        log_error("http", "cannot load %s, needed for HTTP: %s (install Debian's libcurl4 "
                  "package)", CURL_LIBRARY, dlerror());
        return;
    }
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(free, "curl_free");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    LOAD(multi_init, "curl_multi_init");
    LOAD(multi_setopt, "curl_multi_setopt");
    LOAD(multi_add_handle, "curl_multi_add_handle");
    LOAD(multi_remove_handle, "curl_multi_remove_handle");
    LOAD(multi_perform, "curl_multi_perform");
    LOAD(multi_poll, "curl_multi_poll");
    LOAD(multi_info_read, "curl_multi_info_read");
    LOAD(multi_cleanup, "curl_multi_cleanup");
    LOAD(url, "curl_url");
    LOAD(url_set, "curl_url_set");
    LOAD(url_get, "curl_url_get");
    LOAD(url_cleanup, "curl_url_cleanup");
    LOAD(url_strerror, "curl_url_strerror");
    loaded = 1;
}

/* Loads libcurl once; returns 1 when every function was found. */
static int curl_loaded(void)
{
    pthread_once(&load_once, load_library);
    return loaded;
}

CURLcode curl_global_init(long flags)
{
    if (!curl_loaded())
        return CURLE_FAILED_INIT;
    return api.global_init(flags);
}

CURL *curl_easy_init(void)
{
    return curl_loaded() ? api.easy_init() : NULL;
}

/* A curl option's number gives the type of its one argument: below
 * CURLOPTTYPE_OBJECTPOINT a long, then pointers (data and functions), then
 * curl_off_t, then blobs passed by pointer. Multi options use the same
 * numbering. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    CURLcode rc;

    if (!curl_loaded())
        return CURLE_FAILED_INIT;
    va_start(ap, option);
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = api.easy_setopt(curl, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = api.easy_setopt(curl, option, va_arg(ap, curl_off_t));
    else
        rc = api.easy_setopt(curl, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
    return curl_loaded() ? api.easy_perform(curl) : CURLE_FAILED_INIT;
}

/* Every CURLINFO argument is a pointer to the result. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    CURLcode rc;

    if (!curl_loaded())
        return CURLE_FAILED_INIT;
    va_start(ap, info);
    rc = api.easy_getinfo(curl, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

void curl_easy_cleanup(CURL *curl)
{
    if (curl_loaded())
        api.easy_cleanup(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
    return curl_loaded() ? api.easy_strerror(code) : "libcurl could not be loaded";
}

void curl_free(void *p)
{
    if (curl_loaded())
        api.free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *text)
{
    return curl_loaded() ? api.slist_append(list, text) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
    if (curl_loaded())
        api.slist_free_all(list);
}

CURLM *curl_multi_init(void)
{
    return curl_loaded() ? api.multi_init() : NULL;
}

CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
    va_list ap;
    CURLMcode rc;

    if (!curl_loaded())
        return CURLM_INTERNAL_ERROR;
    va_start(ap, option);
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = api.multi_setopt(multi, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = api.multi_setopt(multi, option, va_arg(ap, curl_off_t));
    else
        rc = api.multi_setopt(multi, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
    return curl_loaded() ? api.multi_add_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
    return curl_loaded() ? api.multi_remove_handle(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *multi, int *running)
{
    return curl_loaded() ? api.multi_perform(multi, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *multi, struct curl_waitfd extra[], unsigned int extra_nfds,
                          int timeout_ms, int *ret)
{
    if (!curl_loaded())
        return CURLM_INTERNAL_ERROR;
    return api.multi_poll(multi, extra, extra_nfds, timeout_ms, ret);
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *queued)
{
    return curl_loaded() ? api.multi_info_read(multi, queued) : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
    return curl_loaded() ? api.multi_cleanup(multi) : CURLM_INTERNAL_ERROR;
}

CURLU *curl_url(void)
{
    return curl_loaded() ? api.url() : NULL;
}

CURLUcode curl_url_set(CURLU *url, CURLUPart part, const char *content, unsigned int flags)
{
    return curl_loaded() ? api.url_set(url, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU *url, CURLUPart part, char **content, unsigned int flags)
{
    return curl_loaded() ? api.url_get(url, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

void curl_url_cleanup(CURLU *url)
{
    if (curl_loaded())
        api.url_cleanup(url);
}

const char *curl_url_strerror(CURLUcode code)
{
    return curl_loaded() ? api.url_strerror(code) : "libcurl could not be loaded";
}
