/*
 * ctl_tasks: heraldctl's "tasks" commands: get, list, attempts, redeliver.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"

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

/* "redeliver ID --reason TEXT [--full]": POST /v1/tasks/ID/redeliver. */
static int ctl_tasks_redeliver(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const struct option options[] = {
        {"reason", required_argument, NULL, 'r'},
        {"full", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL;
    bool full = false;
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (option == 'r')
            reason = optarg;
        else if (option == 'f')
            full = true;
        else
            return ctl_command_usage(command, option == 'h' ? stdout : stderr,
                                     option == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE);
    }
    if (reason == NULL || optind != argc - 1 || !ctl_is_id(argv[optind]))
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "reason", reason);
    cJSON_AddStringToObject(body, "schedule", full ? "full" : "once");
    char path[128];
    snprintf(path, sizeof path, "/v1/tasks/%s/redeliver", argv[optind]);
    return ctl_post_json(ctl, path, body, ctl_print_case);
}

const CtlCommand ctl_task_commands[] = {
    {"tasks", "get", ctl_tasks_get, "tasks get ID", "show one task"},
    {"tasks", "list", ctl_tasks_list,
     "tasks list [--business-id ID] [--type TYPE] [--status STATUS] [--idempotency-key KEY]"
     " [--limit N] [--after ID]",
     "list tasks, newest first (find one by business id or idempotency key)"},
    {"tasks", "attempts", ctl_tasks_attempts, "tasks attempts ID",
     "show every delivery attempt of a task, oldest first"},
    {"tasks", "redeliver", ctl_tasks_redeliver, "tasks redeliver ID --reason TEXT [--full]",
     "send a task that succeeded or failed again, as it is (same webhook-id): one attempt, or"
     " with --full its business type's whole retry schedule"},
};

const size_t ctl_task_command_count = sizeof ctl_task_commands / sizeof ctl_task_commands[0];
