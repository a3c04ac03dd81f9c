/*
 * ctl: what heraldctl's command files share: the command table entry, exit
 * codes, and helpers for requests, errors and output.
 *
 * Each group of commands (ctl_tasks.c, ctl_manual.c, ...) exports a table of
 * CtlCommand; heraldctl.c dispatches "GROUP NAME ARGS..." to it. Output is a
 * table for people, or the API's answer byte for byte with --json.
 */
#ifndef HERALD_CTL_H
#define HERALD_CTL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctl_client.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_API 1 /* the API refused the request, or found nothing */
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_UNREACHABLE 3 /* no answer from heraldd */

typedef struct Ctl {
    CtlClient client;
    bool json;
} Ctl;

typedef struct CtlCommand CtlCommand;
struct CtlCommand {
    const char *group;
    const char *name; /* NULL: the group alone is the command ("alerts") */
    int (*run)(Ctl *ctl, const CtlCommand *command, int argc, char **argv);
    const char *usage;
    const char *summary;
};

/* A command-line option that becomes a query argument (--type -> business_type). */
typedef struct CtlQueryOption {
    const char *option;
    const char *query;
} CtlQueryOption;

extern const CtlCommand ctl_task_commands[];
extern const CtlCommand ctl_redelivery_commands[];
extern const size_t ctl_redelivery_command_count;
extern const size_t ctl_task_command_count;
extern const CtlCommand ctl_manual_commands[];
extern const size_t ctl_manual_command_count;
extern const CtlCommand ctl_secret_commands[];
extern const size_t ctl_secret_command_count;
extern const CtlCommand ctl_policy_commands[];
extern const size_t ctl_policy_command_count;
extern const CtlCommand ctl_overview_commands[];
extern const size_t ctl_overview_command_count;

/* Prints COMMAND's usage and returns STATUS: the whole usage on stdout (for
 * --help), or one line with where to look on stderr (a usage error). */
int ctl_command_usage(const CtlCommand *command, FILE *out, int status);

/* Times in tables: local time (the default), or UTC with --utc. */
void ctl_set_utc(bool utc);

/* Prints "heraldctl: MESSAGE" and returns CTL_EXIT_API. */
int ctl_fail(const char *message);

/* True if TEXT is a task id (1 to 19 digits). */
bool ctl_is_id(const char *text);

/* Sends the request; on success prints the answer with SHOW (or as JSON)
 * and returns CTL_EXIT_OK, else CTL_EXIT_API. */
int ctl_request_and_show(Ctl *ctl, const char *method, const char *path, const char *body,
                         void (*show)(const CtlAnswer *answer));

/* "COMMAND ARGUMENT [--note TEXT]": sets *ARGUMENT (non-empty) and *NOTE
 * (NULL if not given) and returns CTL_PARSED, or returns the exit status of
 * the usage it printed (--help, or a usage error). */
#define CTL_PARSED (-1)
int ctl_parse_note_and_argument(const CtlCommand *command, int argc, char **argv,
                                const char **argument, const char **note);

/* POSTs BODY (which it frees) as JSON to PATH, as ctl_request_and_show. */
int ctl_post_json(Ctl *ctl, const char *path, cJSON *body, void (*show)(const CtlAnswer *answer));

/* "LIST [--OPTION VALUE]...": GETs PATH with the options as query arguments. */
int ctl_list(Ctl *ctl, const CtlCommand *command, int argc, char **argv, const char *path,
             const CtlQueryOption *options, size_t option_count,
             void (*show)(const CtlAnswer *answer));

/* The text of MEMBER for a table cell: strings as is (a time, a member named
 * *_at, as "YYYY-MM-DD HH:MM:SS" in local time, or with a "Z" in UTC), null
 * as "-", else JSON. The caller frees it. */
char *ctl_cell(const cJSON *object, const char *member);

/* Prints COUNT name/value ROWS as a two-column table without a header. */
void ctl_print_pairs(const char *const (*rows)[2], size_t count);

/* Prints the "task" member of ANSWER as key/value lines, the payload as sent
 * (ctl_show.c). */
void ctl_print_task(const CtlAnswer *answer);

/* Prints ARRAY's objects as a table of COLUMNS columns: HEADER names them,
 * MEMBERS says which member of each object goes in each (as ctl_cell shows
 * it). */
void ctl_print_rows(const cJSON *array, size_t columns, const char *const *header,
                    const char *const *members);

/* Prints a task's whole case as GET /v1/manual/ID answers it: the task, its
 * attempts, its manual entries and the actions taken on it (ctl_show.c). */
void ctl_print_case(const CtlAnswer *answer);

/* Prints manual entries, and operators' actions, as tables (ctl_show.c). */
void ctl_print_entries(const cJSON *entries);
void ctl_print_actions(const cJSON *actions);

/* Prints the attempts array of ANSWER as a table (shared by tasks and manual). */
void ctl_print_attempts(const cJSON *attempts);

#endif
