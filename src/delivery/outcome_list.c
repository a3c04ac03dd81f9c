/*
 * outcome_list: see outcome_list.h.
 */
#include "outcome_list.h"

#include <stdlib.h>
#include <string.h>

void outcome_list_clear(OutcomeList *list)
{
    for (size_t i = 0; i < list->count; i++)
        attempt_clear(&list->items[i].attempt);
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
