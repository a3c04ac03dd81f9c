/*
 * auth: see auth.h.
 */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_LINE_MAX 1024

typedef struct AuthToken {
    char name[AUTH_NAME_MAX];
    unsigned char digest[SHA256_DIGEST_LENGTH];
} AuthToken;

struct Auth {
    AuthToken *tokens;
    size_t count;
};

static char *auth_trim(char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1]))
        text[--length] = '\0';
    return text;
}

static int auth_add_line(Auth *auth, char *line, int number, const char *path, char *err,
                         size_t errlen)
{
    char *colon = strchr(line, ':');
    const char *token = line;
    char name[AUTH_NAME_MAX];
    snprintf(name, sizeof name, "token-%d", number);
    if (colon != NULL) {
        *colon = '\0';
        char *given = auth_trim(line);
        if (given[0] == '\0' || strlen(given) >= sizeof name) {
            snprintf(err, errlen, "%s:%d: token name must be 1 to %d characters", path, number,
                     AUTH_NAME_MAX - 1);
            return -1;
        }
        snprintf(name, sizeof name, "%s", given);
        token = auth_trim(colon + 1);
    }
    if (strlen(token) < AUTH_TOKEN_MIN) {
        snprintf(err, errlen, "%s:%d: token shorter than %d characters", path, number,
                 AUTH_TOKEN_MIN);
        return -1;
    }
    AuthToken *grown = realloc(auth->tokens, (auth->count + 1) * sizeof *grown);
    if (grown == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    auth->tokens = grown;
    AuthToken *entry = &auth->tokens[auth->count++];
    snprintf(entry->name, sizeof entry->name, "%s", name);
    SHA256((const unsigned char *)token, strlen(token), entry->digest);
    return 0;
}

Auth *auth_load(const char *path, char *err, size_t errlen)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        snprintf(err, errlen, "%s: cannot open token file: %s", path, strerror(errno));
        return NULL;
    }
    Auth *auth = calloc(1, sizeof *auth);
    if (auth == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(file);
        return NULL;
    }
    char line[AUTH_LINE_MAX];
    int number = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        number++;
        if (strchr(line, '\n') == NULL && !feof(file)) {
            snprintf(err, errlen, "%s:%d: line longer than %d characters", path, number,
                     AUTH_LINE_MAX - 2);
            goto fail;
        }
        char *text = auth_trim(line);
        if (text[0] == '\0' || text[0] == '#')
            continue;
        if (auth_add_line(auth, text, number, path, err, errlen) != 0)
            goto fail;
    }
    if (ferror(file)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    if (auth->count == 0) {
        snprintf(err, errlen, "%s: no tokens in the token file", path);
        goto fail;
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(file);
    return auth;
fail:
    OPENSSL_cleanse(line, sizeof line);
    fclose(file);
    auth_free(auth);
    return NULL;
}

void auth_free(Auth *auth)
{
    if (auth == NULL)
        return;
    free(auth->tokens);
    free(auth);
}

bool auth_check(const Auth *auth, const char *authorization, const char **name)
{
    static const char scheme[] = "Bearer ";
    if (authorization == NULL || strncasecmp(authorization, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *token = authorization + sizeof scheme - 1;
    while (*token == ' ')
        token++;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), digest);
    /* Look at every token, so timing does not tell which one (if any) matched. */
    const AuthToken *match = NULL;
    for (size_t i = 0; i < auth->count; i++) {
        if (CRYPTO_memcmp(digest, auth->tokens[i].digest, sizeof digest) == 0)
            match = &auth->tokens[i];
    }
    if (match == NULL)
        return false;
    *name = match->name;
    return true;
}

size_t auth_token_count(const Auth *auth)
{
    return auth->count;
}
