/*
 * live: the parts of the configuration a reload (SIGHUP) may change: retry
 * policies, business types, signing secrets, alert settings.
 *
 * A reload publishes a new immutable snapshot through an atomic pointer;
 * readers take the current pointer when they need it and may keep using it:
 * snapshots are never freed before live_free_all() at exit, so a delivery
 * that started under the old policy finishes with it. (Reloads are rare;
 * the memory they keep is a few kilobytes each.)
 */
#ifndef HERALD_LIVE_H
#define HERALD_LIVE_H

#include "config.h"
#include "policy.h"

typedef struct LiveConfig {
    Config config;     /* owned: its business sections */
    PolicySet policies; /* borrows config */
} LiveConfig;

/* Publishes CONFIG (ownership passes to live) as the current snapshot.
 * Returns it, or NULL if out of memory (CONFIG is then freed). */
const LiveConfig *live_publish(Config *config);

/* The current snapshot (NULL before the first publish). Thread-safe. */
const LiveConfig *live_current(void);

/* The current policies; shorthand for live_current()->policies. */
const PolicySet *live_policies(void);

/* Frees every snapshot. Only at exit, when no thread reads them any more. */
void live_free_all(void);

#endif
