/*
 * manual: see manual.h.
 */
#include "manual.h"

#include "alert_types.h"

#include <stdlib.h>
#include <string.h>

bool manual_reason_is_valid(const char *reason)
{
    return strcmp(reason, "exhausted") == 0 || strcmp(reason, "gone") == 0 ||
           strcmp(reason, "interrupted") == 0;
}

void manual_entry_clear(ManualEntry *entry)
{
    free(entry->business_id);
    free(entry->business_type);
    free(entry->target_url);
    free(entry->last_error);
    free(entry->note);
    memset(entry, 0, sizeof *entry);
}

void manual_action_clear(ManualAction *action)
{
    free(action->actor);
    free(action->note);
    free(action->details);
    memset(action, 0, sizeof *action);
}

void stored_alert_clear(StoredAlert *alert)
{
    free(alert->details);
    free(alert->send_error);
    memset(alert, 0, sizeof *alert);
}
