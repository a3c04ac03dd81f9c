/*
 * receivers: see receivers.h.
 */
#include "receivers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

/* The receivers worth showing: those with requests in flight, due tasks, a
 * hold or a pause. */
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
    bool paused = host_paused(host);
    if (host_in_flight(host) == 0 && !due && !held && !paused)
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
        /* A paused receiver's tasks wait by an operator's decision: not lag. */
        .lag_ms = due && !paused ? receivers->now - next_due : 0,
        .held_until = held ? host_held_until(host) : 0,
        .paused = paused,
    };
}

/* Paused or held first (they must show, however many receivers are busy),
 * then the most overdue, then the busiest. */
static int receivers_compare(const void *a, const void *b)
{
    const MetricsReceiver *left = a, *right = b;
    bool left_first = left->paused || left->held_until != 0;
    bool right_first = right->paused || right->held_until != 0;
    if (left_first != right_first)
        return left_first ? -1 : 1;
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

bool receivers_hold(HostTable *hosts, Host *host, int status, int64_t retry_after_ms,
                    int64_t cap_ms, int64_t now)
{
    if ((status != 429 && status != 503) || retry_after_ms < 0)
        return false;
    int64_t wait = retry_after_ms < cap_ms ? retry_after_ms : cap_ms;
    int64_t before = host_held_until(host);
    if (wait <= 0 || !host_table_hold(hosts, host, now + wait))
        return false;
    if (before > now && now + wait - before < 1000)
        return false;
    log_info("event=receiver_held receiver=%s status=%d seconds=%.1f", host_key(host), status,
             (double)wait / 1000.0);
    return true;
}

void paused_mailbox_init(PausedMailbox *mailbox)
{
    memset(mailbox, 0, sizeof *mailbox);
    pthread_mutex_init(&mailbox->lock, NULL);
}

static void paused_mailbox_clear_keys(char **keys, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(keys[i]);
    free(keys);
}

void paused_mailbox_free(PausedMailbox *mailbox)
{
    paused_mailbox_clear_keys(mailbox->keys, mailbox->count);
    pthread_mutex_destroy(&mailbox->lock);
}

int paused_mailbox_post(PausedMailbox *mailbox, const char *const *keys, size_t count)
{
    char **copy = count > 0 ? calloc(count, sizeof *copy) : NULL;
    for (size_t i = 0; copy != NULL && i < count; i++) {
        copy[i] = strdup(keys[i]);
        if (copy[i] == NULL) {
            paused_mailbox_clear_keys(copy, i);
            copy = NULL;
        }
    }
    if (count > 0 && copy == NULL) {
        /* The claim still passes over them; the next list brings them. */
        log_error("event=paused_list_lost error=\"out of memory\"");
        return -1;
    }
    pthread_mutex_lock(&mailbox->lock);
    char **old = mailbox->keys;
    size_t old_count = mailbox->count;
    mailbox->keys = copy;
    mailbox->count = count;
    mailbox->posted = true;
    pthread_mutex_unlock(&mailbox->lock);
    paused_mailbox_clear_keys(old, old_count);
    return 0;
}

bool paused_mailbox_apply(PausedMailbox *mailbox, HostTable *hosts)
{
    pthread_mutex_lock(&mailbox->lock);
    bool posted = mailbox->posted;
    char **keys = mailbox->keys;
    size_t count = mailbox->count;
    mailbox->keys = NULL;
    mailbox->count = 0;
    mailbox->posted = false;
    pthread_mutex_unlock(&mailbox->lock);
    if (posted && host_table_set_paused(hosts, (const char *const *)keys, count) != 0)
        log_debug("event=paused_list_partial error=\"out of memory\"");
    paused_mailbox_clear_keys(keys, count);
    return posted;
}
