/* fork/exec with pipes, a poll loop for capture, and process-group termination. */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/strbuf.h"
#include "util/timeutil.h"

#define SPAWN_DEFAULT_CAPTURE (64 * 1024)
#define SPAWN_KILL_GRACE 1.0

struct capture {
    int fd;
    struct strbuf buf;
    size_t max;
    bool truncated;
};

static void capture_read(struct capture *c)
{
    char chunk[8192];
    ssize_t n = read(c->fd, chunk, sizeof(chunk));

    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(c->fd);
        c->fd = -1;
        return;
    }
    if (n < 0)
        return;
    size_t room = c->buf.len < c->max ? c->max - c->buf.len : 0;
    size_t keep = (size_t)n < room ? (size_t)n : room;
    strbuf_add(&c->buf, chunk, keep);
    if (keep < (size_t)n)
        c->truncated = true;
}

/* Runs in the child after fork: new process group, pipes on 1 and 2, then exec.
 * On exec failure the errno goes back through report_fd. */
static void child_exec(const struct spawn_opts *opts, int out_fd, int err_fd, int report_fd)
{
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (opts->stdin_null) {
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDIN_FILENO);
            close(null_fd);
        }
    }
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    close(out_fd);
    close(err_fd);
    if (opts->cwd != NULL && chdir(opts->cwd) != 0) {
        int e = errno;
        if (write(report_fd, &e, sizeof(e)) < 0) {
            /* The parent sees EOF and reports a generic failure. */
        }
        _exit(127);
    }
    spawn_exec_child(opts->shell_command, opts->argv, report_fd);
}

void spawn_exec_child(const char *shell_command, char *const *argv, int report_fd)
{
    int e;

    if (shell_command != NULL)
        execl("/bin/sh", "sh", "-c", shell_command, (char *)NULL);
    else
        execvp(argv[0], argv);
    e = errno;
    if (write(report_fd, &e, sizeof(e)) < 0) {
        /* The parent then reads end of file and reports a generic failure. */
    }
    _exit(127);
}

void spawn_signal_group(pid_t pid, int sig)
{
    if (kill(-pid, sig) != 0)
        kill(pid, sig);
}

int spawn_run(const struct spawn_opts *opts, struct spawn_result *res, struct err *err)
{
    int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, report_pipe[2] = { -1, -1 };
    struct capture captures[2];
    const char *what = opts->shell_command ? "/bin/sh" : opts->argv[0];
    double start = time_monotonic();
    double kill_at = 0;
    int status = 0;
    bool exited = false;
    pid_t pid;

    memset(res, 0, sizeof(*res));
    if (opts->shell_command == NULL && (opts->argv == NULL || opts->argv[0] == NULL))
        return err_set(err, "no program to run");
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        pipe2(report_pipe, O_CLOEXEC) != 0) {
        err_set_errno(err, errno, "cannot create pipes for '%s'", what);
        goto fail_pipes;
    }

    pid = fork();
    if (pid < 0) {
        err_set_errno(err, errno, "cannot start '%s'", what);
        goto fail_pipes;
    }
    if (pid == 0)
        child_exec(opts, out_pipe[1], err_pipe[1], report_pipe[1]);

    /* Also set the group from the parent, so a kill right after fork reaches it. */
    setpgid(pid, pid);
    if (opts->pid_out != NULL)
        *opts->pid_out = pid;
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(report_pipe[1]);

    /* An exec failure arrives as an errno on the report pipe; success closes it. */
    int exec_errno = 0;
    ssize_t got;
    do {
        got = read(report_pipe[0], &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    close(report_pipe[0]);
    if (got == (ssize_t)sizeof(exec_errno)) {
        waitpid(pid, NULL, 0);
        close(out_pipe[0]);
        close(err_pipe[0]);
        if (opts->pid_out != NULL)
            *opts->pid_out = 0;
        if (opts->cwd != NULL && opts->shell_command == NULL && exec_errno == ENOENT &&
            access(opts->cwd, F_OK) != 0)
            return err_set_errno(err, exec_errno, "cannot enter folder '%s'", opts->cwd);
        return err_set_errno(err, exec_errno, "cannot run '%s'", what);
    }

    for (int i = 0; i < 2; i++) {
        captures[i].fd = i == 0 ? out_pipe[0] : err_pipe[0];
        strbuf_init(&captures[i].buf);
        captures[i].max = opts->capture_max ? opts->capture_max : SPAWN_DEFAULT_CAPTURE;
        captures[i].truncated = false;
    }

    /* Read both streams until the child exits; after exit, keep reading only
     * what is already buffered, because a grandchild may hold the pipes open. */
    for (;;) {
        struct pollfd fds[2];
        int nfds = 0;

        for (int i = 0; i < 2; i++) {
            if (captures[i].fd >= 0) {
                fds[nfds].fd = captures[i].fd;
                fds[nfds].events = POLLIN;
                fds[nfds].revents = 0;
                nfds++;
            }
        }
        int ready = poll(fds, (nfds_t)nfds, exited ? 0 : 20);
        for (int i = 0; i < nfds && ready > 0; i++) {
            if (fds[i].revents == 0)
                continue;
            for (int j = 0; j < 2; j++) {
                if (captures[j].fd == fds[i].fd)
                    capture_read(&captures[j]);
            }
        }
        if (exited && ready <= 0)
            break;
        if (exited)
            continue;

        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            exited = true;
            res->duration = time_monotonic() - start;
            continue;
        }

        double now = time_monotonic();
        bool stop_now = opts->stop != NULL && *opts->stop;
        bool late = opts->timeout > 0 && now - start >= opts->timeout;
        if (kill_at == 0 && (stop_now || late)) {
            res->timed_out = late && !stop_now;
            res->interrupted = stop_now;
            spawn_signal_group(pid, SIGTERM);
            spawn_signal_group(pid, SIGCONT);
            kill_at = now + SPAWN_KILL_GRACE;
        } else if (kill_at > 0 && now >= kill_at) {
            spawn_signal_group(pid, SIGKILL);
            kill_at = now + 3600;
        }
    }

    for (int i = 0; i < 2; i++) {
        if (captures[i].fd >= 0)
            close(captures[i].fd);
    }
    if (opts->pid_out != NULL)
        *opts->pid_out = 0;
    res->out_len = captures[0].buf.len;
    res->err_len = captures[1].buf.len;
    res->out = strbuf_detach(&captures[0].buf);
    res->err = strbuf_detach(&captures[1].buf);
    res->out_truncated = captures[0].truncated;
    res->err_truncated = captures[1].truncated;
    if (WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signaled = true;
        res->term_signal = WTERMSIG(status);
        res->exit_code = 128 + res->term_signal;
    }
    return 0;

fail_pipes:
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
        if (report_pipe[i] >= 0)
            close(report_pipe[i]);
    }
    return -1;
}

void spawn_result_release(struct spawn_result *res)
{
    free(res->out);
    free(res->err);
    res->out = NULL;
    res->err = NULL;
}
