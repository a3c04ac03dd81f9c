/*
 * beacon: see beacon.h.
 */
#include "beacon.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fault.h"
#include "log.h"

struct Beacon {
    Store *store;
    char instance_id[sizeof ((StoreInstance *)0)->id];
    pthread_t thread;
    pthread_mutex_t lock; /* guards rung and stopping */
    pthread_cond_t wake;  /* on CLOCK_MONOTONIC */
    bool rung;
    bool stopping;
    bool failing; /* the last send failed: log the next failure only after a success */
};

/* Waits, with the lock held, until STOPPING or MS have passed. */
static void beacon_pause(Beacon *beacon, int ms)
{
    struct timespec deadline = clock_monotonic_deadline(ms);
    while (!beacon->stopping &&
           pthread_cond_timedwait(&beacon->wake, &beacon->lock, &deadline) != ETIMEDOUT) {
    }
}

static void beacon_send(Beacon *beacon)
{
    char err[320];
    if (store_signal_send(beacon->store, beacon->instance_id, err, sizeof err) == 0) {
        beacon->failing = false;
        return;
    }
    if (!beacon->failing) {
        char quoted[400];
        log_warning("event=signal_failed error=%s", log_quote(quoted, sizeof quoted, err));
    }
    beacon->failing = true;
}

static void *beacon_main(void *argument)
{
    Beacon *beacon = argument;
    pthread_setname_np(pthread_self(), "herald-beacon");
    fault_set_role("beacon");
    pthread_mutex_lock(&beacon->lock);
    for (;;) {
        while (!beacon->rung && !beacon->stopping)
            pthread_cond_wait(&beacon->wake, &beacon->lock);
        if (beacon->stopping)
            break;
        beacon->rung = false;
        pthread_mutex_unlock(&beacon->lock);
        beacon_send(beacon);
        pthread_mutex_lock(&beacon->lock);
        /* Rings meanwhile wait for the end of the gap: one signal for all. */
        beacon_pause(beacon, BEACON_GAP_MS);
    }
    pthread_mutex_unlock(&beacon->lock);
    return NULL;
}

Beacon *beacon_start(const StoreLocation *location, const char *instance_id, char *err,
                     size_t errlen)
{
    Beacon *beacon = calloc(1, sizeof *beacon);
    if (beacon == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(beacon->instance_id, sizeof beacon->instance_id, "%s", instance_id);
    /* A signal is a hint: its commit need not wait for the disk. */
    StoreOptions options = {.durability = STORE_DURABILITY_REPLAYABLE,
                            .application_name = "heraldd/beacon"};
    beacon->store = store_open(location, &options, err, errlen);
    if (beacon->store == NULL) {
        free(beacon);
        return NULL;
    }
    clock_cond_init(&beacon->wake);
    pthread_mutex_init(&beacon->lock, NULL);
    int rc = pthread_create(&beacon->thread, NULL, beacon_main, beacon);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the beacon thread: %s", strerror(rc));
        pthread_cond_destroy(&beacon->wake);
        pthread_mutex_destroy(&beacon->lock);
        store_close(beacon->store);
        free(beacon);
        return NULL;
    }
    return beacon;
}

void beacon_ring(Beacon *beacon)
{
    if (beacon == NULL)
        return;
    pthread_mutex_lock(&beacon->lock);
    if (!beacon->rung) {
        beacon->rung = true;
        pthread_cond_signal(&beacon->wake);
    }
    pthread_mutex_unlock(&beacon->lock);
}

void beacon_stop(Beacon *beacon)
{
    if (beacon == NULL)
        return;
    pthread_mutex_lock(&beacon->lock);
    beacon->stopping = true;
    pthread_cond_signal(&beacon->wake);
    pthread_mutex_unlock(&beacon->lock);
    pthread_join(beacon->thread, NULL);
    pthread_cond_destroy(&beacon->wake);
    pthread_mutex_destroy(&beacon->lock);
    store_close(beacon->store);
    free(beacon);
}
