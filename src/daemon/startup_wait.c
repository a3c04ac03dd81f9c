/*
 * startup_wait: while start-up opens (and migrates) the database, a thread
 * tells systemd every STARTUP_WAIT_PING_MS that it goes on, so the unit's
 * start timeout does not kill a long migration (startup_wait.h says why).
 */
#include "startup_wait.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

static void *startup_wait_main(void *argument)
{
    StartupWait *wait = argument;
    pthread_setname_np(pthread_self(), "herald-start");
    pthread_mutex_lock(&wait->lock);
    while (!wait->stop) {
        sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=%s",
                   (unsigned long long)STARTUP_WAIT_EXTEND_MS * 1000, wait->status);
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += STARTUP_WAIT_PING_MS / 1000;
        while (!wait->stop &&
               pthread_cond_timedwait(&wait->wake, &wait->lock, &deadline) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&wait->lock);
    return NULL;
}

int startup_wait_start(StartupWait *wait, const char *status, char *err, size_t errlen)
{
    memset(wait, 0, sizeof *wait);
    wait->status = status;
    pthread_condattr_t attributes;
    int rc = pthread_condattr_init(&attributes);
    if (rc == 0)
        rc = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&wait->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    if (rc != 0) {
        snprintf(err, errlen, "start-up wait: %s", strerror(rc));
        return -1;
    }
    if ((rc = pthread_mutex_init(&wait->lock, NULL)) != 0) {
        pthread_cond_destroy(&wait->wake);
        snprintf(err, errlen, "start-up wait: %s", strerror(rc));
        return -1;
    }
    if ((rc = pthread_create(&wait->thread, NULL, startup_wait_main, wait)) != 0) {
        pthread_mutex_destroy(&wait->lock);
        pthread_cond_destroy(&wait->wake);
        snprintf(err, errlen, "start-up wait: %s", strerror(rc));
        return -1;
    }
    wait->running = true;
    return 0;
}

void startup_wait_stop(StartupWait *wait)
{
    if (!wait->running)
        return;
    pthread_mutex_lock(&wait->lock);
    wait->stop = true;
    pthread_cond_signal(&wait->wake);
    pthread_mutex_unlock(&wait->lock);
    pthread_join(wait->thread, NULL);
    pthread_mutex_destroy(&wait->lock);
    pthread_cond_destroy(&wait->wake);
    wait->running = false;
}
