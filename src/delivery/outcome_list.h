/*
 * outcome_list: a growable array of attempt outcomes in order of arrival: the
 * scheduler's outcomes waiting to be written, and those a turn is writing.
 * The list owns its outcomes (their response bodies and receivers).
 */
#ifndef HERALD_OUTCOME_LIST_H
#define HERALD_OUTCOME_LIST_H

#include <stddef.h>

#include "attempt.h"

typedef struct OutcomeList {
    AttemptOutcome *items;
    size_t count;
    size_t capacity;
} OutcomeList;

/* A new slot at the end, or NULL if out of memory. */
AttemptOutcome *outcome_list_add(OutcomeList *list);

/* Appends FROM's outcomes to TO, which takes them. Returns 0, or -1 if out of
 * memory (then FROM keeps, in order, what did not fit). */
int outcome_list_move(OutcomeList *to, OutcomeList *from);

/* Frees every outcome's contents; the list is empty and keeps its room. */
void outcome_list_clear(OutcomeList *list);

/* outcome_list_clear, and the room too. */
void outcome_list_free(OutcomeList *list);

/* At stop, LIST's outcomes could not be written by the deadline: logs their
 * tasks (the first few ids), which are sent again (the next start, or
 * another heraldd's sweep). */
void outcome_list_log_unwritten(const OutcomeList *list);

#endif
