/* CPU and memory workers: child processes that die with aftershock and end by themselves.
 *
 * aftershock has several threads when a worker is forked, so the child calls
 * only async-signal-safe functions and raw system calls: no malloc, no stdio,
 * no logging. Parent and child talk over a socket pair: the parent sends 'g'
 * once the worker is in the fault ledger, and the child replies 'r' when its
 * load is applied, or 'e' when it could not apply it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault/ledger.h"
#include "stress/stress.h"
#include "util/log.h"
#include "util/timeutil.h"

#define CPU_PERIOD_NS 100000000LL
#define PAGE_STEP 4096

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long long cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Uses load percent of one CPU in each period and sleeps for the rest, until
 * the deadline. The busy part is counted in CPU time, not wall time, so a
 * worker that other processes preempt still takes its share when it can. */
static void cpu_loop(double load, long long deadline)
{
    long long busy = (long long)(CPU_PERIOD_NS * load / 100.0);
    volatile unsigned long spin = 0;

    while (now_ns() < deadline) {
        long long start = now_ns(), cpu_start = cpu_ns();

        while (cpu_ns() - cpu_start < busy && now_ns() - start < CPU_PERIOD_NS)
            spin++;
        if (now_ns() - start < CPU_PERIOD_NS)
            sleep_ns(CPU_PERIOD_NS - (now_ns() - start));
    }
}

/* Touches one byte in every page, so the pages are resident and stay so. */
static void touch_pages(volatile unsigned char *memory, uint64_t bytes, unsigned char value)
{
    for (uint64_t at = 0; at < bytes; at += PAGE_STEP)
        memory[at] = value;
}

/* Body of a worker. Never returns. */
static void worker_main(int fd, pid_t parent, enum stress_worker_kind kind, double load,
                        uint64_t bytes, double lifetime)
{
    static const char kind_names[][16] = { "aftershock-cpu", "aftershock-mem" };
    long long deadline;
    unsigned char *memory;
    char byte = 0;
    ssize_t n;

    /* The parent may have died between fork and prctl; the signal would then never come. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(1);
    prctl(PR_SET_NAME, kind_names[kind]);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    for (int other = 3; other < 1024; other++) {
        if (other != fd)
            close(other);
    }

    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1 || byte != 'g')
        _exit(0);
    deadline = now_ns() + (long long)(lifetime * 1e9);

    if (kind == STRESS_CPU) {
        if (write(fd, "r", 1) != 1)
            _exit(1);
        cpu_loop(load, deadline);
        _exit(0);
    }

    memory = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                  0);
    if (memory == MAP_FAILED) {
        if (write(fd, "e", 1) != 1)
            _exit(1);
        _exit(1);
    }
    touch_pages(memory, bytes, 1);
    if (write(fd, "r", 1) != 1)
        _exit(1);
    for (unsigned char round = 2; now_ns() < deadline; round++) {
        sleep_ns(1000000000LL);
        touch_pages(memory, bytes, round);
    }
    _exit(0);
}

int stress_worker_spawn(struct stress_worker *w, enum stress_worker_kind kind, double load,
                        uint64_t bytes, double lifetime, struct err *err)
{
    pid_t parent = getpid();
    int fds[2];
    pid_t pid;

    memset(w, 0, sizeof(*w));
    w->pid = -1;
    w->control_fd = -1;
    w->kind = kind;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return err_set_errno(err, errno, "cannot create the control socket of a stress worker");

    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return err_set_errno(err, errno, "cannot start a stress worker");
    }
    if (pid == 0) {
        close(fds[0]);
        worker_main(fds[1], parent, kind, load, bytes, lifetime);
    }
    close(fds[1]);
    w->pid = pid;
    w->control_fd = fds[0];

    /* A fresh child has its /proc entry; its start time names it in the ledger. */
    if (ledger_process_start(pid, &w->start_ticks, NULL) != 0) {
        stress_worker_stop(w);
        return err_set(err, "stress worker pid %d ended as soon as it started", (int)pid);
    }
    return 0;
}

int stress_worker_go(struct stress_worker *w, double timeout, volatile sig_atomic_t *stop,
                     struct err *err)
{
    double deadline = time_monotonic() + timeout;
    struct pollfd pfd = { .fd = w->control_fd, .events = POLLIN };
    char byte = 0;

    if (send(w->control_fd, "g", 1, MSG_NOSIGNAL) != 1)
        return err_set(err, "stress worker pid %d ended before it was started", (int)w->pid);
    for (;;) {
        int ready = poll(&pfd, 1, 100);

        if (ready > 0)
            break;
        if (ready < 0 && errno != EINTR)
            return err_set_errno(err, errno, "cannot wait for stress worker pid %d", (int)w->pid);
        if (stop != NULL && *stop)
            return err_set(err, "stopped while stress worker pid %d was starting", (int)w->pid);
        if (time_monotonic() > deadline)
            return err_set(err, "stress worker pid %d did not apply its load within %.0f s",
                           (int)w->pid, timeout);
    }
    if (recv(w->control_fd, &byte, 1, 0) != 1 || byte != 'r')
        return err_set(err, "stress worker pid %d could not apply its load%s", (int)w->pid,
                       w->kind == STRESS_MEMORY ? " (the memory could not be mapped)" : "");
    return 0;
}

void stress_worker_stop(struct stress_worker *w)
{
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        log_debug("stress", "stopped worker pid=%d", (int)w->pid);
        w->pid = -1;
    }
    if (w->control_fd >= 0) {
        close(w->control_fd);
        w->control_fd = -1;
    }
}
