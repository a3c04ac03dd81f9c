/*
 * ctl_client: heraldctl's HTTP client for the herald API (libcurl easy).
 *
 * One request at a time; every answer is JSON. An API error (a non-2xx with
 * {"error": {...}}) is returned as CTL_API_ERROR with the server's message,
 * so commands can print it and exit 1; no answer, or one that is not
 * herald's, is CTL_UNREACHABLE (exit 3).
 */
#ifndef HERALD_CTL_CLIENT_H
#define HERALD_CTL_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define CTL_DEFAULT_URL "http://127.0.0.1:8080"

typedef struct CtlClient {
    char base_url[512];
    char *authorization; /* "Authorization: Bearer ..." or NULL; owned */
} CtlClient;

/* A JSON answer: parsed, and the exact text (numbers in payloads survive
 * only in the text; cJSON turns them into doubles). */
typedef struct CtlAnswer {
    cJSON *json;
    char *raw;
    size_t raw_length;
} CtlAnswer;

typedef enum {
    CTL_OK = 0,
    CTL_API_ERROR,   /* herald answered with an error (refused, not found) */
    CTL_UNREACHABLE, /* no answer, or one that is not herald's */
} CtlResult;

/* Sets up CLIENT for BASE_URL with the token from TOKEN_FILE (first token
 * line; "name:token" lines give the token) or TOKEN (may be NULL). Returns 0,
 * or -1 with a message in ERR. */
int ctl_client_init(CtlClient *client, const char *base_url, const char *token_file,
                    const char *token, char *err, size_t errlen);

void ctl_client_free(CtlClient *client);

/* Sends METHOD PATH (path and query, already escaped) with BODY (JSON text or
 * NULL). On CTL_OK, *OUT is the answer, which the caller frees with
 * ctl_answer_free(). On CTL_API_ERROR, ERR holds "HTTP STATUS code: message
 * (field)"; on CTL_UNREACHABLE, the transport error or what answered. */
CtlResult ctl_client_request(CtlClient *client, const char *method, const char *path,
                             const char *body, CtlAnswer *out, char *err, size_t errlen);

void ctl_answer_free(CtlAnswer *answer);

/* The exact text of OBJECT's member NAME, where OBJECT is a child of the
 * answer reached by the path of member names PATH (NULL-terminated, e.g.
 * {"task", NULL}). Returns a heap string, or NULL if not found. */
char *ctl_answer_raw_member(const CtlAnswer *answer, const char *const *path, const char *name);

/* Appends "&NAME=VALUE" (or "?NAME=VALUE" first), URL-escaped, to PATH.
 * Returns 0, or -1 if PATH (of SIZE bytes) is too small. */
int ctl_client_add_query(char *path, size_t size, const char *name, const char *value);

#endif
