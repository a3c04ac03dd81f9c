/*
 * origin_guard: what a web page must not be able to make herald do.
 *
 * Two attacks reach a heraldd on loopback through the operator's own browser:
 *   - a cross-site request: any page can send a POST (a form, or fetch with
 *     mode "no-cors") that needs no preflight, and the browser carries it to
 *     127.0.0.1 whatever the page's origin;
 *   - DNS rebinding: a page on attacker.example:8080 has its name re-pointed
 *     at 127.0.0.1, and its own scripts then read herald's answers as
 *     same-origin ones; only the Host header tells those requests apart.
 * Browsers say where a request comes from in Origin (every request but a
 * same-origin GET or HEAD) and, to secure origins (https, and also
 * 127.0.0.1 and localhost), in Sec-Fetch-Site. Clients that are not
 * browsers send neither, and keep working as before.
 *
 * The rules (api.c applies them before authentication):
 *   - Host: an IP address, "localhost", or a name listed in [server]
 *     allowed_hosts ("*": any name). A rebinding page's Host is its own
 *     name, which is none of these.
 *   - A request that is not GET or HEAD is refused if Sec-Fetch-Site says
 *     anything but same-origin or none. Where the browser sends no
 *     Sec-Fetch-Site (herald reached over plain http under a name), it is
 *     refused if Origin is not http://HOST (the Host header's own origin:
 *     herald itself serves only http) nor a page under a listed name.
 *   - A GET or HEAD of data (a route that is not public) is refused when
 *     Sec-Fetch-Site says cross-site or same-site, unless it is a top-level
 *     navigation (whose answer the user sees, not the page that linked; a
 *     frame is no such thing).
 * Pure functions of their arguments: any thread.
 */
#ifndef HERALD_ORIGIN_GUARD_H
#define HERALD_ORIGIN_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* The longest allowed_hosts list the configuration takes. */
#define ORIGIN_GUARD_LIST_MAX 1024

/* Checks an allowed_hosts value: names (or addresses) without scheme or
 * port, separated by commas or spaces, or "*". Returns 0, or -1 with why in
 * ERR. */
int origin_guard_check_list(const char *list, char *err, size_t errlen);

/* True when HOST, a Host header's value ("name", "name:port",
 * "[v6]:port"; spaces and tabs after it are not part of it), names herald: an IP address, "localhost", or a name in
 * LIST (case-insensitive, a trailing dot ignored; "*" in LIST: any). */
bool origin_guard_host_is_own(const char *host, const char *list);

/* What a request says about the page that sent it (headers absent: NULL). */
typedef struct OriginRequest {
    const char *method;     /* "GET", "POST", ... */
    bool reads_data;        /* the route needs a token when tokens are set */
    const char *host;       /* Host */
    const char *origin;     /* Origin */
    const char *fetch_site; /* Sec-Fetch-Site */
    const char *fetch_mode; /* Sec-Fetch-Mode */
    const char *fetch_dest; /* Sec-Fetch-Dest */
} OriginRequest;

/* Returns NULL when REQUEST could only have come from herald's own pages or
 * from a client that is not a browser; otherwise the name of the header
 * that shows it came from another site's page ("Origin" or
 * "Sec-Fetch-Site"). LIST is allowed_hosts: a page served under one of its
 * names (behind a proxy that rewrites Host) is herald's own. */
const char *origin_guard_cross_site(const OriginRequest *request, const char *list);

#endif
