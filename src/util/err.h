/* Error contract: functions return 0 or a negative value and describe the failure in a struct err. */
#ifndef AFTERSHOCK_UTIL_ERR_H
#define AFTERSHOCK_UTIL_ERR_H

#define ERR_MSG_MAX 1024

/* Exit codes shared by every command. */
enum exit_code {
    EXIT_OK = 0,       /* success */
    EXIT_FINDING = 1,  /* a finding: deviation, failed objective or check, unhealthy target */
    EXIT_USAGE = 2,    /* usage error or invalid input */
    EXIT_RUNFAIL = 3,  /* could not run: environment or infrastructure failure */
};

/* Message of the last failure, lowercase, without a trailing period. */
struct err {
    char msg[ERR_MSG_MAX];
};

/* Sets the message (printf format) and returns -1, so callers can write `return err_set(...)`. */
int err_set(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like err_set, with ": strerror(errnum)" appended. */
int err_set_errno(struct err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void err_clear(struct err *err);

#endif
