/* Byte sizes with decimal and binary units, as stress providers write them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stress/stress.h"

#define SIZE_MAX_BYTES (UINT64_C(1) << 62)

static const struct {
    const char *name;
    double factor;
} size_units[] = {
    { "", 1 },
    { "b", 1 },
    { "kb", 1e3 },
    { "mb", 1e6 },
    { "gb", 1e9 },
    { "tb", 1e12 },
    { "kib", 1024.0 },
    { "mib", 1024.0 * 1024 },
    { "gib", 1024.0 * 1024 * 1024 },
    { "tib", 1024.0 * 1024 * 1024 * 1024 },
};

static int size_error(const char *text, struct err *err)
{
    return err_set(err, "invalid size '%s': use a number of bytes, or a number with a unit such "
                   "as 512KiB, 256MiB, 1.5GB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", text);
}

int stress_parse_size(const char *text, uint64_t *bytes, struct err *err)
{
    const char *p = text;
    double number = 0, scale = 0.1;
    bool digits = false, fraction = false;

    if (text == NULL)
        return size_error("", err);

    /* Digits are read by hand, because strtod also accepts hex, inf and exponents. */
    for (; isdigit((unsigned char)*p); p++) {
        number = number * 10 + (*p - '0');
        digits = true;
    }
    if (*p == '.') {
        fraction = true;
        for (p++; isdigit((unsigned char)*p); p++) {
            number += (*p - '0') * scale;
            scale /= 10;
            digits = true;
        }
    }
    if (!digits)
        return size_error(text, err);
    if (*p == ' ')
        p++;

    for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
        double value;

        if (strcasecmp(p, size_units[i].name) != 0)
            continue;
        if (size_units[i].factor == 1 && fraction)
            return err_set(err, "invalid size '%s': a number of bytes must be whole", text);
        value = floor(number * size_units[i].factor);
        if (!(value >= 1))
            return err_set(err, "invalid size '%s': must be at least 1 byte", text);
        if (value > (double)SIZE_MAX_BYTES)
            return err_set(err, "invalid size '%s': larger than 4 EiB", text);
        *bytes = (uint64_t)value;
        return 0;
    }
    return size_error(text, err);
}

void stress_format_size(uint64_t bytes, char *out, size_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = (double)bytes;
    size_t unit = 0;

    while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
        value /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf(out, size, "%llu B", (unsigned long long)bytes);
    else
        snprintf(out, size, "%.1f %s", value, units[unit]);
}
