/* fork/exec of one attempt, a poll loop that copies and classifies its output,
 * and the end of its process group on timeout or interruption. */
#include "heal/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "store/store.h"
#include "util/log.h"
#include "util/spawn.h"
#include "util/timeutil.h"

#define READ_CHUNK (256 * 1024)
#define PIPE_SIZE (1024 * 1024)

/* Maximum time spent reading output that a background process of the
 * command keeps writing after the command itself has exited. */
#define DRAIN_AFTER_EXIT 2.0

struct stream {
    int fd;          /* read end of the pipe, -1 once closed */
    int copy_fd;     /* where the bytes go, -1 once that failed */
    int index;       /* classifier stream */
};

/* True when fds a and b are the same open file, so one pipe keeps the order
 * of stdout and stderr exactly. */
static bool same_file(int a, int b)
{
    struct stat sa, sb;

    if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void write_all(struct stream *s, const char *data, size_t len)
{
    while (len > 0 && s->copy_fd >= 0) {
        ssize_t n = write(s->copy_fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = s->copy_fd, .events = POLLOUT };
            poll(&p, 1, 100);
            continue;
        }
        if (n <= 0) {
            /* A closed or full destination: keep reading, so the command does not block. */
            log_debug("heal", "stopped copying output to fd %d: %s", s->copy_fd, strerror(errno));
            s->copy_fd = -1;
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Reads one chunk; returns false at end of file. */
static bool read_stream(struct stream *s, char *buf, struct heal_classifier *classifier)
{
    ssize_t n = read(s->fd, buf, READ_CHUNK);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return false;
    }
    write_all(s, buf, (size_t)n);
    heal_classifier_feed(classifier, s->index, buf, (size_t)n);
    return true;
}

/* Makes group the terminal's foreground, when stdin is our controlling terminal. */
static void set_foreground(pid_t group)
{
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;

    sigemptyset(&ignore.sa_mask);
    sigaction(SIGTTOU, &ignore, &old);
    tcsetpgrp(STDIN_FILENO, group);
    sigaction(SIGTTOU, &old, NULL);
}

/* Runs in the child: own process group, pipes, environment, then exec. */
static void child_exec(const struct heal_exec_opts *opts, int out_fd, int err_fd,
                       int report_fd, bool foreground)
{
    char attempt[16];
    sigset_t none;

    setpgid(0, 0);
    if (foreground)
        set_foreground(getpid());
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (!opts->inherit_stdin) {
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDIN_FILENO);
            close(null_fd);
        }
    }
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    snprintf(attempt, sizeof(attempt), "%d", opts->attempt);
    if (opts->session != NULL)
        setenv(STORE_ENV_HEAL_SESSION, opts->session, 1);
    setenv(STORE_ENV_HEAL_ATTEMPT, attempt, 1);
    spawn_exec_child(opts->shell_command, opts->argv, report_fd);
}

/* Reports a program that could not be started the way a shell would. */
static void report_exec_failure(const struct heal_exec_opts *opts, int exec_errno,
                                struct heal_classifier *classifier, struct heal_exec_result *res)
{
    char message[1024];
    int n = exec_errno == ENOENT && strchr(opts->argv[0], '/') == NULL
                ? snprintf(message, sizeof(message), "aftershock: heal: %.900s: command not found\n",
                           opts->argv[0])
                : snprintf(message, sizeof(message), "aftershock: error: cannot run '%.900s': %s\n",
                           opts->argv[0], strerror(exec_errno));
    struct stream s = { .fd = -1, .copy_fd = opts->err_fd, .index = 1 };

    write_all(&s, message, (size_t)n);
    heal_classifier_feed(classifier, 1, message, (size_t)n);
    res->exit_code = exec_errno == ENOENT ? 127 : 126;
}

/* Opens a pidfd for pid, or -1 when the kernel has none (then exit is polled). */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

static void fill_status(int status, struct heal_exec_result *res)
{
    if (WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signaled = true;
        res->term_signal = WTERMSIG(status);
        res->exit_code = 128 + res->term_signal;
    }
    if (res->timed_out)
        res->exit_code = HEAL_EXIT_TIMEOUT;
}

/* Copies output until the child has exited and its pipes are drained,
 * ending its group on timeout or stop. */
static void supervise(const struct heal_exec_opts *opts, pid_t pid, struct stream *streams,
                      int n_streams, struct heal_classifier *classifier,
                      struct heal_exec_result *res, double start)
{
    char *buf = malloc(READ_CHUNK);
    int pidfd = open_pidfd(pid);
    double kill_at = 0, exited_at = 0;
    int status = 0;
    bool exited = false;

    if (buf == NULL)
        abort();
    for (;;) {
        struct pollfd fds[3];
        int nfds = 0, open_streams = 0;
        double now = time_monotonic();

        for (int i = 0; i < n_streams; i++) {
            if (streams[i].fd >= 0) {
                fds[nfds++] = (struct pollfd){ .fd = streams[i].fd, .events = POLLIN };
                open_streams++;
            }
        }
        if (exited && (open_streams == 0 || now - exited_at > DRAIN_AFTER_EXIT))
            break;
        if (!exited && pidfd >= 0)
            fds[nfds++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };

        /* With a pidfd, exit wakes poll; without one, exit is polled every 20 ms. */
        int wait_ms = 20;
        if (exited)
            wait_ms = 0;
        else if (pidfd >= 0 && open_streams == 0)
            wait_ms = 1000;
        if (!exited && opts->timeout > 0) {
            double left = opts->timeout - (now - start);
            if (left * 1000 < wait_ms)
                wait_ms = left > 0 ? (int)(left * 1000) + 1 : 0;
        }
        int ready = poll(fds, (nfds_t)nfds, wait_ms);
        for (int i = 0; i < nfds && ready > 0; i++) {
            if (fds[i].revents == 0 || fds[i].fd == pidfd)
                continue;
            for (int j = 0; j < n_streams; j++) {
                if (streams[j].fd == fds[i].fd)
                    read_stream(&streams[j], buf, classifier);
            }
        }
        if (exited) {
            if (ready <= 0)
                break;
            continue;
        }

        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            exited_at = time_monotonic();
            res->duration = exited_at - start;
            continue;
        }
        now = time_monotonic();
        bool stop_now = opts->stop != NULL && *opts->stop;
        bool late = opts->timeout > 0 && now - start >= opts->timeout;
        if (kill_at == 0 && (stop_now || late)) {
            res->timed_out = late && !stop_now;
            res->interrupted = stop_now;
            log_info("heal", "ending attempt %d: %s pid=%d", opts->attempt,
                     stop_now ? "interrupted" : "timed out", (int)pid);
            spawn_signal_group(pid, SIGTERM);
            spawn_signal_group(pid, SIGCONT);
            kill_at = now + HEAL_KILL_GRACE;
        } else if (kill_at > 0 && now >= kill_at) {
            spawn_signal_group(pid, SIGKILL);
            kill_at = now + 3600;
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    free(buf);
    fill_status(status, res);
}

int heal_exec_run(const struct heal_exec_opts *opts, struct heal_classifier *classifier,
                  struct heal_exec_result *res, struct err *err)
{
    bool merged = same_file(opts->out_fd, opts->err_fd);
    bool foreground = opts->inherit_stdin && isatty(STDIN_FILENO) &&
                      tcgetpgrp(STDIN_FILENO) == getpgrp();
    int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, report_pipe[2] = { -1, -1 };
    struct stream streams[2];
    int exec_errno = 0;
    ssize_t got;
    pid_t pid;

    memset(res, 0, sizeof(*res));
    res->started = time_wall();
    double start = time_monotonic();
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || (!merged && pipe2(err_pipe, O_CLOEXEC) != 0) ||
        pipe2(report_pipe, O_CLOEXEC) != 0) {
        err_set_errno(err, errno, "cannot create pipes for the command");
        goto fail;
    }
    /* Larger pipes mean fewer wake-ups for a command that prints a lot; failure is harmless. */
    fcntl(out_pipe[0], F_SETPIPE_SZ, PIPE_SIZE);
    if (!merged)
        fcntl(err_pipe[0], F_SETPIPE_SZ, PIPE_SIZE);
    pid = fork();
    if (pid < 0) {
        err_set_errno(err, errno, "cannot start the command");
        goto fail;
    }
    if (pid == 0)
        child_exec(opts, out_pipe[1], merged ? out_pipe[1] : err_pipe[1], report_pipe[1],
                   foreground);

    setpgid(pid, pid);
    if (foreground)
        set_foreground(pid);
    close(out_pipe[1]);
    if (!merged)
        close(err_pipe[1]);
    close(report_pipe[1]);
    do {
        got = read(report_pipe[0], &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    close(report_pipe[0]);

    streams[0] = (struct stream){ .fd = out_pipe[0], .copy_fd = opts->out_fd, .index = 0 };
    streams[1] = (struct stream){ .fd = err_pipe[0], .copy_fd = opts->err_fd, .index = 1 };
    if (got == (ssize_t)sizeof(exec_errno)) {
        waitpid(pid, NULL, 0);
        close(out_pipe[0]);
        if (!merged)
            close(err_pipe[0]);
        report_exec_failure(opts, exec_errno, classifier, res);
        res->duration = time_monotonic() - start;
    } else {
        supervise(opts, pid, streams, merged ? 1 : 2, classifier, res, start);
        for (int i = 0; i < 2; i++) {
            if (streams[i].fd >= 0)
                close(streams[i].fd);
        }
    }
    if (foreground)
        set_foreground(getpgrp());
    return 0;

fail:
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
