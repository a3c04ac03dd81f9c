/*
 * ctl_manual: heraldctl's "manual" commands (list, show, retry, resolve,
 * retry-all), "alerts" and "instances": what an operator uses when deliveries failed for
 * good.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "ctl.h"
#include "ctl_table.h"
#include "json_check.h"
#include "utf8.h"

#define CTL_PAYLOAD_FILE_MAX (64 * 1024 * 1024)

static void ctl_manual_show_list(const CtlAnswer *answer)
{
    ctl_print_entries(cJSON_GetObjectItemCaseSensitive(answer->json, "entries"));
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer->json, "next_after");
    if (cJSON_IsNumber(next))
        printf("(more: add --after %.0f)\n", next->valuedouble);
}

static void ctl_manual_show_bulk(const CtlAnswer *answer)
{
    const cJSON *matched = cJSON_GetObjectItemCaseSensitive(answer->json, "matched");
    const cJSON *retried = cJSON_GetObjectItemCaseSensitive(answer->json, "retried");
    const cJSON *resolved = cJSON_GetObjectItemCaseSensitive(answer->json, "resolved");
    const cJSON *changed = cJSON_IsNumber(resolved) ? resolved : retried;
    const cJSON *through = cJSON_GetObjectItemCaseSensitive(answer->json, "through_id");
    bool dry_run = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer->json, "dry_run"));
    printf("matched %.0f, %s %.0f%s\n", cJSON_IsNumber(matched) ? matched->valuedouble : 0,
           changed == resolved ? "resolved" : "retried",
           cJSON_IsNumber(changed) ? changed->valuedouble : 0,
           dry_run ? " (dry run: nothing was changed)" : "");
    /* The bound that makes the confirmed run take exactly these, and not the
     * entries that arrive meanwhile. */
    if (dry_run && cJSON_IsNumber(matched) && matched->valuedouble > 0 && cJSON_IsNumber(through))
        printf("to act on exactly these, run it again with --through-id %.0f\n",
               through->valuedouble);
}

static int ctl_manual_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const CtlQueryOption options[] = {
        {"state", "state"}, {"type", "business_type"}, {"reason", "reason"}, {"since", "since"},
        {"until", "until"}, {"limit", "limit"},        {"after", "after"},
    };
    return ctl_list(ctl, command, argc, argv, "/v1/manual", options,
                    sizeof options / sizeof options[0], ctl_manual_show_list);
}

static int ctl_manual_show(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    if (argc != 2 || !ctl_is_id(argv[1]))
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    char path[128];
    snprintf(path, sizeof path, "/v1/manual/%s", argv[1]);
    return ctl_request_and_show(ctl, "GET", path, NULL, ctl_print_case);
}

/* A payload file as the JSON value to send: with AS_TEXT, its bytes as a
 * JSON string (a string payload is sent as its bytes); otherwise the file
 * must hold JSON (an object, an array or a string), sent exactly as written.
 * Returns NULL with ERR set. */
static cJSON *ctl_manual_read_payload(const char *path, bool as_text, char *err, size_t errlen)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    Buffer content;
    buffer_init(&content, CTL_PAYLOAD_FILE_MAX);
    char chunk[65536];
    size_t got;
    bool failed = false;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0)
        failed |= buffer_append(&content, chunk, got) != 0;
    failed |= ferror(file) != 0;
    fclose(file);
    cJSON *value = NULL;
    JsonCheckError problem;
    if (failed) {
        snprintf(err, errlen, "%s: cannot read it (or larger than 64 MiB)", path);
    } else if (content.length == 0 || !utf8_is_valid(content.data, content.length) ||
               memchr(content.data, '\0', content.length) != NULL) {
        snprintf(err, errlen, "%s: the payload must be non-empty UTF-8 text", path);
    } else if (as_text) {
        value = cJSON_CreateString(content.data);
    } else if (json_check(content.data, content.length, JSON_CHECK_DEPTH_MAX, &problem) != 0) {
        snprintf(err, errlen,
                 "%s is not JSON (%s); to send its bytes as a string payload, use "
                 "--payload-text-file",
                 path, problem.message);
    } else {
        /* Raw keeps the file's bytes; re-printing would change numbers. */
        value = cJSON_CreateRaw(content.data);
    }
    if ((failed || value == NULL) && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    buffer_free(&content);
    return value;
}

/* --header "Name: value" (LINE) adds one header to the retry's "headers",
 * which replace the task's; --no-headers (LINE NULL) asks for none. heraldd
 * checks names and values with intake's rules. */
static int ctl_manual_add_header(cJSON *body, const char *line)
{
    cJSON *headers = cJSON_GetObjectItemCaseSensitive(body, "headers");
    if (headers == NULL)
        headers = cJSON_AddObjectToObject(body, "headers");
    if (line == NULL)
        return 0;
    const char *colon = strchr(line, ':');
    if (colon == NULL || colon == line) {
        fprintf(stderr, "heraldctl: --header takes \"Name: value\"\n");
        return -1;
    }
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(colon - line), line);
    const char *value = colon + 1;
    value += strspn(value, " \t");
    if (cJSON_GetObjectItem(headers, name) != NULL) {
        fprintf(stderr, "heraldctl: --header %s given twice\n", name);
        return -1;
    }
    return cJSON_AddStringToObject(headers, name, value) ? 0 : -1;
}

static int ctl_manual_retry(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const struct option options[] = {
        {"target-url", required_argument, NULL, 'u'},
        {"payload-file", required_argument, NULL, 'p'},
        {"payload-text-file", required_argument, NULL, 'P'},
        {"header", required_argument, NULL, 'H'},
        {"no-headers", no_argument, NULL, 'N'},
        {"max-retry", required_argument, NULL, 'm'},
        {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cJSON *body = cJSON_CreateObject();
    char err[512] = "";
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        cJSON *payload;
        char *end;
        long number;
        switch (option) {
        case 'u': cJSON_AddStringToObject(body, "target_url", optarg); break;
        case 'n': cJSON_AddStringToObject(body, "note", optarg); break;
        case 'H':
        case 'N':
            if (ctl_manual_add_header(body, option == 'H' ? optarg : NULL) != 0) {
                cJSON_Delete(body);
                return CTL_EXIT_USAGE;
            }
            break;
        case 'm':
            number = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || number < 1 || number > 100) {
                cJSON_Delete(body);
                return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
            }
            cJSON_AddNumberToObject(body, "max_retry", (double)number);
            break;
        case 'p':
        case 'P':
            if (cJSON_GetObjectItemCaseSensitive(body, "payload") != NULL) {
                cJSON_Delete(body);
                fprintf(stderr, "heraldctl: give one payload file\n");
                return CTL_EXIT_USAGE;
            }
            payload = ctl_manual_read_payload(optarg, option == 'P', err, sizeof err);
            if (payload == NULL) {
                cJSON_Delete(body);
                fprintf(stderr, "heraldctl: %s\n", err);
                return CTL_EXIT_USAGE;
            }
            cJSON_AddItemToObject(body, "payload", payload);
            break;
        case 'h':
            cJSON_Delete(body);
            return ctl_command_usage(command, stdout, CTL_EXIT_OK);
        default:
            cJSON_Delete(body);
            return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
        }
    }
    if (optind != argc - 1 || !ctl_is_id(argv[optind])) {
        cJSON_Delete(body);
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    }
    char path[128];
    snprintf(path, sizeof path, "/v1/manual/%s/retry", argv[optind]);
    return ctl_post_json(ctl, path, body, ctl_print_case);
}

static int ctl_manual_resolve(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    const char *task_id, *note;
    int parsed = ctl_parse_note_and_argument(command, argc, argv, &task_id, &note);
    if (parsed != CTL_PARSED)
        return parsed;
    if (note == NULL || !ctl_is_id(task_id))
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "note", note);
    char path[128];
    snprintf(path, sizeof path, "/v1/manual/%s/resolve", task_id);
    return ctl_post_json(ctl, path, body, ctl_print_case);
}

/* "retry-all" and "resolve-all": the selection (every filter given must
 * match; --task may repeat) as the bulk endpoint's body, posted to PATH. */
static int ctl_manual_bulk(Ctl *ctl, const CtlCommand *command, int argc, char **argv,
                           const char *path, bool note_required)
{
    static const struct option options[] = {
        {"type", required_argument, NULL, 't'}, {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'}, {"reason", required_argument, NULL, 'r'},
        {"task", required_argument, NULL, 'k'}, {"note", required_argument, NULL, 'n'},
        {"dry-run", no_argument, NULL, 'd'},    {"all", no_argument, NULL, 'a'},
        {"through-id", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    cJSON *body = cJSON_CreateObject();
    cJSON *ids = NULL;
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 't': cJSON_AddStringToObject(body, "business_type", optarg); break;
        case 's': cJSON_AddStringToObject(body, "since", optarg); break;
        case 'u': cJSON_AddStringToObject(body, "until", optarg); break;
        case 'r': cJSON_AddStringToObject(body, "reason", optarg); break;
        case 'n': cJSON_AddStringToObject(body, "note", optarg); break;
        case 'd': cJSON_AddBoolToObject(body, "dry_run", true); break;
        case 'a': cJSON_AddBoolToObject(body, "all", true); break;
        case 'b':
            /* 0 too: a dry run that matched nothing */
            if (optarg[0] == '\0' || strspn(optarg, "0123456789") != strlen(optarg) ||
                strlen(optarg) > 16) {
                cJSON_Delete(body);
                return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
            }
            cJSON_AddNumberToObject(body, "through_id", strtod(optarg, NULL));
            break;
        case 'k':
            if (!ctl_is_id(optarg)) {
                cJSON_Delete(body);
                return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
            }
            if (ids == NULL)
                ids = cJSON_AddArrayToObject(body, "task_ids");
            cJSON_AddItemToArray(ids, cJSON_CreateNumber(strtod(optarg, NULL)));
            break;
        default:
            cJSON_Delete(body);
            return ctl_command_usage(command, option == 'h' ? stdout : stderr,
                                     option == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE);
        }
    }
    bool filtered = false;
    static const char *const filters[] = {"business_type", "since", "until", "reason",
                                          "task_ids", "all"};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        filtered |= cJSON_GetObjectItemCaseSensitive(body, filters[i]) != NULL;
    bool noted = cJSON_GetObjectItemCaseSensitive(body, "note") != NULL ||
                 cJSON_GetObjectItemCaseSensitive(body, "dry_run") != NULL;
    if (optind == argc && filtered && note_required && !noted) {
        cJSON_Delete(body);
        fprintf(stderr, "heraldctl: say why with --note (see 'heraldctl manual %s --help')\n",
                command->name);
        return CTL_EXIT_USAGE;
    }
    if (optind != argc || !filtered) {
        cJSON_Delete(body);
        if (optind == argc) {
            fprintf(stderr, "heraldctl: choose entries with --type, --since, --until, --reason "
                            "or --task, or say --all (see 'heraldctl manual %s --help')\n",
                    command->name);
            return CTL_EXIT_USAGE;
        }
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    }
    return ctl_post_json(ctl, path, body, ctl_manual_show_bulk);
}

static int ctl_manual_retry_all(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_manual_bulk(ctl, command, argc, argv, "/v1/manual/retry", false);
}

static int ctl_manual_resolve_all(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_manual_bulk(ctl, command, argc, argv, "/v1/manual/resolve", true);
}

static void ctl_manual_show_alerts(const CtlAnswer *answer)
{
    static const char *const header[] = {"ID", "CREATED", "KIND", "STATE", "COUNT", "SENT",
                                         "TEXT"};
    CtlTable table;
    ctl_table_init(&table, 7, header);
    const cJSON *alert;
    cJSON_ArrayForEach(alert, cJSON_GetObjectItemCaseSensitive(answer->json, "alerts"))
    {
        static const char *const members[] = {"id", "created_at", "kind", "state", "count",
                                              "sent_at"};
        char *cells[7];
        for (int i = 0; i < 6; i++)
            cells[i] = ctl_cell(alert, members[i]);
        cells[6] = ctl_cell(cJSON_GetObjectItemCaseSensitive(alert, "details"), "text");
        ctl_table_add(&table, (const char *const *)cells);
        for (int i = 0; i < 7; i++)
            free(cells[i]);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

static int ctl_alerts(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    static const CtlQueryOption options[] = {{"limit", "limit"}, {"before", "before"}};
    return ctl_list(ctl, command, argc, argv, "/v1/alerts", options,
                    sizeof options / sizeof options[0], ctl_manual_show_alerts);
}

static void ctl_manual_show_instances(const CtlAnswer *answer)
{
    /* The host and start are in the id (host:pid:start), and in --json. */
    static const char *const header[] = {"ID", "VERSION", "HEARTBEAT", "ALIVE", "LEADER",
                                         "DELIVERIES"};
    static const char *const members[] = {"id", "version", "heartbeat_at", "alive", "leader",
                                          "deliveries"};
    ctl_print_rows(cJSON_GetObjectItemCaseSensitive(answer->json, "instances"),
                   sizeof header / sizeof header[0], header, members);
}

static int ctl_instances(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    return ctl_list(ctl, command, argc, argv, "/v1/instances", NULL, 0,
                    ctl_manual_show_instances);
}

const CtlCommand ctl_manual_commands[] = {
    {"instances", NULL, ctl_instances, "instances",
     "list the heraldd using the database: heartbeat, leader, attempts made"},
    {"alerts", NULL, ctl_alerts, "alerts [--limit N] [--before ID]",
     "list the alerts herald raised, newest first"},
    {"manual", "list", ctl_manual_list,
     "manual list [--state open|resolved|all] [--type TYPE] [--reason exhausted|gone|interrupted]"
     " [--since TIME] [--until TIME] [--limit N] [--after ID]",
     "list manual-handling entries, oldest first (TIME is RFC 3339)"},
    {"manual", "show", ctl_manual_show, "manual show TASK_ID",
     "show a task with its attempts, manual entries and repair actions"},
    {"manual", "retry", ctl_manual_retry,
     "manual retry TASK_ID [--target-url URL] [--payload-file FILE | --payload-text-file FILE]"
     " [--header 'NAME: VALUE'... | --no-headers] [--max-retry N] [--note TEXT]",
     "send a failed task again (same webhook-id, fresh attempt budget), optionally corrected;"
     " --payload-file holds JSON, --payload-text-file bytes sent as a string payload;"
     " --header (repeatable) replaces the task's extra headers, --no-headers drops them"},
    {"manual", "resolve", ctl_manual_resolve, "manual resolve TASK_ID --note TEXT",
     "close a failed task without sending it"},
    {"manual", "retry-all", ctl_manual_retry_all,
     "manual retry-all (--type TYPE | --reason R | --since TIME | --until TIME | --task ID..."
     " | --all) [--note TEXT] [--dry-run] [--through-id N]",
     "send every matching open entry again (through the normal per-host limits); filters"
     " combine, --task may repeat, --all: every open entry; --dry-run counts them and prints"
     " the --through-id N that takes exactly those (not the entries that arrive since)"},
    {"manual", "resolve-all", ctl_manual_resolve_all,
     "manual resolve-all (--type TYPE | --reason R | --since TIME | --until TIME | --task ID..."
     " | --all) --note TEXT [--dry-run] [--through-id N]",
     "close every matching open entry without sending it; --dry-run counts them and prints"
     " the --through-id N that takes exactly those (not the entries that arrive since)"},
};

const size_t ctl_manual_command_count =
    sizeof ctl_manual_commands / sizeof ctl_manual_commands[0];
