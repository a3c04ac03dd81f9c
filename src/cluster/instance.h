/*
 * instance: one heraldd per database.
 *
 * Two daemons on one database would claim each other's tasks and recover
 * each other's leases as "interrupted". heraldd therefore takes an exclusive
 * flock on DB_PATH.lock (holding its pid) for as long as it runs; the kernel
 * releases it when the process ends, even on kill -9.
 */
#ifndef HERALD_INSTANCE_H
#define HERALD_INSTANCE_H

#include <stddef.h>

/* Takes the lock. Returns its file descriptor (keep it open), or -1 with
 * "another heraldd (pid N) is using DB_PATH" or the system error in ERR. */
int instance_lock(const char *db_path, char *err, size_t errlen);

/* Releases the lock and removes nothing (the file is harmless and reused). */
void instance_unlock(int fd);

#endif
