/*
 * ctl_common: see ctl.h.
 */
#include <getopt.h>
#include <stdbool.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_table.h"

#define CTL_PATH_MAX 2048
#define CTL_QUERY_OPTIONS_MAX 12

int ctl_command_usage(const CtlCommand *command, FILE *out, int status)
{
    if (out == stdout) {
        fprintf(out, "usage: heraldctl %s\n%s\n", command->usage, command->summary);
        return status;
    }
    fprintf(out, "heraldctl: usage: heraldctl %s (see 'heraldctl %s%s%s --help')\n",
            command->usage, command->group, command->name ? " " : "",
            command->name ? command->name : "");
    return status;
}

static bool ctl_utc;

void ctl_set_utc(bool utc)
{
    ctl_utc = utc;
}

/* TEXT (RFC 3339, UTC, as the API writes times) in local time or UTC; NULL
 * if it is not such a time. The caller frees it. */
static char *ctl_format_time(const char *text)
{
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        consumed < 19 || text[strlen(text) - 1] != 'Z')
        return NULL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = timegm(&tm);
    struct tm shown;
    if (seconds == (time_t)-1 ||
        (ctl_utc ? gmtime_r(&seconds, &shown) : localtime_r(&seconds, &shown)) == NULL)
        return NULL;
    char out[32];
    if (strftime(out, sizeof out, ctl_utc ? "%Y-%m-%d %H:%M:%SZ" : "%Y-%m-%d %H:%M:%S",
                 &shown) == 0)
        return NULL;
    return strdup(out);
}

int ctl_fail(const char *message)
{
    /* The message may quote the API's, and so what a client sent. */
    char *printable = ctl_table_printable(message);
    fprintf(stderr, "heraldctl: %s\n", printable ? printable : "(out of memory)");
    free(printable);
    return CTL_EXIT_API;
}

bool ctl_is_id(const char *text)
{
    size_t length = strlen(text);
    return length > 0 && length <= 19 && strspn(text, "0123456789") == length && text[0] != '0';
}

/* --json prints the API's answer byte for byte, so payload numbers survive. */
static void ctl_print_json(const CtlAnswer *answer)
{
    fwrite(answer->raw, 1, answer->raw_length, stdout);
    if (answer->raw_length == 0 || answer->raw[answer->raw_length - 1] != '\n')
        putchar('\n');
}

int ctl_request_and_show(Ctl *ctl, const char *method, const char *path, const char *body,
                         void (*show)(const CtlAnswer *answer))
{
    CtlAnswer answer;
    char err[1024];
    CtlResult result = ctl_client_request(&ctl->client, method, path, body, &answer, err,
                                          sizeof err);
    if (result != CTL_OK) {
        ctl_fail(err);
        return result == CTL_UNREACHABLE ? CTL_EXIT_UNREACHABLE : CTL_EXIT_API;
    }
    if (ctl->json)
        ctl_print_json(&answer);
    else
        show(&answer);
    ctl_answer_free(&answer);
    return CTL_EXIT_OK;
}

int ctl_parse_note_and_argument(const CtlCommand *command, int argc, char **argv,
                                const char **argument, const char **note)
{
    static const struct option options[] = {
        {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *note = NULL;
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (option == 'n')
            *note = optarg;
        else
            return ctl_command_usage(command, option == 'h' ? stdout : stderr,
                                     option == 'h' ? CTL_EXIT_OK : CTL_EXIT_USAGE);
    }
    if (optind != argc - 1 || argv[optind][0] == '\0')
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    *argument = argv[optind];
    return CTL_PARSED;
}

int ctl_post_json(Ctl *ctl, const char *path, cJSON *body, void (*show)(const CtlAnswer *answer))
{
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (text == NULL)
        return ctl_fail("out of memory");
    int status = ctl_request_and_show(ctl, "POST", path, text, show);
    free(text);
    return status;
}

int ctl_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv, const char *path,
             const CtlQueryOption *options, size_t option_count,
             void (*show)(const CtlAnswer *answer))
{
    struct option long_options[CTL_QUERY_OPTIONS_MAX + 2];
    size_t count = option_count < CTL_QUERY_OPTIONS_MAX ? option_count : CTL_QUERY_OPTIONS_MAX;
    for (size_t i = 0; i < count; i++)
        long_options[i] = (struct option){options[i].option, required_argument, NULL, (int)i};
    long_options[count] = (struct option){"help", no_argument, NULL, 'h'};
    long_options[count + 1] = (struct option){NULL, 0, NULL, 0};
    char query[CTL_PATH_MAX];
    snprintf(query, sizeof query, "%s", path);
    int option;
    optind = 0; /* 0, not 1: glibc then forgets main's "+" (stop at the first word) */
    while ((option = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (option == 'h')
            return ctl_command_usage(command, stdout, CTL_EXIT_OK);
        if (option < 0 || (size_t)option >= count)
            return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
        if (ctl_client_add_query(query, sizeof query, options[option].query, optarg) != 0)
            return ctl_fail("query too long");
    }
    if (optind != argc)
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    return ctl_request_and_show(ctl, "GET", query, NULL, show);
}

char *ctl_cell(const cJSON *object, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, member);
    if (item == NULL || cJSON_IsNull(item))
        return strdup("-");
    size_t length = strlen(member);
    if (cJSON_IsString(item) && length > 3 && strcmp(member + length - 3, "_at") == 0) {
        char *time = ctl_format_time(item->valuestring);
        if (time != NULL)
            return time;
    }
    if (cJSON_IsString(item))
        return strdup(item->valuestring);
    return cJSON_PrintUnformatted(item);
}

void ctl_print_pairs(const char *const (*rows)[2], size_t count)
{
    CtlTable table;
    ctl_table_init(&table, 2, NULL);
    for (size_t i = 0; i < count; i++)
        ctl_table_add(&table, rows[i]);
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

void ctl_print_rows(const cJSON *array, size_t columns, const char *const *header,
                    const char *const *members)
{
    CtlTable table;
    ctl_table_init(&table, columns, header);
    const cJSON *object;
    cJSON_ArrayForEach(object, array)
    {
        char *cells[CTL_TABLE_COLUMNS_MAX];
        for (size_t i = 0; i < columns && i < CTL_TABLE_COLUMNS_MAX; i++)
            cells[i] = ctl_cell(object, members[i]);
        ctl_table_add(&table, (const char *const *)cells);
        for (size_t i = 0; i < columns && i < CTL_TABLE_COLUMNS_MAX; i++)
            free(cells[i]);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}

/* Whether ATTEMPTS went to more than one receiver (a repair sent the task elsewhere). */
static bool ctl_attempts_moved(const cJSON *attempts)
{
    const char *first = NULL;
    const cJSON *attempt;
    cJSON_ArrayForEach(attempt, attempts)
    {
        const cJSON *receiver = cJSON_GetObjectItemCaseSensitive(attempt, "receiver");
        const char *name = cJSON_IsString(receiver) ? receiver->valuestring : "";
        if (first == NULL)
            first = name;
        else if (strcmp(first, name) != 0)
            return true;
    }
    return false;
}

void ctl_print_attempts(const cJSON *attempts)
{
    /* The receiver is shown only when it changed: the error and the answer
     * are what an 80-column table must keep. */
    bool moved = ctl_attempts_moved(attempts);
    static const char *const header[] = {"ATTEMPT", "STARTED", "DURATION", "STATUS", "ERROR",
                                         "RESPONSE", "RECEIVER"};
    CtlTable table;
    ctl_table_init(&table, moved ? 7 : 6, header);
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
        char *receiver = ctl_cell(attempt, "receiver");
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
        const char *row[] = {number, started, duration, status, error, response, receiver};
        ctl_table_add(&table, row);
        free(started);
        free(status);
        free(receiver);
    }
    ctl_table_print(&table, stdout, ctl_table_width(stdout));
    ctl_table_free(&table);
}
