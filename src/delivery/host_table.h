/*
 * host_table: the scheduler's view of receivers.
 *
 * One entry per "scheme://host:port" that has work: how many requests are in
 * flight to it, when its earliest pending task is due, and until when the
 * receiver asked to be left alone (a 429 or 503 with Retry-After holds the
 * receiver, not only the task that got it), whether an operator paused
 * it, or whether its circuit breaker is open (one probe at a time, from its
 * next probe time) or ramping up after it closed. A min-heap holds the hosts that could take a request (due work known,
 * fewer than per_host_limit in flight, not paused), the earliest ready first
 * (due, and past any hold), so the scheduler claims host by host without
 * ever looking at another host's backlog. Memory is O(hosts with work, a
 * hold or a pause), never O(tasks): an entry with nothing in flight,
 * nothing due, no hold and no pause is dropped.
 *
 * Used by the scheduler thread only; no lock.
 */
#ifndef HERALD_HOST_TABLE_H
#define HERALD_HOST_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_TABLE_IDLE INT64_MAX /* next_due of a host with no known pending task */

/* One receiver's entry. Opaque: its counters change only through the
 * functions below, which keep the heap in step with them. */
typedef struct Host Host;

/* "scheme://host:port"; valid while the entry exists. */
const char *host_key(const Host *host);

/* Requests in flight to it now. */
int host_in_flight(const Host *host);

/* When its earliest known pending task is due (Unix ms), or HOST_TABLE_IDLE. */
int64_t host_next_due(const Host *host);

/* Until when the receiver is held (Unix ms; 0: not held). */
int64_t host_held_until(const Host *host);

/* Whether an operator paused it (host_table_set_gates). */
bool host_paused(const Host *host);

/* Whether its circuit is open (host_table_set_gates): only a probe goes. */
bool host_open(const Host *host);

/* When a request to it may start: its next due time, or the end of its
 * hold or its next probe if later (HOST_TABLE_IDLE with nothing due). */
int64_t host_ready_at(const Host *host);

typedef struct HostTable {
    Host **buckets;
    size_t bucket_count;
    size_t count;
    Host **heap;
    size_t heap_count;
    size_t heap_capacity;
    int per_host_limit;
} HostTable;

/* Returns 0, or -1 if out of memory. */
int host_table_init(HostTable *table, int per_host_limit);
void host_table_free(HostTable *table);

/* The entry for KEY, created idle if new. NULL if out of memory. */
Host *host_table_get(HostTable *table, const char *key);

/* The entry for KEY if it exists. */
Host *host_table_find(const HostTable *table, const char *key);

/* Sets HOST's earliest due time (HOST_TABLE_IDLE: none). */
void host_table_set_due(HostTable *table, Host *host, int64_t next_due);

/* Lowers HOST's due time to DUE if DUE is earlier. */
void host_table_note_due(HostTable *table, Host *host, int64_t due);

/* The same for a task's retry (an outcome still to be written), which
 * host_retry_noted remembers until the host's due time is next set: a claim's
 * read of the database, made before the outcome is written, cannot know it. */
void host_table_note_retry(HostTable *table, Host *host, int64_t due);
int64_t host_retry_noted(const Host *host);

/* Holds HOST until UNTIL (Unix ms), unless it is held longer already.
 * Returns whether the hold was set or lengthened. */
bool host_table_hold(HostTable *table, Host *host, int64_t until);

/* A receiver an operator paused, or whose circuit breaker is open. */
typedef struct HostGate {
    const char *key; /* borrowed */
    bool paused;
    bool open;        /* its circuit: only a probe may go, one at a time */
    int64_t probe_at; /* then: not before this (Unix ms) */
} HostGate;

/* The gated receivers are exactly GATES (COUNT of them, sorted by key with
 * strcmp): each is paused or open as it says (an entry made for it if it
 * has none), every other host neither. A host whose circuit closes ramps
 * up: one request at a time, one more for each success
 * (host_table_note_success), up to per_host_limit. Returns 0, or -1 if out
 * of memory (a key left without its entry is gated at the next call; the
 * claim passes over it meanwhile). */
int host_table_set_gates(HostTable *table, const HostGate *gates, size_t count);

/* A request to HOST succeeded: a host ramping up after its circuit closed
 * may have one more in flight. */
void host_table_note_success(HostTable *table, Host *host);

/* How many requests HOST may have in flight now: 1 while its circuit is
 * open (the probe), its ramp after it closed, else per_host_limit. */
int host_table_limit(const HostTable *table, const Host *host);

/* Lifts the holds that ended at NOW (work due meanwhile counts as due from
 * the hold's end) and drops the entries they alone kept: O(hosts); the
 * scheduler calls it once a second. */
void host_table_expire_holds(HostTable *table, int64_t now);

/* Changes HOST's in-flight count by DELTA. May free HOST (idle, nothing in
 * flight): do not use the pointer afterwards. */
void host_table_add_in_flight(HostTable *table, Host *host, int delta);

/* Calls VISIT for every host (in no particular order): O(hosts), for the
 * per-receiver gauges. VISIT must not change the table. */
void host_table_visit(const HostTable *table, void (*visit)(const Host *host, void *argument),
                      void *argument);

/* The claimable host ready earliest (host_ready_at), or NULL. */
Host *host_table_peek(const HostTable *table);

/* Re-files HOST after changes to it; frees it if idle. Do not use the
 * pointer afterwards. */
void host_table_settle(HostTable *table, Host *host);

#endif
