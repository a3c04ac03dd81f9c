/*
 * retry_after: see retry_after.h. Dates are parsed by libcurl's curl_getdate,
 * which handles the three HTTP date formats.
 */
#include "retry_after.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>

int64_t retry_after_parse(const char *value, int64_t now_ms)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t length = strlen(value);
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t' ||
                          value[length - 1] == '\r' || value[length - 1] == '\n'))
        length--;
    if (length == 0)
        return -1;
    if (isdigit((unsigned char)value[0])) {
        int64_t seconds = 0;
        for (size_t i = 0; i < length; i++) {
            if (!isdigit((unsigned char)value[i]))
                return -1;
            if (seconds < RETRY_AFTER_MAX_MS / 1000)
                seconds = seconds * 10 + (value[i] - '0');
        }
        int64_t ms = seconds * 1000;
        return ms > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ms;
    }
    char date[128];
    if (length >= sizeof date)
        return -1;
    memcpy(date, value, length);
    date[length] = '\0';
    time_t when = curl_getdate(date, NULL);
    if (when == (time_t)-1)
        return -1;
    /* Compare in seconds first: a date in the year 10^9 must not overflow. */
    int64_t now_seconds = now_ms / 1000;
    if ((int64_t)when <= now_seconds - 1)
        return 0;
    if ((int64_t)when - now_seconds > RETRY_AFTER_MAX_MS / 1000)
        return RETRY_AFTER_MAX_MS;
    int64_t delay = (int64_t)when * 1000 - now_ms;
    return delay < 0 ? 0 : delay;
}
