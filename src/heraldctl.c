/*
 * heraldctl: the operator's command line for herald, talking to the HTTP API.
 *
 *   heraldctl [--url URL] [--token-file FILE] [--json] GROUP COMMAND [ARGS]
 *
 * Global options come first; each command (ctl_tasks.c, ctl_manual.c)
 * parses its own. Output is an aligned table for people, or the API's JSON
 * unchanged with --json for scripts. Exit codes: 0 success, 1 the API
 * answered an error or could not be reached, 2 usage error.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "version.h"

static const struct {
    const CtlCommand *commands;
    const size_t *count;
} ctl_groups[] = {
    {ctl_task_commands, &ctl_task_command_count},
    {ctl_manual_commands, &ctl_manual_command_count},
    {ctl_secret_commands, &ctl_secret_command_count},
};

#define CTL_GROUP_COUNT (sizeof ctl_groups / sizeof ctl_groups[0])

static void ctl_usage(FILE *out)
{
    fprintf(out, "usage: heraldctl [--url URL] [--token-file FILE] [--json] COMMAND\n\n"
                 "commands:\n");
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            const CtlCommand *command = &ctl_groups[g].commands[i];
            fprintf(out, "  %s\n      %s\n", command->usage, command->summary);
        }
    }
    fprintf(out,
            "\noptions:\n"
            "  --url URL          herald API (default $HERALD_URL or " CTL_DEFAULT_URL ")\n"
            "  --token-file FILE  API token file (default: $HERALD_TOKEN if set)\n"
            "  --json             print the API's JSON instead of tables\n"
            "  --version, --help\n"
            "\n'heraldctl GROUP COMMAND --help' explains one command.\n"
            "exit status: 0 ok, 1 API error or unreachable, 2 usage error\n");
}

static int ctl_dispatch(Ctl *ctl, int argc, char **argv)
{
    if (argc < 1) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            const CtlCommand *command = &ctl_groups[g].commands[i];
            if (strcmp(argv[0], command->group) != 0)
                continue;
            /* "GROUP NAME ARGS" runs with argv at NAME; a group-only command at GROUP. */
            int skip = command->name != NULL ? 1 : 0;
            if (command->name != NULL && (argc < 2 || strcmp(argv[1], command->name) != 0))
                continue;
            if (argc == 2 + skip && strcmp(argv[1 + skip], "--help") == 0)
                return ctl_command_usage(command, stdout, CTL_EXIT_OK);
            return command->run(ctl, command, argc - skip, argv + skip);
        }
    }
    fprintf(stderr, "heraldctl: unknown command \"%s%s%s\"\n", argv[0], argc > 1 ? " " : "",
            argc > 1 ? argv[1] : "");
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
