/*
 * roster: this heraldd among those that share its database.
 *
 * Each heraldd has an id for the run (host:pid:start), writes its row in the
 * instances table through the intake writer every status interval (its
 * heartbeat: whether it leads, how many attempts it made) and removes it when
 * it stops; GET /v1/instances and heraldctl instances read the table. Rows
 * silent for ROSTER_FORGET_MS (a machine that vanished) are removed by the
 * next heartbeat of any instance. Called from main's thread only.
 */
#ifndef HERALD_ROSTER_H
#define HERALD_ROSTER_H

#include <stdbool.h>

#include "intake.h"
#include "store.h"

/* How often an instance writes its row, and after how long without one it
 * counts as gone (API "alive": false) and is forgotten. */
#define ROSTER_BEAT_MS 10000
#define ROSTER_ALIVE_MS (3 * ROSTER_BEAT_MS)
#define ROSTER_FORGET_MS (24 * 3600 * 1000LL)

/* Fills SELF with this process's identity (id, host, pid, version, start). */
void roster_identify(StoreInstance *self);

/* Writes SELF's heartbeat (now, whether it leads, its deliveries) through
 * INTAKE. Returns 0, or -1 with ERR. */
int roster_beat(Intake *intake, StoreInstance *self, char *err, size_t errlen);

/* Removes SELF's row through INTAKE (a clean stop); failures are logged. */
void roster_leave(Intake *intake, const StoreInstance *self);

#endif
