/*
 * daemon_args: see daemon_args.h.
 */
#include "daemon_args.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "api_route.h"
#include "version.h"


static void daemon_args_usage(FILE *out)
{
    fprintf(out,
            "usage: heraldd [-c FILE] [--listen HOST:PORT] [--db PATH] [--insecure-listen]\n"
            "               [--check-config] [--copy-to URL [--password-file FILE]]\n"
            "               [--list-keys] [--list-routes]\n"
            "               [--version] [--help]\n"
            "\n"
            "  -c, --config FILE    configuration file (default " CONFIG_DEFAULT_PATH ")\n"
            "      --listen ADDR    override [server] listen, e.g. 127.0.0.1:8080 (port 0: any)\n"
            "      --db PATH|URL    override [storage] path (a postgresql:// URI: url)\n"
            "      --insecure-listen  allow a non-loopback listen address without api_token_file\n"
            "      --check-config   read the configuration, report problems and exit\n"
            "      --copy-to URL    copy the SQLite database into the empty PostgreSQL\n"
            "                       database at URL (heraldd stopped), verify and exit\n"
            "      --password-file FILE  the password for --copy-to's URL (first line)\n"
            "      --list-keys      print every configuration key: whether a reload (SIGHUP)\n"
            "                       applies it or it needs a restart, and its default\n"
            "      --list-routes    print every API route (METHOD PATH) and exit\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           print this help and exit\n");
}

int daemon_args_parse(int argc, char **argv, DaemonArgs *options)
{
    enum {
        OPTION_LISTEN = 256,
        OPTION_DB,
        OPTION_INSECURE,
        OPTION_CHECK,
        OPTION_LIST_KEYS,
        OPTION_COPY_TO,
        OPTION_LIST_ROUTES,
        OPTION_PASSWORD_FILE,
    };
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, OPTION_LISTEN},
        {"db", required_argument, NULL, OPTION_DB},
        {"insecure-listen", no_argument, NULL, OPTION_INSECURE},
        {"check-config", no_argument, NULL, OPTION_CHECK},
        {"copy-to", required_argument, NULL, OPTION_COPY_TO},
        {"password-file", required_argument, NULL, OPTION_PASSWORD_FILE},
        {"list-keys", no_argument, NULL, OPTION_LIST_KEYS},
        {"list-routes", no_argument, NULL, OPTION_LIST_ROUTES},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(options, 0, sizeof *options);
    options->config_path = CONFIG_DEFAULT_PATH;
    int option;
    while ((option = getopt_long(argc, argv, "c:Vh", long_options, NULL)) != -1) {
        switch (option) {
        case 'c': options->config_path = optarg; break;
        case OPTION_LISTEN: options->listen = optarg; break;
        case OPTION_DB: options->db_path = optarg; break;
        case OPTION_INSECURE: options->insecure_listen = true; break;
        case OPTION_CHECK: options->check_config = true; break;
        case OPTION_COPY_TO: options->copy_to = optarg; break;
        case OPTION_PASSWORD_FILE: options->copy_password_file = optarg; break;
        case OPTION_LIST_KEYS: config_print_keys(stdout); return 1;
        case OPTION_LIST_ROUTES: api_route_print(stdout); return 1;
        case 'V': printf("heraldd %s\n", HERALD_VERSION); return 1;
        case 'h': daemon_args_usage(stdout); return 1;
        default: daemon_args_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "heraldd: unexpected argument \"%s\"\n", argv[optind]);
        daemon_args_usage(stderr);
        return 2;
    }
    if (options->copy_password_file != NULL && options->copy_to == NULL) {
        fprintf(stderr, "heraldd: --password-file is for --copy-to\n");
        return 2;
    }
    return 0;
}

int daemon_args_apply(Config *config, const DaemonArgs *options, char *err, size_t errlen)
{
    if (options->listen != NULL) {
        if (strlen(options->listen) >= sizeof config->listen) {
            snprintf(err, errlen, "--listen: address too long");
            return -1;
        }
        strcpy(config->listen, options->listen);
    }
    if (options->db_path != NULL) {
        /* A PostgreSQL URI chooses that backend, as url would. A path only says
         * where the SQLite database lives (the systemd unit passes one): a url
         * in the file still chooses PostgreSQL. */
        bool url = strncmp(options->db_path, "postgresql://", 13) == 0 ||
                   strncmp(options->db_path, "postgres://", 11) == 0;
        char *field = url ? config->storage_url : config->storage_path;
        if (strlen(options->db_path) >= sizeof config->storage_path) {
            snprintf(err, errlen, "--db: too long");
            return -1;
        }
        strcpy(field, options->db_path);
    }
    struct sockaddr_storage address;
    socklen_t length;
    char detail[256];
    if (address_parse_listen(config->listen, &address, &length, detail, sizeof detail) != 0) {
        snprintf(err, errlen, "listen: %s", detail);
        return -1;
    }
    if (config->api_token_file[0] == '\0' && !address_is_loopback((struct sockaddr *)&address) &&
        !options->insecure_listen) {
        snprintf(err, errlen,
                 "refusing to listen on %s without authentication: set [server] api_token_file,"
                 " listen on loopback, or pass --insecure-listen",
                 config->listen);
        return -1;
    }
    return 0;
}
