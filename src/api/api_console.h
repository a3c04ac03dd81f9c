/*
 * api_console: the operators' web console, a single-page app at /ui/.
 *
 * Its files (console/ in the source tree) are embedded in heraldd at build
 * time (assets.h), so nothing is fetched from anywhere at run time and an
 * air-gapped host gets the console it was tested with. The pages talk only
 * to the /v1 API, with the operator's own token; the files themselves hold
 * no data and are served without one. [server] console = false turns them
 * off (a reload applies it).
 *
 * Every file goes out with a Content-Security-Policy that lets a page run
 * only heraldd's own scripts, connect only to heraldd, and never be framed.
 */
#ifndef HERALD_API_CONSOLE_H
#define HERALD_API_CONSOLE_H

#include <stddef.h>

#include "api_call.h"

/* The URL path the console is served under (with a trailing "/"). */
#define API_CONSOLE_PREFIX "/ui/"

extern const ApiRoute api_console_routes[];
extern const size_t api_console_route_count;

#endif
