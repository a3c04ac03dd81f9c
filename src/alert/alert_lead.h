/*
 * alert_lead: whether this heraldd leads those sharing its database, as the
 * alert thread keeps it: a lease on the database's clock (store.h,
 * store_leader_acquire), renewed on every turn of the alert thread and at
 * least every third of the lease, so the leader keeps it while it runs and
 * loses it within one lease of stopping, freezing or losing its database.
 *
 * The lease lasts three alert intervals, at least ALERT_LEAD_LEASE_MIN_MS
 * (a turn under load must not lose it) and at most ALERT_LEAD_LEASE_MAX_MS
 * (a stopped leader is replaced within that plus the others' renewal
 * period, however long the interval). What the leader does is fenced by the
 * term it was given (StoreFence), so believing it leads a moment too long
 * changes nothing: the database refuses a stale term.
 *
 * Used by the alert thread only.
 */
#ifndef HERALD_ALERT_LEAD_H
#define HERALD_ALERT_LEAD_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define ALERT_LEAD_LEASE_MIN_MS 2000
#define ALERT_LEAD_LEASE_MAX_MS 30000

typedef struct AlertLead {
    Store *store;       /* the alert thread's connection; not owned */
    const char *holder; /* this instance's id; not owned */
    bool shared;        /* other heraldd may share the database (logs say so) */
    int64_t term;       /* the term of the lease held; 0: none */
    bool leader;
    int64_t held_until; /* monotonic ms: the lease the last renewal granted ends */
} AlertLead;

/* The lease for an alert interval of INTERVAL_MS. */
int64_t alert_lead_lease_ms(int64_t interval_ms);

/* How often to renew a lease of LEASE_MS: a third of it. */
int64_t alert_lead_renew_every_ms(int64_t lease_ms);

/* Takes or renews the lease (LEASE_MS). Returns whether this instance
 * leads; *ACQUIRED says a new term began (the last leader may have raised
 * or resolved what this one must now know of). Logs leader_acquired and
 * leader_lost and sets herald_leader. A renewal that fails keeps the lead
 * until the lease already granted ends (the database fences it anyway). */
bool alert_lead_renew(AlertLead *lead, int64_t lease_ms, bool *acquired);

/* The fence of the lease held (term 0: none). */
StoreFence alert_lead_fence(const AlertLead *lead);

/* Notes that the database refused a write of the current term: the lease
 * ended (another instance leads). */
void alert_lead_fenced(AlertLead *lead, const char *what);

/* A clean stop: ends the lease now, so another instance takes over at its
 * next try rather than when the lease runs out. */
void alert_lead_release(AlertLead *lead);

#endif
