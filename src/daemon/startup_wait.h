/*
 * startup_wait: keeps systemd waiting while start-up opens the database. The
 * unit is Type=notify, and systemd kills a service that is not READY within
 * its start timeout (90 s by default); a migration that builds an index on a
 * large PostgreSQL table, or waits for another heraldd's, can take longer, and
 * a kill in the middle would leave the build to be started again at the next
 * start, forever. While a StartupWait runs, a thread of its own tells systemd
 * every STARTUP_WAIT_PING_MS that start-up goes on (EXTEND_TIMEOUT_USEC) and
 * what it is doing (STATUS=). Outside systemd it sends nothing. The caller
 * owns the StartupWait; startup_wait_stop() joins the thread.
 */
#ifndef HERALD_STARTUP_WAIT_H
#define HERALD_STARTUP_WAIT_H

#include <pthread.h>
#include <stdbool.h>

/* How often start-up says it goes on, and how much longer each time it
 * asks systemd to wait. */
#define STARTUP_WAIT_PING_MS 10000
#define STARTUP_WAIT_EXTEND_MS 30000

typedef struct StartupWait {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    bool stop;
    bool running;
    const char *status; /* a string constant */
} StartupWait;

/* Starts telling systemd that start-up goes on, with STATUS (a constant).
 * Returns 0, or -1 with ERR. */
int startup_wait_start(StartupWait *wait, const char *status, char *err, size_t errlen);

/* Stops it (a no-op if it did not start). */
void startup_wait_stop(StartupWait *wait);

#endif
