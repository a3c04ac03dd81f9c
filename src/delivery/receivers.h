/*
 * receivers: the scheduler's receivers beyond their slots. The per-receiver
 * figures of /metrics (herald_receiver_in_flight, herald_receiver_lag_seconds,
 * herald_receiver_held_seconds, herald_receiver_paused), taken from the host
 * table once a second: the receivers paused or held first, then those with
 * requests in flight or tasks due, most overdue first, then busiest. The holds a 429 or 503 with Retry-After puts on a
 * receiver. And the mailbox through which the database worker hands the loop
 * the receivers an operator paused. All but the mailbox run on the
 * scheduler's thread, which owns the table; metrics keeps a copy for the
 * HTTP threads.
 */
#ifndef HERALD_RECEIVERS_H
#define HERALD_RECEIVERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host_table.h"

/* Publishes HOSTS' receivers as of NOW (Unix ms) to metrics. */
void receivers_publish(const HostTable *hosts, int64_t now);

/* A 429 or 503 (STATUS) with Retry-After (RETRY_AFTER_MS >= 0) holds HOST,
 * not only the task that got it: no request to it starts before then. The
 * hold is capped at CAP_MS, the shortest max_delay of every policy
 * (policy_set_shortest_max_delay_ms): the receiver's tasks of every type
 * wait, so none waits past its own cap for another's answer (the task that
 * got it waits as its own policy says). Requests already claimed finish.
 * Returns true when a hold started or grew by a second or more (it is
 * logged then, once, not for each answer of requests in flight together). */
bool receivers_hold(HostTable *hosts, Host *host, int status, int64_t retry_after_ms,
                    int64_t cap_ms, int64_t now);

/* The paused receivers, from the database worker to the loop: the latest
 * whole list posted, taken once. */
typedef struct PausedMailbox {
    pthread_mutex_t lock;
    char **keys; /* owned; sorted with strcmp */
    size_t count;
    bool posted; /* a list waits to be taken */
} PausedMailbox;

void paused_mailbox_init(PausedMailbox *mailbox);
void paused_mailbox_free(PausedMailbox *mailbox);

/* Copies KEYS (COUNT, sorted) in, replacing a list not taken yet. Any
 * thread. Returns 0, or -1 if out of memory (nothing posted). */
int paused_mailbox_post(PausedMailbox *mailbox, const char *const *keys, size_t count);

/* If a list was posted, makes it HOSTS' paused receivers
 * (host_table_set_paused) and returns true. The loop's thread. */
bool paused_mailbox_apply(PausedMailbox *mailbox, HostTable *hosts);

#endif
