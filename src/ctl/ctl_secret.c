/*
 * ctl_secret: "heraldctl secret new", a fresh Standard Webhooks signing
 * secret for herald.conf (made locally; the API is not involved).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sign.h"

#define CTL_SECRET_BYTES 32

static int ctl_secret_new(Ctl *ctl, const CtlCommand *command, int argc, char **argv)
{
    if (argc != 1)
        return ctl_command_usage(command, stderr, CTL_EXIT_USAGE);
    (void)argv;
    char secret[SIGN_SECRET_MAX];
    char err[256];
    if (sign_generate_secret(CTL_SECRET_BYTES, secret, sizeof secret, err, sizeof err) != 0)
        return ctl_fail(err);
    if (ctl->json)
        printf("{\"secret\":\"%s\"}\n", secret); /* whsec_ and base64: nothing to escape */
    else
        puts(secret);
    return CTL_EXIT_OK;
}

const CtlCommand ctl_secret_commands[] = {
    {"secret", "new", ctl_secret_new, "secret new",
     "print a new webhook signing secret (whsec_..., 32 random bytes) for herald.conf"},
};

const size_t ctl_secret_command_count = sizeof ctl_secret_commands / sizeof ctl_secret_commands[0];
