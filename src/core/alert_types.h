/*
 * alert_types: what the alert checker reads from the store and writes to it.
 */
#ifndef HERALD_ALERT_TYPES_H
#define HERALD_ALERT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#define ALERT_SAMPLE_MAX 10
#define ALERT_TYPES_MAX 32
#define ALERT_KIND_MAX 24
#define ALERT_INSTANCE_MAX 96 /* an instance id, host:pid:start (StoreInstance.id) */

/* The open manual entries moved within the alert window. */
typedef struct AlertBacklog {
    int64_t count;
    int64_t oldest_task_id; /* 0 if count is 0 */
    int64_t oldest_moved_at;
    int64_t sample_task_ids[ALERT_SAMPLE_MAX];
    size_t sample_count;
    struct {
        char business_type[65];
        int64_t count;
    } by_type[ALERT_TYPES_MAX]; /* the largest ALERT_TYPES_MAX */
    size_t type_count;
} AlertBacklog;

/* A row of the alerts table. */
typedef struct StoredAlert {
    int64_t id;
    char kind[ALERT_KIND_MAX];
    char instance[ALERT_INSTANCE_MAX]; /* the instance it is about; "": every one */
    int firing; /* 1 firing, 0 resolved */
    int64_t count;
    char *details; /* the alert as JSON; owned */
    int64_t created_at;
    int64_t sent_at;         /* every configured sink took it; 0 = not yet */
    int64_t webhook_sent_at; /* the webhook sink took it; 0 = not yet */
    int64_t command_sent_at; /* the command sink took it; 0 = not yet */
    char *send_error;        /* the last failure, NULL if none; owned */
} StoredAlert;

void stored_alert_clear(StoredAlert *alert);

#endif
