/*
 * store_common: what the front (store.c) and every backend use: the lists
 * the store hands out and their freeing (store.h's *_free functions), the
 * receivers' list a backend fills in, a location's name fit for a log, a
 * task's identity as the unique indexes see it, and the tables the health
 * check counts, a listing's statement text. Apart from the front, so that a backend calls no function
 * of the file that calls it.
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_task_list_free(Task *tasks, size_t count)
{
    for (size_t i = 0; i < count; i++)
        task_clear(&tasks[i]);
    free(tasks);
}

void store_host_list_free(StoreHost *hosts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(hosts[i].target_host);
    free(hosts);
}

void store_attempt_list_free(Attempt *attempts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        attempt_clear(&attempts[i]);
    free(attempts);
}

void store_manual_list_free(ManualEntry *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        manual_entry_clear(&entries[i]);
    free(entries);
}

void store_manual_matches_free(ManualMatch *matches, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(matches[i].business_type);
    free(matches);
}

void store_action_list_free(ManualAction *actions, size_t count)
{
    for (size_t i = 0; i < count; i++)
        manual_action_clear(&actions[i]);
    free(actions);
}

void store_alert_list_free(StoredAlert *alerts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        stored_alert_clear(&alerts[i]);
    free(alerts);
}

/* Appends TEXT to OUT at *USED; false once it does not fit. */
static bool store_list_append(char *out, size_t size, size_t *used, const char *text)
{
    size_t length = strlen(text);
    if (*used + length >= size)
        return false;
    memcpy(out + *used, text, length + 1);
    *used += length;
    return true;
}

int store_list_text(const StoreListQuery *query, const StoreListSql *sql, char *out,
                    size_t size)
{
    char parameter[32];
    int number = 0;
    size_t used = 0;
    bool fits = size > 0 && store_list_append(out, size, &used, sql->heads[query->listing]);
    for (size_t i = 0; i < query->count && fits; i++) {
        const StoreListTerm *term = &query->terms[i];
        fits = store_list_append(out, size, &used, " AND ") &&
               store_list_append(out, size, &used, sql->conditions[term->condition]);
        if (fits && term->value != STORE_LIST_NO_VALUE) {
            sql->parameter(parameter, sizeof parameter, ++number, term->value);
            fits = store_list_append(out, size, &used, parameter);
        }
    }
    sql->parameter(parameter, sizeof parameter, ++number, STORE_LIST_NO_VALUE);
    fits = fits && store_list_append(out, size, &used, sql->tails[query->listing]) &&
           store_list_append(out, size, &used, parameter);
    return fits ? 0 : -1;
}

void store_rescued_clear(void *element)
{
    StoreRescued *rescued = element;
    free(rescued->claim_token);
    free(rescued->target_host);
    rescued->claim_token = rescued->target_host = NULL;
}

void store_rescued_free(StoreRescued *rescued, size_t count)
{
    for (size_t i = 0; rescued != NULL && i < count; i++)
        store_rescued_clear(&rescued[i]);
    free(rescued);
}

void store_receiver_list_free(StoreReceiver *receivers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(receivers[i].host);
        free(receivers[i].last_error);
        free(receivers[i].paused_by);
        free(receivers[i].pause_note);
    }
    free(receivers);
}

int store_receiver_set_failure(StoreReceiver *entry, int64_t at, const char *class,
                               const char *message)
{
    Attempt attempt = {0};
    snprintf(attempt.error_class, sizeof attempt.error_class, "%s", class ? class : "");
    snprintf(attempt.error_message, sizeof attempt.error_message, "%s", message ? message : "");
    char text[sizeof attempt.error_class + sizeof attempt.error_message + 4];
    attempt_describe(&attempt, text, sizeof text);
    entry->last_failure_at = at;
    entry->last_error = strdup(text);
    return entry->last_error ? 0 : -1;
}

StoreReceiver *store_receiver_entry(StoreReceiver **list, size_t *count, size_t *capacity,
                                    const char *host)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp((*list)[i].host, host) == 0)
            return &(*list)[i];
    }
    if (*count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 16;
        StoreReceiver *bigger = realloc(*list, grown * sizeof *bigger);
        if (bigger == NULL)
            return NULL;
        *list = bigger;
        *capacity = grown;
    }
    StoreReceiver *entry = &(*list)[*count];
    memset(entry, 0, sizeof *entry);
    entry->host = strdup(host);
    if (entry->host == NULL)
        return NULL;
    (*count)++;
    return entry;
}

const char *store_location_name(const StoreLocation *location, char *out, size_t size)
{
    if (location->kind == STORE_BACKEND_SQLITE) {
        snprintf(out, size, "%s", location->path);
        return out;
    }
    /* postgresql://user:SECRET@host/db?password=SECRET&... */
    const char *url = location->url;
    size_t used = 0;
    const char *authority = strstr(url, "://");
    authority = authority ? authority + 3 : url;
    size_t authority_length = strcspn(authority, "/?#");
    const char *at = memchr(authority, '@', authority_length);
    const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
    for (const char *p = url; *p != '\0' && used + 1 < size;) {
        if (p == colon) {
            used += (size_t)snprintf(out + used, size - used, ":***");
            p = at;
        } else if ((p == url || p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
            used += (size_t)snprintf(out + used, size - used, "password=***");
            p += strcspn(p, "&#");
        } else {
            out[used++] = *p++;
        }
        if (used >= size)
            used = size - 1;
    }
    out[size ? (used < size ? used : size - 1) : 0] = '\0';
    return out;
}

const char *store_task_dedup_url(const TaskRequest *request)
{
    const char *identity = task_request_identity(request);
    return strcmp(identity, request->target_url) != 0 ? identity : NULL;
}

const char *store_task_written_identity(const TaskRequest *request)
{
    if (request->idempotency_key != NULL || store_task_dedup_url(request) == NULL)
        return NULL;
    return request->target_url;
}

const char *const store_health_tables[STORE_HEALTH_TABLES] = {"tasks", "task_bodies",
                                                                "attempts", "manual"};
