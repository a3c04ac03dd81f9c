/*
 * clock_sync: see clock_sync.h.
 *
 * The offset is the server's clock minus the midpoint of the local readings
 * taken around the query, so a round trip's delay is halved on both sides;
 * a measurement whose round trip took longer than CLOCK_SYNC_MAX_ROUND_TRIP_MS
 * is too vague to act on and is skipped. Small differences (jitter of a few
 * milliseconds) are not adopted, so herald time does not wobble.
 */
#include "clock_sync.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

void clock_sync_init(ClockSync *sync)
{
    sync->measured = false;
    sync->warned = false;
}

int clock_sync_measure(ClockSync *sync, Store *store, char *err, size_t errlen)
{
    int64_t before = clock_local_ms();
    int64_t server = 0;
    if (store_clock_read(store, &server, err, errlen) != 0)
        return -1;
    int64_t after = clock_local_ms();
    if (after - before > CLOCK_SYNC_MAX_ROUND_TRIP_MS)
        return 0; /* too slow to tell: the next heartbeat measures again */
    int64_t offset = server - (before + (after - before) / 2);
    int64_t current = clock_offset_ms();
    if (!sync->measured || llabs(offset - current) > CLOCK_SYNC_TOLERANCE_MS) {
        clock_set_offset_ms(offset);
        if (sync->measured || llabs(offset) > CLOCK_SYNC_TOLERANCE_MS)
            log_info("event=clock_offset_set offset_ms=%lld previous_ms=%lld round_trip_ms=%lld "
                     "detail=\"herald time follows the database server's clock\"",
                     (long long)offset, (long long)current, (long long)(after - before));
    }
    sync->measured = true;
    bool skewed = llabs(offset) > CLOCK_SYNC_WARNING_MS;
    if (skewed && !sync->warned)
        log_warning("event=clock_skew offset_ms=%lld detail=\"this machine's clock is %lld ms "
                    "%s the database server's; herald keeps its schedule and leases by the "
                    "server's, but webhook-timestamp is this machine's: fix its time "
                    "synchronisation\"",
                    (long long)offset, (long long)llabs(offset), offset > 0 ? "behind" : "ahead of");
    else if (!skewed && sync->warned)
        log_info("event=clock_skew_resolved offset_ms=%lld", (long long)offset);
    sync->warned = skewed;
    return 0;
}
