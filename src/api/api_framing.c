/*
 * api_framing: see api_framing.h. Request smuggling needs two parsers to
 * disagree on where a request ends; this file refuses, before any body is
 * read, every head whose framing is ambiguous.
 */
#include "api_framing.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "api_call.h"
#include "api_internal.h"

/* libmicrohttpd's memory per connection when none is set (its default). */
#define API_FRAMING_MHD_MEMORY (32 * 1024)
/* A longer name is never echoed in an error's field. */
#define API_FRAMING_NAME_MAX 64

/* SIZE less the spaces and tabs that end VALUE: a field value's trailing
 * whitespace is not part of it (RFC 9110 section 5.5), and libmicrohttpd
 * 0.9.75 leaves it in. */
static size_t api_framing_trimmed(const char *value, size_t size)
{
    while (value != NULL && size > 0 && (value[size - 1] == ' ' || value[size - 1] == '\t'))
        size--;
    return size;
}

/* What a Content-Length value is, read as libmicrohttpd 0.9.75 reads it
 * (once its trailing whitespace is left out, as RFC 9110 says). */
typedef enum {
    API_LENGTH_OK,
    API_LENGTH_MALFORMED, /* not one or more ASCII digits */
    API_LENGTH_TOO_LARGE, /* digits, past UINT64_MAX */
} ApiLength;

/* libmicrohttpd 0.9.75 takes a Content-Length only if MHD_str_to_uint64_n_
 * reads all of it (src/microhttpd/connection.c, parse_connection_headers,
 * lines 3597-3640): ASCII digits, no sign, no space, no list, at most
 * UINT64_MAX. */
static ApiLength api_framing_length(const char *value, size_t size)
{
    size = api_framing_trimmed(value, size);
    if (value == NULL || size == 0)
        return API_LENGTH_MALFORMED;
    uint64_t length = 0;
    bool too_large = false;
    for (size_t i = 0; i < size; i++) {
        if (value[i] < '0' || value[i] > '9')
            return API_LENGTH_MALFORMED;
        uint64_t digit = (uint64_t)(value[i] - '0');
        if (length > (UINT64_MAX - digit) / 10)
            too_large = true;
        else
            length = length * 10 + digit;
    }
    return too_large ? API_LENGTH_TOO_LARGE : API_LENGTH_OK;
}

static bool api_framing_same_name(const char *a, const char *b, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* What MHD_lookup_connection_value_n looks for, and what it found. */
typedef struct ApiLookup {
    const char *key;
    size_t key_size;
    bool found;
    enum MHD_ValueKind kind;
    const char *value;
    size_t value_size;
} ApiLookup;

static enum MHD_Result api_framing_find(void *cls, enum MHD_ValueKind kind, const char *key,
                                        size_t key_size, const char *value, size_t value_size)
{
    ApiLookup *lookup = cls;
    bool match = lookup->key == NULL ? key == NULL
                                     : key != NULL && key_size == lookup->key_size &&
                                           (key == lookup->key ||
                                            api_framing_same_name(key, lookup->key, key_size));
    if (!match)
        return MHD_YES;
    lookup->found = true;
    lookup->kind = kind;
    lookup->value = value;
    lookup->value_size = value_size;
    return MHD_NO; /* the first one, as libmicrohttpd's own */
}

/*
 * WORKAROUND for a libmicrohttpd 0.9.75 bug (issue 23 item 8): this
 * replaces libmicrohttpd's own MHD_lookup_connection_value_n, in heraldd
 * only, by the same lookup (through the public MHD_get_connection_values_n)
 * except that a request's Content-Length that libmicrohttpd would refuse is
 * not found.
 *
 * Why. libmicrohttpd 0.9.75 (Debian 12's libmicrohttpd12) answers a
 * Content-Length it cannot read ("abc", "90, 90", "+90", "1 ", or more
 * than 2^64-1) itself, and writes its response head twice:
 * parse_connection_headers (src/microhttpd/connection.c at tag v0.9.75,
 * lines 3597-3640) queues the 400 or 413 with transmit_error_response_len,
 * which builds the head into the write buffer and sets the state
 * MHD_CONNECTION_HEADERS_SENDING (lines 2272-2388); its caller, MHD_connection_handle_idle (lines 4538-4545),
 * checks only for MHD_CONNECTION_CLOSED and overwrites the state with
 * MHD_CONNECTION_HEADERS_PROCESSED, so the request goes on through
 * MHD_CONNECTION_START_REPLY, where build_header_response (line 4684)
 * appends a second head after the first. The client reads the first head
 * and the second as its body. heraldd's handler is never called, so no
 * option, callback or check of ours can answer instead: the upstream fix
 * (libmicrohttpd commit f1bfbe71, "fixed handling of various errors
 * automatically detected by MHD code") is first released in 1.0.0.
 *
 * How. parse_connection_headers finds the Content-Length through
 * MHD_lookup_connection_value_n, a call through the library's PLT: an
 * executable's definition of the name takes its place (ELF symbol
 * interposition, as malloc replacements do). Not found, the request is
 * read as one without a body, heraldd's handler is called on the head, and
 * api_framing_check refuses the same value (api_framing_length, one rule
 * for both) with herald's own JSON 400 (413 past 2^64-1) and closes the
 * connection, so nothing after the head is read as a request. A library
 * built without that PLT call would bypass this definition and answer as
 * before; test_input's MalformedFramingTest would show it.
 */
enum MHD_Result MHD_lookup_connection_value_n(struct MHD_Connection *connection,
                                              enum MHD_ValueKind kind, const char *key,
                                              size_t key_size, const char **value_ptr,
                                              size_t *value_size_ptr)
{
    if (connection == NULL)
        return MHD_NO;
    ApiLookup lookup = {.key = key, .key_size = key_size};
    MHD_get_connection_values_n(connection, kind, api_framing_find, &lookup);
    if (!lookup.found)
        return MHD_NO;
    if (lookup.kind == MHD_HEADER_KIND && key_size == sizeof MHD_HTTP_HEADER_CONTENT_LENGTH - 1 &&
        api_framing_same_name(key, MHD_HTTP_HEADER_CONTENT_LENGTH, key_size)) {
        if (api_framing_length(lookup.value, lookup.value_size) != API_LENGTH_OK)
            return MHD_NO;
        /* "90 " is 90: libmicrohttpd reads exactly the size it is given. */
        lookup.value_size = api_framing_trimmed(lookup.value, lookup.value_size);
    }
    if (value_ptr != NULL)
        *value_ptr = lookup.value;
    if (value_size_ptr != NULL)
        *value_size_ptr = lookup.value_size;
    return MHD_YES;
}

/* An HTTP token (RFC 9110 section 5.6.2), as a header name must be. */
static bool api_framing_is_token(const char *name)
{
    size_t length = strlen(name);
    return length > 0 && strspn(name, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "abcdefghijklmnopqrstuvwxyz") == length;
}

/* What api_framing_check counts among the request's headers. */
typedef struct ApiFraming {
    int content_length;    /* Content-Length headers */
    ApiLength length;      /* the (first) Content-Length value */
    int transfer_encoding; /* Transfer-Encoding headers */
    const char *coding;    /* the (last) Transfer-Encoding value */
    const char *bad_name;  /* a header name that is not an HTTP token */
    bool lookalike;        /* it is one, run on from a framing header's name */
    int seen[9];           /* each of API_READ_HEADERS */
    const char *repeated;  /* one of them given twice */
    bool in_place;         /* libmicrohttpd parses heads in place: lines are checked */
    size_t head_max;       /* no head is longer (libmicrohttpd's memory per connection) */
    const char *line_end;  /* where the previous header's value ends, in place */
    const char *line_name; /* the previous header's name */
    const char *bad_line;  /* what is wrong with a header line, or NULL */
} ApiFraming;

/* Lines are checked only where libmicrohttpd parses a head in place, as the
 * 0.9 series does; a library that parses otherwise gets the other checks. */
static bool api_framing_parses_in_place(void)
{
    const char *version = MHD_get_version();
    return version != NULL && strncmp(version, "0.9.", 4) == 0;
}

/*
 * libmicrohttpd 0.9.75 takes three things in a header line that RFC 9112
 * and RFC 9110 say to refuse, and hands herald no raw line to see them in:
 *   - a folded line (obs-fold, RFC 9112 section 5.2: "X-A: b\r\n c"),
 *     joined to the header's NAME ("X-Ac: b"), so "Idempotency-Key:\r\n k"
 *     became an unknown header and the key was silently ignored;
 *   - a NUL byte (RFC 9110 section 5.5), which ends the value early: what
 *     follows it on the line is silently dropped;
 *   - a CR not followed by LF, kept inside the value (RFC 9112 section 2.2).
 * The CR is in the value. The other two show in where the header's name and
 * value are: libmicrohttpd parses the head in place in its read buffer
 * (src/microhttpd/connection.c at tag v0.9.75): get_next_header_line (lines
 * 2586-2644) turns a line's CR LF (or bare LF) into NULs, process_header_line
 * (lines 3411-3454) the colon into a NUL and skips the spaces and tabs after
 * it, and the header keeps pointers to both. So a well-formed line is, in
 * memory, NAME NUL [SP/HTAB...] VALUE NUL (NUL), and the next header's name
 * follows at once. A folded line's name is the exception:
 * process_broken_line (lines 3468-3542) grows it with MHD_pool_reallocate,
 * which moves it out of the line to fresh pool memory and zeroes the old
 * bytes (memorypool.c, lines 423-497). A NUL inside a value leaves the rest
 * of the line between this value's end and the next name (a NUL that ends
 * the last line drops nothing and is not seen). Names and values are all in
 * the connection's memory pool, one allocation of head_max bytes, so bytes
 * are read between two of them only when they are at most that far apart.
 * A bare LF ending a line is taken, as RFC 9112 section 2.2 allows.
 */
static void api_framing_check_line(ApiFraming *framing, const char *key, size_t key_size,
                                   const char *value, size_t value_size)
{
    if (framing->bad_line != NULL || value == NULL)
        return;
    const char *colon = key + key_size;
    bool in_line = (uintptr_t)value > (uintptr_t)colon &&
                   (uintptr_t)value - (uintptr_t)colon <= framing->head_max && colon[0] == '\0';
    for (const char *c = colon + 1; in_line && c < value; c++)
        in_line = *c == ' ' || *c == '\t';
    if (!in_line) {
        framing->line_name = NULL; /* as joined, not the name the client wrote */
        framing->bad_line = "a header line is folded onto the next (obs-fold, RFC 9112 "
                            "section 5.2); write each header on one line";
        return;
    }
    /* The previous line ended where its value did: CR LF or LF, then this name. */
    const char *end = framing->line_end;
    if (end != NULL && key != end + 1 && !(key == end + 2 && end[1] == '\0')) {
        framing->bad_line = "a header value holds a NUL byte";
        return;
    }
    framing->line_name = key;
    if (memchr(value, '\r', value_size) != NULL) {
        framing->bad_line = "a header value holds a CR that does not end its line";
        return;
    }
    framing->line_end = value + value_size;
}

/* The last header's line is followed by the empty line: CR LF or LF. */
static void api_framing_check_last_line(ApiFraming *framing)
{
    if (framing->bad_line == NULL && framing->line_end != NULL && framing->line_end[1] != '\0')
        framing->bad_line = "a header value holds a NUL byte";
}

/* The headers herald reads besides the framing ones: each may come once,
 * since which copy counts must never be a guess (RFC 9110 section 5.3: a
 * field given twice is a list, which none of these is). */
static const char *const API_READ_HEADERS[9] = {
    MHD_HTTP_HEADER_AUTHORIZATION, MHD_HTTP_HEADER_CONTENT_TYPE, MHD_HTTP_HEADER_CONTENT_ENCODING,
    "Idempotency-Key",             MHD_HTTP_HEADER_HOST,         MHD_HTTP_HEADER_ORIGIN,
    "Sec-Fetch-Site",              "Sec-Fetch-Mode",             "Sec-Fetch-Dest"};

static enum MHD_Result api_count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                         size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    ApiFraming *framing = cls;
    if (framing->in_place)
        api_framing_check_line(framing, key, key_size, value, value_size);
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 && framing->content_length++ == 0)
        framing->length = api_framing_length(value, value_size);
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
    bool token = api_framing_is_token(key);
    /* libmicrohttpd 0.9 joins a folded line ("Transfer-Encoding:\r\n chunked")
     * to the header's name ("Transfer-Encodingchunked"). api_framing_check_line
     * sees the fold where lines are checked; elsewhere, a name that starts as
     * a framing header and goes on is that, or worse, and is refused too. */
    bool framing_lookalike =
        (strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, 17) == 0 && length != 17) ||
        (strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, 14) == 0 && length != 14);
    if (framing->bad_name == NULL && (!token || framing_lookalike)) {
        framing->bad_name = key;
        framing->lookalike = token;
    }
    return MHD_YES;
}

/* Request smuggling needs two parsers to disagree on where a request ends.
 * RFC 9112 (sections 2.2, 5.1, 5.2, 6.1, 6.3) says how to refuse every
 * ambiguous framing: a folded header line, a NUL or a bare CR in a header,
 * Content-Length together with Transfer-Encoding, Content-Length given twice
 * or not a plain decimal number, a transfer coding other than a lone
 * "chunked", chunked in HTTP/1.0, a header name with whitespace or other
 * non-token bytes. Each gets 400 (413 for a Content-Length past 2^64-1, 501
 * for an unknown coding) and the connection is closed, so nothing after it
 * on the connection is read as a request. Returns -1 with the reply set. */
int api_framing_check(ApiCall *call, const char *version)
{
    size_t head_max = call->api->options.max_header_bytes;
    ApiFraming framing = {.in_place = api_framing_parses_in_place(),
                          .head_max = head_max > 0 ? head_max : API_FRAMING_MHD_MEMORY};
    MHD_get_connection_values_n(call->connection, MHD_HEADER_KIND, api_count_framing, &framing);
    if (framing.in_place)
        api_framing_check_last_line(&framing);
    if (framing.bad_line != NULL) {
        const char *name = framing.line_name;
        call->close_connection = true;
        api_call_fail(call, MHD_HTTP_BAD_REQUEST, "bad_request",
                      name != NULL && api_framing_is_token(name) &&
                              strlen(name) <= API_FRAMING_NAME_MAX
                          ? name
                          : NULL,
                      "%s", framing.bad_line);
        return -1;
    }
    const char *problem = NULL;
    int status = MHD_HTTP_BAD_REQUEST;
    if (framing.bad_name != NULL && framing.lookalike)
        problem = "a header name runs on from Content-Length or Transfer-Encoding (a folded "
                  "line?)";
    else if (framing.bad_name != NULL)
        problem = "a header name is malformed (whitespace before ':', or another byte that is "
                  "not a token character)";
    else if (framing.content_length > 1)
        problem = "Content-Length is given more than once";
    else if (framing.content_length == 1 && framing.length == API_LENGTH_MALFORMED)
        problem = "Content-Length must be a decimal number of bytes (digits only)";
    else if (framing.transfer_encoding > 0 && framing.content_length > 0)
        problem = "Content-Length and Transfer-Encoding together make the body's end ambiguous";
    else if (framing.transfer_encoding > 0 && strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
        problem = "Transfer-Encoding needs HTTP/1.1";
    else if (framing.transfer_encoding > 1 || (framing.transfer_encoding == 1 &&
                                               strcasecmp(framing.coding, "chunked") != 0)) {
        problem = "the only transfer coding herald takes is a single \"chunked\"";
        status = MHD_HTTP_NOT_IMPLEMENTED;
    }
    if (problem == NULL && framing.content_length == 1 && framing.length == API_LENGTH_TOO_LARGE) {
        /* Its body was not read (see MHD_lookup_connection_value_n above). */
        call->close_connection = true;
        api_call_fail(call, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large", NULL,
                      "Content-Length is past 2^64-1; the limit (max_body) is %zu bytes",
                      call->api->options.max_body);
        return -1;
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
