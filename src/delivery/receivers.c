/*
 * receivers: see receivers.h.
 */
#include "receivers.h"

#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "metrics.h"

/* The receivers worth showing: those with requests in flight, due tasks or a
 * hold. */
typedef struct Receivers {
    MetricsReceiver *items;
    size_t count;
    size_t capacity;
    int64_t now;
} Receivers;

static void receivers_visit(const Host *host, void *argument)
{
    Receivers *receivers = argument;
    int64_t next_due = host_next_due(host);
    bool due = next_due != HOST_TABLE_IDLE && next_due <= receivers->now;
    bool held = host_held_until(host) > receivers->now;
    if (host_in_flight(host) == 0 && !due && !held)
        return;
    if (receivers->count == receivers->capacity) {
        size_t capacity = receivers->capacity ? receivers->capacity * 2 : 64;
        MetricsReceiver *grown = realloc(receivers->items, capacity * sizeof *grown);
        if (grown == NULL)
            return; /* a shorter list this second */
        receivers->items = grown;
        receivers->capacity = capacity;
    }
    receivers->items[receivers->count++] = (MetricsReceiver){
        .key = host_key(host),
        .in_flight = host_in_flight(host),
        .lag_ms = due ? receivers->now - next_due : 0,
        .held_until = held ? host_held_until(host) : 0,
    };
}

/* Most overdue first, then busiest. */
static int receivers_compare(const void *a, const void *b)
{
    const MetricsReceiver *left = a, *right = b;
    if (left->lag_ms != right->lag_ms)
        return left->lag_ms > right->lag_ms ? -1 : 1;
    return right->in_flight - left->in_flight;
}

void receivers_publish(const HostTable *hosts, int64_t now)
{
    Receivers receivers = {.now = now};
    host_table_visit(hosts, receivers_visit, &receivers);
    if (receivers.count > 1)
        qsort(receivers.items, receivers.count, sizeof *receivers.items,
              receivers_compare);
    if (metrics_set_receivers(receivers.items, receivers.count) != 0)
        log_debug("event=metrics_skipped error=\"out of memory\"");
    free(receivers.items);
}
