/*
 * rate_limit: see rate_limit.h.
 */
#include "rate_limit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rate_limit_parse(const char *text, RateLimit *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "0") == 0)
        return 0;
    char *end = NULL;
    errno = 0;
    long long count = strtoll(text, &end, 10);
    int64_t period_us = 0;
    if (end != text && text[0] >= '0' && text[0] <= '9' && errno == 0) {
        if (strcmp(end, "/s") == 0)
            period_us = 1000000;
        else if (strcmp(end, "/min") == 0)
            period_us = 60000000;
    }
    if (period_us == 0 || count <= 0 || strlen(text) >= RATE_LIMIT_TEXT_MAX ||
        count > (long long)RATE_LIMIT_MAX_PER_SECOND * (period_us / 1000000)) {
        snprintf(err, errlen,
                 "\"%s\": a rate is COUNT/s or COUNT/min, at most %d a second, or 0 for none",
                 text, RATE_LIMIT_MAX_PER_SECOND);
        return -1;
    }
    /* Rounded up: the interval never lets more than COUNT through. */
    out->interval_us = (period_us + count - 1) / count;
    out->burst = 100000 / out->interval_us; /* a tenth of a second's */
    if (out->burst < 1)
        out->burst = 1;
    snprintf(out->text, sizeof out->text, "%s", text);
    return 0;
}

int64_t rate_bucket_take(int64_t *tat_us, int64_t now_us, const RateLimit *limit, int64_t want,
                         int64_t *wait_us)
{
    int64_t interval = limit->interval_us;
    int64_t tat = *tat_us > now_us ? *tat_us : now_us;
    /* A bucket charged under a slower rate (a reload raised it) holds no
     * more than a burst under this one. */
    if (tat > now_us + limit->burst * interval)
        tat = now_us + limit->burst * interval;
    int64_t room = now_us + limit->burst * interval - tat; /* >= interval per token */
    int64_t taken = room > 0 ? room / interval : 0;
    if (taken > want)
        taken = want;
    if (taken < 0)
        taken = 0;
    tat += taken * interval;
    *tat_us = tat;
    /* The next token is free once TAT - NOW < burst * interval again. */
    int64_t next = tat - (limit->burst - 1) * interval;
    *wait_us = next > now_us ? next - now_us : 0;
    return taken;
}

void rate_bucket_give_back(int64_t *tat_us, const RateLimit *limit, int64_t count)
{
    *tat_us -= count * limit->interval_us;
}

void rate_bucket_charge(int64_t *tat_us, int64_t now_us, const RateLimit *limit, int64_t count)
{
    int64_t sent = now_us + count * limit->interval_us;
    if (*tat_us < sent)
        *tat_us = sent;
}
