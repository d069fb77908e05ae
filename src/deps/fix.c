/* Appending missing distributions to a requirements file, byte for byte. */
#include "deps/fix.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/strbuf.h"

#define MAX_REQUIREMENTS_SIZE (16u << 20)

char *fix_append(const char *old, size_t old_len, const char *const *lines, size_t n_lines,
                 size_t *out_len)
{
    struct strbuf out = STRBUF_INIT;
    const char *eol = "\n";
    const char *first_nl = old != NULL ? memchr(old, '\n', old_len) : NULL;

    if (first_nl != NULL && first_nl > old && first_nl[-1] == '\r')
        eol = "\r\n";
    if (old_len > 0) {
        size_t end = old_len, start;

        strbuf_add(&out, old, old_len);
        if (old[old_len - 1] != '\n')
            strbuf_addstr(&out, eol);

        /* The last line's content, without its line end. */
        while (end > 0 && (old[end - 1] == '\n' || old[end - 1] == '\r'))
            end--;
        start = end;
        while (start > 0 && old[start - 1] != '\n')
            start--;
        if (end > start && old[end - 1] == '\\') {
            /* A line continued by "\" would swallow the first added line. */
            size_t ends = 0;

            for (size_t i = end; i < old_len; i++)
                ends += old[i] == '\n';
            if (ends <= 1)
                strbuf_addstr(&out, eol);
        }
    }
    for (size_t i = 0; i < n_lines; i++) {
        strbuf_addstr(&out, lines[i]);
        strbuf_addstr(&out, eol);
    }
    *out_len = out.len;
    return strbuf_detach(&out);
}

int fix_append_file(const char *path, const char *const *lines, size_t n_lines,
                    struct err *err)
{
    struct stat st;
    char *old = NULL, *text;
    size_t old_len = 0, len;
    int rc;

    if (stat(path, &st) == 0) {
        old = fs_read_file(path, MAX_REQUIREMENTS_SIZE, &old_len, err);
        if (old == NULL)
            return -1;
    } else if (errno != ENOENT) {
        return err_set_errno(err, errno, "cannot read '%s'", path);
    }
    text = fix_append(old, old_len, lines, n_lines, &len);
    rc = fs_write_atomic(path, text, len, err);
    if (rc == 0 && old != NULL)
        chmod(path, st.st_mode & 07777);
    free(old);
    free(text);
    return rc;
}
