/*
 * api_console: see api_console.h.
 */
#include "api_console.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "assets.h"
#include "config.h"

/* 'self' only: no inline script or style, no eval, no other origin; the
 * console's own code sets styles through the CSSOM, which this allows. */
static const ApiHeader api_console_headers[] = {
    {"Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'none'; "
                                "object-src 'none'; frame-ancestors 'none'"},
    {"X-Frame-Options", "DENY"}, /* frame-ancestors for browsers that predate it */
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    /* Small files that change with heraldd: asked again each time, so an
     * upgraded heraldd never runs with an old page. */
    {"Cache-Control", "no-cache"},
    {NULL, NULL},
};

static const ApiHeader api_console_redirect_headers[] = {
    {"Location", API_CONSOLE_PREFIX},
    {NULL, NULL},
};

static bool api_console_enabled(ApiCall *call)
{
    if (api_call_options(call)->config()->console)
        return true;
    api_call_fail(call, 404, "not_found", NULL,
                  "the console is turned off here ([server] console = false)");
    return false;
}

static void api_console_serve(ApiCall *call, const char *path)
{
    if (!api_console_enabled(call))
        return;
    const Asset *asset = assets_find(path);
    if (asset == NULL) {
        api_call_fail(call, 404, "not_found", NULL, "no such console file");
        return;
    }
    api_call_reply_static(call, 200, asset->content_type, asset->data, asset->size,
                          api_console_headers);
}

/* GET /ui: the pages' relative links need the trailing slash. */
static void api_console_redirect(ApiCall *call)
{
    static const char text[] = "The console is at " API_CONSOLE_PREFIX "\n";
    if (api_console_enabled(call))
        api_call_reply_static(call, 308, "text/plain; charset=utf-8", text, sizeof text - 1,
                              api_console_redirect_headers);
}

/* GET /ui/: the page itself. */
static void api_console_index(ApiCall *call)
{
    api_console_serve(call, API_CONSOLE_PREFIX "index.html");
}

/* GET /ui/{id}: its scripts, style sheets and the chart library. */
static void api_console_file(ApiCall *call)
{
    char path[64];
    snprintf(path, sizeof path, "%s%s", API_CONSOLE_PREFIX, api_call_path_parameter(call));
    api_console_serve(call, path);
}

const ApiRoute api_console_routes[] = {
    {.method = "GET", .pattern = "/ui", .public = true, .handler = api_console_redirect},
    {.method = "GET", .pattern = API_CONSOLE_PREFIX, .public = true, .handler = api_console_index},
    {.method = "GET", .pattern = API_CONSOLE_PREFIX "{id}", .public = true,
     .handler = api_console_file},
};

const size_t api_console_route_count = sizeof api_console_routes / sizeof api_console_routes[0];
