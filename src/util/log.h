/* Logging to stderr as `time level module: message key=value`. */
#ifndef AFTERSHOCK_UTIL_LOG_H
#define AFTERSHOCK_UTIL_LOG_H

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
};

/* Current threshold; messages above it are dropped before their arguments are evaluated. */
extern int log_threshold;

void log_set_level(enum log_level level);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(level, module, ...)                          \
    do {                                                    \
        if ((int)(level) <= log_threshold)                  \
            log_write((level), (module), __VA_ARGS__);      \
    } while (0)

#define log_error(module, ...) log_at(LOG_ERROR, module, __VA_ARGS__)
#define log_warn(module, ...) log_at(LOG_WARN, module, __VA_ARGS__)
#define log_info(module, ...) log_at(LOG_INFO, module, __VA_ARGS__)
#define log_debug(module, ...) log_at(LOG_DEBUG, module, __VA_ARGS__)

#endif
