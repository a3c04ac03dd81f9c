/*
 * task_url: intake's rules for a task's target_url, and the receiver it
 * names ("scheme://host:port", the unit of per-host limits).
 *
 * libcurl's own URL parser decides what a URL is, so intake and delivery
 * agree. On top of it a target must be one herald can ever deliver to:
 * http or https, a host of its own (an ASCII name in DNS's shape, or an
 * address), no credentials, no IPv6 zone id, a port from 1 to 65535, and no
 * literal address the SSRF guard refuses. task_json reads task requests and
 * manual repairs with it.
 *
 * The normal form (RFC 3986 6.2.2-6.2.3) is what makes two spellings of one
 * URL one: the scheme and host in lower case (an IPv6 literal in its
 * canonical text), percent-encodings in upper case and those of unreserved
 * characters decoded (a '%' that starts none written "%25"), dot segments removed, the scheme's default port
 * dropped, an empty path written "/". A task's identity (deduplication)
 * and its receiver use it; the task keeps and is delivered to the URL as
 * the client wrote it (herald never changes bytes nobody asked it to).
 * What it leaves distinct: the path's and query's case, "%2F" and "/", an
 * empty query ("?") and none, a host's trailing dot.
 */
#ifndef HERALD_TASK_URL_H
#define HERALD_TASK_URL_H

#include <stddef.h>

#include "netguard.h"

/* Checks URL (NUL-terminated) against the rules; GUARD NULL: literal
 * addresses are not checked. On success returns 0 with *RECEIVER a heap
 * "scheme://host:port" in lower case and, if IDENTITY is not NULL,
 * *IDENTITY the URL's normal form, on the heap (the caller frees both);
 * otherwise -1 with nothing allocated and why in MESSAGE (naming
 * target_url). */
int task_url_check(const char *url, const NetGuard *guard, char **receiver, char **identity,
                   char *message, size_t size);

/* The normal form of URL, any absolute URL with a host libcurl parses
 * (herald's rules are task_url_check's): 0 with *OUT on the heap (the
 * caller frees it), or -1 with why in MESSAGE. A default port is dropped
 * for http (80) and https (443) only, and the fragment (never sent) always.
 * Normalising the normal form gives it back unchanged. */
int task_url_normalise(const char *url, char **out, char *message, size_t size);

#endif
