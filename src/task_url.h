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
 */
#ifndef HERALD_TASK_URL_H
#define HERALD_TASK_URL_H

#include <stddef.h>

#include "netguard.h"

/* Checks URL (NUL-terminated) against the rules; GUARD NULL: literal
 * addresses are not checked. On success returns 0 with *RECEIVER a heap
 * "scheme://host:port" in lower case (the caller frees it); otherwise -1
 * with why in MESSAGE (naming target_url). */
int task_url_check(const char *url, const NetGuard *guard, char **receiver, char *message,
                   size_t size);

#endif
