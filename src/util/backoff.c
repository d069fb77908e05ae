/* Backoff delays and the parser for fixed schedules such as "2,4,8,10". */
#include "util/backoff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/timeutil.h"

double backoff_delay(const struct backoff *b, unsigned retry, backoff_random_fn random,
                     void *state)
{
    double delay;

    if (b->schedule_len > 0) {
        size_t i = retry < b->schedule_len ? retry : b->schedule_len - 1;
        delay = b->schedule[i];
    } else {
        /* Cap before jitter too, so delays at the cap still spread out.
         * pow overflows to inf for huge retry numbers, which the cap absorbs. */
        delay = b->initial * pow(b->factor, (double)retry);
        if (!(delay <= b->max))
            delay = b->max;
    }

    if (random != NULL && b->jitter > 0) {
        double u = random(state);
        delay *= 1.0 + b->jitter * (2.0 * u - 1.0);
    }

    if (b->schedule_len == 0 && !(delay <= b->max))
        delay = b->max;
    return delay < 0 ? 0 : delay;
}

int backoff_check(const struct backoff *b, struct err *err)
{
    if (!(b->jitter >= 0 && b->jitter <= 1))
        return err_set(err, "backoff jitter %g is outside 0 to 1", b->jitter);
    if (b->schedule_len > BACKOFF_SCHEDULE_MAX)
        return err_set(err, "backoff schedule has %zu entries, more than %d",
                       b->schedule_len, BACKOFF_SCHEDULE_MAX);
    if (b->schedule_len > 0) {
        for (size_t i = 0; i < b->schedule_len; i++) {
            if (!(b->schedule[i] > 0) || !isfinite(b->schedule[i]))
                return err_set(err, "backoff schedule entry %zu is %g, expected more than 0",
                               i + 1, b->schedule[i]);
        }
        return 0;
    }
    if (!(b->initial > 0) || !isfinite(b->initial))
        return err_set(err, "backoff initial delay %g must be more than 0", b->initial);
    if (!(b->max >= b->initial) || !isfinite(b->max))
        return err_set(err, "backoff maximum delay %g is less than the initial delay %g",
                       b->max, b->initial);
    if (!(b->factor >= 1) || !isfinite(b->factor))
        return err_set(err, "backoff factor %g is less than 1", b->factor);
    return 0;
}

/* Copies entry [start, end) of text without surrounding spaces into out.
 * Returns -1 when it does not fit. */
static int copy_trimmed(const char *start, const char *end, char *out, size_t size)
{
    size_t len;

    while (start < end && *start == ' ')
        start++;
    while (end > start && end[-1] == ' ')
        end--;
    len = (size_t)(end - start);
    if (len >= size)
        return -1;
    memcpy(out, start, len);
    out[len] = '\0';
    return 0;
}

int backoff_parse_schedule(const char *text, struct backoff *b, struct err *err)
{
    double parsed[BACKOFF_SCHEDULE_MAX];
    size_t n = 0;
    const char *p = text;

    if (text == NULL || strspn(text, " ") == strlen(text))
        return err_set(err, "empty schedule: expected comma-separated delays such as 2,4,8,10");

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        char entry[64];
        double seconds;

        if (copy_trimmed(p, end, entry, sizeof(entry)) != 0)
            return err_set(err, "invalid delay at position %zu in '%s': expected a duration "
                           "such as 2, 1.5s or 250ms", n + 1, text);
        if (n == BACKOFF_SCHEDULE_MAX)
            return err_set(err, "more than %d delays in '%s'", BACKOFF_SCHEDULE_MAX, text);
        if (entry[0] == '\0')
            return err_set(err, "empty delay at position %zu in '%s': expected "
                           "comma-separated delays such as 2,4,8,10", n + 1, text);
        if (time_parse_duration(entry, &seconds) != 0 || !(seconds > 0))
            return err_set(err, "invalid delay '%s' in '%s': expected a duration greater "
                           "than 0 such as 2, 1.5s or 250ms", entry, text);
        parsed[n++] = seconds;
        if (comma == NULL)
            break;
        p = comma + 1;
    }

    memcpy(b->schedule, parsed, n * sizeof(double));
    b->schedule_len = n;
    return 0;
}

double backoff_random_xorshift(void *state)
{
    uint64_t *s = state;
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    /* The top 53 bits fill a double's mantissa exactly, giving [0, 1). */
    return (double)(x >> 11) / 9007199254740992.0;
}

uint64_t backoff_seed(void)
{
    struct timespec ts;
    uint64_t seed;

    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_nsec * 6364136223846793005ULL ^ (uint64_t)ts.tv_sec ^
           ((uint64_t)getpid() << 32);
    return seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}
