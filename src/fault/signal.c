/* Signal faults: name parsing, pid files, and pause with a guardian process that outlives a crash. */
#include "fault/signal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/log.h"

static const struct {
    const char *name;
    int signo;
} signal_table[] = {
    { "HUP", SIGHUP },       { "INT", SIGINT },     { "QUIT", SIGQUIT },     { "ILL", SIGILL },
    { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },   { "IOT", SIGABRT },      { "BUS", SIGBUS },
    { "FPE", SIGFPE },       { "KILL", SIGKILL },   { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
    { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },     { "TERM", SIGTERM },
    { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },     { "URG", SIGURG },
    { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
    { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },     { "PWR", SIGPWR },
    { "SYS", SIGSYS },
};

#define N_SIGNALS (sizeof(signal_table) / sizeof(signal_table[0]))

int signal_parse(const char *text, struct err *err)
{
    const char *name = text;

    if (text == NULL || *text == '\0')
        return err_set(err, "empty signal name: use a name such as TERM or STOP, or a number");
    if (isdigit((unsigned char)text[0])) {
        char *end;
        long n = strtol(text, &end, 10);
        if (*end == '\0' && n >= 1 && n <= 64)
            return (int)n;
        return err_set(err, "invalid signal '%s': use a name such as TERM or a number from 1 to 64",
                       text);
    }
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < N_SIGNALS; i++) {
        if (strcasecmp(signal_table[i].name, name) == 0)
            return signal_table[i].signo;
    }
    return err_set(err, "unknown signal '%s': use a name such as TERM, KILL, STOP, CONT, HUP, "
                   "USR1 or a number", text);
}

const char *signal_name(int signo)
{
    for (size_t i = 0; i < N_SIGNALS; i++) {
        if (signal_table[i].signo == signo)
            return signal_table[i].name;
    }
    return "?";
}

pid_t signal_read_pid_file(const char *path, struct err *err)
{
    struct err read_err;
    char *text = fs_read_file(path, 4096, NULL, &read_err);
    char *end;
    long pid;

    if (text == NULL)
        return err_set(err, "cannot read pid file: %s", read_err.msg);
    errno = 0;
    pid = strtol(text, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (end == text || *end != '\0' || errno != 0 || pid <= 1 || pid > 4194304) {
        free(text);
        return err_set(err, "pid file '%s' does not contain a valid process id", path);
    }
    free(text);
    return (pid_t)pid;
}

int signal_send(pid_t pid, int signo, struct err *err)
{
    if (pid <= 1)
        return err_set(err, "refusing to signal pid %d: not a single process", (int)pid);
    if (kill(pid, signo) != 0)
        return err_set_errno(err, errno, "cannot send SIG%s to pid %d", signal_name(signo),
                             (int)pid);
    log_info("signal", "sent signal=%s pid=%d", signal_name(signo), (int)pid);
    return 0;
}

/* Body of the guardian: wait on the pipe; EOF without a byte means the parent
 * died before resuming, so resume the process. Never returns. */
static void guardian_main(int read_fd, pid_t target)
{
    char byte;
    ssize_t n;

    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (int fd = 3; fd < 1024; fd++) {
        if (fd != read_fd)
            close(fd);
    }
    do {
        n = read(read_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        kill(target, SIGCONT);
    _exit(0);
}

int signal_pause(pid_t pid, struct signal_pause *pause, struct err *err)
{
    int fds[2];
    pid_t guardian;

    pause->pid = pid;
    pause->guardian_pid = -1;
    pause->guardian_fd = -1;
    if (pid <= 1)
        return err_set(err, "refusing to pause pid %d: not a single process", (int)pid);
    if (kill(pid, 0) != 0)
        return err_set_errno(err, errno, "cannot pause pid %d", (int)pid);
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_set_errno(err, errno, "cannot create the guardian pipe for pid %d", (int)pid);

    guardian = fork();
    if (guardian < 0) {
        close(fds[0]);
        close(fds[1]);
        return err_set_errno(err, errno, "cannot start the guardian for pid %d", (int)pid);
    }
    if (guardian == 0) {
        close(fds[1]);
        guardian_main(fds[0], pid);
    }
    close(fds[0]);
    pause->guardian_pid = guardian;
    pause->guardian_fd = fds[1];

    if (signal_send(pid, SIGSTOP, err) != 0) {
        signal_resume(pause, NULL);
        return -1;
    }
    return 0;
}

int signal_resume(struct signal_pause *pause, struct err *err)
{
    int rc = 0;

    if (pause->guardian_fd < 0)
        return 0;
    if (kill(pause->pid, SIGCONT) != 0)
        rc = err_set_errno(err, errno, "cannot resume pid %d", (int)pause->pid);
    else
        log_info("signal", "resumed pid=%d", (int)pause->pid);

    /* One byte means the process was resumed here, so the guardian exits without a signal. */
    if (write(pause->guardian_fd, "r", 1) < 0) {
        /* The guardian is gone: it already resumed the process or was killed. */
    }
    close(pause->guardian_fd);
    pause->guardian_fd = -1;
    while (waitpid(pause->guardian_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    pause->guardian_pid = -1;
    return rc;
}
