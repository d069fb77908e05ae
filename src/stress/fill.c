/* Fill files: a file grown to a size inside one folder, and never outside it.
 *
 * A path is walked one component at a time with openat and O_NOFOLLOW from
 * the folder the experiment names, so neither `..` nor a symbolic link
 * (planted before or during the run) can lead the file out of that folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress/stress.h"
#include "util/log.h"
#include "util/strbuf.h"

#define FILL_CHUNK (1024 * 1024)

static char *copy_text(const char *text)
{
    char *c = strdup(text);

    if (c == NULL)
        abort();
    return c;
}

int stress_fill_check_path(const char *folder, const char *file, struct err *err)
{
    const char *p = file;

    if (folder == NULL || folder[0] == '\0')
        return err_set(err, "the fill folder is empty: name an existing folder");
    if (file == NULL || file[0] == '\0')
        return err_set(err, "the fill file name is empty");
    if (file[0] == '/')
        return err_set(err, "fill file '%s' is an absolute path: give a path relative to the "
                       "folder '%s'", file, folder);
    while (*p != '\0') {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.')
            return err_set(err, "fill file '%s' contains '..', which could leave the folder "
                           "'%s': give a path inside it", file, folder);
        p += len;
        while (*p == '/')
            p++;
    }
    if (file[strlen(file) - 1] == '/')
        return err_set(err, "fill file '%s' names a folder: give a file name", file);
    return 0;
}

/* Opens the folder that contains the last component of file, walking from
 * folder without following symbolic links. Sets *name to that component
 * (inside file). Returns the folder's descriptor, or -1 with err set and
 * *missing telling whether a folder on the way does not exist. */
static int open_parent(const char *folder, const char *file, const char **name, bool *missing,
                       struct err *err)
{
    int dir_fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *p = file;

    *missing = dir_fd < 0 && errno == ENOENT;
    if (dir_fd < 0)
        return err_set_errno(err, errno, "cannot open the fill folder '%s'", folder);
    for (;;) {
        size_t len = strcspn(p, "/");
        const char *next = p + len;
        char part[256];
        int child;

        while (*next == '/')
            next++;
        if (*next == '\0') {
            *name = p;
            return dir_fd;
        }
        if (len >= sizeof(part)) {
            close(dir_fd);
            return err_set(err, "fill file '%s' has a component longer than 255 bytes", file);
        }
        memcpy(part, p, len);
        part[len] = '\0';
        child = len == 1 && part[0] == '.'
                    ? dup(dir_fd)
                    : openat(dir_fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
            int saved = errno;
            close(dir_fd);
            *missing = saved == ENOENT;
            if (saved == ELOOP || saved == ENOTDIR)
                return err_set(err, "fill file '%s': '%s' is a symbolic link or not a folder, "
                               "which could leave the folder '%s'", file, part, folder);
            return err_set_errno(err, saved, "fill file '%s': cannot open '%s' inside '%s'", file,
                                 part, folder);
        }
        close(dir_fd);
        dir_fd = child;
        p = next;
    }
}

int stress_fill_open_folder(struct stress_fill *fill, const char *folder, const char *file,
                            struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    const char *name;
    struct stat st;
    bool missing;
    int exists;

    memset(fill, 0, sizeof(*fill));
    fill->dir_fd = -1;
    fill->fd = -1;
    if (stress_fill_check_path(folder, file, err) != 0)
        return -1;
    fill->dir_fd = open_parent(folder, file, &name, &missing, err);
    if (fill->dir_fd < 0)
        return -1;
    if (strcmp(name, ".") == 0) {
        close(fill->dir_fd);
        fill->dir_fd = -1;
        return err_set(err, "fill file '%s' names a folder: give a file name", file);
    }
    /* The file is removed at the end, so it must not be a file someone else made. */
    exists = fstatat(fill->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW);
    if (exists == 0 || errno != ENOENT) {
        int saved = exists == 0 ? 0 : errno;
        close(fill->dir_fd);
        fill->dir_fd = -1;
        if (saved != 0)
            return err_set_errno(err, saved, "cannot check fill file '%s' in '%s'", file, folder);
        return err_set(err, "fill file '%s' already exists in '%s': choose a name that is not "
                       "in use, because the fill file is removed at the end", file, folder);
    }
    fill->folder = copy_text(folder);
    fill->file = copy_text(file);
    fill->name = copy_text(name);
    strbuf_addf(&sb, "%s/%s", folder, file);
    fill->path = strbuf_detach(&sb);
    return 0;
}

int stress_fill_create(struct stress_fill *fill, struct err *err)
{
    struct stat st;

    fill->fd = openat(fill->dir_fd, fill->name,
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fill->fd < 0 && errno == EEXIST)
        return err_set(err, "fill file '%s' appeared in '%s' while it was being created; it "
                       "was left alone", fill->file, fill->folder);
    if (fill->fd < 0)
        return err_set_errno(err, errno, "cannot create fill file '%s' in '%s'", fill->file,
                             fill->folder);
    if (fstat(fill->fd, &st) == 0) {
        fill->dev = st.st_dev;
        fill->ino = st.st_ino;
    }
    return 0;
}

int stress_fill_write(struct stress_fill *fill, uint64_t bytes, volatile sig_atomic_t *stop,
                      bool *disk_full, struct err *err)
{
    char *chunk = calloc(1, FILL_CHUNK);

    if (chunk == NULL)
        abort();
    *disk_full = false;
    /* Every byte is written, not allocated, so the disk really fills, also where fallocate
     * would only reserve blocks. */
    for (size_t i = 0; i < FILL_CHUNK; i += 4096)
        chunk[i] = 'x';
    while (fill->written < bytes && (stop == NULL || !*stop)) {
        uint64_t left = bytes - fill->written;
        size_t want = left < FILL_CHUNK ? (size_t)left : FILL_CHUNK;
        ssize_t n = write(fill->fd, chunk, want);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == ENOSPC || errno == EDQUOT)) {
            *disk_full = true;
            break;
        }
        if (n < 0) {
            free(chunk);
            return err_set_errno(err, errno, "cannot write fill file '%s'", fill->path);
        }
        fill->written += (uint64_t)n;
    }
    free(chunk);
    return 0;
}

int stress_fill_remove(struct stress_fill *fill, struct err *err)
{
    int rc = 0;

    if (fill->fd >= 0) {
        close(fill->fd);
        fill->fd = -1;
        if (unlinkat(fill->dir_fd, fill->name, 0) != 0 && errno != ENOENT)
            rc = err_set_errno(err, errno, "cannot remove fill file '%s'", fill->path);
        else
            log_debug("stress", "removed fill file path=%s", fill->path);
    }
    if (fill->dir_fd >= 0)
        close(fill->dir_fd);
    fill->dir_fd = -1;
    free(fill->folder);
    free(fill->file);
    free(fill->name);
    free(fill->path);
    fill->folder = fill->file = fill->name = fill->path = NULL;
    return rc;
}

int stress_fill_remove_path(const char *folder, const char *file, unsigned long long dev,
                            unsigned long long ino, struct err *err)
{
    const char *name;
    struct stat st;
    bool missing;
    int dir_fd, rc;

    if (stress_fill_check_path(folder, file, err) != 0)
        return -1;
    dir_fd = open_parent(folder, file, &name, &missing, err);
    if (dir_fd < 0)
        return missing ? 1 : -1; /* a folder on the way that is gone took the file with it */
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = errno == ENOENT ? 1 : err_set_errno(err, errno, "cannot read fill file '%s/%s'",
                                                 folder, file);
    } else if (!S_ISREG(st.st_mode) ||
               (ino != 0 && ((unsigned long long)st.st_dev != dev ||
                             (unsigned long long)st.st_ino != ino))) {
        rc = 2;
    } else if (unlinkat(dir_fd, name, 0) != 0) {
        rc = errno == ENOENT ? 1 : err_set_errno(err, errno, "cannot remove fill file '%s/%s'",
                                                 folder, file);
    } else {
        rc = 0;
    }
    close(dir_fd);
    return rc;
}
