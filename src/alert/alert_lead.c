/*
 * alert_lead: see alert_lead.h.
 */
#include "alert_lead.h"

#include <stdio.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

int64_t alert_lead_lease_ms(int64_t interval_ms)
{
    int64_t lease = 3 * interval_ms;
    if (lease < ALERT_LEAD_LEASE_MIN_MS)
        return ALERT_LEAD_LEASE_MIN_MS;
    return lease > ALERT_LEAD_LEASE_MAX_MS ? ALERT_LEAD_LEASE_MAX_MS : lease;
}

int64_t alert_lead_renew_every_ms(int64_t lease_ms)
{
    return lease_ms / 3;
}

static void alert_lead_set(AlertLead *lead, bool leader, const char *reason)
{
    if (leader == lead->leader)
        return;
    lead->leader = leader;
    metrics_set_leader(leader);
    if (!lead->shared)
        return; /* one heraldd per SQLite file: it always leads, nothing to tell */
    char quoted[320];
    if (leader)
        log_info("event=leader_acquired term=%lld", (long long)lead->term);
    else
        log_warning("event=leader_lost term=%lld reason=%s", (long long)lead->term,
                    log_quote(quoted, sizeof quoted, reason));
}

bool alert_lead_renew(AlertLead *lead, int64_t lease_ms, bool *acquired)
{
    *acquired = false;
    int64_t asked_at = clock_monotonic_ms();
    int64_t term = 0;
    char err[256], quoted[320];
    if (store_leader_acquire(lead->store, lead->holder, clock_now_ms(), lease_ms, &term, err,
                             sizeof err) != 0) {
        if (lead->leader)
            log_warning("event=leader_renew_failed term=%lld error=%s", (long long)lead->term,
                        log_quote(quoted, sizeof quoted, err));
        /* Whether it was renewed is unknown; the lease granted before holds
         * until its end at most. */
        if (lead->leader && asked_at >= lead->held_until)
            alert_lead_set(lead, false, "the lease ended without a renewal");
        return lead->leader;
    }
    if (term == 0) {
        alert_lead_set(lead, false, "another instance holds the lease");
        lead->term = 0;
        return false;
    }
    /* The lease runs from before the statement was sent: never past its end
     * on the database's clock. */
    lead->held_until = asked_at + lease_ms;
    if (term != lead->term || !lead->leader) {
        *acquired = true;
        lead->leader = false; /* a new term: say so even after a missed renewal */
        lead->term = term;
    }
    alert_lead_set(lead, true, "");
    return true;
}

StoreFence alert_lead_fence(const AlertLead *lead)
{
    return (StoreFence){.holder = lead->holder, .term = lead->leader ? lead->term : 0};
}

void alert_lead_fenced(AlertLead *lead, const char *what)
{
    char reason[128];
    snprintf(reason, sizeof reason, "the database refused %s: a newer term leads", what);
    alert_lead_set(lead, false, reason);
    lead->term = 0;
}

void alert_lead_release(AlertLead *lead)
{
    if (!lead->leader)
        return;
    StoreFence fence = alert_lead_fence(lead);
    char err[256], quoted[320];
    if (store_leader_release(lead->store, &fence, clock_now_ms(), err, sizeof err) != 0)
        log_warning("event=leader_release_failed error=%s detail=\"the lease ends by itself\"",
                    log_quote(quoted, sizeof quoted, err));
    else if (lead->shared)
        log_info("event=leader_released term=%lld", (long long)lead->term);
    lead->leader = false;
    metrics_set_leader(false);
}
