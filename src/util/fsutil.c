/* File helpers with one error contract. */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fs_read_file(const char *path, size_t max_size, size_t *len, struct err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t used = 0, cap = 0;

    if (f == NULL) {
        err_set_errno(err, errno, "cannot open '%s'", path);
        return NULL;
    }
    for (;;) {
        if (cap - used < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(buf, cap + 1);
            if (grown == NULL)
                abort();
            buf = grown;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (used > max_size) {
            err_set(err, "'%s' is larger than %zu bytes", path, max_size);
            goto fail;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        err_set_errno(err, errno, "cannot read '%s'", path);
        goto fail;
    }
    fclose(f);
    buf[used] = '\0';
    if (len != NULL)
        *len = used;
    return buf;

fail:
    fclose(f);
    free(buf);
    return NULL;
}

int fs_write_atomic(const char *path, const void *data, size_t len, struct err *err)
{
    char *copy = strdup(path);
    char tmp[4096];
    int fd = -1;
    int rc = -1;

    if (copy == NULL)
        abort();
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dirname(copy), basename((char *)path));
    free(copy);

    fd = mkstemp(tmp);
    if (fd < 0) {
        err_set_errno(err, errno, "cannot create a temporary file next to '%s'", path);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_set_errno(err, errno, "cannot write '%s'", path);
            goto cleanup;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        err_set_errno(err, errno, "cannot flush '%s'", path);
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        err_set_errno(err, errno, "cannot close '%s'", path);
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        err_set_errno(err, errno, "cannot rename the temporary file to '%s'", path);
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int fs_mkdirs(const char *path, struct err *err)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return err_set(err, "invalid folder path '%s'", path);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return err_set_errno(err, errno, "cannot create folder '%s'", buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return err_set_errno(err, errno, "cannot create folder '%s'", buf);
    return 0;
}

int fs_mkdirs_for_file(const char *path, struct err *err)
{
    const char *slash = strrchr(path, '/');
    char *folder;
    int rc;

    if (slash == NULL || slash == path)
        return 0;
    folder = strndup(path, (size_t)(slash - path));
    if (folder == NULL)
        abort();
    rc = fs_mkdirs(folder, err);
    free(folder);
    return rc;
}
