/*
 * beacon: tells the other heraldd sharing the database that this one
 * accepted new tasks ("herald-beacon"), so that an idle one delivers them
 * within milliseconds when this one's scheduler is busy, stuck or gone.
 *
 * The intake writer rings it after each commit that created tasks
 * (beacon_ring: a flag and a wake-up, never a wait on the database). Its
 * thread sends a signal (store_signal_send) on a connection of its own: at
 * once for a ring after a quiet spell, then at most one per BEACON_GAP_MS
 * however many commits ring, so a burst costs the cluster a hundred signals
 * a second, not one per commit, and no commit ever waits for one. A signal
 * is a hint (store.h): one that cannot be sent is logged, and the others'
 * once-a-second look finds the work.
 *
 * Only for a database other heraldd share (main starts it when
 * store_is_shared()). Threads: beacon_ring() from any thread; beacon_start
 * and beacon_stop from main's.
 */
#ifndef HERALD_BEACON_H
#define HERALD_BEACON_H

#include <stddef.h>

#include "store.h"

#define BEACON_GAP_MS 10

typedef struct Beacon Beacon;

/* Opens its connection to the database at LOCATION (not owned; outlives the
 * Beacon) and starts the thread; signals carry INSTANCE_ID (copied).
 * Returns the Beacon (the caller owns it: beacon_stop), or NULL with ERR. */
Beacon *beacon_start(const StoreLocation *location, const char *instance_id, char *err,
                     size_t errlen);

/* Asks for a signal soon. Thread-safe, never blocks on I/O; safe if BEACON
 * is NULL (no shared database). */
void beacon_ring(Beacon *beacon);

/* Stops the thread (a ring not yet sent is dropped: the others' poll finds
 * the work), closes the connection and frees BEACON. Safe if NULL. */
void beacon_stop(Beacon *beacon);

#endif
