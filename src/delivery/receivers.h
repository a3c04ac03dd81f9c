/*
 * receivers: the per-receiver figures of /metrics (herald_receiver_in_flight,
 * herald_receiver_lag_seconds), taken from the scheduler's host table once a
 * second: the receivers with requests in flight or tasks due, most overdue
 * first, then busiest. Runs on the scheduler's thread, which owns the table;
 * metrics keeps a copy for the HTTP threads.
 */
#ifndef HERALD_RECEIVERS_H
#define HERALD_RECEIVERS_H

#include <stdint.h>

#include "host_table.h"

/* Publishes HOSTS' receivers as of NOW (Unix ms) to metrics. */
void receivers_publish(const HostTable *hosts, int64_t now);

#endif
