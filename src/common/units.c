/*
 * units: see units.h. One routine splits "<digits><suffix>"; each kind has
 * its own suffix table.
 */
#include "units.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct UnitSuffix {
    const char *suffix;
    uint64_t multiplier;
} UnitSuffix;

static const UnitSuffix units_duration_suffixes[] = {
    {"", 1000},          {"ms", 1},          {"s", 1000},
    {"m", 60 * 1000},    {"h", 3600 * 1000}, {"d", 86400ULL * 1000},
};

static const UnitSuffix units_size_suffixes[] = {
    {"", 1},
    {"B", 1},
    {"KiB", 1024},
    {"MiB", 1024 * 1024},
    {"GiB", 1024ULL * 1024 * 1024},
};

static int units_parse(const char *text, const UnitSuffix *suffixes, size_t suffix_count,
                       const char *kind, const char *examples, uint64_t limit, uint64_t *out,
                       char *err, size_t errlen)
{
    const char *p = text;
    if (!isdigit((unsigned char)*p)) {
        snprintf(err, errlen, "invalid %s \"%s\": expected a whole number with a unit, e.g. %s",
                 kind, text, examples);
        return -1;
    }
    uint64_t number = 0;
    for (; isdigit((unsigned char)*p); p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (number > (limit - digit) / 10) {
            snprintf(err, errlen, "%s \"%s\" is too large", kind, text);
            return -1;
        }
        number = number * 10 + digit;
    }
    for (size_t i = 0; i < suffix_count; i++) {
        if (strcmp(p, suffixes[i].suffix) != 0)
            continue;
        if (number > limit / suffixes[i].multiplier) {
            snprintf(err, errlen, "%s \"%s\" is too large", kind, text);
            return -1;
        }
        *out = number * suffixes[i].multiplier;
        return 0;
    }
    snprintf(err, errlen, "invalid %s \"%s\": unknown unit \"%s\" (use e.g. %s)", kind, text, p,
             examples);
    return -1;
}

int units_parse_duration_ms(const char *text, int64_t *out_ms, char *err, size_t errlen)
{
    uint64_t value;
    if (units_parse(text, units_duration_suffixes,
                    sizeof units_duration_suffixes / sizeof units_duration_suffixes[0],
                    "duration", "500ms, 30s, 1m, 2h, 1d", (uint64_t)INT64_MAX, &value, err,
                    errlen) != 0)
        return -1;
    *out_ms = (int64_t)value;
    return 0;
}

int units_parse_size(const char *text, uint64_t *out_bytes, char *err, size_t errlen)
{
    return units_parse(text, units_size_suffixes,
                       sizeof units_size_suffixes / sizeof units_size_suffixes[0], "size",
                       "4096, 4KiB, 256KiB, 1MiB", UINT64_MAX, out_bytes, err, errlen);
}

void units_format_duration_ms(int64_t ms, char out[UNITS_DURATION_TEXT_MAX])
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    /* INT64_MAX ms is 106,751,991,167 days: the longest text fits with room. */
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        int64_t count = ms > 0 ? ms / units[i].ms : 0;
        ms -= count * units[i].ms;
        if (count > 0) {
            int written = snprintf(out + used, UNITS_DURATION_TEXT_MAX - used, "%s%lld%s",
                                   used ? " " : "", (long long)count, units[i].unit);
            if (written < 0 || (size_t)written >= UNITS_DURATION_TEXT_MAX - used)
                break;
            used += (size_t)written;
        }
    }
    if (used == 0)
        snprintf(out, UNITS_DURATION_TEXT_MAX, "0s");
}
