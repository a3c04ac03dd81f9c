/*
 * host_table: see host_table.h. A chained hash (FNV-1a, doubling) and a
 * binary min-heap keyed by ready_at (next_due, or a later hold's end) with
 * back-pointers for O(log n) updates.
 */
#include "host_table.h"

#include <stdlib.h>
#include <string.h>

#define HOST_TABLE_INITIAL_BUCKETS 64

struct Host {
    char *key;          /* owned */
    int in_flight;
    int64_t next_due;   /* Unix ms, or HOST_TABLE_IDLE */
    int64_t retry_noted; /* the earliest retry noted since its due time was last set */
    int64_t held_until; /* Unix ms; 0: not held */
    int64_t ready_at;   /* the heap's key: next_due, or held_until if later */
    bool paused;        /* by an operator: never claimable, kept while paused */
    bool open;          /* its circuit: one probe at a time, kept while open */
    int64_t probe_at;   /* while open: the next probe not before (Unix ms) */
    int ramp;           /* after its circuit closed: its limit now; 0: no ramp (an
                           entry dropped idle forgets it: no backlog to ramp into) */
    size_t heap_index;  /* valid while in the heap */
    int in_heap;
    struct Host *next_in_bucket;
};

const char *host_key(const Host *host)
{
    return host->key;
}

int host_in_flight(const Host *host)
{
    return host->in_flight;
}

int64_t host_next_due(const Host *host)
{
    return host->next_due;
}

int64_t host_held_until(const Host *host)
{
    return host->held_until;
}

bool host_paused(const Host *host)
{
    return host->paused;
}

bool host_open(const Host *host)
{
    return host->open;
}

int host_table_limit(const HostTable *table, const Host *host)
{
    if (host->open)
        return 1;
    if (host->ramp > 0 && host->ramp < table->per_host_limit)
        return host->ramp;
    return table->per_host_limit;
}

int64_t host_ready_at(const Host *host)
{
    return host->ready_at;
}

static uint64_t host_table_hash(const char *key)
{
    uint64_t hash = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return hash;
}

int host_table_init(HostTable *table, int per_host_limit)
{
    memset(table, 0, sizeof *table);
    table->per_host_limit = per_host_limit;
    table->bucket_count = HOST_TABLE_INITIAL_BUCKETS;
    table->buckets = calloc(table->bucket_count, sizeof *table->buckets);
    return table->buckets ? 0 : -1;
}

void host_table_free(HostTable *table)
{
    for (size_t i = 0; i < table->bucket_count; i++) {
        Host *host = table->buckets[i];
        while (host != NULL) {
            Host *next = host->next_in_bucket;
            free(host->key);
            free(host);
            host = next;
        }
    }
    free(table->buckets);
    free(table->heap);
    memset(table, 0, sizeof *table);
}

Host *host_table_find(const HostTable *table, const char *key)
{
    Host *host = table->buckets[host_table_hash(key) & (table->bucket_count - 1)];
    while (host != NULL && strcmp(host->key, key) != 0)
        host = host->next_in_bucket;
    return host;
}

static void host_table_grow_buckets(HostTable *table)
{
    size_t count = table->bucket_count * 2;
    Host **buckets = calloc(count, sizeof *buckets);
    if (buckets == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < table->bucket_count; i++) {
        Host *host = table->buckets[i];
        while (host != NULL) {
            Host *next = host->next_in_bucket;
            size_t index = host_table_hash(host->key) & (count - 1);
            host->next_in_bucket = buckets[index];
            buckets[index] = host;
            host = next;
        }
    }
    free(table->buckets);
    table->buckets = buckets;
    table->bucket_count = count;
}

Host *host_table_get(HostTable *table, const char *key)
{
    Host *host = host_table_find(table, key);
    if (host != NULL)
        return host;
    host = calloc(1, sizeof *host);
    if (host == NULL)
        return NULL;
    host->key = strdup(key);
    if (host->key == NULL) {
        free(host);
        return NULL;
    }
    host->next_due = HOST_TABLE_IDLE;
    host->retry_noted = HOST_TABLE_IDLE;
    host->ready_at = HOST_TABLE_IDLE;
    if (table->count + 1 > table->bucket_count)
        host_table_grow_buckets(table);
    size_t index = host_table_hash(key) & (table->bucket_count - 1);
    host->next_in_bucket = table->buckets[index];
    table->buckets[index] = host;
    table->count++;
    return host;
}

/* ---- the heap ---- */

static void host_table_heap_place(HostTable *table, size_t index, Host *host)
{
    table->heap[index] = host;
    host->heap_index = index;
}

static void host_table_sift_up(HostTable *table, size_t index)
{
    Host *host = table->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (table->heap[parent]->ready_at <= host->ready_at)
            break;
        host_table_heap_place(table, index, table->heap[parent]);
        index = parent;
    }
    host_table_heap_place(table, index, host);
}

static void host_table_sift_down(HostTable *table, size_t index)
{
    Host *host = table->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= table->heap_count)
            break;
        if (child + 1 < table->heap_count &&
            table->heap[child + 1]->ready_at < table->heap[child]->ready_at)
            child++;
        if (host->ready_at <= table->heap[child]->ready_at)
            break;
        host_table_heap_place(table, index, table->heap[child]);
        index = child;
    }
    host_table_heap_place(table, index, host);
}

static int host_table_heap_insert(HostTable *table, Host *host)
{
    if (table->heap_count == table->heap_capacity) {
        size_t capacity = table->heap_capacity ? table->heap_capacity * 2 : 64;
        Host **heap = realloc(table->heap, capacity * sizeof *heap);
        if (heap == NULL)
            return -1;
        table->heap = heap;
        table->heap_capacity = capacity;
    }
    host->in_heap = 1;
    host_table_heap_place(table, table->heap_count++, host);
    host_table_sift_up(table, host->heap_index);
    return 0;
}

static void host_table_heap_remove(HostTable *table, Host *host)
{
    size_t index = host->heap_index;
    host->in_heap = 0;
    Host *last = table->heap[--table->heap_count];
    if (last == host)
        return;
    host_table_heap_place(table, index, last);
    host_table_sift_up(table, index);
    host_table_sift_down(table, last->heap_index);
}

static void host_table_remove(HostTable *table, Host *host)
{
    Host **link = &table->buckets[host_table_hash(host->key) & (table->bucket_count - 1)];
    while (*link != host)
        link = &(*link)->next_in_bucket;
    *link = host->next_in_bucket;
    table->count--;
    free(host->key);
    free(host);
}

void host_table_settle(HostTable *table, Host *host)
{
    int64_t ready_at = host->next_due;
    if (ready_at != HOST_TABLE_IDLE && host->held_until > ready_at)
        ready_at = host->held_until;
    if (ready_at != HOST_TABLE_IDLE && host->open && host->probe_at > ready_at)
        ready_at = host->probe_at;
    host->ready_at = ready_at;
    int claimable = host->next_due != HOST_TABLE_IDLE &&
                    host->in_flight < host_table_limit(table, host) && !host->paused;
    if (host->in_heap && !claimable) {
        host_table_heap_remove(table, host);
    } else if (host->in_heap) {
        host_table_sift_up(table, host->heap_index);
        host_table_sift_down(table, host->heap_index);
    } else if (claimable && host_table_heap_insert(table, host) != 0) {
        /* Out of memory: the host is found again when a task of it is notified. */
    }
    if (!host->in_heap && host->in_flight == 0 && host->next_due == HOST_TABLE_IDLE &&
        host->held_until == 0 && !host->paused && !host->open)
        host_table_remove(table, host);
}

static int host_table_compare_gate(const void *key, const void *element)
{
    return strcmp(key, ((const HostGate *)element)->key);
}

/* Gives HOST the gate GATE (NULL: none) and settles it. */
static void host_table_apply_gate(HostTable *table, Host *host, const HostGate *gate)
{
    bool open = gate != NULL && gate->open;
    /* A due time the scheduler put off while the circuit was open (a probe
     * another heraldd had, or not yet due) comes back to the probe's time:
     * the next probe, or the backlog once it closed, goes then. */
    int64_t probe_at = open ? gate->probe_at : host->probe_at;
    if (host->open && host->next_due != HOST_TABLE_IDLE && probe_at < host->next_due &&
        (!open || probe_at != host->probe_at))
        host->next_due = probe_at;
    if (host->open && !open)
        host->ramp = 1; /* back: not flattened by its backlog */
    else if (open)
        host->ramp = 0;
    host->paused = gate != NULL && gate->paused;
    host->open = open;
    host->probe_at = open ? gate->probe_at : 0;
    host_table_settle(table, host);
}

int host_table_set_gates(HostTable *table, const HostGate *gates, size_t count)
{
    /* First every host that is there (settling may drop one, not add). */
    for (size_t i = 0; i < table->bucket_count; i++) {
        Host *host = table->buckets[i];
        while (host != NULL) {
            Host *next = host->next_in_bucket;
            const HostGate *gate = count > 0 ? bsearch(host->key, gates, count, sizeof *gates,
                                                       host_table_compare_gate)
                                             : NULL;
            host_table_apply_gate(table, host, gate);
            host = next;
        }
    }
    /* Then an entry for each gated receiver with none, so its tasks wait. */
    int status = 0;
    for (size_t i = 0; i < count; i++) {
        if (!gates[i].paused && !gates[i].open)
            continue;
        Host *host = host_table_get(table, gates[i].key);
        if (host == NULL) {
            status = -1;
            continue;
        }
        host_table_apply_gate(table, host, &gates[i]);
    }
    return status;
}

void host_table_note_success(HostTable *table, Host *host)
{
    if (host->ramp == 0)
        return;
    /* One more per success: the limit doubles each round trip (1, 2, 4, ...). */
    host->ramp++;
    if (host->ramp >= table->per_host_limit)
        host->ramp = 0;
    host_table_settle(table, host);
}

bool host_table_hold(HostTable *table, Host *host, int64_t until)
{
    if (until <= host->held_until)
        return false;
    host->held_until = until;
    host_table_settle(table, host);
    return true;
}

void host_table_expire_holds(HostTable *table, int64_t now)
{
    for (size_t i = 0; i < table->bucket_count; i++) {
        Host *host = table->buckets[i];
        while (host != NULL) {
            Host *next = host->next_in_bucket; /* settle may free HOST */
            if (host->held_until != 0 && host->held_until <= now) {
                /* Work due during the hold became sendable at its end: the
                 * scheduler's lag counts from then, not from before it. */
                if (host->next_due != HOST_TABLE_IDLE && host->next_due < host->held_until)
                    host->next_due = host->held_until;
                host->held_until = 0;
                host_table_settle(table, host);
            }
            host = next;
        }
    }
}

void host_table_set_due(HostTable *table, Host *host, int64_t next_due)
{
    host->next_due = next_due;
    host->retry_noted = HOST_TABLE_IDLE;
    host_table_settle(table, host);
}

void host_table_note_due(HostTable *table, Host *host, int64_t due)
{
    if (due < host->next_due)
        host->next_due = due;
    host_table_settle(table, host);
}

void host_table_note_retry(HostTable *table, Host *host, int64_t due)
{
    if (due < host->retry_noted)
        host->retry_noted = due;
    host_table_note_due(table, host, due);
}

int64_t host_retry_noted(const Host *host)
{
    return host->retry_noted;
}

void host_table_add_in_flight(HostTable *table, Host *host, int delta)
{
    host->in_flight += delta;
    host_table_settle(table, host);
}

Host *host_table_peek(const HostTable *table)
{
    return table->heap_count > 0 ? table->heap[0] : NULL;
}

void host_table_visit(const HostTable *table, void (*visit)(const Host *host, void *argument),
                      void *argument)
{
    for (size_t i = 0; i < table->bucket_count; i++) {
        for (const Host *host = table->buckets[i]; host != NULL; host = host->next_in_bucket)
            visit(host, argument);
    }
}
