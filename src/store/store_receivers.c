/*
 * store_receivers: see store_receivers.h, written once above the backends.
 * A pause or resume changes the receiver's row and,
 * only when it changed, records the decision in receiver_actions, in the
 * caller's transaction (the intake writer's): both or neither. What a pause
 * does is in the backends' claim statements, which pass over a paused
 * receiver's tasks; the scheduler also keeps the list (scheduler_db.c), so
 * it does not ask for them.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A copy of TEXT, or NULL for NULL; *FAILED set if out of memory. */
static char *store_receivers_copy(const char *text, bool *failed)
{
    if (text == NULL)
        return NULL;
    char *copy = strdup(text);
    *failed |= copy == NULL;
    return copy;
}

int store_receiver_list(Store *store, int64_t since, size_t limit, StoreReceiver **out,
                        size_t *count, char *err, size_t errlen)
{
    if (store->backend->receiver_load(store, since, limit, out, count, err, errlen) != 0)
        return -1;
    StoreGate *paused;
    size_t paused_count;
    if (store_gate_list(store, &paused, &paused_count, err, errlen) != 0) {
        store_receiver_list_free(*out, *count);
        *out = NULL;
        *count = 0;
        return -1;
    }
    size_t capacity = *count;
    bool failed = false;
    for (size_t i = 0; i < paused_count && !failed; i++) {
        StoreReceiver *entry = store_receiver_entry(out, count, &capacity, paused[i].receiver);
        if (entry == NULL) {
            failed = true;
            break;
        }
        entry->paused = paused[i].paused;
        entry->paused_at = paused[i].paused_at;
        entry->paused_by = store_receivers_copy(paused[i].paused_by, &failed);
        entry->pause_note = store_receivers_copy(paused[i].note, &failed);
        entry->circuit_open = paused[i].open;
        entry->consecutive_failures = paused[i].failures;
        entry->opened_at = paused[i].opened_at;
        entry->next_probe_at = paused[i].next_probe_at;
        entry->probe_until = paused[i].probe_until;
    }
    store_gate_list_free(paused, paused_count);
    if (failed) {
        snprintf(err, errlen, "list receivers: out of memory");
        store_receiver_list_free(*out, *count);
        *out = NULL;
        *count = 0;
        return -1;
    }
    return 0;
}

int store_gate_list(Store *store, StoreGate **out, size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    return store->backend->gate_list(store, out, count, err, errlen);
}

void store_gate_list_free(StoreGate *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(list[i].receiver);
        free(list[i].paused_by);
        free(list[i].note);
    }
    free(list);
}

int store_receiver_actions(Store *store, const char *receiver, int64_t before, int limit,
                           StoreReceiverAction **out, size_t *count, char *err, size_t errlen)
{
    *out = NULL;
    *count = 0;
    return store->backend->receiver_action_list(store, receiver, before, limit, out, count, err,
                                                errlen);
}

void store_receiver_actions_free(StoreReceiverAction *actions, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(actions[i].actor);
        free(actions[i].note);
    }
    free(actions);
}

int store_count_older_instances(Store *store, int version, int64_t *count, char *err,
                                size_t errlen)
{
    *count = 0;
    if (store->backend->older_instances == NULL)
        return 0;
    return store->backend->older_instances(store, version, count, err, errlen);
}

int store_receiver_set_paused(Store *store, const char *receiver, bool paused, const char *actor,
                              const char *note, int64_t now, bool *changed, char *err,
                              size_t errlen)
{
    const StoreBackend *backend = store->backend;
    *changed = false;
    int set = paused ? backend->receiver_pause(store, receiver, actor, note, now, changed, err,
                                               errlen)
                     : backend->receiver_resume(store, receiver, now, changed, err, errlen);
    if (set != 0)
        return -1;
    if (!*changed)
        return 0;
    return backend->receiver_action_insert(store, receiver, paused ? "pause" : "resume", actor,
                                           note, now, err, errlen);
}

StoreResult store_rate_take(Store *store, const char *receiver, const RateLimit *limit,
                            int64_t want, StoreRateTake *out, char *err, size_t errlen)
{
    if (store->backend->rate_take == NULL)
        return STORE_NOT_FOUND;
    return store->backend->rate_take(store, receiver, limit, want, out, err, errlen);
}

int store_rate_give_back(Store *store, const char *receiver, const RateLimit *limit,
                         int64_t count, const StoreRateTake *take, char *err, size_t errlen)
{
    if (store->backend->rate_give_back == NULL || count <= 0)
        return 0;
    return store->backend->rate_give_back(store, receiver, limit, count, take, err, errlen);
}

int store_rate_charge(Store *store, const char *receiver, const RateLimit *limit, int64_t count,
                      char *err, size_t errlen)
{
    if (store->backend->rate_charge == NULL || count <= 0)
        return 0;
    return store->backend->rate_charge(store, receiver, limit, count, err, errlen);
}

int store_receiver_hold(Store *store, const char *receiver, int64_t hold_ms, int64_t now,
                        char *err, size_t errlen)
{
    if (store->backend->receiver_hold == NULL)
        return 0;
    return store->backend->receiver_hold(store, receiver, hold_ms, now, err, errlen);
}

int store_receiver_held(Store *store, const char *receiver, int64_t *held_ms, char *err,
                        size_t errlen)
{
    *held_ms = 0;
    if (store->backend->receiver_held == NULL)
        return 0;
    return store->backend->receiver_held(store, receiver, held_ms, err, errlen);
}
