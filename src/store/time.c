/* Parsing the times that history queries and reports accept. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

static int digits(const char *p, int n, int *value)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *value = v;
    return 0;
}

/* Parses "+HH:MM", "+HHMM", "+HH" or "Z" at p into seconds east of UTC. */
static int parse_zone(const char *p, int *offset)
{
    int hours, minutes = 0;
    int sign;

    if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 || *p == '\0') {
        *offset = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p == '-' ? -1 : 1;
    if (digits(p + 1, 2, &hours) != 0)
        return -1;
    p += 3;
    if (*p == ':')
        p++;
    if (*p != '\0' && (digits(p, 2, &minutes) != 0 || p[2] != '\0'))
        return -1;
    if (hours > 23 || minutes > 59)
        return -1;
    *offset = sign * (hours * 3600 + minutes * 60);
    return 0;
}

/* Parses an ISO 8601 date with an optional time: YYYY-MM-DD, then T or a
 * space, HH:MM, optional :SS and fraction, optional zone (UTC when absent). */
static int parse_iso8601(const char *text, double *epoch)
{
    struct tm tm;
    int year, month, day, hour = 0, minute = 0, second = 0, offset = 0;
    double fraction = 0;
    const char *p = text;

    memset(&tm, 0, sizeof(tm));
    if (digits(p, 4, &year) != 0 || p[4] != '-' || digits(p + 5, 2, &month) != 0 ||
        p[7] != '-' || digits(p + 8, 2, &day) != 0)
        return -1;
    p += 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (digits(p + 1, 2, &hour) != 0 || p[3] != ':' || digits(p + 4, 2, &minute) != 0)
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &second) != 0)
                return -1;
            p += 3;
            if (*p == '.' || *p == ',') {
                char *end;
                errno = 0;
                fraction = strtod(p, &end);
                if (end == p + 1 || errno != 0)
                    return -1;
                p = end;
            }
        }
    }
    if (parse_zone(p, &offset) != 0)
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 60)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t t = timegm(&tm);
    /* timegm normalises 31 February into March; such a date is invalid. */
    struct tm check;
    gmtime_r(&t, &check);
    if (check.tm_mday != day || check.tm_mon != month - 1)
        return -1;
    *epoch = (double)t + fraction - offset;
    return 0;
}

/* Parses "7d", "12h", "30m", "2w" or "90s" as a time that long before now. */
static int parse_relative(const char *text, double now, double *epoch)
{
    static const struct { char unit; double seconds; } units[] = {
        { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
    };
    char *end;
    double amount;

    if (!isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    amount = strtod(text, &end);
    if (errno != 0 || !isfinite(amount) || end[0] == '\0' || end[1] != '\0')
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (end[0] == units[i].unit) {
            *epoch = now - amount * units[i].seconds;
            return 0;
        }
    }
    return -1;
}

int store_time_parse(const char *text, double now, double *epoch, struct err *err)
{
    if (text == NULL || text[0] == '\0')
        return err_set(err, "empty time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM], or "
                       "an age such as 7d, 12h or 30m");
    if (strcmp(text, "now") == 0) {
        *epoch = now;
        return 0;
    }
    if (parse_iso8601(text, epoch) == 0 || parse_relative(text, now, epoch) == 0)
        return 0;
    return err_set(err, "invalid time '%s': use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM], "
                   "or an age such as 7d, 12h or 30m", text);
}
