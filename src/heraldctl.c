/*
 * heraldctl: the operator's command line for herald, talking to the HTTP API.
 *
 *   heraldctl [--url URL] [--token-file FILE] [--json] GROUP COMMAND [ARGS]
 *
 * Global options come first; each command parses its own. Output is an
 * aligned table (or key/value list) for people, or the API's JSON with
 * --json for scripts. Exit codes: 0 success, 1 the API answered an error or
 * could not be reached, 2 usage error.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl_client.h"
#include "ctl_table.h"
#include "version.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_API 1
#define CTL_EXIT_USAGE 2

typedef struct Ctl {
    CtlClient client;
    bool json;
} Ctl;

typedef struct CtlCommand {
    const char *group;
    const char *name;
    int (*run)(Ctl *ctl, int argc, char **argv);
    const char *usage;
    const char *summary;
} CtlCommand;

static int ctl_tasks_get(Ctl *ctl, int argc, char **argv);
static int ctl_tasks_list(Ctl *ctl, int argc, char **argv);
static int ctl_tasks_attempts(Ctl *ctl, int argc, char **argv);

static const CtlCommand ctl_commands[] = {
    {"tasks", "get", ctl_tasks_get, "tasks get ID", "show one task"},
    {"tasks", "list", ctl_tasks_list,
     "tasks list [--business-id ID] [--type TYPE] [--status STATUS] [--limit N] [--after ID]",
     "list tasks, newest first"},
    {"tasks", "attempts", ctl_tasks_attempts, "tasks attempts ID",
     "show every delivery attempt of a task, oldest first"},
};

#define CTL_COMMAND_COUNT (sizeof ctl_commands / sizeof ctl_commands[0])

static void ctl_usage(FILE *out)
{
    fprintf(out, "usage: heraldctl [--url URL] [--token-file FILE] [--json] COMMAND\n\n"
                 "commands:\n");
    for (size_t i = 0; i < CTL_COMMAND_COUNT; i++)
        fprintf(out, "  %-60s %s\n", ctl_commands[i].usage, ctl_commands[i].summary);
    fprintf(out,
            "\noptions:\n"
            "  --url URL          herald API (default $HERALD_URL or " CTL_DEFAULT_URL ")\n"
            "  --token-file FILE  API token file (default: $HERALD_TOKEN if set)\n"
            "  --json             print the API's JSON instead of tables\n"
            "  --version, --help\n"
            "\nexit status: 0 ok, 1 API error or unreachable, 2 usage error\n");
}

static int ctl_command_usage(const CtlCommand *command, FILE *out, int status)
{
    fprintf(out, "usage: heraldctl %s\n%s\n", command->usage, command->summary);
    return status;
}

static int ctl_fail(const char *message)
{
    fprintf(stderr, "heraldctl: %s\n", message);
    return CTL_EXIT_API;
}

/* --json prints the API's answer byte for byte, so payload numbers survive. */
static void ctl_print_json(const CtlAnswer *answer)
{
    fwrite(answer->raw, 1, answer->raw_length, stdout);
    if (answer->raw_length == 0 || answer->raw[answer->raw_length - 1] != '\n')
        putchar('\n');
}

/* The text of MEMBER for a table cell: strings as is, null as "-", else JSON. */
static char *ctl_cell(const cJSON *object, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, member);
    if (item == NULL || cJSON_IsNull(item))
        return strdup("-");
    if (cJSON_IsString(item))
        return strdup(item->valuestring);
    return cJSON_PrintUnformatted(item);
}

static void ctl_print_task(const CtlAnswer *answer)
{
    static const char *const task_path[] = {"task", NULL};
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(answer->json, "task");
    static const char *const fields[] = {
        "id",         "webhook_id", "business_id",      "business_type", "target_url",
        "status",     "attempts",   "max_retry",        "next_attempt_at", "created_at",
        "updated_at", "last_status_code", "last_error", "idempotency_key", "headers",
        "payload"};
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
    ctl_table_print(&table, stdout);
    ctl_table_free(&table);
}

/* "COMMAND ID": GETs /v1/tasks/ID + SUFFIX and shows the answer with SHOW
 * (or as JSON). */
static int ctl_show_by_id(Ctl *ctl, const CtlCommand *command, int argc, char **argv,
                          const char *suffix, void (*show)(const CtlAnswer *answer))
{
    if (argc != 2 || argv[1][0] == '\0' || strspn(argv[1], "0123456789") != strlen(argv[1]) ||
        strlen(argv[1]) > 19)
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    char path[128];
    snprintf(path, sizeof path, "/v1/tasks/%s%s", argv[1], suffix);
    CtlAnswer answer;
    char err[1024];
    if (ctl_client_request(&ctl->client, "GET", path, NULL, &answer, err, sizeof err) != CTL_OK)
        return ctl_fail(err);
    if (ctl->json)
        ctl_print_json(&answer);
    else
        show(&answer);
    ctl_answer_free(&answer);
    return CTL_EXIT_OK;
}

static int ctl_tasks_get(Ctl *ctl, int argc, char **argv)
{
    return ctl_show_by_id(ctl, &ctl_commands[0], argc, argv, "", ctl_print_task);
}

static void ctl_print_task_table(const cJSON *tasks)
{
    static const char *const header[] = {"ID", "STATUS", "ATTEMPTS", "TYPE", "BUSINESS_ID",
                                         "NEXT_ATTEMPT", "TARGET_URL"};
    static const char *const members[] = {"id", "status", NULL, "business_type", "business_id",
                                          "next_attempt_at", "target_url"};
    CtlTable table;
    ctl_table_init(&table, 7, header);
    const cJSON *task;
    cJSON_ArrayForEach(task, tasks)
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
    ctl_table_print(&table, stdout);
    ctl_table_free(&table);
}

static int ctl_tasks_list(Ctl *ctl, int argc, char **argv)
{
    const CtlCommand *command = &ctl_commands[1];
    static const struct option options[] = {
        {"business-id", required_argument, NULL, 'b'}, {"type", required_argument, NULL, 't'},
        {"status", required_argument, NULL, 's'},      {"limit", required_argument, NULL, 'l'},
        {"after", required_argument, NULL, 'a'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const query_names[] = {"business_id", "business_type", "status",
                                              "limit", "after"};
    static const char option_letters[] = "btsla";
    char path[2048] = "/v1/tasks";
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        const char *letter = option == '?' || option == 'h' ? NULL : strchr(option_letters, option);
        if (letter == NULL)
            return ctl_command_usage(command, option == 'h' ? stdout : stderr,
                                     option == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE);
        if (ctl_client_add_query(path, sizeof path, query_names[letter - option_letters],
                                 optarg) != 0)
            return ctl_fail("query too long");
    }
    if (optind != argc)
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    CtlAnswer answer;
    char err[1024];
    if (ctl_client_request(&ctl->client, "GET", path, NULL, &answer, err, sizeof err) != CTL_OK)
        return ctl_fail(err);
    if (ctl->json) {
        ctl_print_json(&answer);
    } else {
        ctl_print_task_table(cJSON_GetObjectItemCaseSensitive(answer.json, "tasks"));
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer.json, "next_after");
        if (cJSON_IsNumber(next))
            printf("(more: add --after %.0f)\n", next->valuedouble);
    }
    ctl_answer_free(&answer);
    return CTL_EXIT_OK;
}

static void ctl_print_attempt_table(const CtlAnswer *answer)
{
    const cJSON *attempts = cJSON_GetObjectItemCaseSensitive(answer->json, "attempts");
    static const char *const header[] = {"ATTEMPT", "STARTED", "DURATION", "STATUS", "ERROR",
                                         "RESPONSE"};
    CtlTable table;
    ctl_table_init(&table, 6, header);
    const cJSON *attempt;
    cJSON_ArrayForEach(attempt, attempts)
    {
        char number[16], duration[32], error[320], response[80];
        snprintf(number, sizeof number, "%d",
                 cJSON_GetObjectItemCaseSensitive(attempt, "attempt")->valueint);
        snprintf(duration, sizeof duration, "%.0fms",
                 cJSON_GetObjectItemCaseSensitive(attempt, "duration_ms")->valuedouble);
        char *started = ctl_cell(attempt, "started_at");
        char *status = ctl_cell(attempt, "status_code");
        const cJSON *error_class = cJSON_GetObjectItemCaseSensitive(attempt, "error_class");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(attempt, "error_message");
        if (cJSON_IsString(error_class))
            snprintf(error, sizeof error, "%s: %.200s", error_class->valuestring,
                     cJSON_IsString(message) ? message->valuestring : "");
        else
            snprintf(error, sizeof error, "-");
        /* One line per attempt: the body's start, with line breaks shown as spaces. */
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(attempt, "response_body");
        snprintf(response, sizeof response, "%.60s", cJSON_IsString(body) ? body->valuestring : "-");
        for (char *p = response; *p; p++) {
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        }
        const char *row[] = {number, started, duration, status, error, response};
        ctl_table_add(&table, row);
        free(started);
        free(status);
    }
    ctl_table_print(&table, stdout);
    ctl_table_free(&table);
}

static int ctl_tasks_attempts(Ctl *ctl, int argc, char **argv)
{
    return ctl_show_by_id(ctl, &ctl_commands[2], argc, argv, "/attempts",
                          ctl_print_attempt_table);
}

static int ctl_dispatch(Ctl *ctl, int argc, char **argv)
{
    if (argc < 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    for (size_t i = 0; i < CTL_COMMAND_COUNT; i++) {
        const CtlCommand *command = &ctl_commands[i];
        if (strcmp(argv[0], command->group) != 0 || strcmp(argv[1], command->name) != 0)
            continue;
        if (argc == 3 && strcmp(argv[2], "--help") == 0)
            return ctl_command_usage(command, stdout, CTL_EXIT_OK);
        return command->run(ctl, argc - 1, argv + 1);
    }
    fprintf(stderr, "heraldctl: unknown command \"%s %s\"\n", argv[0], argv[1]);
    ctl_usage(stderr);
    return CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},  {"token-file", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},       {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *url = getenv("HERALD_URL");
    const char *token_file = NULL;
    Ctl ctl = {.json = false};
    int option;
    /* "+": stop at the first command word; the command parses the rest. */
    while ((option = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (option) {
        case 'u': url = optarg; break;
        case 'T': token_file = optarg; break;
        case 'j': ctl.json = true; break;
        case 'V': printf("heraldctl %s\n", HERALD_VERSION); return CTL_EXIT_OK;
        case 'h': ctl_usage(stdout); return CTL_EXIT_OK;
        default: ctl_usage(stderr); return CTL_EXIT_USAGE;
        }
    }
    char err[512];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ctl_fail("cannot initialise libcurl");
    if (ctl_client_init(&ctl.client, url ? url : CTL_DEFAULT_URL, token_file,
                        getenv("HERALD_TOKEN"), err, sizeof err) != 0) {
        curl_global_cleanup();
        fprintf(stderr, "heraldctl: %s\n", err);
        return CTL_EXIT_USAGE;
    }
    int status = ctl_dispatch(&ctl, argc - optind, argv + optind);
    ctl_client_free(&ctl.client);
    curl_global_cleanup();
    return status;
}
