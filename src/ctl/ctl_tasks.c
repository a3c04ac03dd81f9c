/*
 * ctl_tasks: heraldctl's "tasks" commands: get, list, attempts.
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
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

static void ctl_tasks_show_list(const CtlAnswer *answer)
{
    static const char *const header[] = {"ID", "STATUS", "ATTEMPTS", "TYPE", "BUSINESS_ID",
                                         "NEXT_ATTEMPT", "TARGET_URL"};
    static const char *const members[] = {"id", "status", NULL, "business_type", "business_id",
                                          "next_attempt_at", "target_url"};
    CtlTable table;
    ctl_table_init(&table, 7, header);
    const cJSON *task;
    cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(answer->json, "tasks"))
    {
        char *cells[7];
        for (int i = 0; i < 7; i++)
            cells[i] = members[i] ? ctl_cell(task, members[i]) : NULL;
        char attempts[32];
        snprintf(attempts, sizeof attempts, "%d/%d",
                 cJSON_GetObjectItemCaseSensitive(task, "attempts")->valueint,
                 cJSON_GetObjectItemCaseSensitive(task, "max_retry")->valueint);
        const char *row[7];
        for (int i = 0; i < 7; i++)
            row[i] = cells[i];
        row[2] = attempts;
        ctl_table_add(&table, row);
        for (int i = 0; i < 7; i++)
            free(cells[i]);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer->json, "next_after");
    if (cJSON_IsNumber(next))
        printf("(more: add --after %.0f)\n", next->valuedouble);
}

static void ctl_tasks_show_attempts(const CtlAnswer *answer)
{
    ctl_print_attempts(cJSON_GetObjectItemCaseSensitive(answer->json, "attempts"));
}

/* "COMMAND ID": GETs /v1/tasks/ID + SUFFIX and shows it with SHOW. */
static int ctl_tasks_by_id(Ctl *ctl, const CtlCommand *command, int argc, char **argv,
                           const char *suffix, void (*show)(const CtlAnswer *answer))
{
    if (argc != 2 || !ctl_is_id(argv[1]))
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    char path[128];
    snprintf(path, sizeof path, "/v1/tasks/%s%s", argv[1], suffix);
    return ctl_request_and_show(ctl, "GET", path, NULL, show);
}

static int ctl_tasks_get(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_tasks_by_id(ctl, command, argc, argv, "", ctl_print_task);
}

static int ctl_tasks_attempts(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_tasks_by_id(ctl, command, argc, argv, "/attempts", ctl_tasks_show_attempts);
}

static int ctl_tasks_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const CtlQueryOption options[] = {
        {"business-id", "business_id"}, {"type", "business_type"}, {"status", "status"},
        {"idempotency-key", "idempotency_key"}, {"limit", "limit"}, {"after", "after"},
    };
    return ctl_list(ctl, command, argc, argv, "/v1/tasks", options,
                    sizeof options / sizeof options[0], ctl_tasks_show_list);
}

const CtlCommand ctl_task_commands[] = {
    {"tasks", "get", ctl_tasks_get, "tasks get ID", "show one task"},
    {"tasks", "list", ctl_tasks_list,
     "tasks list [--business-id ID] [--type TYPE] [--status STATUS] [--idempotency-key KEY]"
     " [--limit N] [--after ID]",
     "list tasks, newest first (find one by business id or idempotency key)"},
    {"tasks", "attempts", ctl_tasks_attempts, "tasks attempts ID",
     "show every delivery attempt of a task, oldest first"},
};

const size_t ctl_task_command_count = sizeof ctl_task_commands / sizeof ctl_task_commands[0];
