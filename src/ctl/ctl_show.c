/*
 * ctl_show: how heraldctl prints one task and its case (the task, its
 * attempts, its manual entries, the actions taken on it), shared by the
 * "tasks" and "manual" commands (ctl_tasks.c, ctl_manual.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"

void ctl_print_task(const CtlAnswer *answer)
{
    static const char *const fields[] = {
        "id",         "webhook_id", "business_id",      "business_type", "target_url",
        "status",     "attempts",   "max_retry",        "next_attempt_at", "created_at",
        "updated_at", "last_status_code", "last_error", "idempotency_key", "headers",
        "payload"};
    static const char *const task_path[] = {"task", NULL};
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(answer->json, "task");
    CtlTable table;
    ctl_table_init(&table, 2, NULL);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        /* The payload is shown as sent, not as cJSON would re-print it. */
        char *value = strcmp(fields[i], "payload") == 0
                          ? ctl_answer_raw_member(answer, task_path, "payload")
                          : ctl_cell(task, fields[i]);
        const char *row[] = {fields[i], value};
        ctl_table_add(&table, row);
        free(value);
    }
    /* Its place in its ordering key, if it has one: "order-1 #2 (waiting)". */
    const cJSON *ordering = cJSON_GetObjectItemCaseSensitive(task, "ordering");
    if (cJSON_IsObject(ordering)) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(ordering, "key");
        const cJSON *sequence = cJSON_GetObjectItemCaseSensitive(ordering, "sequence");
        char place[256]; /* a key is at most 128 characters */
        snprintf(place, sizeof place, "%s #%.0f%s", cJSON_IsString(key) ? key->valuestring : "?",
                 cJSON_IsNumber(sequence) ? sequence->valuedouble : 0,
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ordering, "waiting"))
                     ? " (waiting for the one before it)"
                     : "");
        const char *row[] = {"ordering", place};
        ctl_table_add(&table, row);
    }
    /* Its trace id, to find its spans (issue 27). */
    const cJSON *trace = cJSON_GetObjectItemCaseSensitive(task, "trace");
    const cJSON *trace_id = cJSON_GetObjectItemCaseSensitive(trace, "trace_id");
    if (cJSON_IsString(trace_id)) {
        const char *row[] = {"trace_id", trace_id->valuestring};
        ctl_table_add(&table, row);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

void ctl_print_entries(const cJSON *entries)
{
    static const char *const header[] = {"TASK", "STATE", "REASON", "ATTEMPTS", "TYPE",
                                         "BUSINESS_ID", "MOVED_AT", "LAST_ERROR"};
    static const char *const members[] = {"task_id", "state", "reason", "attempts",
                                          "business_type", "business_id", "moved_at",
                                          "last_error"};
    CtlTable table;
    ctl_table_init(&table, 8, header);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, entries)
    {
        char *cells[8];
        for (int i = 0; i < 8; i++)
            cells[i] = ctl_cell(entry, members[i]);
        if (strlen(cells[7]) > 60)
            strcpy(cells[7] + 57, "...");
        ctl_table_add(&table, (const char *const *)cells);
        for (int i = 0; i < 8; i++)
            free(cells[i]);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

void ctl_print_actions(const cJSON *actions)
{
    static const char *const header[] = {"WHEN", "ACTION", "ACTOR", "NOTE", "DETAILS"};
    static const char *const members[] = {"created_at", "action", "actor", "note", "details"};
    ctl_print_rows(actions, 5, header, members);
}

/* Task, attempts, manual entries and actions, in that order. */
void ctl_print_case(const CtlAnswer *answer)
{
    ctl_print_task(answer);
    printf("\nattempts:\n");
    ctl_print_attempts(cJSON_GetObjectItemCaseSensitive(answer->json, "attempts"));
    printf("\nmanual entries:\n");
    ctl_print_entries(cJSON_GetObjectItemCaseSensitive(answer->json, "entries"));
    printf("\nactions:\n");
    ctl_print_actions(cJSON_GetObjectItemCaseSensitive(answer->json, "actions"));
}
