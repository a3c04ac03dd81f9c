/*
 * roster: see roster.h.
 */
#include "roster.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

void roster_identify(StoreInstance *self)
{
    memset(self, 0, sizeof *self);
    if (gethostname(self->host, sizeof self->host) != 0 || self->host[0] == '\0')
        snprintf(self->host, sizeof self->host, "unknown");
    self->host[sizeof self->host - 1] = '\0';
    self->pid = (int64_t)getpid();
    self->started_at = clock_now_ms();
    snprintf(self->version, sizeof self->version, "%s", HERALD_VERSION);
    snprintf(self->id, sizeof self->id, "%s:%lld:%lld", self->host, (long long)self->pid,
             (long long)self->started_at);
}

static StoreResult roster_apply_beat(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    const StoreInstance *self = job->context;
    return store_instance_beat(store, self, self->heartbeat_at - ROSTER_FORGET_MS, err,
                               errlen) == 0
               ? STORE_OK
               : STORE_ERROR;
}

static StoreResult roster_apply_leave(Store *store, IntakeJob *job, char *err, size_t errlen)
{
    const StoreInstance *self = job->context;
    return store_instance_leave(store, self->id, err, errlen) == 0 ? STORE_OK : STORE_ERROR;
}

int roster_beat(Intake *intake, StoreInstance *self, char *err, size_t errlen)
{
    self->heartbeat_at = clock_now_ms();
    self->leader = metrics_leader();
    self->deliveries = (int64_t)metrics_deliveries_total();
    return intake_run(intake, roster_apply_beat, self, err, errlen) == STORE_OK ? 0 : -1;
}

void roster_leave(Intake *intake, const StoreInstance *self)
{
    char err[256], quoted[320];
    if (intake_run(intake, roster_apply_leave, (void *)self, err, sizeof err) != STORE_OK)
        log_warning("event=instance_leave_failed error=%s",
                    log_quote(quoted, sizeof quoted, err));
}
