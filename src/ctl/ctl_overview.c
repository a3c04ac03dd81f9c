/*
 * ctl_overview: heraldctl's "overview" and "receivers", the CLI side of the
 * console's first pages (GET /v1/overview, GET /v1/receivers), and "receivers
 * pause|resume|actions" (POST /v1/receivers/{receiver}/pause|resume, GET
 * /v1/receivers/{receiver}/actions), and "ordering-keys" (GET
 * /v1/ordering-keys): each receiver's ordering keys, the blocked ones first
 * to look for.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"

static double ctl_number(const cJSON *object, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, member);
    return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* The sum of ARRAY's last COUNT numbers (all when COUNT is 0). */
static double ctl_overview_sum(const cJSON *array, int count)
{
    int size = cJSON_GetArraySize(array);
    double sum = 0;
    for (int i = count > 0 && count < size ? size - count : 0; i < size; i++)
        sum += cJSON_GetArrayItem(array, i)->valuedouble;
    return sum;
}

static void ctl_overview_show(const CtlAnswer *answer)
{
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(answer->json, "tasks");
    const cJSON *minutes = cJSON_GetObjectItemCaseSensitive(answer->json, "per_minute");
    const cJSON *delivered = cJSON_GetObjectItemCaseSensitive(minutes, "delivered");
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(minutes, "failed");
    char line[4][128], alerts[256] = "";
    snprintf(line[0], sizeof line[0], "%.0f pending, %.0f delivering, %.0f succeeded, %.0f failed",
             ctl_number(tasks, "pending"), ctl_number(tasks, "delivering"),
             ctl_number(tasks, "succeeded"), ctl_number(tasks, "failed"));
    snprintf(line[1], sizeof line[1], "%.0f open", ctl_number(answer->json, "manual_open"));
    const cJSON *alert;
    cJSON_ArrayForEach(alert, cJSON_GetObjectItemCaseSensitive(answer->json, "alerts_firing"))
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(alert, "kind");
        size_t used = strlen(alerts);
        snprintf(alerts + used, sizeof alerts - used, "%s%s (%.0f)", used ? ", " : "",
                 cJSON_IsString(kind) ? kind->valuestring : "?", ctl_number(alert, "count"));
    }
    snprintf(line[2], sizeof line[2], "delivered %.0f, failed %.0f (last minute: %.0f, %.0f)",
             ctl_overview_sum(delivered, 0), ctl_overview_sum(failed, 0),
             ctl_overview_sum(delivered, 1), ctl_overview_sum(failed, 1));
    snprintf(line[3], sizeof line[3], "%.3fs", ctl_number(answer->json, "scheduler_lag_seconds"));
    const char *rows[][2] = {{"tasks", line[0]},
                             {"manual", line[1]},
                             {"alerts firing", alerts[0] ? alerts : "none"},
                             {"last hour", line[2]},
                             {"delivery lag", line[3]}};
    ctl_print_pairs(rows, sizeof rows / sizeof rows[0]);
}

static void ctl_receivers_show(const CtlAnswer *answer)
{
    static const char *const header[] = {"RECEIVER",     "PAUSED",     "PENDING",    "IN_FLIGHT",
                                         "RATE_LIMIT",   "CIRCUIT",    "FAILED_1H",
                                         "LAST_FAILURE", "NEXT_PROBE", "HELD_UNTIL", "LAST_ERROR"};
    static const char *const members[] = {"receiver",        "paused",        "pending",
                                          "in_flight",       "rate_limit",    "circuit",
                                          "failures",        "last_failure_at", "next_probe_at",
                                          "held_until",      "last_error"};
    ctl_print_rows(cJSON_GetObjectItemCaseSensitive(answer->json, "receivers"),
                   sizeof header / sizeof header[0], header, members);
}

static void ctl_ordering_keys_show(const CtlAnswer *answer)
{
    static const char *const header[] = {"RECEIVER", "KEY",     "LAST",          "HEAD",
                                         "WAITING",  "BLOCKED", "BLOCKED_BY",    "SINCE"};
    static const char *const members[] = {"receiver", "ordering_key", "last_sequence",
                                          "head_sequence", "waiting", "blocked",
                                          "blocked_task_id", "blocked_since"};
    ctl_print_rows(cJSON_GetObjectItemCaseSensitive(answer->json, "ordering_keys"),
                   sizeof header / sizeof header[0], header, members);
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer->json, "next_before");
    if (cJSON_IsNumber(next))
        printf("(more: --before %.0f)\n", next->valuedouble);
}

static int ctl_ordering_keys(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const CtlQueryOption options[] = {
        {"blocked", "blocked"}, {"receiver", "receiver"}, {"key", "key"},
        {"limit", "limit"},     {"before", "before"},
    };
    return ctl_list(ctl, command, argc, argv, "/v1/ordering-keys", options,
                    sizeof options / sizeof options[0], ctl_ordering_keys_show);
}

static int ctl_overview(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_list(ctl, command, argc, argv, "/v1/overview", NULL, 0, ctl_overview_show);
}

static int ctl_receivers(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_list(ctl, command, argc, argv, "/v1/receivers", NULL, 0, ctl_receivers_show);
}

static void ctl_receivers_show_change(const CtlAnswer *answer)
{
    const cJSON *receiver = cJSON_GetObjectItemCaseSensitive(answer->json, "receiver");
    bool paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer->json, "paused"));
    bool changed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer->json, "changed"));
    printf("%s %s%s\n", cJSON_IsString(receiver) ? receiver->valuestring : "?",
           paused ? "paused" : "resumed", changed ? "" : " (it was already)");
}

static void ctl_receivers_show_actions(const CtlAnswer *answer)
{
    static const char *const header[] = {"WHEN", "ACTION", "ACTOR", "NOTE"};
    static const char *const members[] = {"created_at", "action", "actor", "note"};
    ctl_print_rows(cJSON_GetObjectItemCaseSensitive(answer->json, "actions"), 4, header, members);
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer->json, "next_before");
    if (cJSON_IsNumber(next))
        printf("(older ones: GET /v1/receivers/.../actions?before=%.0f)\n", next->valuedouble);
}

/* The path /v1/receivers/RECEIVER/WHAT into PATH, the receiver encoded whole
 * (its "//" and ":" are one segment). Returns 0, or not with why printed. */
static int ctl_receivers_path(const char *receiver, const char *what, char *path, size_t size)
{
    char *escaped = curl_easy_escape(NULL, receiver, 0);
    if (escaped == NULL)
        return ctl_fail("out of memory");
    int written = snprintf(path, size, "/v1/receivers/%s/%s", escaped, what);
    curl_free(escaped);
    if (written < 0 || (size_t)written >= size)
        return ctl_fail("receiver too long");
    return 0;
}

/* "receivers actions RECEIVER". */
static int ctl_receivers_actions(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '\0')
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    char path[1024];
    if (ctl_receivers_path(argv[1], "actions", path, sizeof path) != 0)
        return CTL_EXIT_API;
    return ctl_request_and_show(ctl, "GET", path, NULL, ctl_receivers_show_actions);
}

/* "receivers pause|resume RECEIVER [--note TEXT]". */
static int ctl_receivers_change(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    const char *receiver, *note;
    int parsed = ctl_parse_note_and_argument(command, argc, argv, &receiver, &note);
    if (parsed != CTL_PARSED)
        return parsed;
    char path[1024];
    if (ctl_receivers_path(receiver, command->name, path, sizeof path) != 0)
        return CTL_EXIT_API;
    cJSON *body = cJSON_CreateObject();
    if (note != NULL)
        cJSON_AddStringToObject(body, "note", note);
    return ctl_post_json(ctl, path, body, ctl_receivers_show_change);
}

const CtlCommand ctl_overview_commands[] = {
    {"overview", NULL, ctl_overview, "overview",
     "tasks by status, manual entries open, alerts firing, deliveries and failures in the"
     " last hour, delivery lag"},
    /* Before "receivers" alone, which would take any word after it. */
    {"receivers", "pause", ctl_receivers_change, "receivers pause RECEIVER [--note TEXT]",
     "send a receiver (scheme://host:port, or a URL of it) nothing until it is resumed; its"
     " tasks wait without spending attempts"},
    {"receivers", "resume", ctl_receivers_change, "receivers resume RECEIVER [--note TEXT]",
     "send a paused receiver its tasks again"},
    {"receivers", "actions", ctl_receivers_actions, "receivers actions RECEIVER",
     "who paused and resumed a receiver, when and why, newest first (the latest 100)"},
    {"receivers", NULL, ctl_receivers, "receivers",
     "each receiver's pending tasks, requests in flight, circuit breaker (closed, open,"
     " probing; its next probe), failures in the last hour, and whether it is paused or held"},
    {"ordering-keys", NULL, ctl_ordering_keys,
     "ordering-keys [--blocked true] [--receiver R] [--key K] [--limit N] [--before ID]",
     "each receiver's ordering keys: the newest sequence number, the head, how many wait,"
     " and the task in manual handling that blocks a key (retry or resolve it to go on)"},
};

const size_t ctl_overview_command_count =
    sizeof ctl_overview_commands / sizeof ctl_overview_commands[0];
