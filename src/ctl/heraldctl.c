/*
 * heraldctl: the operator's command line for herald, talking to the HTTP API.
 *
 *   heraldctl [OPTIONS] GROUP [COMMAND] [ARGS] [OPTIONS]
 *
 * It behaves as gh, kubectl or systemctl do: the global options (--url,
 * --token-file, --json, --utc) may come before or after the command words
 * (up to a "--"); -h or --help anywhere prints the usage of the program, the
 * group or the command named, on stdout, and exits 0; an unknown command or
 * option exits 2 with a one-line hint. Each command (ctl_overview.c,
 * ctl_tasks.c, ctl_manual.c, ctl_policy.c, ctl_secret.c) parses its own
 * options. Output is a table for people (fitted to the terminal, 80 columns
 * when not one; times in local time unless --utc), or the API's JSON
 * unchanged with --json.
 *
 * Exit status: 0 success; 1 the API refused the request or the object was
 * not found (any error answer); 2 usage; 3 heraldd could not be reached (or
 * what answered was not heraldd).
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
    {ctl_overview_commands, &ctl_overview_command_count},
    {ctl_task_commands, &ctl_task_command_count},
    {ctl_redelivery_commands, &ctl_redelivery_command_count},
    {ctl_manual_commands, &ctl_manual_command_count},
    {ctl_policy_commands, &ctl_policy_command_count},
    {ctl_secret_commands, &ctl_secret_command_count},
};

#define CTL_GROUP_COUNT (sizeof ctl_groups / sizeof ctl_groups[0])

/* The global options, wherever they are; what is left is the command's. */
typedef struct CtlOptions {
    const char *url;
    const char *token_file;
    bool json;
    bool utc;
    bool help;
    bool version;
    const char *bad; /* an option that needs a value and has none */
} CtlOptions;

static void ctl_usage(FILE *out)
{
    fprintf(out, "usage: heraldctl [OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            const CtlCommand *command = &ctl_groups[g].commands[i];
            fprintf(out, "  %s\n      %s\n", command->usage, command->summary);
        }
    }
    fprintf(out,
            "\noptions (before or after the command words):\n"
            "  --url URL          herald API (default $HERALD_URL or " CTL_DEFAULT_URL ")\n"
            "  --token-file FILE  API token file (default: $HERALD_TOKEN if set)\n"
            "  --json             print the API's JSON instead of tables\n"
            "  --utc              show times in UTC (default: local time)\n"
            "  -h, --help         this help; 'heraldctl COMMAND --help' explains one command\n"
            "  --version          print the version\n"
            "\nexit status: 0 ok, 1 the API refused or found nothing, 2 usage error,\n"
            "3 heraldd could not be reached\n");
}

/* Prints the commands of GROUP to OUT. */
static void ctl_group_usage(const char *group, FILE *out)
{
    fprintf(out, "usage:\n");
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            const CtlCommand *command = &ctl_groups[g].commands[i];
            if (strcmp(command->group, group) == 0)
                fprintf(out, "  heraldctl %s\n      %s\n", command->usage, command->summary);
        }
    }
}

static bool ctl_is_group(const char *word)
{
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            if (strcmp(ctl_groups[g].commands[i].group, word) == 0)
                return true;
        }
    }
    return false;
}

/* Takes the global options out of ARGV (everything before a "--"; a "--"
 * stays for the command), keeping the rest in order in ARGV from index 1.
 * Returns the new ARGC. */
static int ctl_take_options(int argc, char **argv, CtlOptions *options)
{
    int kept = 1;
    bool rest = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (rest || arg[0] != '-') {
            argv[kept++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            rest = true;
            argv[kept++] = argv[i];
        } else if (strcmp(arg, "--json") == 0) {
            options->json = true;
        } else if (strcmp(arg, "--utc") == 0) {
            options->utc = true;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            options->help = true;
        } else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            options->version = true;
        } else if (strncmp(arg, "--url", 5) == 0 && (arg[5] == '\0' || arg[5] == '=')) {
            value = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (value == NULL)
                options->bad = "--url";
            options->url = value;
        } else if (strncmp(arg, "--token-file", 12) == 0 && (arg[12] == '\0' || arg[12] == '=')) {
            value = arg[12] == '=' ? arg + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (value == NULL)
                options->bad = "--token-file";
            options->token_file = value;
        } else {
            argv[kept++] = argv[i]; /* the command's own option */
        }
    }
    argv[kept] = NULL;
    return kept;
}

/* A usage error in one line, with where to look. */
static int ctl_hint(const char *what, const char *word, const char *help)
{
    fprintf(stderr, "heraldctl: %s \"%s\"; see 'heraldctl %s--help'\n", what, word, help);
    return CTL_EXIT_USAGE;
}

/* Finds the command ARGV names (ARGV[0] the group) and runs it, or prints
 * the usage asked for. */
static int ctl_dispatch(Ctl *ctl, const CtlOptions *options, int argc, char **argv)
{
    if (argc < 1) {
        if (options->help) {
            ctl_usage(stdout);
            return CTL_EXIT_OK;
        }
        fprintf(stderr, "heraldctl: no command; see 'heraldctl --help'\n");
        return CTL_EXIT_USAGE;
    }
    if (!ctl_is_group(argv[0]))
        return ctl_hint("unknown command", argv[0], "");
    char group_help[64];
    snprintf(group_help, sizeof group_help, "%.40s ", argv[0]);
    for (size_t g = 0; g < CTL_GROUP_COUNT; g++) {
        for (size_t i = 0; i < *ctl_groups[g].count; i++) {
            const CtlCommand *command = &ctl_groups[g].commands[i];
            if (strcmp(argv[0], command->group) != 0)
                continue;
            /* "GROUP NAME ARGS" runs with argv at NAME; a group-only command at GROUP. */
            int skip = command->name != NULL ? 1 : 0;
            if (command->name != NULL && (argc < 2 || strcmp(argv[1], command->name) != 0))
                continue;
            if (options->help)
                return ctl_command_usage(command, stdout, CTL_EXIT_OK);
            return command->run(ctl, command, argc - skip, argv + skip);
        }
    }
    /* A group of several commands, without one of them. */
    if (argc < 2 || options->help) {
        ctl_group_usage(argv[0], options->help ? stdout : stderr);
        return options->help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    return ctl_hint("unknown command", argv[1], group_help);
}

int main(int argc, char **argv)
{
    CtlOptions options = {.url = getenv("HERALD_URL")};
    argc = ctl_take_options(argc, argv, &options);
    if (options.bad != NULL) {
        fprintf(stderr, "heraldctl: %s needs a value; see 'heraldctl --help'\n", options.bad);
        return CTL_EXIT_USAGE;
    }
    if (options.version && !options.help) {
        printf("heraldctl %s\n", HERALD_VERSION);
        return CTL_EXIT_OK;
    }
    ctl_set_utc(options.utc);
    opterr = 0; /* the commands' usage errors are one line of ours, not getopt's */
    Ctl ctl = {.json = options.json};
    char err[512];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ctl_fail("cannot initialise libcurl");
    if (ctl_client_init(&ctl.client, options.url ? options.url : CTL_DEFAULT_URL,
                        options.token_file, getenv("HERALD_TOKEN"), err, sizeof err) != 0) {
        curl_global_cleanup();
        fprintf(stderr, "heraldctl: %s\n", err);
        return CTL_EXIT_USAGE;
    }
    int status = ctl_dispatch(&ctl, &options, argc - 1, argv + 1);
    ctl_client_free(&ctl.client);
    curl_global_cleanup();
    return status;
}
