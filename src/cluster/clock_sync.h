/*
 * clock_sync: keeps herald time on the database server's clock when several
 * heraldd share the database (PostgreSQL), so that due times, heartbeats and
 * the other times one instance writes and another compares agree even when
 * an instance's own clock is off (no NTP, a step, a suspend). The main
 * thread measures at start, before the scheduler claims anything, and at
 * every heartbeat, on its own connection; clock.c applies the offset.
 * Leases do not depend on it: the server computes and compares them itself.
 *
 * The offset is exported (herald_clock_offset_seconds) and logged when it
 * changes; beyond CLOCK_SYNC_WARNING_MS a warning says the machine's time
 * synchronisation is broken: herald keeps working, but the webhook-timestamp
 * it signs is the machine's wall clock, which receivers compare with theirs.
 */
#ifndef HERALD_CLOCK_SYNC_H
#define HERALD_CLOCK_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Differences smaller than this are jitter, not adopted. */
#define CLOCK_SYNC_TOLERANCE_MS 50
/* A measurement whose query took longer is skipped. */
#define CLOCK_SYNC_MAX_ROUND_TRIP_MS 1000
/* Beyond this the machine's clock is reported as wrong. */
#define CLOCK_SYNC_WARNING_MS 1000

/* One measurer's state (the main thread's). */
typedef struct ClockSync {
    bool measured; /* an offset was set once */
    bool warned;   /* the current skew was reported */
} ClockSync;

void clock_sync_init(ClockSync *sync);

/* Reads STORE's clock (a shared database's) and adopts its offset. Returns 0,
 * or -1 with ERR if the database could not be read (the offset stays). */
int clock_sync_measure(ClockSync *sync, Store *store, char *err, size_t errlen);

#endif
