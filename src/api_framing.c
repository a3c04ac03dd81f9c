/*
 * api_framing: see api_framing.h. Request smuggling needs two parsers to
 * disagree on where a request ends; this file refuses, before any body is
 * read, every head whose framing is ambiguous.
 */
#include "api_framing.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "api_call.h"
#include "api_internal.h"

/* What api_framing_check counts among the request's headers. */
typedef struct ApiFraming {
    int content_length;    /* Content-Length headers */
    int transfer_encoding; /* Transfer-Encoding headers */
    const char *coding;    /* the (last) Transfer-Encoding value */
    const char *bad_name;  /* a header name that is not an HTTP token */
    int seen[4];           /* each of API_READ_HEADERS */
    const char *repeated;  /* one of them given twice */
} ApiFraming;

/* The headers herald reads besides the framing ones: each may come once,
 * since which copy counts must never be a guess (RFC 9110 section 5.3: a
 * field given twice is a list, which none of these is). */
static const char *const API_READ_HEADERS[4] = {MHD_HTTP_HEADER_AUTHORIZATION,
                                                MHD_HTTP_HEADER_CONTENT_TYPE,
                                                MHD_HTTP_HEADER_CONTENT_ENCODING,
                                                "Idempotency-Key"};

static enum MHD_Result api_count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    ApiFraming *framing = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        framing->content_length++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        framing->transfer_encoding++;
        framing->coding = value ? value : "";
    }
    for (size_t i = 0; i < sizeof API_READ_HEADERS / sizeof *API_READ_HEADERS; i++) {
        if (strcasecmp(key, API_READ_HEADERS[i]) == 0 && ++framing->seen[i] == 2 &&
            framing->repeated == NULL)
            framing->repeated = API_READ_HEADERS[i];
    }
    size_t length = strlen(key);
    bool token = length > 0 && strspn(key, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "abcdefghijklmnopqrstuvwxyz") == length;
    /* NOTE: libmicrohttpd 0.9.75 joins a folded line ("Transfer-Encoding:\r\n
     * chunked") to the header's name ("Transfer-Encodingchunked") instead of
     * refusing it, and we never see the raw line; a name that starts as a
     * framing header and goes on is that, or worse, and is refused too. */
    bool framing_lookalike =
        (strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0 && length != 17) ||
        (strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0 && length != 14);
    if (framing->bad_name == NULL && (!token || framing_lookalike))
        framing->bad_name = key;
    return MHD_YES;
}

/* Request smuggling needs two parsers to disagree on where a request ends.
 * RFC 9112 (sections 5.1, 6.1, 6.3) says how to refuse every ambiguous
 * framing: Content-Length together with Transfer-Encoding, Content-Length
 * given twice, a transfer coding other than a lone "chunked", chunked in
 * HTTP/1.0, a header name with whitespace or other non-token bytes. Each
 * gets 400 (501 for an unknown coding) and the connection is closed, so
 * nothing after it on the connection is read as a request. Returns -1 with
 * the reply set. */
int api_framing_check(ApiCall *call, const char *version)
{
    ApiFraming framing = {0};
    MHD_get_connection_values(call->connection, MHD_HEADER_KIND, api_count_framing, &framing);
    const char *problem = NULL;
    int status = MHD_HTTP_BAD_REQUEST;
    if (framing.bad_name != NULL)
        problem = "a header name is malformed (whitespace before ':', or a folded line)";
    else if (framing.content_length > 1)
        problem = "Content-Length is given more than once";
    else if (framing.transfer_encoding > 0 && framing.content_length > 0)
        problem = "Content-Length and Transfer-Encoding together make the body's end ambiguous";
    else if (framing.transfer_encoding > 0 && strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
        problem = "Transfer-Encoding needs HTTP/1.1";
    else if (framing.transfer_encoding > 1 || (framing.transfer_encoding == 1 &&
                                               strcasecmp(framing.coding, "chunked") != 0)) {
        problem = "the only transfer coding herald takes is a single \"chunked\"";
        status = MHD_HTTP_NOT_IMPLEMENTED;
    }
    if (problem == NULL && framing.repeated != NULL) {
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "bad_request", framing.repeated,
                      "header %s given twice: which one counts would be a guess",
                      framing.repeated);
        return -1;
    }
    if (problem == NULL)
        return 0;
    call->close_connection = true;
    api_call_fail(call, status, "bad_request", NULL, "%s", problem);
    return -1;
}
