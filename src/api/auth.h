/*
 * auth: API bearer tokens, loaded from [server] api_token_file.
 *
 * The file holds one token per line, either "name:token" (the name is
 * recorded on repair actions) or a bare token (named "token-LINE"); blank
 * lines and lines starting with # are ignored. Tokens are kept only as
 * SHA-256 digests and compared with CRYPTO_memcmp over the digests, so the
 * comparison takes the same time whatever the token's content or length.
 */
#ifndef HERALD_AUTH_H
#define HERALD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_NAME_MAX 64
#define AUTH_TOKEN_MIN 16 /* shorter tokens are refused as guessable */

typedef struct Auth Auth;

/* Reads PATH. Returns an Auth the caller owns (auth_free), or NULL with
 * "PATH:LINE: message" in ERR. A file without tokens is an error. */
Auth *auth_load(const char *path, char *err, size_t errlen);

void auth_free(Auth *auth);

/* Checks an Authorization header value ("Bearer TOKEN"; NULL if absent).
 * Returns true and points *NAME at the token's name if it matches one. */
bool auth_check(const Auth *auth, const char *authorization, const char **name);

size_t auth_token_count(const Auth *auth);

#endif
