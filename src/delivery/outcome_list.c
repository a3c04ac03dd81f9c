/*
 * outcome_list: see outcome_list.h.
 */
#include "outcome_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void outcome_list_clear(OutcomeList *list)
{
    for (size_t i = 0; i < list->count; i++) {
        attempt_clear(&list->items[i].attempt);
        free(list->items[i].released_host);
    }
    list->count = 0;
}

AttemptOutcome *outcome_list_add(OutcomeList *list)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 256;
        AttemptOutcome *grown = realloc(list->items, capacity * sizeof *grown);
        if (grown == NULL)
            return NULL;
        list->items = grown;
        list->capacity = capacity;
    }
    return &list->items[list->count++];
}

int outcome_list_move(OutcomeList *to, OutcomeList *from)
{
    size_t moved = 0;
    for (; moved < from->count; moved++) {
        AttemptOutcome *slot = outcome_list_add(to);
        if (slot == NULL)
            break;
        *slot = from->items[moved];
    }
    if (moved > 0 && moved < from->count)
        memmove(from->items, from->items + moved, (from->count - moved) * sizeof *from->items);
    from->count -= moved;
    return from->count == 0 ? 0 : -1;
}

void outcome_list_free(OutcomeList *list)
{
    outcome_list_clear(list);
    free(list->items);
    list->items = NULL;
    list->capacity = 0;
}

void outcome_list_log_unwritten(const OutcomeList *list)
{
    char ids[512];
    size_t used = 0;
    ids[0] = '\0';
    for (size_t i = 0; i < list->count && used + 24 < sizeof ids; i++)
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%lld", i ? "," : "",
                                 (long long)list->items[i].attempt.task_id);
    log_error("event=outcomes_unwritten tasks=%zu task_ids=%s%s detail=\"the database took no "
              "write before the stop's deadline; these tasks are delivered again\"",
              list->count, ids, used + 24 >= sizeof ids && list->count > 0 ? ",..." : "");
}
