/*
 * clock: see clock.h.
 */
#include "clock.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t clock_system_wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* cannot fail for CLOCK_REALTIME */
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t clock_system_monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* cannot fail for CLOCK_MONOTONIC */
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The sources and the anchor: set once (pthread_once, or by a test before
 * threads start) and only read afterwards. */
static int64_t (*clock_wall_source)(void) = clock_system_wall_ms;
static int64_t (*clock_monotonic_source)(void) = clock_system_monotonic_ms;
static int64_t clock_anchor_wall;
static int64_t clock_anchor_monotonic;
static pthread_once_t clock_anchor_once = PTHREAD_ONCE_INIT;

static void clock_anchor(void)
{
    clock_anchor_monotonic = clock_monotonic_source();
    clock_anchor_wall = clock_wall_source();
}

/* The database's clock minus the local one (clock_set_offset_ms). */
static _Atomic int64_t clock_offset;

int64_t clock_local_ms(void)
{
    pthread_once(&clock_anchor_once, clock_anchor);
    return clock_anchor_wall + (clock_monotonic_source() - clock_anchor_monotonic);
}

int64_t clock_now_ms(void)
{
    return clock_local_ms() + atomic_load_explicit(&clock_offset, memory_order_relaxed);
}

void clock_set_offset_ms(int64_t offset_ms)
{
    atomic_store_explicit(&clock_offset, offset_ms, memory_order_relaxed);
}

int64_t clock_offset_ms(void)
{
    return atomic_load_explicit(&clock_offset, memory_order_relaxed);
}

int64_t clock_wall_ms(void)
{
    return clock_wall_source();
}

int64_t clock_wall_drift_ms(void)
{
    return clock_wall_ms() - clock_local_ms();
}

int64_t clock_monotonic_ms(void)
{
    return clock_monotonic_source();
}

struct timespec clock_monotonic_deadline(int64_t ms)
{
    struct timespec deadline = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

void clock_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attributes);
    pthread_condattr_destroy(&attributes);
}

void clock_set_sources(int64_t (*wall_ms)(void), int64_t (*monotonic_ms)(void))
{
    pthread_once(&clock_anchor_once, clock_anchor);
    clock_wall_source = wall_ms ? wall_ms : clock_system_wall_ms;
    clock_monotonic_source = monotonic_ms ? monotonic_ms : clock_system_monotonic_ms;
    clock_anchor();
}

void clock_format_rfc3339(int64_t unix_ms, char out[CLOCK_RFC3339_SIZE])
{
    int64_t seconds = unix_ms / 1000;
    int64_t millis = unix_ms % 1000;
    if (millis < 0) {
        millis += 1000;
        seconds -= 1;
    }
    time_t t = (time_t)seconds;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        snprintf(out, CLOCK_RFC3339_SIZE, "1970-01-01T00:00:00.000Z");
        return;
    }
    /* Digits by hand: this runs for every timestamp of every reply, and
     * strftime consults the locale each time. The year is 0..9999 here. */
    const int fields[] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                          tm.tm_min,         tm.tm_sec,     (int)millis};
    const int widths[] = {4, 2, 2, 2, 2, 2, 3};
    const char separators[] = "--T::.Z";
    char *cursor = out;
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        int value = fields[i];
        for (int digit = widths[i] - 1; digit >= 0; digit--) {
            cursor[digit] = (char)('0' + value % 10);
            value /= 10;
        }
        cursor += widths[i];
        *cursor++ = separators[i];
    }
    *cursor = '\0';
}

static int clock_read_digits(const char **cursor, int count, int *value)
{
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*cursor)[i]))
            return -1;
        result = result * 10 + ((*cursor)[i] - '0');
    }
    *cursor += count;
    *value = result;
    return 0;
}

static int clock_expect(const char **cursor, char c)
{
    if (**cursor != c)
        return -1;
    (*cursor)++;
    return 0;
}

int clock_parse_rfc3339(const char *text, int64_t *unix_ms)
{
    const char *p = text;
    int year, month, day, hour, minute, second;
    if (clock_read_digits(&p, 4, &year) || clock_expect(&p, '-') ||
        clock_read_digits(&p, 2, &month) || clock_expect(&p, '-') ||
        clock_read_digits(&p, 2, &day))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (clock_read_digits(&p, 2, &hour) || clock_expect(&p, ':') ||
        clock_read_digits(&p, 2, &minute) || clock_expect(&p, ':') ||
        clock_read_digits(&p, 2, &second))
        return -1;
    int millis = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                millis = millis * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            millis *= 10;
    }
    int offset_minutes = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int offset_hours, offset_mins;
        p++;
        if (clock_read_digits(&p, 2, &offset_hours) || clock_expect(&p, ':') ||
            clock_read_digits(&p, 2, &offset_mins) || offset_hours > 23 || offset_mins > 59)
            return -1;
        offset_minutes = sign * (offset_hours * 60 + offset_mins);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    static const int days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1] || hour > 23 ||
        minute > 59 || second > 60)
        return -1;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap)
        return -1;
    /* Days from civil (Howard Hinnant's algorithm): exact, no timegm/TZ dependence. */
    int y = month <= 2 ? year - 1 : year;
    int era = (y >= 0 ? y : y - 399) / 400;
    int year_of_era = y - era * 400;
    int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    int64_t days = (int64_t)era * 146097 + day_of_era - 719468;
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    *unix_ms = seconds * 1000 + millis;
    return 0;
}
