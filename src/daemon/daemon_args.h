/*
 * daemon_args: heraldd's command line. Parses the options and applies the
 * overrides they make to the configuration, with the rules that span several
 * keys (a non-loopback listen address needs authentication). Called from
 * main only.
 */
#ifndef HERALD_DAEMON_ARGS_H
#define HERALD_DAEMON_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The strings point into argv. */
typedef struct DaemonArgs {
    const char *config_path;
    const char *listen;
    const char *db_path;
    bool insecure_listen;
    bool check_config;
    bool list_keys;
    const char *copy_to; /* --copy-to URL */
    const char *copy_password_file; /* --password-file FILE: --copy-to's password */
} DaemonArgs;

/* Fills OPTIONS from ARGV. Returns 0 to run, 1 to exit successfully (--help,
 * --version, --list-keys printed), 2 on a usage error (the usage printed on
 * stderr). */
int daemon_args_parse(int argc, char **argv, DaemonArgs *options);

/* Applies OPTIONS' overrides to CONFIG and checks the rules that span several
 * keys. Returns 0, or -1 with ERR. */
int daemon_args_apply(Config *config, const DaemonArgs *options, char *err, size_t errlen);

#endif
