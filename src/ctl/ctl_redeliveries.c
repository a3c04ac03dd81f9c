/*
 * ctl_redeliveries: heraldctl's "redeliveries" commands over redelivery jobs
 * (POST /v1/redeliveries and the rest): list, show, create, cancel.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void ctl_redeliveries_show_list(const CtlAnswer *answer)
{
    static const char *const header[] = {"ID",   "STATE",     "MATCHED", "SENT",  "SKIPPED",
                                         "LEFT", "SCHEDULE",  "PACE",    "ACTOR", "CREATED",
                                         "REASON"};
    static const char *const members[] = {"id",        "state",    "matched", "sent",
                                          "skipped",   "remaining", "schedule", "pace",
                                          "actor",     "created_at", "reason"};
    ctl_print_rows(cJSON_GetObjectItemCaseSensitive(answer->json, "redeliveries"),
                   sizeof header / sizeof header[0], header, members);
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer->json, "next_before");
    if (cJSON_IsNumber(next))
        printf("(older ones: add --before %.0f)\n", next->valuedouble);
}

/* One job as name/value rows, its filter's terms as "filter.NAME". */
static void ctl_redeliveries_show_job(const CtlAnswer *answer)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(answer->json, "redelivery");
    if (job == NULL) { /* a dry run */
        const cJSON *matched = cJSON_GetObjectItemCaseSensitive(answer->json, "matched");
        const cJSON *through = cJSON_GetObjectItemCaseSensitive(answer->json, "through_id");
        printf("matched %.0f tasks (up to task %.0f); dry run: nothing was sent\n",
               cJSON_IsNumber(matched) ? matched->valuedouble : 0,
               cJSON_IsNumber(through) ? through->valuedouble : 0);
        return;
    }
    enum { ROWS_MAX = 32 };
    const char *rows[ROWS_MAX][2];
    char *cells[ROWS_MAX];
    char names[ROWS_MAX][48];
    size_t count = 0;
    const cJSON *member;
    cJSON_ArrayForEach(member, job)
    {
        const cJSON *inner = cJSON_IsObject(member) ? member->child : member;
        for (; inner != NULL && count < ROWS_MAX; inner = cJSON_IsObject(member) ? inner->next
                                                                                 : NULL) {
            snprintf(names[count], sizeof names[count], "%s%s%s",
                     cJSON_IsObject(member) ? member->string : "",
                     cJSON_IsObject(member) ? "." : "", inner->string);
            cells[count] = ctl_cell(cJSON_IsObject(member) ? member : job, inner->string);
            rows[count][0] = names[count];
            rows[count][1] = cells[count] ? cells[count] : "?";
            count++;
        }
    }
    ctl_print_pairs(rows, count);
    for (size_t i = 0; i < count; i++)
        free(cells[i]);
    const cJSON *changed = cJSON_GetObjectItemCaseSensitive(answer->json, "changed");
    if (cJSON_IsBool(changed))
        printf("%s\n", cJSON_IsTrue(changed) ? "(cancelled)" : "(it had ended already: nothing changed)");
}

static int ctl_redeliveries_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const CtlQueryOption options[] = {{"limit", "limit"}, {"before", "before"}};
    return ctl_list(ctl, command, argc, argv, "/v1/redeliveries", options,
                    sizeof options / sizeof options[0], ctl_redeliveries_show_list);
}

/* "redeliveries show|cancel ID". */
static int ctl_redeliveries_by_id(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    if (argc != 2 || !ctl_is_id(argv[1]))
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    char path[128];
    bool cancel = strcmp(command->name, "cancel") == 0;
    snprintf(path, sizeof path, "/v1/redeliveries/%s%s", argv[1], cancel ? "/cancel" : "");
    if (cancel)
        return ctl_post_json(ctl, path, cJSON_CreateObject(), ctl_redeliveries_show_job);
    return ctl_request_and_show(ctl, "GET", path, NULL, ctl_redeliveries_show_job);
}

/* "redeliveries create --reason TEXT [filter options] [--full] [--pace N] [--dry-run]". */
static int ctl_redeliveries_create(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const struct option options[] = {
        {"reason", required_argument, NULL, 'r'},  {"type", required_argument, NULL, 't'},
        {"receiver", required_argument, NULL, 'R'}, {"url-prefix", required_argument, NULL, 'u'},
        {"status", required_argument, NULL, 's'},  {"error-class", required_argument, NULL, 'e'},
        {"created-after", required_argument, NULL, 'a'},
        {"created-before", required_argument, NULL, 'b'},
        {"pace", required_argument, NULL, 'p'},    {"full", no_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, 'd'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The filter's JSON names, by option letter. */
    static const struct {
        int letter;
        const char *name;
    } terms[] = {{'t', "business_type"}, {'R', "receiver"},     {'u', "url_prefix"},
                 {'s', "status"},        {'e', "error_class"},  {'a', "created_after"},
                 {'b', "created_before"}};
    cJSON *body = cJSON_CreateObject();
    cJSON *filter = cJSON_AddObjectToObject(body, "filter");
    bool reason = false, dry_run = false;
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        size_t term = 0;
        while (term < sizeof terms / sizeof terms[0] && terms[term].letter != option)
            term++;
        if (term < sizeof terms / sizeof terms[0]) {
            cJSON_AddStringToObject(filter, terms[term].name, optarg);
        } else if (option == 'r') {
            cJSON_AddStringToObject(body, "reason", optarg);
            reason = true;
        } else if (option == 'p') {
            cJSON_AddNumberToObject(body, "pace", atof(optarg));
        } else if (option == 'f') {
            cJSON_AddStringToObject(body, "schedule", "full");
        } else if (option == 'd') {
            dry_run = true;
        } else {
            cJSON_Delete(body);
            return ctl_command_usage(command, option == 'h' ? stdout : stderr,
                                     option == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE);
        }
    }
    if ((!reason && !dry_run) || optind != argc) {
        cJSON_Delete(body);
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    }
    if (dry_run)
        cJSON_AddBoolToObject(body, "dry_run", true);
    return ctl_post_json(ctl, "/v1/redeliveries", body, ctl_redeliveries_show_job);
}

const CtlCommand ctl_redelivery_commands[] = {
    {"redeliveries", "create", ctl_redeliveries_create,
     "redeliveries create --reason TEXT [--type TYPE] [--receiver RECEIVER] [--url-prefix URL]"
     " [--status failed|succeeded|pending] [--error-class CLASS] [--created-after TIME]"
     " [--created-before TIME] [--full] [--pace N] [--dry-run]",
     "send again every task a filter chooses (failed ones by default), as a job worked at"
     " N tasks a second (50); --dry-run counts them"},
    {"redeliveries", "show", ctl_redeliveries_by_id, "redeliveries show ID",
     "show a redelivery job and its progress (matched, sent, skipped, left)"},
    {"redeliveries", "cancel", ctl_redeliveries_by_id, "redeliveries cancel ID",
     "stop a redelivery job after the step under way"},
    {"redeliveries", NULL, ctl_redeliveries_list, "redeliveries [--limit N] [--before ID]",
     "list redelivery jobs, newest first"},
};

const size_t ctl_redelivery_command_count =
    sizeof ctl_redelivery_commands / sizeof ctl_redelivery_commands[0];
